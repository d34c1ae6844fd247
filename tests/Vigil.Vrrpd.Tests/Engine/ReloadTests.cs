using System.Net;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>Configuration reload: unchanged instances keep everything, new instances (a new identity) stop and start.</summary>
public sealed class ReloadTests : DriverTestBase
{
    private static VrrpInstanceConfig Vi(string name, byte vrid, byte prio = 100, string? group = null) => new()
    {
        Name = name,
        Interface = "eth0",
        Vrid = vrid,
        Priority = prio,
        VirtualAddresses = [IPAddress.Parse($"10.0.0.{vrid}")],
        SyncGroup = group,
    };

    [Fact]
    public void Reload_KeptInstance_CarriesItsWholeStateOver()
    {
        var before = VrrpEngineState.Create([Vi("VI_1", 1), Vi("VI_2", 2)]);
        var running = VrrpEngine.Dispatch(before, "VI_1", new StartupEvent(IPAddress.Parse("10.0.0.9"), true), TimeSpan.FromSeconds(1)).State;
        var old = running.Instances["VI_1"];

        var next = VrrpEngine.Reload(running, [Vi("VI_1", 1), Vi("VI_3", 3)], null, new HashSet<string>(), TimeSpan.FromSeconds(2),
            unchanged: new HashSet<string> { "VI_1" }).Step.State;

        var kept = next.Instances["VI_1"];
        Assert.Equal(VrrpStateKind.Backup, kept.State);
        Assert.Equal(old.Timers, kept.Timers);
        Assert.Equal(old.SourceAddress, kept.SourceAddress);
        Assert.Equal(old.LastTransition, kept.LastTransition);
        Assert.False(next.Instances.ContainsKey("VI_2"));
        Assert.Equal(VrrpStateKind.Init, next.Instances["VI_3"].State);
    }

    [Fact]
    public void Reload_InstanceNamedForRestart_StartsAfresh()
    {
        var running = VrrpEngine.Dispatch(VrrpEngineState.Create([Vi("VI_1", 1)]), "VI_1", new StartupEvent(IPAddress.Parse("10.0.0.9"), true), TimeSpan.Zero).State;
        var next = VrrpEngine.Reload(running, [Vi("VI_1", 1, prio: 120)], null, new HashSet<string> { "VI_1" }, TimeSpan.Zero);
        Assert.Equal(VrrpStateKind.Init, next.Step.State.Instances["VI_1"].State);
        Assert.Equal(120, next.Step.State.Instances["VI_1"].Config.Priority);
        Assert.Empty(next.Reconfigured);
    }

    [Fact]
    public void Reload_InvalidConfiguration_ThrowsNamingTheProblem()
    {
        var running = VrrpEngineState.Create([Vi("VI_1", 1)]);
        var e = Assert.Throws<ArgumentException>(() => VrrpEngine.Reload(running, [Vi("VI_1", 1), Vi("VI_1", 2)], null, new HashSet<string>(), TimeSpan.Zero));
        Assert.Contains("VI_1 is defined twice", e.Message);
    }

    [Fact]
    public void Reload_GroupWithSameMembersKept_KeepsItsState()
    {
        var group = new VrrpSyncGroupConfig("G1", ["VI_1", "VI_2"]);
        var state = VrrpEngineState.Create([Vi("VI_1", 1, group: "G1"), Vi("VI_2", 2, group: "G1")], [group]);
        state = state with { GroupStates = state.GroupStates.SetItem("G1", VrrpStateKind.Master) };
        VrrpEngineState Reloaded(params string[] restart) =>
            VrrpEngine.Reload(state, [Vi("VI_1", 1, group: "G1"), Vi("VI_2", 2, group: "G1")], [group], restart.ToHashSet(), TimeSpan.Zero).Step.State;
        Assert.Equal(VrrpStateKind.Master, Reloaded().GroupStates["G1"]);
        Assert.Equal(VrrpStateKind.Init, Reloaded("VI_2").GroupStates["G1"]);
    }

    [Fact]
    public async Task ReloadAsync_UnchangedMaster_NoVipRemovalNoTransitionNoAdvertGap()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi("VI_1", 1), Vi("VI_2", 2));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_2"].State);
        var masterSince = driver.State.Instances["VI_1"].LastTransition;
        await Advance(0.5);
        host.Calls.Clear();
        host.Actions.Clear();
        var sentBefore = host.Sent.Where(s => s.Instance == "VI_1").Select(s => s.At).ToList();

        await driver.ReloadAsync([Vi("VI_1", 1), Vi("VI_3", 3)], [], new HashSet<string>(), unchanged: new HashSet<string> { "VI_1" });
        await Settle();

        // VI_1 untouched: no VIP removal, no transition, no notify.
        Assert.DoesNotContain(host.Calls, c => c.Contains("VI_1", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Actions, a => a.Instance == "VI_1");
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        Assert.Equal(masterSince, driver.State.Instances["VI_1"].LastTransition);
        // VI_2 was removed: priority 0, VIPs released, DELETED.
        Assert.Contains("remove VI_2", host.Calls);
        Assert.Contains("notify INSTANCE VI_2 DELETED 100", host.Calls);
        Assert.Equal(0, host.Sent.Last(s => s.Instance == "VI_2").Advert().Priority);
        Assert.False(driver.State.Instances.ContainsKey("VI_2"));
        Assert.Equal(VrrpStateKind.Init, driver.State.Instances["VI_3"].State);

        // VI_1's adverts keep their one-second cadence through the reload.
        await Advance(3);
        var times = sentBefore.Concat(host.Sent.Where(s => s.Instance == "VI_1").Select(s => s.At).Skip(sentBefore.Count)).ToList();
        for (var i = 1; i < times.Count; i++) Assert.Equal(TimeSpan.FromSeconds(1), times[i] - times[i - 1]);
        Assert.True(times.Count >= sentBefore.Count + 3);
        // No timer of the removed instance fires any more.
        Assert.DoesNotContain(host.Sent.Skip(0), s => s.Instance == "VI_2" && s.At > Clock.Elapsed - TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task ReloadAsync_VridChanged_StopsThenWaitsForStartup()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi("VI_1", 1));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);

        // A new VRID is a new instance (keepalived vrrp_exist): the old one leaves with priority 0.
        await driver.ReloadAsync([Vi("VI_1", 2, prio: 50)], [], new HashSet<string>());
        Assert.Equal(0, host.Sent.Last().Advert().Priority);
        Assert.Contains("remove VI_1", host.Calls);
        Assert.Contains("notify INSTANCE VI_1 STOP 100", host.Calls);
        Assert.Equal(VrrpStateKind.Init, driver.State.Instances["VI_1"].State);

        await driver.StartAllAsync(_ => (host.Address, true));
        Assert.Equal(VrrpStateKind.Backup, driver.State.Instances["VI_1"].State);
        Assert.Equal(50, driver.State.Instances["VI_1"].EffectivePriority);
    }

    [Fact]
    public async Task ReloadAsync_InvalidConfiguration_ThrowsAndChangesNothing()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi("VI_1", 1));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4);
        var before = driver.State;

        await Assert.ThrowsAsync<ArgumentException>(() => driver.ReloadAsync([Vi("VI_1", 0)], [], new HashSet<string>()));
        await Settle();
        Assert.Same(before.Instances["VI_1"], driver.State.Instances["VI_1"]);
        Assert.DoesNotContain("remove VI_1", host.Calls);
    }

    [Fact]
    public async Task InvokeAsync_RunsOnTheLoopBetweenCommands()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi("VI_1", 1));
        var startup = driver.StartAllAsync(_ => (host.Address, true));
        var seen = await driver.InvokeAsync(s => s.Instances["VI_1"].State);
        await startup;
        Assert.Equal(VrrpStateKind.Backup, seen);
    }

    [Fact]
    public void Counters_OtherMasterSeen_HasItsKeepalivedStyleName()
    {
        Assert.Equal("other_master_seen", VrrpCounter.OtherMasterSeen.KeepalivedName());
        Assert.Contains("other_master_seen", VrrpStatistics.Zero.ToDictionary().Keys);
    }
}
