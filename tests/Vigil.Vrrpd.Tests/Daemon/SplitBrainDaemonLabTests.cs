using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// Scenario S2: an nftables rule in one router's namespace drops VRRP, both routers become MASTER
/// and hold the VIP; once the rule goes they converge as the protocol says (equal priority: the
/// higher primary address wins, even with nopreempt, which only concerns a backup), and the split
/// is visible: a log line naming the other master, a counter, and an OtherMaster event. Also the
/// mismatched virtual_router_id mistake, made visible by unknown-VRID logging and events.
/// </summary>
[Trait("Category", "Lab")]
public sealed class SplitBrainDaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private const string Vip = "10.77.0.100";

    private static async Task DropVrrpAsync(LabHost host)
    {
        await host.CheckAsync("nft", "add", "table", "inet", "vigiltest");
        foreach (var hook in new[] { "input", "output" })
        {
            await host.CheckAsync("nft", "add", "chain", "inet", "vigiltest", hook, "{", "type", "filter", "hook", hook, "priority", "0", ";", "}");
            await host.CheckAsync("nft", "add", "rule", "inet", "vigiltest", hook, "ip", "protocol", "112", "drop");
            await host.CheckAsync("nft", "add", "rule", "inet", "vigiltest", hook, "ip6", "nexthdr", "112", "drop");
        }
    }

    [Fact]
    public async Task S2_VrrpDroppedOnOneRouter_BothMaster_FilterRemoved_HigherAddressWinsAndSplitIsReported()
    {
        Shell.Require("nft");
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        await DropVrrpAsync(a);
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        var wa = await na.WatchAsync();
        var wb = await nb.WatchAsync();
        // The article's configuration: both BACKUP, nopreempt, the same priority.
        await na.ApplyAsync(Specs.Config(Specs.Instance(100, Vip, nopreempt: true)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip, nopreempt: true)));

        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(async () => await a.HasAddressAsync("eth0", Vip) && await b.HasAddressAsync("eth0", Vip), Deadline, "the VIP on both routers");
        Assert.Contains("VI_1: BACKUP -> MASTER (master down timer expired)", na.Log);
        Assert.Contains("VI_1: BACKUP -> MASTER (master down timer expired)", nb.Log);

        await a.CheckAsync("nft", "delete", "table", "inet", "vigiltest");

        // 10.77.0.2 > 10.77.0.1: b stays MASTER, a steps down and releases the VIP.
        await na.WaitForStateAsync(InstanceState.Backup, Deadline);
        await Poll.UntilAsync(async () => !await a.HasAddressAsync("eth0", Vip), Deadline, "a releases the VIP");
        Assert.Equal(InstanceState.Master, (await nb.GetAsync()).State);
        Assert.True(await b.HasAddressAsync("eth0", Vip));
        Assert.Equal("10.77.0.2", (await na.GetAsync()).MasterAddress);

        // Visible: the log names the other master, the counter counts it, the stream reports it.
        Assert.Contains("VI_1: two masters: 10.77.0.2 (priority 100) is master too", na.Log);
        Assert.True(await na.CounterAsync("other_master_seen") >= 1);
        await Poll.UntilAsync(() => wa.Messages.Any(m => m.OtherMaster is { Address: "10.77.0.2", Priority: 100, Instance: "VI_1" }), Deadline,
            "a's OtherMaster event", () => wa.Dump());
        Assert.Contains(wa.Transitions(), t => t.From == InstanceState.Master && t.To == InstanceState.Backup && t.Reason == "higher priority advert received");
        // b may have heard a's advert before a stepped down; if it did, it said so too.
        if (await nb.CounterAsync("other_master_seen") > 0)
            Assert.Contains("VI_1: two masters: 10.77.0.1 (priority 100) is master too", nb.Log);

        // And it stays converged.
        await Poll.HoldsAsync(async () => (await na.GetAsync()).State == InstanceState.Backup && (await nb.GetAsync()).State == InstanceState.Master,
            TimeSpan.FromSeconds(4), "one master");
        Assert.DoesNotContain(wb.Transitions(), t => t.To != InstanceState.Master && t.From == InstanceState.Master);
    }

    [Fact]
    public async Task S2_MismatchedVirtualRouterId_EachMasterOfItsOwn_UnknownVridLoggedCountedAndPublished()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        var wa = await na.WatchAsync();
        await na.ApplyAsync(Specs.Config(Specs.Instance(150, Vip, vrid: 51)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip, vrid: 52)));

        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(async () => (await na.ListAsync()).Counters["unknown_vrid"] >= 2, Deadline, "a counts b's adverts as unknown VRID");
        Assert.Contains("unknown VRID 52 received on interface eth0 from 10.77.0.2", na.Log);
        await Poll.UntilAsync(() => wa.Messages.Any(m => m.PacketRejected is { Instance: "", Reason: "unknown_vrid", VirtualRouterId: 52, Source: "10.77.0.2", Interface: "eth0" }),
            Deadline, "a PacketRejected event for VRID 52", () => wa.Dump());
        // With log_unknown_vrids every one is logged, as keepalived does.
        var config = Specs.Config(Specs.Instance(150, Vip, vrid: 51));
        config.Globals.LogUnknownVrids = true;
        var r = await na.ApplyAsync(config);
        Assert.Equal(["VI_1"], r.UnchangedInstances);
        await Poll.UntilAsync(() => na.Log.Split('\n').Count(l => l.Contains("unknown VRID 52", StringComparison.Ordinal)) >= 3, Deadline, "every unknown VRID advert logged");
    }
}
