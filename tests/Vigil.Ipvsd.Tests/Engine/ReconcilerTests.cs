using System.Net;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Engine;
using Vigil.Netlink.Ipvs;
using Vigil.Testing;
using IpvsConfig = Vigil.Ipvs.V1.IpvsConfig;

namespace Vigil.Ipvsd.Tests.Engine;

public sealed class ReconcilerTests : IAsyncLifetime
{
    /// <summary>
    /// How long a poll waits: generous, because these tests assert what happens (and how many
    /// writes), not how fast; in CI they share two cores with CPU hogs and a QEMU VM.
    /// </summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly MemoryBackend _backend = new();
    private Reconciler _reconciler = null!;

    public Task InitializeAsync()
    {
        _reconciler = Configs.Reconciler(_backend);
        _reconciler.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _reconciler.DisposeAsync();

    private static readonly IpvsService Web = Configs.WebService;

    private List<string> Destinations() => _backend.Table[Web.Key].Destinations.Select(d => d.ToString()).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task ApplyConfig_ProgramsServiceAndServers_ThenNothingWhileNothingChanges()
    {
        var outcome = await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        Assert.Equal((1, 0, 0, 3), (outcome.Added, outcome.Removed, outcome.Kept, outcome.Changes));
        Assert.Equal(["-> 10.0.1.2:80 Masq 3", "-> 10.0.1.3:80 Masq 1"], Destinations());
        var reconciles = _reconciler.Counters()["reconciles"];
        await Poll.UntilAsync(() => _reconciler.Counters()["reconciles"] >= reconciles + 5, Patience, "five more reconciles");
        Assert.Equal(3, _backend.Writes);
        Assert.Equal(3ul, _reconciler.Counters()["kernel_writes"]);
        Assert.False(_reconciler.Counters().ContainsKey("out_of_band_repairs"));
    }

    [Fact]
    public async Task OutOfBandEdits_PutBackAtTheNextReconcile_AndCounted()
    {
        await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        var before = _backend.Writes;
        // As `ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.2:80` and `ipvsadm -e ... -w 9` would.
        await _backend.ApplyAsync([
            new LvsChange.DeleteDestination(Web, new IpvsDestination { Address = IPAddress.Parse("10.0.1.2"), Port = 80 }),
            new LvsChange.UpdateDestination(Web, new IpvsDestination { Address = IPAddress.Parse("10.0.1.3"), Port = 80, Weight = 9, ForwardingMethod = IpvsForwardingMethod.Masquerade }),
        ], [], CancellationToken.None);
        await Poll.UntilAsync(() => Destinations().SequenceEqual(["-> 10.0.1.2:80 Masq 3", "-> 10.0.1.3:80 Masq 1"]), Patience, "the table put back");
        Assert.Equal(before + 2 + 2, _backend.Writes); // the two edits, then exactly two repairs
        Assert.Equal(1ul, _reconciler.Counters()["out_of_band_repairs"]);
    }

    [Fact]
    public async Task DestinationSets_ChangeOnlyTheServersThatChanged()
    {
        await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        _backend.Log.Clear();
        // checkd: 10.0.1.3 is down (removed), 10.0.1.2 keeps its weight.
        _reconciler.SetDestinations([Configs.Set(Configs.Key("10.0.0.1", 80), ("10.0.1.2", 80, 3))], replaceAll: true);
        await Poll.UntilAsync(() => Destinations().SequenceEqual(["-> 10.0.1.2:80 Masq 3"]), Patience, "10.0.1.3 removed");
        Assert.Equal(["DeleteDestination"], _backend.Log);
        // inhibit_on_failure: back with weight 0.
        _reconciler.SetDestinations([Configs.Set(Configs.Key("10.0.0.1", 80), ("10.0.1.2", 80, 3), ("10.0.1.3", 80, 0))], replaceAll: false);
        await Poll.UntilAsync(() => Destinations().SequenceEqual(["-> 10.0.1.2:80 Masq 3", "-> 10.0.1.3:80 Masq 0"]), Patience, "10.0.1.3 inhibited");
        Assert.Equal(["DeleteDestination", "AddDestination"], _backend.Log);
    }

    [Fact]
    public async Task Reload_RemovesDroppedVirtualServers_LeavesOthersServicesAlone()
    {
        var foreign = new IpvsService { Address = IPAddress.Parse("192.0.2.1"), Port = 25, Scheduler = "rr" };
        await _backend.ApplyAsync([new LvsChange.AddService(foreign)], [], CancellationToken.None);
        var two = Configs.Web + Configs.Web.Replace("10.0.0.1 80", "10.0.0.2 80");
        var first = await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(two)), CancellationToken.None);
        Assert.Equal(3, _backend.Table.Count);
        var second = await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        Assert.Equal((2, 1, 1, 1), (first.Added, second.Removed, second.Kept, second.Changes));
        Assert.Equal(["TCP  10.0.0.1:80 wrr", "TCP  192.0.2.1:25 rr"], _backend.Table.Values.Select(e => e.Service.ToString()).Order(StringComparer.Ordinal));
        await _reconciler.StopAsync();
        Assert.Equal(["TCP  192.0.2.1:25 rr"], _backend.Table.Values.Select(e => e.Service.ToString()));
    }

    [Fact]
    public async Task FlushOnStartAndStop_AndTimeouts()
    {
        await _backend.ApplyAsync([new LvsChange.AddService(new IpvsService { Address = IPAddress.Parse("192.0.2.1"), Port = 25 })], [], CancellationToken.None);
        var config = Configs.Ipvs("global_defs {\n lvs_flush\n lvs_flush_on_stop\n lvs_timeouts tcp 7200 tcpfin 120 udp 300\n}\n" + Configs.Web);
        await _reconciler.ApplyConfigAsync(Configs.Fast(config), CancellationToken.None);
        Assert.Equal(1, _backend.Flushes);
        Assert.Single(_backend.Table);
        Assert.Equal(new IpvsTimeouts(TimeSpan.FromSeconds(7200), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(300)), _backend.Timeouts);
        await _reconciler.StopAsync();
        Assert.Equal(2, _backend.Flushes);
    }

    [Fact]
    public async Task SyncDaemon_FollowsTheInstance_MasterOrBackup_AndIsPutBack()
    {
        var config = Configs.Ipvs("""
            global_defs { lvs_sync_daemon eth0 VI_1 id 7 }
            vrrp_instance VI_1 { interface eth0
             virtual_router_id 51
             priority 100
             virtual_ipaddress { 10.0.0.1 } }
            """ + Configs.Web);
        await _reconciler.ApplyConfigAsync(Configs.Fast(config), CancellationToken.None);
        Assert.Equal("backup sync daemon (mcast=eth0, syncid=7)", Assert.Single(_backend.Daemons).ToString());
        _reconciler.SetVrrpStates(new Dictionary<string, bool> { ["VI_1"] = true });
        await Poll.UntilAsync(() => _backend.Daemons.Count == 1 && _backend.Daemons[0].State == IpvsDaemonState.Master, Patience, "master daemon");
        await _backend.StopSyncDaemonAsync(IpvsDaemonState.Master, CancellationToken.None);
        await Poll.UntilAsync(() => _backend.Daemons.Count == 1, Patience, "master daemon restarted");
        _reconciler.SetVrrpStates(new Dictionary<string, bool> { ["VI_1"] = false });
        await Poll.UntilAsync(() => _backend.Daemons.Count == 1 && _backend.Daemons[0].State == IpvsDaemonState.Backup, Patience, "backup daemon");
        await _reconciler.StopAsync();
        Assert.Empty(_backend.Daemons);
    }

    [Fact]
    public async Task ApplyConfig_Malformed_RefusedAndNothingChanges()
    {
        await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        var bad = Configs.Ipvs(Configs.Web);
        bad.VirtualServers[0].RealServers[0].Endpoint.Port = 70000;
        var e = await Assert.ThrowsAsync<IpvsConfigException>(() => _reconciler.ApplyConfigAsync(bad, CancellationToken.None));
        Assert.Contains("real_server 10.0.1.2: endpoint.port: 70000 is above 65535", e.Message);
        Assert.Equal(1ul, _reconciler.Counters()["configurations_refused"]);
        Assert.Equal(2, _backend.Table[Web.Key].Destinations.Count);
    }
}
