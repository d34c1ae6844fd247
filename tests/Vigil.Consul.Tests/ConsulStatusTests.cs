using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Controld.Consul;
using Vigil.Testing;
using Vigil.Testing.Consul;

namespace Vigil.Consul.Tests;

/// <summary>ACL refusals made visible: controld's status section (GetStatus.consul), vigilctl's lines, and the Meter's instruments.</summary>
public sealed class ConsulStatusTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private const string VipId = "vigil:lb1:VI_1:10.0.0.10";
    private readonly FakeConsulAgent _agent = new();

    public Task InitializeAsync() => _agent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private static KeepalivedConfig Config()
    {
        const string text = """
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
            consul {
                ttl 3s
            }

            """;
        var r = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new Vigil.Config.Text.InMemoryFileSystem() });
        return r.Config ?? throw new InvalidOperationException(string.Join('\n', r.Diagnostics));
    }

    private ConsulRegistration Start(string token)
    {
        var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Token = token, RequestTimeout = TimeSpan.FromSeconds(2) });
        var r = new ConsulRegistration(Config(), client, NullLogger.Instance, new ConsulRegistrarOptions
        {
            RouterId = "lb1",
            RefreshInterval = TimeSpan.FromMilliseconds(200),
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(300),
        });
        r.Start(null);
        r.SetInstances([new VrrpInstanceView("VI_1", true, 51, [IPAddress.Parse("10.0.0.10")])]);
        return r;
    }

    [Fact]
    public async Task TokenPolicyRefuses_StatusShowsRefusals_ThenRegistered()
    {
        // The agent's policy: only "ops-token" may write; controld has another token.
        _agent.RequiredToken = "ops-token";
        await using var r = Start("controld-token");
        await Poll.UntilAsync(() => r.Status().AclRefusals >= 2, Patience, "ACL refusals counted", () => r.Status().ToString());
        var status = r.Status();
        Assert.Equal(_agent.Address.ToString(), status.Agent);
        Assert.Equal("consul PUT /v1/agent/service/register: 403 Permission denied", status.LastError);
        Assert.NotNull(status.LastErrorAt);
        Assert.True(status.Failures >= status.AclRefusals);
        Assert.Empty(status.RegisteredServices);
        Assert.Equal(0, status.Registrations);

        var text = Vigil.Ctl.Commands.StatusCommand.FormatAll(new Control.V1.GetStatusResponse { Consul = status });
        Assert.Contains($"consul: agent {_agent.Address}, acl refusals {status.AclRefusals}, failures {status.Failures}, registrations 0, deregistrations 0\n", text);
        Assert.Contains("consul: last error: consul PUT /v1/agent/service/register: 403 Permission denied (at ", text);
        Assert.Contains("consul: registered: -\n", text);

        // The policy is fixed: registered, the error cleared, the refusals still counted.
        _agent.RequiredToken = null;
        await Poll.UntilAsync(() => r.Status().RegisteredServices.Contains(VipId), Patience, "registration once allowed", () => r.Status().ToString());
        var after = r.Status();
        Assert.Equal("", after.LastError);
        Assert.True(after.AclRefusals >= status.AclRefusals);
        Assert.Contains($"consul: registered: {VipId}\n", Vigil.Ctl.Commands.StatusCommand.FormatConsul(after));
    }

    [Fact]
    public async Task Metrics_AclRefusalsCounter_KeptAcrossAReplacedRegistrar()
    {
        using var meter = new Meter("Vigil.Controld.Test." + Guid.NewGuid().ToString("N"));
        ConsulRegistration? current = null;
        var metrics = new ConsulMetrics(meter, () => current);
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter == meter) l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((i, value, _, _) =>
        {
            lock (seen) seen[i.Name] = value;
        });
        listener.Start();
        long Read(string name)
        {
            listener.RecordObservableInstruments();
            lock (seen) return seen[name];
        }

        Assert.Equal(0, Read("vigil_consul_acl_refusals"));
        _agent.RequiredToken = "ops-token";
        var first = Start("controld-token");
        current = first;
        await Poll.UntilAsync(() => Read("vigil_consul_acl_refusals") >= 2, Patience, "the refusals counter", () => first.Status().ToString());
        Assert.True(Read("vigil_consul_failures") >= 2);
        Assert.Equal(0, Read("vigil_consul_registered_services"));

        // A reload replaced the block: the old registrar's refusals stay counted.
        metrics.Retire(first, () => current = null);
        var retired = first.Registrar.AclRefusals;
        await first.DisposeAsync();
        Assert.True(Read("vigil_consul_acl_refusals") >= retired);
        _agent.RequiredToken = null;
        await using var second = Start("controld-token");
        current = second;
        await Poll.UntilAsync(() => Read("vigil_consul_registered_services") == 1, Patience, "the registered gauge");
        Assert.True(Read("vigil_consul_acl_refusals") >= retired);
    }
}
