using System.Diagnostics;
using System.Net;
using Vigil.Testing;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Platform;

/// <summary>Scenario S1 with two Vigil nodes and a client on a bridge, real sockets and real VIPs.</summary>
[Trait("Category", "Lab")]
public sealed class FailoverLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private const string Vip = "10.77.0.100";

    private static VrrpInstanceConfig Vi(byte prio) => RawSocketLabTests.V2(Vip, prio);

    [Fact]
    public async Task S1_MasterCablePulled_BackupTakesOverAndClientArpMoves_ThenFailback()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var c = await lab.AddHostAsync("c", sw, "10.77.0.10/24");
        var aMac = await a.MacAsync("eth0");
        var bMac = await b.MacAsync("eth0");

        await using var na = await VigilNode.StartAsync(a, [Vi(150)]);
        await using var nb = await VigilNode.StartAsync(b, [Vi(100)]);
        await na.WaitForStateAsync("VI_1", VrrpStateKind.Master, Deadline);
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", Vip), Deadline, "VIP on a");
        Assert.Equal(VrrpStateKind.Backup, nb["VI_1"].State);
        Assert.False(await b.HasAddressAsync("eth0", Vip));
        await Poll.UntilAsync(() => c.PingAsync(Vip), Deadline, "client reaches the VIP on a");
        Assert.Equal(aMac, await c.NeighborMacAsync(Vip));
        await Poll.UntilAsync(() => nb["VI_1"].Stats[VrrpCounter.AdvertReceived] >= 2, Deadline, "b hears a's adverts",
            () => $"a: {na["VI_1"].State} {na["VI_1"].Stats}; b: {nb["VI_1"].State} {nb["VI_1"].Stats} unknown={nb.Driver.UnknownVridPackets} malformed={nb.Driver.MalformedPackets}");
        Assert.Equal(0UL, nb["VI_1"].Stats[VrrpCounter.AdvertSent]);

        // The master loses its link: b takes over after Master_Down_Interval and announces the VIP.
        var pulled = Stopwatch.StartNew();
        await a.SetCableAsync("eth0", false);
        await nb.WaitForStateAsync("VI_1", VrrpStateKind.Master, Deadline);
        var takeover = pulled.Elapsed;
        Assert.InRange(takeover, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(() => b.HasAddressAsync("eth0", Vip), Deadline, "VIP on b");
        await Poll.UntilAsync(async () => await c.NeighborMacAsync(Vip) == bMac, Deadline, "client's ARP entry for the VIP to move to b (gratuitous ARP)",
            async () => $"client has {await c.NeighborMacAsync(Vip)}");
        Assert.True(await c.PingAsync(Vip));

        // Cable back: a (150) hears b (100), re-advertises, and b steps down (preempt).
        await a.SetCableAsync("eth0", true);
        await nb.WaitForStateAsync("VI_1", VrrpStateKind.Backup, Deadline);
        Assert.Equal(VrrpStateKind.Master, na["VI_1"].State);
        await Poll.UntilAsync(async () => !await b.HasAddressAsync("eth0", Vip), Deadline, "b releases the VIP");
        Assert.Equal(1UL, nb["VI_1"].Stats[VrrpCounter.ReleaseMaster]);
        Assert.Equal(1UL, na["VI_1"].Stats[VrrpCounter.BecomeMaster]);
    }

    [Fact]
    public async Task S1_MasterStopsCleanly_BackupTakesOverWithinSkewTime()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        await using var capture = await b.StartCaptureAsync("eth0", "ip proto 112");
        var na = await VigilNode.StartAsync(a, [Vi(150)]);
        await using var nb = await VigilNode.StartAsync(b, [Vi(100)]);
        await na.WaitForStateAsync("VI_1", VrrpStateKind.Master, Deadline);
        await Poll.UntilAsync(() => nb["VI_1"].Stats[VrrpCounter.AdvertReceived] >= 1, Deadline, "b hears a");

        var stopped = Stopwatch.StartNew();
        await na.StopAsync();
        Assert.False(await a.HasAddressAsync("eth0", Vip));
        await nb.WaitForStateAsync("VI_1", VrrpStateKind.Master, TimeSpan.FromSeconds(2));
        // Skew_Time for priority 100 is 0.61 s; far below Master_Down_Interval (3.6 s).
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(1.5), $"takeover took {stopped.Elapsed}");
        Assert.Equal(1UL, nb["VI_1"].Stats[VrrpCounter.PriorityZeroReceived]);

        await Poll.UntilAsync(async () => (await capture.ReadAsync("-Y", "vrrp.prio == 0")).Count >= 1, Deadline, "the priority 0 advert on the wire");
    }
}
