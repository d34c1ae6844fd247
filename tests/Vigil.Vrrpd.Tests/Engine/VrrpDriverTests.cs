using System.Net;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

public sealed class VrrpDriverTests : DriverTestBase
{
    private static VrrpInstanceConfig Vi(byte prio, byte vrid = 51) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = vrid,
        Priority = prio,
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "1111",
        VirtualAddresses = [IPAddress.Parse("10.0.0.100")],
    };

    [Fact]
    public async Task Driver_SingleBackup_BecomesMasterAfterMasterDownInterval()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        var t0 = Clock.Elapsed;

        await AdvanceMicros(3_609_374);
        Assert.Empty(host.Sent);
        Assert.Equal(VrrpStateKind.Backup, driver.State.Instances["VI_1"].State);

        await AdvanceMicros(1);
        var sent = Assert.Single(host.Sent);
        Assert.Equal(t0 + VrrpTiming.FromMicros(3_609_375), sent.At);
        Assert.Equal(VrrpConstants.MulticastGroupV4, sent.Destination);
        Assert.True(Ipv4Header.TryParse(sent.Packet, out var ip, out _));
        Assert.Equal(255, ip.Ttl);
        Assert.Equal(112, ip.Protocol);
        Assert.Equal(host.Address, ip.Source);
        var advert = sent.Advert();
        Assert.Equal(100, advert.Priority);
        Assert.Equal(VrrpAuthType.SimplePassword, advert.AuthType);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        Assert.Contains("add VI_1", host.Calls);
        Assert.Equal(5, host.Calls.Count(c => c.StartsWith("garp eth0 10.0.0.100", StringComparison.Ordinal)));
        Assert.Contains("notify INSTANCE VI_1 MASTER 100", host.Calls);

        // One advert per second, and the second GARP burst garp_master_delay (5 s) later.
        await Advance(5);
        Assert.Equal(6, host.Sent.Count);
        Assert.Equal(10, host.Calls.Count(c => c.StartsWith("garp", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Driver_TimersFireEarly_StillAdvertisesEverySecond()
    {
        Clock.FireEarlyBy = TimeSpan.FromMilliseconds(0.4);
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(3.7);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        await Advance(10);
        Assert.InRange(host.Sent.Count, 10, 11);
    }

    [Fact]
    public async Task Driver_TwoNodes_MasterStopsCleanly_BackupTakesOverAfterSkew()
    {
        var a = new FakeHost(Clock, "a") { Address = IPAddress.Parse("10.0.0.1") };
        var b = new FakeHost(Clock, "b") { Address = IPAddress.Parse("10.0.0.2") };
        var da = Start(a, Vi(150));
        var db = Start(b, Vi(100));
        a.Peers.Add(db);
        b.Peers.Add(da);
        await da.StartAllAsync(_ => (a.Address, true));
        await db.StartAllAsync(_ => (b.Address, true));
        await Advance(10);

        Assert.Equal(VrrpStateKind.Master, da.State.Instances["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, db.State.Instances["VI_1"].State);
        Assert.Empty(b.Sent);
        Assert.True(db.State.Instances["VI_1"].Stats[VrrpCounter.AdvertReceived] >= 5);

        var stop = Clock.Elapsed;
        await da.StopAsync();
        await Settle();
        Assert.Equal(0, a.Sent.Last().Advert().Priority);
        Assert.Contains("remove VI_1", a.Calls);
        Assert.Contains("notify INSTANCE VI_1 STOP 150", a.Calls);

        await Advance(1);
        var first = b.Sent.First();
        Assert.Equal(stop + VrrpTiming.FromMicros(609_375), first.At);
        Assert.Equal(VrrpStateKind.Master, db.State.Instances["VI_1"].State);
    }

    [Fact]
    public async Task Driver_LinkDown_FaultWithPriorityZero_LinkUpBackup()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);

        await driver.PostToInterfaceAsync("eth0", new InterfaceStateChangedEvent(false));
        Assert.Equal(VrrpStateKind.Fault, driver.State.Instances["VI_1"].State);
        Assert.Equal(0, host.Sent.Last().Advert().Priority);
        Assert.Contains("notify INSTANCE VI_1 FAULT 100", host.Calls);
        var sentInFault = host.Sent.Count;
        await Advance(10);
        Assert.Equal(sentInFault, host.Sent.Count);

        await driver.PostToInterfaceAsync("eth0", new InterfaceStateChangedEvent(true));
        Assert.Equal(VrrpStateKind.Backup, driver.State.Instances["VI_1"].State);
    }

    [Fact]
    public async Task Driver_UnknownVridAndRunt_CountedNotRouted()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));

        var other = TestPackets.Ipv4(TestPackets.V2(vrid: 99));
        Assert.True(driver.PostPacket(other));
        Assert.True(driver.PostPacket(other with { Data = other.Data[..22] }));
        await Settle();

        Assert.Equal(1, driver.UnknownVridPackets);
        Assert.Equal(1, driver.MalformedPackets);
        Assert.Contains("unknown vrid 99", host.Calls);
        Assert.Equal(0UL, driver.State.Instances["VI_1"].Stats[VrrpCounter.AdvertReceived]);
    }

    [Fact]
    public async Task Driver_BadPassword_CountedAsAuthFailure()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        driver.PostPacket(TestPackets.Ipv4(TestPackets.V2(pass: "nope")));
        await Settle();

        Assert.Equal(1UL, driver.State.Instances["VI_1"].Stats[VrrpCounter.AuthFailure]);
        Assert.Contains(host.Actions, a => a.Action is PacketRejected { Reason: VrrpRejectReason.AuthFailure });
    }

    [Fact]
    public async Task Driver_ExecutorThrows_LoopKeepsRunning()
    {
        var host = new FakeHost(Clock) { AddVipsFails = _ => new IOException("netlink says no") };
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(6);

        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
        Assert.True(host.Sent.Count >= 3);
    }

    [Fact]
    public async Task Driver_Stopped_CommandsFailInsteadOfHanging()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StopAsync();
        await Drivers[^1].Loop;

        await Assert.ThrowsAsync<VrrpDriverStoppedException>(() => driver.PostAsync("VI_1", new SendGarpRequestedEvent()));
        Assert.False(driver.PostPacket(TestPackets.Ipv4(TestPackets.V2())));
    }

    [Fact]
    public async Task Driver_NeverRun_StopCompletesAndCommandsFail()
    {
        var driver = new VrrpDriver(VrrpEngineState.Create([Vi(100)]), new FakeHost(Clock).Dependencies());
        await driver.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Throws<VrrpDriverStoppedException>(() => { _ = driver.PostAsync("VI_1", new ShutdownEvent()); });
    }

    [Fact]
    public async Task Driver_SyncGroup_NotifiesGroupAndMovesTogether()
    {
        var host = new FakeHost(Clock);
        var out1 = Vi(100) with { Name = "VI_OUT", SyncGroup = "VG" };
        var in1 = Vi(100, vrid: 52) with { Name = "VI_IN", SyncGroup = "VG" };
        var driver = Run(new VrrpDriver(VrrpEngineState.Create([out1, in1], [new VrrpSyncGroupConfig("VG", ["VI_OUT", "VI_IN"])]), host.Dependencies()));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(5);

        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_IN"].State);
        Assert.Contains("notify GROUP VG MASTER", host.Calls);

        await driver.PostAsync("VI_IN", new TrackersChangedEvent(0, 1));
        Assert.Equal(VrrpStateKind.Fault, driver.State.Instances["VI_OUT"].State);
        Assert.Contains("notify GROUP VG FAULT", host.Calls);
    }

    [Fact]
    public async Task Driver_Takeover_AdvertGoesOutBeforeTheTransitionIsLoggedAndPublished()
    {
        var host = new FakeHost(Clock);
        var driver = Start(host, Vi(100));
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(4);

        var toMaster = host.Actions.Select(a => a.Action).ToList();
        var advert = toMaster.FindIndex(a => a is SendAdvert);
        var logged = toMaster.FindIndex(a => a is LogTransition { To: VrrpStateKind.Master });
        Assert.True(advert >= 0 && logged >= 0, string.Join(", ", toMaster));
        Assert.True(advert < logged, $"the advert ({advert}) must leave before the transition ({logged}) is handled: {string.Join(", ", toMaster)}");
        // Everything that touches the host keeps the engine's order: advert, VIPs, GARP, notify.
        var effects = toMaster.Skip(advert).Where(a => a is SendAdvert or AddVips or SendGarp or RunNotify).Select(a => a.GetType().Name).Distinct().ToList();
        Assert.Equal(["SendAdvert", "AddVips", "SendGarp", "RunNotify"], effects);
    }

    [Fact]
    public void AdvertsFirst_MovesAnAdvertOnlyPastItsOwnInstancesLogLines()
    {
        var log = new LogTransition(VrrpStateKind.Backup, VrrpStateKind.Master, VrrpTransitionReason.MasterDownTimerExpired);
        var note = new LogNote("x");
        var advert = new SendAdvert(100);
        var vips = new AddVips();
        (string, VrrpAction)[] actions = [("A", vips), ("B", note), ("A", log), ("A", advert), ("A", new SendGarp(1))];
        var ordered = VrrpDriver.AdvertsFirst(actions);
        Assert.Equal([("A", vips), ("B", note), ("A", advert), ("A", log), ("A", new SendGarp(1))], ordered);
        // Nothing to move: the same list comes back.
        (string, VrrpAction)[] plain = [("A", advert), ("A", log)];
        Assert.Same(plain, VrrpDriver.AdvertsFirst(plain));
    }

    [Fact]
    public async Task TakeoverWarmUp_RunsEveryInstanceToMasterAndBack_OnAThrowawayDriver()
    {
        VrrpInstanceConfig[] instances =
        [
            Vi(100) with { SyncGroup = "VG" },
            Vi(150, vrid: 52) with { Name = "VI_V3", Version = VrrpVersion.V3, AdvertInterval = TimeSpan.FromMilliseconds(10), AuthType = VrrpAuthType.None, AuthPassword = null },
            Vi(1, vrid: 53) with { Name = "VI_SLOW", Version = VrrpVersion.V3, AdvertInterval = TimeSpan.FromSeconds(40.95), AuthType = VrrpAuthType.None, AuthPassword = null },
        ];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var adverts = await TakeoverWarmUp.RunAsync(instances).WaitAsync(TimeSpan.FromSeconds(30));
        // Each instance: its first advert, at least one more, and priority 0 on the way out.
        Assert.True(adverts >= 3 * instances.Length, $"{adverts} adverts");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(0, await TakeoverWarmUp.RunAsync([]));
    }
}
