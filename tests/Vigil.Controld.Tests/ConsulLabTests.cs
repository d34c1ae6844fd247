using Vigil.Testing;
using Vigil.Testing.Consul;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// controld's Consul registration with real daemons: two nodes (vigil-controld + vigil-vrrpd) in
/// lab namespaces, each with its own "local agent" on 127.0.0.1:8500 of its namespace (the fake
/// agent in this process, reached through tcp_to_unix.py and a unix socket).
/// </summary>
[Trait("Category", "Lab")]
public sealed class ConsulLabTests : IAsyncLifetime
{
    private const string Vip = "10.77.0.10";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-consul-lab-").FullName;
    private Lab _lab = null!;
    private LabHost _r1 = null!;
    private LabHost _r2 = null!;
    private FakeConsulAgent _agent1 = null!;
    private FakeConsulAgent _agent2 = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _r1 = await _lab.AddHostAsync("r1", lan, "10.77.0.1/24");
        _r2 = await _lab.AddHostAsync("r2", lan, "10.77.0.2/24");
        _agent1 = await LocalAgentAsync(_r1);
        _agent2 = await LocalAgentAsync(_r2);
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        await _agent1.DisposeAsync();
        await _agent2.DisposeAsync();
        Directory.Delete(_work, true);
    }

    /// <summary>A fake agent for <paramref name="host"/>, on 127.0.0.1:8500 inside its namespace.</summary>
    private async Task<FakeConsulAgent> LocalAgentAsync(LabHost host)
    {
        var agent = new FakeConsulAgent { UnixSocketPath = Path.Combine(_work, host.Name + "-agent.sock") };
        await agent.StartAsync();
        var relay = host.Start("consul-relay", "/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "tcp_to_unix.py"), "127.0.0.1", "8500", agent.UnixSocketPath]);
        await Poll.UntilAsync(() => relay.Output.Contains("relaying", StringComparison.Ordinal) || relay.HasExited, TimeSpan.FromSeconds(10), "the relay", () => relay.Output);
        Assert.False(relay.HasExited, relay.Output);
        return agent;
    }

    private static string Config(string routerId, int priority) => $$"""
        global_defs {
            router_id {{routerId}}
        }
        consul {
            address 127.0.0.1:8500
            ttl 3s
            tags lab
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            virtual_ipaddress {
                {{Vip}}/24
            }
        }
        """;

    private static string IdOf(string routerId) => $"vigil:{routerId}:VI_1:{Vip}";

    [Fact]
    public async Task Master_Registered_TtlPasses_OutageAndAclRecovered_FailoverDeregisters()
    {
        var n1 = await ControldNode.StartAsync(_r1, Config("r1", 150), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, Patience);

        // On MASTER: the VIP's service, with the instance, VRID and router_id, and a passing TTL check.
        var id = IdOf("r1");
        await Poll.UntilAsync(() => _agent1.Services.ContainsKey(id), Patience, "the VIP's registration", () => n1.Process.Output);
        var service = _agent1.Services[id];
        Assert.Equal(("vigil-vi-1", Vip, 0), (service.Name, service.Address, service.Port));
        Assert.Equal(["vigil", "vip", "master", "lab"], service.Tags);
        Assert.Equal(("VI_1", "51", "r1"), (service.Meta["instance"], service.Meta["vrid"], service.Meta["router_id"]));
        // Refreshed at a third of the TTL: still passing two TTLs later.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal("passing", _agent1.Checks[id + ":vrrp"].Status);
        Assert.True(_agent1.RequestsTo("PUT", "/v1/agent/check/update/").Count >= 4, string.Join('\n', _agent1.Requests));

        // The agent goes away and comes back without its services: anti-entropy registers again;
        // VRRP is not disturbed (still MASTER since the same moment, the VIP kept).
        var masterSince = (await n1.InstanceAsync("VI_1"))!.LastTransition;
        await _agent1.StopAsync();
        _agent1.ForgetServices();
        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(InstanceState.Master, (await n1.InstanceAsync("VI_1"))?.State);
        }
        Assert.True(await _r1.HasAddressAsync("eth0", Vip));
        await _agent1.StartAsync();
        await Poll.UntilAsync(() => _agent1.Services.ContainsKey(id) && _agent1.Checks.TryGetValue(id + ":vrrp", out var c) && c.Status == "passing",
            Patience, "registration after the agent's outage", () => n1.Process.Output);
        Assert.Equal(masterSince, (await n1.InstanceAsync("VI_1"))!.LastTransition);

        // ACL refusal: reported in controld's log and retried until the agent accepts again.
        _agent1.RequiredToken = "a-token-controld-does-not-have";
        _agent1.ForgetServices();
        _agent1.ClearRequests();
        await Poll.UntilAsync(() => n1.Process.Output.Contains("refused the ACL token", StringComparison.Ordinal), Patience, "the ACL refusal logged", () => n1.Process.Output);
        await Poll.UntilAsync(() => _agent1.RequestsTo("PUT", "/v1/agent/service/register").Count >= 2, Patience, "registration retried", () => string.Join('\n', _agent1.Requests));
        Assert.Empty(_agent1.Services);
        // ... and shown in controld's status: the agent, the refusals counted, the error.
        var refused = (await n1.StatusAsync()).Consul;
        Assert.NotNull(refused);
        Assert.Equal("http://127.0.0.1:8500/", refused.Agent);
        Assert.True(refused.AclRefusals >= 1, refused.ToString());
        Assert.Contains("403 Permission denied", refused.LastError);
        // registered_services is what the agent had after the last good round (documented so):
        // a refusing agent leaves it as it was.
        Assert.Contains(id, refused.RegisteredServices);
        _agent1.RequiredToken = null;
        await Poll.UntilAsync(() => _agent1.Services.ContainsKey(id), TimeSpan.FromSeconds(45), "registration once the ACL allows it", () => n1.Process.Output);
        await Poll.UntilAsync(async () => (await n1.StatusAsync()).Consul is { LastError: "" } c && c.RegisteredServices.Contains(id), Patience,
            "the status to show the registration again", () => Task.FromResult(n1.Process.Output));
        Assert.True((await n1.StatusAsync()).Consul.AclRefusals >= refused.AclRefusals);

        // Failover: a peer with a higher priority preempts; r1 goes BACKUP and deregisters, r2 registers.
        var n2 = await ControldNode.StartAsync(_r2, Config("r2", 200), _work);
        await n2.WaitStateAsync("VI_1", InstanceState.Master, Patience);
        await n1.WaitStateAsync("VI_1", InstanceState.Backup, Patience);
        await Poll.UntilAsync(() => _agent1.Services.Count == 0 && _agent1.Checks.Count == 0, Patience, "r1's deregistration", () => n1.Process.Output);
        await Poll.UntilAsync(() => _agent2.Services.ContainsKey(IdOf("r2")), Patience, "r2's registration", () => n2.Process.Output);
        Assert.Equal("r2", _agent2.Services[IdOf("r2")].Meta["router_id"]);
    }
}
