using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Controld.Consul;
using Vigil.Controld.Events;
using Vigil.Testing;
using Vigil.Testing.Consul;
using Vigil.Vrrp.V1;

namespace Vigil.Consul.Tests;

/// <summary>controld's Consul registration driven by VRRP states, against the fake agent.</summary>
public sealed class RegistrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private const string ConfigText = """
        global_defs {
            router_id lb1
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                10.0.0.10/24
            }
        }
        virtual_server 10.0.0.10 80 {
            protocol TCP
            real_server 192.168.1.2 80 {
                TCP_CHECK {
                }
            }
        }
        consul {
            tags prod
            ttl 3s
        }

        """;

    private const string VipId = "vigil:lb1:VI_1:10.0.0.10";
    private const string VsId = "vigil:lb1:VI_1:10.0.0.10:tcp:80";

    private readonly FakeConsulAgent _agent = new();

    public Task InitializeAsync() => _agent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private static KeepalivedConfig Config(string text = ConfigText)
    {
        var r = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new Vigil.Config.Text.InMemoryFileSystem() });
        return r.Config ?? throw new InvalidOperationException(string.Join('\n', r.Diagnostics));
    }

    private static readonly ConsulRegistrarOptions Fast = new()
    {
        RouterId = "lb1",
        RefreshInterval = TimeSpan.FromMilliseconds(200),
        AntiEntropyInterval = TimeSpan.FromSeconds(1),
        MinBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
    };

    private ConsulRegistration Start(string? token = null, KeepalivedConfig? config = null)
    {
        var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Token = token, RequestTimeout = TimeSpan.FromSeconds(2) });
        var r = new ConsulRegistration(config ?? Config(), client, NullLogger.Instance, Fast);
        r.Start(null);
        return r;
    }

    private static VrrpInstanceView Vi1(bool master) => new("VI_1", master, 51, [IPAddress.Parse("10.0.0.10")]);

    private Task UntilServicesAsync(params string[] ids) =>
        Poll.UntilAsync(() => _agent.Services.Keys.Order(StringComparer.Ordinal).SequenceEqual(ids.Order(StringComparer.Ordinal)), Patience,
            $"the agent to have [{string.Join(", ", ids)}]", () => $"agent has [{string.Join(", ", _agent.Services.Keys)}]");

    [Fact]
    public void Plan_Master_OneServicePerVipAndVirtualServer()
    {
        var config = Config();
        var plan = ConsulServicePlan.For(config, config.Consul!, [Vi1(true)]);
        Assert.Equal([VipId, VsId], plan.Select(p => p.Id));
        var vip = plan[0];
        Assert.Equal(("vigil-vi-1", "10.0.0.10", (int?)null), (vip.Name, vip.Address, vip.Port));
        Assert.Equal(["vigil", "vip", "master", "prod"], vip.Tags);
        Assert.Equal(new Dictionary<string, string> { ["managed_by"] = "vigil", ["router_id"] = "lb1", ["instance"] = "VI_1", ["vrid"] = "51", ["vip"] = "10.0.0.10" }, vip.Meta);
        Assert.Equal((VipId + ":vrrp", "3s", "passing", "60s"), (vip.Check!.CheckId, vip.Check.Ttl, vip.Check.Status, vip.Check.DeregisterCriticalServiceAfter));
        var vs = plan[1];
        Assert.Equal((80, "tcp", "80"), (vs.Port, vs.Meta!["protocol"], vs.Meta["port"]));
        Assert.Contains("virtual_server", vs.Tags!);
    }

    [Fact]
    public void Plan_NotMaster_Nothing_VirtualServersOff_VipOnly()
    {
        var config = Config();
        Assert.Empty(ConsulServicePlan.For(config, config.Consul!, [Vi1(false)]));
        Assert.Equal([VipId], ConsulServicePlan.For(config, config.Consul! with { RegisterVirtualServers = false }, [Vi1(true)]).Select(p => p.Id));
    }

    [Fact]
    public async Task Master_Registers_WithPassingTtlCheck_RefreshedInsideTheTtl()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        var s = _agent.Services[VipId];
        Assert.Equal(("vigil-vi-1", "10.0.0.10", "lb1"), (s.Name, s.Address, s.Meta["router_id"]));
        Assert.Equal("passing", _agent.Checks[VipId + ":vrrp"].Status);
        var before = _agent.RequestsTo("PUT", "/v1/agent/check/update/").Count;
        await Poll.UntilAsync(() => _agent.RequestsTo("PUT", "/v1/agent/check/update/").Count >= before + 4, Patience, "TTL refreshes");
        var update = _agent.RequestsTo("PUT", "/v1/agent/check/update/" + VipId + ":vrrp")[^1];
        Assert.Equal("""{"Status":"passing","Output":"VI_1 is MASTER on lb1"}""", update.Body);
        // Registered once, not on every refresh.
        Assert.Equal(2, _agent.RequestsTo("PUT", "/v1/agent/service/register").Count);
    }

    [Fact]
    public async Task Backup_Deregisters()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        r.SetInstances([Vi1(false)]);
        await UntilServicesAsync();
        Assert.Equal(2, r.Registrar.Deregistrations);
    }

    [Fact]
    public async Task InstanceGone_Deregisters()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        r.SetInstances([]);
        await UntilServicesAsync();
    }

    [Fact]
    public async Task Stop_Deregisters()
    {
        var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        await r.DisposeAsync();
        Assert.Empty(_agent.Services);
    }

    [Fact]
    public async Task AgentDown_NeverBlocks_ThenUp_ReRegistered()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        await _agent.StopAsync();
        _agent.ForgetServices();
        var started = DateTime.UtcNow;
        r.SetInstances([Vi1(false)]);
        r.SetInstances([Vi1(true)]);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(200), "SetInstances waited for the agent");
        await Poll.UntilAsync(() => r.Registrar.Failures >= 2, Patience, "failed rounds while the agent is down");
        Assert.Contains("ConnectionRefused", r.Registrar.LastError);
        await _agent.StartAsync();
        await UntilServicesAsync(VipId, VsId);
        await Poll.UntilAsync(() => r.Registrar.LastError is null, Patience, "the registrar to recover");
    }

    [Fact]
    public async Task AgentLostItsServices_WhileUp_ReRegistered()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        _agent.ForgetServices();
        await UntilServicesAsync(VipId, VsId);
        Assert.Equal(4, r.Registrar.Registrations);
    }

    [Fact]
    public async Task Agent500_Retried_UntilItAnswers()
    {
        _agent.FailWith500 = true;
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await Poll.UntilAsync(() => r.Registrar.Failures >= 2, Patience, "failed rounds");
        _agent.FailWith500 = false;
        await UntilServicesAsync(VipId, VsId);
    }

    [Fact]
    public async Task AclRefusal_CountedNotFatal_RegistersOnceAllowed()
    {
        _agent.RequiredToken = "right";
        await using var r = Start(token: "wrong");
        r.SetInstances([Vi1(true)]);
        await Poll.UntilAsync(() => r.Registrar.AclRefusals >= 2, Patience, "ACL refusals");
        Assert.Empty(_agent.Services);
        Assert.Contains("Permission denied", r.Registrar.LastError);
        Assert.All(_agent.Requests, q => Assert.Equal("wrong", q.Token));
        _agent.RequiredToken = null;
        await UntilServicesAsync(VipId, VsId);
    }

    [Fact]
    public async Task OthersServices_AreLeftAlone()
    {
        using (var other = new ConsulClient(new ConsulClientOptions { Address = _agent.Address }))
        {
            await other.RegisterServiceAsync(new AgentServiceRegistration { Id = "web", Name = "web", Port = 80 });
            await other.RegisterServiceAsync(new AgentServiceRegistration
            {
                Id = "vigil:lb2:VI_1:10.0.0.10", Name = "vigil-vi-1", Address = "10.0.0.10",
                Meta = new Dictionary<string, string> { ["managed_by"] = "vigil", ["router_id"] = "lb2" },
            });
        }
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync("web", "vigil:lb2:VI_1:10.0.0.10", VipId, VsId);
        r.SetInstances([Vi1(false)]);
        await UntilServicesAsync("web", "vigil:lb2:VI_1:10.0.0.10");
    }

    [Fact]
    public async Task ChangedRegistration_OnTheAgent_IsPutBack()
    {
        await using var r = Start();
        r.SetInstances([Vi1(true)]);
        await UntilServicesAsync(VipId, VsId);
        using (var other = new ConsulClient(new ConsulClientOptions { Address = _agent.Address }))
        {
            await other.RegisterServiceAsync(new AgentServiceRegistration { Id = VipId, Name = "vigil-vi-1", Address = "10.9.9.9" });
        }
        await Poll.UntilAsync(() => _agent.Services[VipId].Address == "10.0.0.10", Patience, "anti-entropy to restore the address");
    }

    [Fact]
    public async Task FollowsVrrpd_MasterBackupFault_AndVrrpdGone()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"vigil-consul-{Guid.NewGuid():N}.sock");
        var vrrpd = await FakeVrrpd.StartAsync(socket, FakeVrrpd.Instance("VI_1", InstanceState.Backup, 51, "10.0.0.10/24"));
        try
        {
            var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address });
            // controld's own follower of vrrpd (the one stream that also feeds status and events).
            await using var follower = new VrrpPlaneFollower(new EventJournal(), socket, NullLogger.Instance, TimeSpan.FromMilliseconds(100));
            follower.Start();
            await using var r = new ConsulRegistration(Config(), client, NullLogger.Instance, Fast);
            r.Start(follower);
            await Poll.UntilAsync(() => _agent.RequestsTo("GET", "/v1/agent/services").Count > 0, Patience, "the first comparison");
            Assert.Empty(_agent.Services);
            vrrpd.Transition("VI_1", InstanceState.Master);
            await UntilServicesAsync(VipId, VsId);
            vrrpd.Transition("VI_1", InstanceState.Fault);
            await UntilServicesAsync();
            vrrpd.Transition("VI_1", InstanceState.Master);
            await UntilServicesAsync(VipId, VsId);
            await vrrpd.DisposeAsync();
            await UntilServicesAsync();
        }
        finally
        {
            await vrrpd.DisposeAsync();
            File.Delete(socket);
        }
    }

    /// <summary>A registrar started while controld already follows vrrpd (a reload that adds the consul block) registers at once from what it knows.</summary>
    [Fact]
    public async Task StartedAfterVrrpdIsFollowed_RegistersTheCurrentMaster()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"vigil-consul-{Guid.NewGuid():N}.sock");
        var vrrpd = await FakeVrrpd.StartAsync(socket, FakeVrrpd.Instance("VI_1", InstanceState.Master, 51, "10.0.0.10/24"));
        try
        {
            await using var follower = new VrrpPlaneFollower(new EventJournal(), socket, NullLogger.Instance, TimeSpan.FromMilliseconds(100));
            follower.Start();
            await Poll.UntilAsync(() => follower.Connected, Patience, "controld's follower connected");
            var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address });
            await using var r = new ConsulRegistration(Config(), client, NullLogger.Instance, Fast);
            r.Start(follower);
            await UntilServicesAsync(VipId, VsId);
        }
        finally
        {
            await vrrpd.DisposeAsync();
            File.Delete(socket);
        }
    }

    [Fact]
    public void ClientOptions_EmptyBlock_FollowsConsulEnvironment()
    {
        var env = new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = "https://10.2.3.4:8501", ["CONSUL_HTTP_TOKEN"] = "t0k", ["CONSUL_CACERT"] = "/ca.pem" };
        var o = ConsulRegistration.ClientOptionsFor(new ConsulSettings(), n => env.GetValueOrDefault(n));
        Assert.Equal(("https://10.2.3.4:8501/", "t0k", "/ca.pem"), (o.Address.ToString(), o.Token, o.CaFile));
        var none = ConsulRegistration.ClientOptionsFor(new ConsulSettings(), _ => null);
        Assert.Equal(("http://127.0.0.1:8500/", null), (none.Address.ToString(), none.Token));
    }

    [Fact]
    public void ClientOptions_BlockWins_TlsMakesBareAddressHttps()
    {
        var env = new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = "10.2.3.4:8500", ["CONSUL_HTTP_TOKEN"] = "env" };
        var o = ConsulRegistration.ClientOptionsFor(new ConsulSettings { Address = "agent:8501", Token = "mine", Tls = true, CaFile = "/ca.pem", TlsServerName = "server.dc1.consul" },
            n => env.GetValueOrDefault(n));
        Assert.Equal(("https://agent:8501/", "mine", "/ca.pem", "server.dc1.consul"), (o.Address.ToString(), o.Token, o.CaFile, o.TlsServerName));
    }
}
