using System.Diagnostics;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// VRRPv3 (sub-second adverts) with the real daemon: IPv6 failover with unsolicited NAs moving
/// the client's neighbour entry, nopreempt keeping the new master, and a crashed master (SIGKILL:
/// no priority 0, its VIP left behind) replaced after Master_Down_Interval, whose restarted
/// daemon removes the leftover address before anything else.
/// </summary>
[Trait("Category", "Lab")]
public sealed class FailoverV3DaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static async Task<(Lab, LabHost, LabHost, LabHost)> LanAsync()
    {
        var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "fd00:77::1/64");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24", "fd00:77::2/64");
        var c = await lab.AddHostAsync("c", sw, "10.77.0.10/24", "fd00:77::10/64");
        return (lab, a, b, c);
    }

    private static InstanceSpec Six(uint priority, bool nopreempt = false)
    {
        var i = Specs.Instance(priority, "fd00:77::100/64", vrid: 61, version: 3, advertSeconds: 0.5, nopreempt: nopreempt);
        i.Family = AddressFamily.Ipv6;
        return i;
    }

    [Fact]
    public async Task V3Ipv6_MasterStops_BackupTakesOverAndClientNeighbourMoves_RestartedMasterPreempts()
    {
        var (lab, a, b, c) = await LanAsync();
        await using var _ = lab;
        var aMac = await a.MacAsync("eth0");
        var bMac = await b.MacAsync("eth0");
        await using var capture = await c.StartCaptureAsync("eth0", "ip6 proto 112");
        var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        var watch = await nb.WatchAsync();
        await na.ApplyAsync(Specs.Config(Six(150)));
        await nb.ApplyAsync(Specs.Config(Six(100)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        var master = await na.GetAsync();
        Assert.Equal(AddressFamily.Ipv6, master.Family);
        Assert.StartsWith("fe80::", master.SourceAddress, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await nb.GetAsync()).MasterAddress == master.SourceAddress, Deadline, "b to know a's link-local address as the master's");
        Assert.Equal(TimeSpan.FromMilliseconds(500), (await nb.GetAsync()).MasterAdvertInterval.ToTimeSpan());
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", "fd00:77::100"), Deadline, "the VIP on a");
        Assert.False(await b.HasAddressAsync("eth0", "fd00:77::100"));
        await Poll.UntilAsync(() => c.PingAsync("fd00:77::100"), Deadline, "the client reaches the VIP on a");
        Assert.Equal(aMac, await c.NeighborMacAsync("fd00:77::100"));

        await na.StopAsync();
        await na.DisposeAsync();
        await nb.WaitForStateAsync(InstanceState.Master, TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(async () => await c.NeighborMacAsync("fd00:77::100") == bMac, Deadline, "the client's neighbour entry to move to b (unsolicited NA)",
            async () => $"client has {await c.NeighborMacAsync("fd00:77::100")}");
        Assert.True(await c.PingAsync("fd00:77::100"));

        await using var na2 = await VrrpdNode.StartAsync(a);
        await na2.ApplyAsync(Specs.Config(Six(150)));
        await na2.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        // The stream may trail GetInstance by a moment.
        await Poll.UntilAsync(() => watch.Transitions().Count() >= 3, Deadline, "three transitions on the stream", () => watch.Dump());
        Assert.Equal(["Init->Backup (startup)", "Backup->Master (master sent priority 0)", "Master->Backup (higher priority advert received)"],
            watch.Transitions().Select(t => $"{t.From}->{t.To} ({t.Reason})"));

        // The wire: VRRPv3 over IPv6, hop limit 255, 50 cs, to ff02::12.
        await capture.StopAsync();
        var fields = await capture.ReadAsync("-T", "fields", "-E", "separator=,", "-e", "ipv6.hlim", "-e", "ipv6.dst", "-e", "vrrp.version", "-e", "vrrp.short_adver_int", "-e", "vrrp.checksum.status");
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.Equal("255,ff02::12,3,50,1", f));
    }

    [Fact]
    public async Task V3Ipv4_Nopreempt_ReturningHigherPriorityRouterStaysBackup()
    {
        var (lab, a, b, _) = await LanAsync();
        await using var __ = lab;
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Specs.Config(Specs.Instance(150, "10.77.0.100", version: 3, advertSeconds: 0.5, nopreempt: true)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, "10.77.0.100", version: 3, advertSeconds: 0.5, nopreempt: true)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);

        await a.SetCableAsync("eth0", false);
        var pulled = Stopwatch.StartNew();
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        // Master_Down_Interval = 3 x 0.5 s + (256 - 100) x 0.5 / 256 s = 1.80 s.
        Assert.InRange(pulled.Elapsed, TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(6));
        await a.SetCableAsync("eth0", true);
        await na.WaitForStateAsync(InstanceState.Backup, Deadline);
        // nopreempt: a (150) hears b (100) and accepts it; b keeps the role.
        await Poll.HoldsAsync(async () => (await na.GetAsync()).State == InstanceState.Backup && (await nb.GetAsync()).State == InstanceState.Master,
            TimeSpan.FromSeconds(4), "b stays master");
        Assert.Equal("10.77.0.2", (await na.GetAsync()).MasterAddress);
        Assert.True(await b.HasAddressAsync("eth0", "10.77.0.100"));
        Assert.False(await a.HasAddressAsync("eth0", "10.77.0.100"));
    }

    [Fact]
    public async Task V3Ipv4_MasterKilled_BackupTakesOverAfterMasterDown_RestartRemovesLeftoverVip()
    {
        var (lab, a, b, _) = await LanAsync();
        await using var __ = lab;
        var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Specs.Config(Specs.Instance(150, "10.77.0.100/24", version: 3, advertSeconds: 0.5)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, "10.77.0.100/24", version: 3, advertSeconds: 0.5)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "VIP on a");

        var killed = Stopwatch.StartNew();
        await na.KillAsync();
        await na.DisposeAsync();
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.InRange(killed.Elapsed, TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(6));
        Assert.Equal(0ul, await nb.CounterAsync("pri_zero_rcvd"));
        // A killed daemon could not clean up.
        Assert.True(await a.HasAddressAsync("eth0", "10.77.0.100"));

        await using var na2 = await VrrpdNode.StartAsync(a);
        await na2.ApplyAsync(Specs.Config(Specs.Instance(150, "10.77.0.100/24", version: 3, advertSeconds: 0.5)));
        await Poll.UntilAsync(() => na2.Log.Contains("VI_1: removed 10.77.0.100/24 dev eth0 left over from an earlier run", StringComparison.Ordinal),
            Deadline, "the leftover VIP removed at startup", () => na2.Tail());
        await na2.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
    }

    [Fact]
    public async Task InterfaceMissingAtApply_InstanceInFault_RunsOnceTheInterfaceAppears()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        await using var na = await VrrpdNode.StartAsync(a);
        await na.ApplyAsync(Specs.Config(Specs.Instance(150, "10.78.0.100", version: 3, advertSeconds: 0.5, iface: "eth1")));
        await na.WaitForStateAsync(InstanceState.Fault, Deadline);
        var faults = (await na.GetAsync()).Faults;
        Assert.Contains("interface down", faults);
        Assert.Contains("cannot open the VRRP socket on eth1", na.Log);

        // The interface is plugged in (a new veth on another switch) with an address.
        var sw2 = await lab.AddSwitchAsync("lan2");
        await a.ConnectAsync(sw2, "eth1", "10.78.0.1/24");
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.Equal("10.78.0.1", (await na.GetAsync()).SourceAddress);
        await Poll.UntilAsync(() => a.HasAddressAsync("eth1", "10.78.0.100"), Deadline, "the VIP on eth1");
    }
}
