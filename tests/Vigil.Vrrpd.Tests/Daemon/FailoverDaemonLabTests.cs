using System.Diagnostics;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// Scenario S1 with the real vigil-vrrpd on two routers and a client on a lab switch: election,
/// the VIP on the master only, the client's ARP entry moving with gratuitous ARPs, takeover after
/// Master_Down_Interval on a cable pull and after Skew_Time on a clean stop, fail-back (preempt)
/// and nopreempt; the WatchInstances stream shows each transition with its reason.
/// </summary>
[Trait("Category", "Lab")]
public sealed class FailoverDaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private const string Vip = "10.77.0.100";

    private static async Task<(Lab Lab, LabHost A, LabHost B, LabHost C)> LanAsync()
    {
        var lab = await Lab.CreateAsync();
        try
        {
            var sw = await lab.AddSwitchAsync();
            var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "fd00:77::1/64");
            var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24", "fd00:77::2/64");
            var c = await lab.AddHostAsync("c", sw, "10.77.0.10/24", "fd00:77::10/64");
            return (lab, a, b, c);
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task V2Ipv4_CablePulledThenBack_BackupTakesOverAfterMasterDownIntervalAndMasterPreemptsBack()
    {
        var (lab, a, b, c) = await LanAsync();
        await using var _ = lab;
        var aMac = await a.MacAsync("eth0");
        var bMac = await b.MacAsync("eth0");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        var watch = await nb.WatchAsync();

        var applied = await na.ApplyAsync(Specs.Config(Specs.Instance(150, Vip + "/24")));
        Assert.Equal(["VI_1"], applied.AddedInstances);
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip + "/24")));

        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", Vip), Deadline, "VIP on a");
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        Assert.False(await b.HasAddressAsync("eth0", Vip));
        Assert.Contains($"{Vip}/24", await a.AddressesAsync("eth0"));
        await Poll.UntilAsync(() => c.PingAsync(Vip), Deadline, "the client reaches the VIP on a");
        Assert.Equal(aMac, await c.NeighborMacAsync(Vip));
        await Poll.UntilAsync(async () => await nb.CounterAsync("advert_rcvd") >= 2, Deadline, "b hears a's adverts");
        var bInstance = await nb.GetAsync();
        Assert.Equal("10.77.0.1", bInstance.MasterAddress);
        Assert.Equal(150u, bInstance.MasterPriority);
        Assert.Equal(0ul, bInstance.Counters["advert_sent"]);

        // The master's cable is pulled: b takes over after Master_Down_Interval (3 x 1 s + 0.61 s).
        var pulled = Stopwatch.StartNew();
        await a.SetCableAsync("eth0", false);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        var takeover = pulled.Elapsed;
        Assert.InRange(takeover, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(8));
        await Poll.UntilAsync(() => b.HasAddressAsync("eth0", Vip), Deadline, "VIP on b");
        await Poll.UntilAsync(async () => await c.NeighborMacAsync(Vip) == bMac, Deadline, "the client's ARP entry for the VIP to move to b",
            async () => $"client has {await c.NeighborMacAsync(Vip)}");
        // a lost carrier: FAULT, and the VIP left with it.
        await na.WaitForStateAsync(InstanceState.Fault, Deadline);
        Assert.Contains("interface down", (await na.GetAsync()).Faults);
        Assert.False(await a.HasAddressAsync("eth0", Vip));

        // Cable back: a (150) preempts b (100).
        await a.SetCableAsync("eth0", true);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(async () => !await b.HasAddressAsync("eth0", Vip), Deadline, "b releases the VIP");
        await Poll.UntilAsync(async () => await c.NeighborMacAsync(Vip) == aMac, Deadline, "the client's ARP entry to move back to a");

        await Poll.UntilAsync(() => watch.Transitions().Count() >= 3, Deadline, "three transitions on the stream", () => watch.Dump());
        var transitions = watch.Transitions().Select(t => $"{t.From}->{t.To} ({t.Reason})").ToList();
        Assert.Equal(["Init->Backup (startup)", "Backup->Master (master down timer expired)", "Master->Backup (higher priority advert received)"], transitions);
        Assert.Contains("VI_1: BACKUP -> MASTER (master down timer expired)", nb.Log);
        Assert.Contains("VI_1: MASTER -> FAULT (interface down)", na.Log);
    }

    [Fact]
    public async Task V2Ipv4_MasterDaemonStopped_SendsPriorityZeroAndBackupTakesOverAfterSkewTime()
    {
        var (lab, a, b, _) = await LanAsync();
        await using var __ = lab;
        await using var capture = await b.StartCaptureAsync("eth0", "ip proto 112");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Specs.Config(Specs.Instance(150, Vip)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(async () => await nb.CounterAsync("advert_rcvd") >= 1, Deadline, "b hears a");

        var stopped = Stopwatch.StartNew();
        await na.StopAsync();
        Assert.Equal(0, na.Process.ExitCode);
        Assert.False(await a.HasAddressAsync("eth0", Vip));
        await nb.WaitForStateAsync(InstanceState.Master, TimeSpan.FromSeconds(5));
        // Skew_Time for priority 100 is 0.61 s; Master_Down_Interval would be 3.61 s.
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(3), $"takeover took {stopped.Elapsed}");
        Assert.Equal(1ul, await nb.CounterAsync("pri_zero_rcvd"));
        Assert.Contains("VI_1: BACKUP -> MASTER (master sent priority 0)", nb.Log);
        Assert.Contains("VI_1: MASTER -> STOP (shutdown)", na.Log);
        await Poll.UntilAsync(async () => (await capture.ReadAsync("-Y", "vrrp.prio == 0")).Count >= 1, Deadline, "the priority 0 advert on the wire");
    }
}
