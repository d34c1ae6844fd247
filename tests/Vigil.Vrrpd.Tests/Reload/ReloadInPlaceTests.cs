using System.Net;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using Vigil.Vrrpd.Tests.Engine;

namespace Vigil.Vrrpd.Tests.Reload;

/// <summary>
/// A reload applies what keepalived 2.2.7 applies live (vrrp.c clear_diff_vrrp, restore_vrrp_state)
/// in place: a master whose priority, VIPs, advert_int, authentication or GARP settings change
/// stays MASTER, never sends priority 0, keeps the VIPs that stay and changes only the others; a
/// backup keeps its master down timer. Only a new identity (interface, VRID, family, addressing)
/// restarts the instance.
/// </summary>
public sealed class ReloadInPlaceTests : DriverTestBase
{
    private static readonly IPAddress Kept = IPAddress.Parse("10.0.0.10");
    private static readonly IPAddress Dropped = IPAddress.Parse("10.0.0.11");
    private static readonly IPAddress New = IPAddress.Parse("10.0.0.12");

    private static VrrpInstanceConfig Vi(byte prio = 100, int advertSeconds = 1, params IPAddress[] vips) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 51,
        Priority = prio,
        AdvertInterval = TimeSpan.FromSeconds(advertSeconds),
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "1111",
        VirtualAddresses = vips.Length > 0 ? vips : [Kept, Dropped],
    };

    private static readonly HashSet<string> None = [];

    /// <summary>A single node that has been MASTER for a while, with its recordings cleared.</summary>
    private async Task<(FakeHost Host, VrrpDriver Driver)> MasterAsync(VrrpInstanceConfig config)
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, config);
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4.5);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        host.Calls.Clear();
        host.Actions.Clear();
        return (host, driver);
    }

    [Fact]
    public async Task ReloadAsync_MasterPriorityVipsIntervalChanged_StaysMasterChangesOnlyTheChangedVips()
    {
        var (host, driver) = await MasterAsync(Vi());
        var before = driver.State.Instances["VI_1"];
        var sentBefore = host.Sent.Count;
        var reloadAt = Clock.Elapsed;

        await driver.ReloadAsync([Vi(prio: 150, advertSeconds: 2, Kept, New)], [], None);
        await Settle();

        var after = driver.State.Instances["VI_1"];
        Assert.Equal(VrrpStateKind.Master, after.State);
        Assert.Equal(before.LastTransition, after.LastTransition);
        Assert.Equal(1ul, after.Stats[VrrpCounter.BecomeMaster]);
        Assert.Equal(150, after.EffectivePriority);
        Assert.True(after.VipsSet);
        // Only the difference: no "remove VI_1" or "add VI_1" of the whole set, no notify.
        Assert.Equal(["change VI_1 +[10.0.0.12] -[10.0.0.11]", .. Enumerable.Repeat($"garp eth0 10.0.0.12 @{reloadAt.TotalSeconds:0.######}", 5)], host.Calls);
        Assert.DoesNotContain(host.Actions, a => a.Action is LogTransition or RunNotify or RemoveVips or AddVips);

        // The new advert goes out at once (keepalived's reload_master), then every new interval.
        var adverts = host.Sent.Skip(sentBefore).ToList();
        var first = Assert.Single(adverts);
        Assert.Equal(reloadAt, first.At);
        Assert.Equal(150, first.Advert().Priority);
        Assert.Equal(200, first.Advert().IntervalCentiseconds);
        Assert.Equal([Kept, New], first.Advert().Addresses);
        await Advance(6);
        var times = host.Sent.Skip(sentBefore).Select(s => s.At - reloadAt).ToList();
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6)], times);
        Assert.DoesNotContain(host.Sent, s => s.Advert().Priority == 0);
        Assert.Equal(0ul, driver.State.Instances["VI_1"].Stats[VrrpCounter.PriorityZeroSent]);
    }

    [Fact]
    public async Task ReloadAsync_MasterNothingOnTheWireChanged_KeepsItsAdvertCadence()
    {
        // Only preemption and GARP settings change: the advert is the same, so no extra one.
        var (host, driver) = await MasterAsync(Vi());
        var sentBefore = host.Sent.Select(s => s.At).ToList();
        await driver.ReloadAsync([Vi() with { PreemptDelay = TimeSpan.FromSeconds(30), GarpMasterRefresh = TimeSpan.FromSeconds(60) }], [], None);
        await Settle();
        Assert.Equal(sentBefore.Count, host.Sent.Count);
        Assert.Equal(["change VI_1 +[] -[]"], host.Calls);
        Assert.Equal(driver.Now + TimeSpan.FromSeconds(60), driver.State.Instances["VI_1"].TimerDue(VrrpTimerKind.GarpRefresh));
        await Advance(3);
        var times = host.Sent.Select(s => s.At).ToList();
        for (var i = 1; i < times.Count; i++) Assert.Equal(TimeSpan.FromSeconds(1), times[i] - times[i - 1]);
    }

    [Fact]
    public async Task ReloadAsync_MasterAuthChanged_AdvertisesTheNewPasswordAtOnce()
    {
        var (host, driver) = await MasterAsync(Vi());
        await driver.ReloadAsync([Vi() with { AuthPassword = "2222" }], [], None);
        await Settle();
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        Assert.Equal("2222"u8.ToArray(), host.Sent.Last().Advert().AuthData.ToArray().Take(4));
    }

    [Fact]
    public async Task ReloadAsync_MasterPriorityLoweredBelowBackup_BackupPreemptsWithoutPriorityZero()
    {
        var a = new FakeHost(Clock, "a") { Address = IPAddress.Parse("10.0.0.1") };
        var b = new FakeHost(Clock, "b") { Address = IPAddress.Parse("10.0.0.2") };
        var da = Start(a, Vi(prio: 150));
        var db = Start(b, Vi(prio: 100));
        a.Peers.Add(db);
        b.Peers.Add(da);
        await da.StartAllAsync(_ => (a.Address, true));
        await db.StartAllAsync(_ => (b.Address, true));
        await Advance(10);
        Assert.Equal(VrrpStateKind.Master, da.State.Instances["VI_1"].State);
        var reloadAt = Clock.Elapsed;

        // Still a valid master at once; the backup, which preempts, ignores the lower adverts and
        // takes over when its master down timer runs out (keepalived: the normal election).
        await da.ReloadAsync([Vi(prio: 50)], [], None);
        await Settle();
        Assert.Equal(VrrpStateKind.Master, da.State.Instances["VI_1"].State);
        Assert.Equal(50, a.Sent.Last().Advert().Priority);
        await Advance(5);
        Assert.Equal(VrrpStateKind.Master, db.State.Instances["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, da.State.Instances["VI_1"].State);
        Assert.DoesNotContain(a.Sent, s => s.Advert().Priority == 0);
        // Master_Down_Interval of priority 100 = 3 s + (256-100)/256 s after the last advert it accepted.
        var takeover = b.Sent.First().At - reloadAt;
        Assert.InRange(takeover, TimeSpan.FromSeconds(2.6), TimeSpan.FromSeconds(3.7));
    }

    [Fact]
    public async Task ReloadAsync_BackupUnrelatedChange_KeepsItsMasterDownDeadline()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi());
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(1);
        var due = driver.State.Instances["VI_1"].TimerDue(VrrpTimerKind.MasterDown);
        Assert.NotNull(due);
        host.Calls.Clear();

        await driver.ReloadAsync([Vi(vips: [Kept, New]) with { Nopreempt = true, GarpMasterRepeat = 2 }], [], None);
        await Settle();
        var after = driver.State.Instances["VI_1"];
        Assert.Equal(VrrpStateKind.Backup, after.State);
        Assert.Equal(due, after.TimerDue(VrrpTimerKind.MasterDown));
        Assert.Empty(host.Calls);
        Assert.Empty(host.Sent);
    }

    [Fact]
    public async Task ReloadAsync_BackupPriorityChanged_MasterDownMovesByTheChangeOfItsLength()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(prio: 100));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(1);
        var due = driver.State.Instances["VI_1"].TimerDue(VrrpTimerKind.MasterDown)!.Value;

        await driver.ReloadAsync([Vi(prio: 200)], [], None);
        await Settle();
        var after = driver.State.Instances["VI_1"];
        Assert.Equal(VrrpStateKind.Backup, after.State);
        Assert.Equal(200, after.EffectivePriority);
        // Skew_Time: (256-100)/256 s = 609375 us before, (256-200)/256 s = 218750 us after.
        Assert.Equal(due - VrrpTiming.FromMicros(609_375 - 218_750), after.TimerDue(VrrpTimerKind.MasterDown));
        Assert.Equal(3_218_750, after.MasterDownMicros);
    }

    [Theory]
    [InlineData("interface")]
    [InlineData("vrid")]
    [InlineData("unicast")]
    [InlineData("mcast_group")]
    public async Task ReloadAsync_NewIdentity_RestartsWithPriorityZero(string what)
    {
        var (host, driver) = await MasterAsync(Vi());
        var next = what switch
        {
            "interface" => Vi() with { Interface = "eth1" },
            "vrid" => Vi() with { Vrid = 52 },
            "unicast" => Vi() with { UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.0.0.2"), 0, 255)] },
            _ => Vi() with { MulticastGroup = IPAddress.Parse("224.0.0.19") },
        };
        await driver.ReloadAsync([next], [], None);
        await Settle();
        Assert.Equal(0, host.Sent.Last().Advert().Priority);
        Assert.Contains("remove VI_1", host.Calls);
        Assert.Contains("notify INSTANCE VI_1 STOP 100", host.Calls);
        Assert.Equal(VrrpStateKind.Init, driver.State.Instances["VI_1"].State);
    }

    [Fact]
    public void RestartReason_IdentityOnly()
    {
        var v = Vi();
        Assert.Null(VrrpEngine.RestartReason(v, Vi(prio: 200, advertSeconds: 3, New)));
        Assert.Null(VrrpEngine.RestartReason(v, v with
        {
            AuthPassword = "x",
            Nopreempt = true,
            PreemptDelay = TimeSpan.FromSeconds(5),
            GarpMasterDelay = TimeSpan.Zero,
            ExcludedVirtualAddresses = [IPAddress.Parse("fd00::1")],
            Version = VrrpVersion.V3,
            AuthType = VrrpAuthType.None,
        }));
        Assert.Equal("interface eth0 -> eth1", VrrpEngine.RestartReason(v, v with { Interface = "eth1" }));
        Assert.Equal("virtual_router_id 51 -> 52", VrrpEngine.RestartReason(v, v with { Vrid = 52 }));
        Assert.NotNull(VrrpEngine.RestartReason(v, v with { Family = System.Net.Sockets.AddressFamily.InterNetworkV6, VirtualAddresses = [] }));
        Assert.NotNull(VrrpEngine.RestartReason(v, v with { SourceAddress = IPAddress.Parse("10.0.0.9") }));
        Assert.NotNull(VrrpEngine.RestartReason(v, v with { SyncGroup = "G1" }));
    }

    [Fact]
    public void Reload_Pure_MasterGetsChangeVipsAndGarpForTheAddedOnly()
    {
        var owner = Vi(prio: 255) with { InitialState = VrrpStateKind.Master };
        var start = VrrpEngine.Dispatch(VrrpEngineState.Create([owner]), "VI_1", new StartupEvent(IPAddress.Parse("10.0.0.1"), true), TimeSpan.Zero).State;
        Assert.Equal(VrrpStateKind.Master, start.Instances["VI_1"].State);
        var next = owner with { VirtualAddresses = [Kept, New], ExcludedVirtualAddresses = [IPAddress.Parse("10.0.1.1")] };

        var reload = VrrpEngine.Reload(start, [next], null, None, TimeSpan.FromSeconds(1));

        Assert.Equal(["VI_1"], reload.Reconfigured);
        var actions = reload.Step.Actions.Select(a => a.Action).ToList();
        var change = Assert.Single(actions.OfType<ChangeVips>());
        Assert.Equal([New, IPAddress.Parse("10.0.1.1")], change.Added);
        Assert.Equal([Dropped], change.Removed);
        var garp = Assert.Single(actions.OfType<SendGarp>());
        Assert.Equal(change.Added, garp.Only);
        // The advert with the new addresses goes first, before the addresses and GARPs.
        Assert.True(actions.FindIndex(a => a is SendAdvert) < actions.FindIndex(a => a is ChangeVips));
        Assert.Same(next, reload.Step.State.Instances["VI_1"].Config);
    }

    [Fact]
    public void Reload_Pure_V3BackupKeepsTheMastersInterval()
    {
        var v3 = Vi() with { Version = VrrpVersion.V3, AuthType = VrrpAuthType.None, AuthPassword = null };
        var state = VrrpEngine.Dispatch(VrrpEngineState.Create([v3]), "VI_1", new StartupEvent(IPAddress.Parse("10.0.0.1"), true), TimeSpan.Zero).State;
        state = state with
        {
            Instances = state.Instances.SetItem("VI_1", state.Instances["VI_1"] with { MasterAddress = IPAddress.Parse("10.0.0.2"), MasterAdverIntervalMicros = 500_000 }),
        };
        var reload = VrrpEngine.Reload(state, [v3 with { AdvertInterval = TimeSpan.FromSeconds(2) }], null, None, TimeSpan.FromSeconds(1));
        Assert.Equal(500_000, reload.Step.State.Instances["VI_1"].MasterAdverIntervalMicros);
    }

    [Fact]
    public async Task ReloadAsync_MasterRenamed_IsTheSameInstance_StaysMasterWithoutPriorityZero()
    {
        var (host, driver) = await MasterAsync(Vi());
        var before = driver.State.Instances["VI_1"];
        var sentBefore = host.Sent.Count;
        var renamed = Vi(prio: 150, 1, Kept, New) with { Name = "VI_web" };
        var renames = VrrpEngine.Renames([Vi()], [renamed]);
        Assert.Equal(new Dictionary<string, string> { ["VI_1"] = "VI_web" }, renames);

        await driver.ReloadAsync([renamed], [], None, renames: renames);
        await Settle();

        Assert.False(driver.State.Instances.ContainsKey("VI_1"));
        var after = driver.State.Instances["VI_web"];
        Assert.Equal(VrrpStateKind.Master, after.State);
        Assert.Equal(before.LastTransition, after.LastTransition);
        Assert.Equal(1ul, after.Stats[VrrpCounter.BecomeMaster]);
        Assert.Equal(150, after.EffectivePriority);
        Assert.Equal(["change VI_web +[10.0.0.12] -[10.0.0.11]", .. Enumerable.Repeat($"garp eth0 10.0.0.12 @{Clock.Elapsed.TotalSeconds:0.######}", 5)], host.Calls);
        Assert.DoesNotContain(host.Actions, a => a.Action is LogTransition or RunNotify or RemoveVips or AddVips);
        // It goes on advertising every second under its new name, never priority 0.
        await Advance(3);
        var adverts = host.Sent.Skip(sentBefore).ToList();
        Assert.True(adverts.Count >= 3, $"{adverts.Count} adverts in 3 s after the rename");
        Assert.DoesNotContain(adverts, a => a.Advert().Priority == 0);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_web"].State);
    }

    [Fact]
    public void Renames_MatchByIdentity_NotByName()
    {
        var a = Vi();
        // VRID, interface, family and addressing the same: the same instance under a new name.
        Assert.Equal("VI_new", VrrpEngine.Renames([a], [a with { Name = "VI_new", Priority = 200 }])["VI_1"]);
        // Another VRID, or another interface: a new instance (the old one stops).
        Assert.Empty(VrrpEngine.Renames([a], [a with { Name = "VI_new", Vrid = 52 }]));
        Assert.Empty(VrrpEngine.Renames([a], [a with { Name = "VI_new", Interface = "eth1" }]));
        // A name kept is no rename, even when another new instance would match.
        Assert.Empty(VrrpEngine.Renames([a], [a, a with { Name = "VI_2", Vrid = 51 }]));
        // Sync group members are not matched: the group names them.
        Assert.Empty(VrrpEngine.Renames([a with { SyncGroup = "G" }], [a with { Name = "VI_new", SyncGroup = "G" }]));
        // Two gone, two new, each matched once.
        var b = a with { Name = "VI_2", Vrid = 52 };
        var r = VrrpEngine.Renames([a, b], [b with { Name = "B" }, a with { Name = "A" }]);
        Assert.Equal("A", r["VI_1"]);
        Assert.Equal("B", r["VI_2"]);
    }
}
