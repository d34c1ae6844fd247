using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using static Vigil.Vrrpd.Tests.TestPackets;

namespace Vigil.Vrrpd.Tests.Engine;

public sealed class VrrpInstanceMachineTests
{
    internal static VrrpInstanceConfig V2Config(byte priority = 100) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 51,
        Priority = priority,
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "secret",
        VirtualAddresses = [Vip4],
    };

    internal static VrrpInstanceConfig V3Config(byte priority = 100, int centis = 100) => new()
    {
        Name = "VI_6",
        Interface = "eth0",
        Vrid = 51,
        Version = VrrpVersion.V3,
        Priority = priority,
        AdvertInterval = TimeSpan.FromMilliseconds(centis * 10),
        VirtualAddresses = [Vip4],
    };

    private static TimeSpan Us(long micros) => VrrpTiming.FromMicros(micros);

    private static MachineHarness Master(VrrpInstanceConfig config)
    {
        var m = new MachineHarness(config);
        m.Start();
        m.Fire(VrrpTimerKind.MasterDown);
        Assert.Equal(VrrpStateKind.Master, m.State.State);
        return m;
    }

    [Fact]
    public void Step_StartupAsBackup_ArmsMasterDownInterval()
    {
        var m = new MachineHarness(V2Config());
        var actions = m.Start();

        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.Contains(new LogTransition(VrrpStateKind.Init, VrrpStateKind.Backup, VrrpTransitionReason.Startup), actions);
        Assert.Contains(new RunNotify(VrrpNotifyState.Backup, 100), actions);
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_609_375)), actions);
        Assert.DoesNotContain(actions, a => a is SendAdvert);
    }

    [Fact]
    public void Step_MasterDownExpires_AdvertisesThenTakesVipsThenGarps()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        var t0 = m.Now;
        var actions = m.Fire(VrrpTimerKind.MasterDown);

        Assert.Equal(t0 + Us(3_609_375), m.Now);
        Assert.Equal(VrrpStateKind.Master, m.State.State);
        var order = actions.Where(a => a is LogTransition or SendAdvert or AddVips or SendGarp or RunNotify).ToList();
        Assert.Equal<VrrpAction>(
        [
            new LogTransition(VrrpStateKind.Backup, VrrpStateKind.Master, VrrpTransitionReason.MasterDownTimerExpired),
            new SendAdvert(100),
            new AddVips(),
            new SendGarp(5),
            new RunNotify(VrrpNotifyState.Master, 100),
        ], order);
        Assert.Contains(new ArmTimer(VrrpTimerKind.Advert, m.Now + TimeSpan.FromSeconds(1)), actions);
        Assert.Contains(new ArmTimer(VrrpTimerKind.GarpDelay, m.Now + TimeSpan.FromSeconds(5)), actions);
        Assert.Contains(new CancelTimer(VrrpTimerKind.MasterDown), actions);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.BecomeMaster]);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.AdvertSent]);
    }

    [Fact]
    public void Step_AdvertTimer_AdvertisesEveryIntervalWithoutRetakingVips()
    {
        var m = Master(V2Config());
        var start = m.Now;
        for (var i = 1; i <= 3; i++)
        {
            var actions = m.Fire(VrrpTimerKind.Advert);
            Assert.Equal(start + TimeSpan.FromSeconds(i), m.Now);
            Assert.Equal([new SendAdvert(100), new ArmTimer(VrrpTimerKind.Advert, m.Now + TimeSpan.FromSeconds(1))], actions.Where(a => a is SendAdvert or ArmTimer).ToList());
            Assert.DoesNotContain(actions, a => a is AddVips or RunNotify);
        }
        Assert.Equal(4UL, m.State.Stats[VrrpCounter.AdvertSent]);
    }

    [Fact]
    public void Step_OwnerStartup_GoesMasterAtOnce()
    {
        var m = new MachineHarness(V2Config(255) with { InitialState = VrrpStateKind.Master });
        var actions = m.Start();

        Assert.Equal(VrrpStateKind.Master, m.State.State);
        Assert.Contains(new LogTransition(VrrpStateKind.Init, VrrpStateKind.Master, VrrpTransitionReason.AddressOwner), actions);
        Assert.Contains(new SendAdvert(255), actions);
        Assert.Contains(new AddVips(), actions);
    }

    [Fact]
    public void Step_ConfiguredMasterNotOwner_WaitsMasterDownIntervalLikeABackup()
    {
        var m = new MachineHarness(V2Config(150) with { InitialState = VrrpStateKind.Master });
        var actions = m.Start();

        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_000_000 + 414_062)), actions);
    }

    [Fact]
    public void Step_BackupHearsHigherOrEqualPriority_RestartsMasterDownTimer()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Advance(TimeSpan.FromSeconds(2));
        var actions = m.Receive(m.Advert(100));

        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_609_375)), actions);
        Assert.Equal(Peer4, m.State.MasterAddress);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.AdvertReceived]);
    }

    [Fact]
    public void Step_BackupHearsLowerPriorityInPreemptMode_DiscardsAndTakesOverOnTime()
    {
        var m = new MachineHarness(V2Config(150));
        m.Start();
        var deadline = m.State.TimerDue(VrrpTimerKind.MasterDown);
        m.Advance(TimeSpan.FromSeconds(1));
        var actions = m.Receive(m.Advert(100));

        Assert.DoesNotContain(actions, a => a is ArmTimer);
        Assert.Equal(deadline, m.State.TimerDue(VrrpTimerKind.MasterDown));
        m.Fire(VrrpTimerKind.MasterDown);
        Assert.Equal(VrrpStateKind.Master, m.State.State);
    }

    [Fact]
    public void Step_NopreemptBackupHearsLowerPriority_StaysBackup()
    {
        var m = new MachineHarness(V2Config(150) with { Nopreempt = true });
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        var actions = m.Receive(m.Advert(100));

        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_000_000 + 414_062)), actions);
    }

    [Fact]
    public void Step_PreemptDelay_AcceptsLowerPriorityUntilDelayEnds()
    {
        var m = new MachineHarness(V2Config(150) with { PreemptDelay = TimeSpan.FromSeconds(10) });
        m.Start();
        var first = m.Now + TimeSpan.FromSeconds(1);
        m.Advance(TimeSpan.FromSeconds(1));
        m.Receive(m.Advert(100));
        Assert.Equal(first + TimeSpan.FromSeconds(10), m.State.PreemptTime);

        // Adverts keep holding us back while the delay runs...
        for (var i = 0; i < 9; i++)
        {
            m.Advance(TimeSpan.FromSeconds(1));
            Assert.Contains(m.Receive(m.Advert(100)), a => a is ArmTimer { Kind: VrrpTimerKind.MasterDown });
        }
        // ...and are discarded once it is over, so the master down timer runs out.
        m.Advance(TimeSpan.FromSeconds(1.5));
        Assert.DoesNotContain(m.Receive(m.Advert(100)), a => a is ArmTimer);
        m.Fire(VrrpTimerKind.MasterDown);
        Assert.Equal(VrrpStateKind.Master, m.State.State);
    }

    [Fact]
    public void Step_PreemptDelay_HigherPriorityMasterStopsTheDelay()
    {
        var m = new MachineHarness(V2Config(150) with { PreemptDelay = TimeSpan.FromSeconds(10) });
        m.Start();
        m.Receive(m.Advert(100));
        Assert.NotNull(m.State.PreemptTime);
        m.Receive(m.Advert(200));
        Assert.Null(m.State.PreemptTime);
    }

    [Fact]
    public void Step_BackupHearsPriorityZero_TakesOverAfterSkewOnly()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        var actions = m.Receive(m.Advert(0));

        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(609_375)), actions);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.PriorityZeroReceived]);
        var takeover = m.Fire(VrrpTimerKind.MasterDown);
        Assert.Contains(new LogTransition(VrrpStateKind.Backup, VrrpStateKind.Master, VrrpTransitionReason.PriorityZeroReceived), takeover);
    }

    [Fact]
    public void Step_V3BackupHearsFasterMaster_AdoptsItsInterval()
    {
        var m = new MachineHarness(V3Config(100, centis: 100));
        m.Start();
        var actions = m.Receive(m.Advert(200, centis: 50));

        Assert.Equal(500_000, m.State.MasterAdverIntervalMicros);
        // 3 x 0.5 s + (156 x 50 x 625 / 16) us
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(1_500_000 + 304_687)), actions);
    }

    [Fact]
    public void Step_V3BackupBecomesMaster_UsesItsOwnIntervalAgain()
    {
        var m = new MachineHarness(V3Config(100, centis: 100));
        m.Start();
        m.Receive(m.Advert(200, centis: 50));
        var actions = m.Fire(VrrpTimerKind.MasterDown);

        Assert.Equal(1_000_000, m.State.MasterAdverIntervalMicros);
        Assert.Contains(new ArmTimer(VrrpTimerKind.Advert, m.Now + TimeSpan.FromSeconds(1)), actions);
    }

    [Fact]
    public void Step_V2BackupHearsOtherInterval_RejectsAndKeepsTimer()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        var before = m.State;
        var actions = m.Receive(m.Advert(200, centis: 200));

        Assert.Equal([new PacketRejected(VrrpRejectReason.AdvertIntervalMismatch, Peer4)], actions);
        Assert.Equal(before with { Stats = before.Stats.Increment(VrrpCounter.AdvertIntervalError) }, m.State);
    }

    [Fact]
    public void Step_MasterHearsHigherPriority_GoesBackupWithoutPriorityZero()
    {
        var m = Master(V2Config(100));
        var actions = m.Receive(m.Advert(150));

        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.DoesNotContain(actions, a => a is SendAdvert);
        Assert.Contains(new RemoveVips(), actions);
        Assert.Contains(new RunNotify(VrrpNotifyState.Backup, 100), actions);
        Assert.Contains(new LogTransition(VrrpStateKind.Master, VrrpStateKind.Backup, VrrpTransitionReason.HigherPriorityAdvert), actions);
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_609_375)), actions);
        Assert.Contains(new CancelTimer(VrrpTimerKind.Advert), actions);
        Assert.Contains(new CancelTimer(VrrpTimerKind.GarpDelay), actions);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.ReleaseMaster]);
    }

    [Fact]
    public void Step_MasterHearsEqualPriorityFromHigherAddress_GoesBackup()
    {
        var m = Master(V2Config(100));
        m.Receive(m.Advert(100), from: IPAddress.Parse("10.0.0.9"));
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
    }

    [Fact]
    public void Step_MasterHearsEqualPriorityFromLowerAddress_ReadvertisesAndNamesOtherMaster()
    {
        var m = new MachineHarness(V2Config(100));
        m.Start(IPAddress.Parse("10.0.0.5"));
        m.Fire(VrrpTimerKind.MasterDown);
        var actions = m.Receive(m.Advert(100), from: IPAddress.Parse("10.0.0.2"));

        Assert.Equal(VrrpStateKind.Master, m.State.State);
        Assert.Contains(new OtherMasterDetected(IPAddress.Parse("10.0.0.2"), 100), actions);
        Assert.Contains(new SendAdvert(100), actions);
        Assert.Contains(new RunNotify(VrrpNotifyState.MasterRxLowerPriority, 100), actions);
    }

    [Fact]
    public void Step_MasterHearsLowerPriority_ReadvertisesAndRestartsAdvertTimer()
    {
        var m = Master(V2Config(150));
        m.Advance(TimeSpan.FromMilliseconds(300));
        var actions = m.Receive(m.Advert(100));

        Assert.Contains(new OtherMasterDetected(Peer4, 100), actions);
        Assert.Contains(new SendAdvert(150), actions);
        Assert.Contains(new ArmTimer(VrrpTimerKind.Advert, m.Now + TimeSpan.FromSeconds(1)), actions);
    }

    [Fact]
    public void Step_LowerPrioNoAdvert_MasterStaysSilentButStillReportsOtherMaster()
    {
        var m = Master(V2Config(150) with { LowerPrioNoAdvert = true });
        var actions = m.Receive(m.Advert(100));

        Assert.DoesNotContain(actions, a => a is SendAdvert);
        Assert.Contains(new OtherMasterDetected(Peer4, 100), actions);
    }

    [Fact]
    public void Step_HigherPrioSendAdvert_MasterAdvertisesBeforeStepppingDown()
    {
        var m = Master(V2Config(100) with { HigherPrioSendAdvert = true });
        var actions = m.Receive(m.Advert(150));

        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.IsType<SendAdvert>(actions.First(a => a is SendAdvert or RemoveVips));
        Assert.Contains(new SendAdvert(100), actions);
    }

    [Fact]
    public void Step_MasterHearsPriorityZero_AdvertisesAtOnceAndStaysMaster()
    {
        var m = Master(V2Config(100));
        var actions = m.Receive(m.Advert(0));

        Assert.Equal(VrrpStateKind.Master, m.State.State);
        Assert.Contains(new SendAdvert(100), actions);
        Assert.DoesNotContain(actions, a => a is OtherMasterDetected);
    }

    [Fact]
    public void Step_LowerPriorityGarp_SendsBurstAndDelayedBurst()
    {
        var m = Master(V2Config(150) with { GarpLowerPrioRepeat = 2, GarpLowerPrioDelay = TimeSpan.FromSeconds(3) });
        var actions = m.Receive(m.Advert(100));
        Assert.Contains(new SendGarp(2), actions);
        Assert.Contains(new ArmTimer(VrrpTimerKind.LowerPriorityGarp, m.Now + TimeSpan.FromSeconds(3)), actions);
        Assert.Contains(new SendGarp(2), m.Fire(VrrpTimerKind.LowerPriorityGarp));
    }

    [Fact]
    public void Step_ShutdownAsMaster_SendsPriorityZeroAndReleasesVips()
    {
        var m = Master(V2Config());
        var actions = m.Step(new ShutdownEvent());

        Assert.Equal(VrrpStateKind.Stopped, m.State.State);
        Assert.Equal<VrrpAction>([new SendAdvert(0), new RemoveVips()], actions.Where(a => a is SendAdvert or RemoveVips).ToList());
        Assert.Contains(new RunNotify(VrrpNotifyState.Stop, 100), actions);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.PriorityZeroSent]);
        Assert.Empty(m.State.Timers);
    }

    [Fact]
    public void Step_ShutdownAsBackup_SendsNothing()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        var actions = m.Step(new ShutdownEvent());
        Assert.DoesNotContain(actions, a => a is SendAdvert or RemoveVips);
        Assert.Contains(new CancelTimer(VrrpTimerKind.MasterDown), actions);
    }

    [Fact]
    public void Step_InterfaceDownAsMaster_PriorityZeroThenFault_UpReturnsToBackup()
    {
        var m = Master(V2Config());
        var down = m.Step(new InterfaceStateChangedEvent(false));

        Assert.Equal(VrrpStateKind.Fault, m.State.State);
        Assert.Contains(new SendAdvert(0), down);
        Assert.Contains(new RemoveVips(), down);
        Assert.Contains(new RunNotify(VrrpNotifyState.Fault, 100), down);
        Assert.Empty(m.State.Timers);

        // Adverts are ignored (and not counted) in FAULT.
        Assert.Empty(m.Receive(m.Advert(200)));
        Assert.Equal(0UL, m.State.Stats[VrrpCounter.AdvertReceived]);

        m.Advance(TimeSpan.FromSeconds(5));
        var up = m.Step(new InterfaceStateChangedEvent(true));
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.Contains(new LogTransition(VrrpStateKind.Fault, VrrpStateKind.Backup, VrrpTransitionReason.InterfaceUp), up);
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, m.Now + Us(3_609_375)), up);
    }

    [Fact]
    public void Step_StartupWithInterfaceDown_Fault()
    {
        var m = new MachineHarness(V2Config());
        var actions = m.Start(up: false);
        Assert.Equal(VrrpStateKind.Fault, m.State.State);
        Assert.Contains(new RunNotify(VrrpNotifyState.Fault, 100), actions);
        Assert.Empty(m.State.Timers);
    }

    [Fact]
    public void Step_StartupWithoutSourceAddress_FaultUntilAddressAppears()
    {
        var m = new MachineHarness(V2Config());
        m.Step(new StartupEvent(null, true));
        Assert.Equal(VrrpStateKind.Fault, m.State.State);
        m.Step(new SourceAddressChangedEvent(Src4));
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
    }

    [Fact]
    public void Step_TrackerWeights_EffectivePriorityClampedAndTimerShifted()
    {
        var m = new MachineHarness(V2Config(100));
        m.Start();
        var due = m.State.TimerDue(VrrpTimerKind.MasterDown)!.Value;

        var actions = m.Step(new TrackersChangedEvent(-2, 0));
        Assert.Equal(98, m.State.EffectivePriority);
        Assert.Contains(new PriorityChanged(100, 98), actions);
        // skew grows by 2/256 s = 7812 us (609375 -> 617187)
        Assert.Equal(due + Us(617_187 - 609_375), m.State.TimerDue(VrrpTimerKind.MasterDown));

        m.Step(new TrackersChangedEvent(-500, 0));
        Assert.Equal(1, m.State.EffectivePriority);
        m.Step(new TrackersChangedEvent(+500, 0));
        Assert.Equal(254, m.State.EffectivePriority);
    }

    [Fact]
    public void Step_TrackerWeightsOnOwner_PriorityStays255()
    {
        var m = new MachineHarness(V2Config(255) with { InitialState = VrrpStateKind.Master });
        m.Start();
        Assert.Empty(m.Step(new TrackersChangedEvent(-50, 0)).OfType<PriorityChanged>());
        Assert.Equal(255, m.State.EffectivePriority);
    }

    [Fact]
    public void Step_TrackerFault_FaultThenBackOnRecovery()
    {
        var m = Master(V2Config());
        m.Step(new TrackersChangedEvent(0, 1));
        Assert.Equal(VrrpStateKind.Fault, m.State.State);
        Assert.Equal(VrrpFaults.Tracker, m.State.Faults);
        m.Step(new TrackersChangedEvent(0, 0));
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
    }

    [Fact]
    public void Step_TwoFaults_StaysFaultUntilBothClear()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Step(new InterfaceStateChangedEvent(false));
        m.Step(new TrackersChangedEvent(0, 1));
        m.Step(new InterfaceStateChangedEvent(true));
        Assert.Equal(VrrpStateKind.Fault, m.State.State);
        m.Step(new TrackersChangedEvent(0, 0));
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
    }

    [Fact]
    public void Step_GarpDelayAndRefresh_Scheduled()
    {
        var m = Master(V2Config() with { GarpMasterRepeat = 3, GarpMasterDelay = TimeSpan.FromSeconds(2), GarpMasterRefresh = TimeSpan.FromSeconds(60), GarpMasterRefreshRepeat = 2 });
        var became = m.Now;
        Assert.Contains(new SendGarp(3), m.All);
        Assert.Equal(became + TimeSpan.FromSeconds(2), m.State.TimerDue(VrrpTimerKind.GarpDelay));
        Assert.Equal(became + TimeSpan.FromSeconds(62), m.State.TimerDue(VrrpTimerKind.GarpRefresh));

        Assert.Contains(new SendGarp(3), m.Fire(VrrpTimerKind.GarpDelay));
        Assert.Null(m.State.TimerDue(VrrpTimerKind.GarpDelay));
        var refresh = m.Fire(VrrpTimerKind.GarpRefresh);
        Assert.Contains(new SendGarp(2), refresh);
        Assert.Contains(new ArmTimer(VrrpTimerKind.GarpRefresh, became + TimeSpan.FromSeconds(122)), refresh);
    }

    [Fact]
    public void Step_GarpDelayZero_NoSecondBurst()
    {
        var m = Master(V2Config() with { GarpMasterDelay = TimeSpan.Zero });
        Assert.Null(m.State.TimerDue(VrrpTimerKind.GarpDelay));
    }

    [Fact]
    public void Step_StartupDelay_IgnoresAdvertsAndCountsFromItsEnd()
    {
        var m = new MachineHarness(V2Config() with { StartupDelay = TimeSpan.FromSeconds(10) });
        var t0 = m.Now;
        var actions = m.Start();
        Assert.Contains(new ArmTimer(VrrpTimerKind.MasterDown, t0 + TimeSpan.FromSeconds(10) + Us(3_609_375)), actions);

        m.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(m.Receive(m.Advert(200)));
        Assert.Equal(0UL, m.State.Stats[VrrpCounter.AdvertReceived]);
    }

    [Fact]
    public void Step_OwnerWithStartupDelay_MasterWhenDelayEnds()
    {
        var m = new MachineHarness(V2Config(255) with { InitialState = VrrpStateKind.Master, StartupDelay = TimeSpan.FromSeconds(4) });
        var t0 = m.Now;
        m.Start();
        Assert.Equal(VrrpStateKind.Backup, m.State.State);
        Assert.Equal(t0 + TimeSpan.FromSeconds(4), m.State.TimerDue(VrrpTimerKind.MasterDown));
        Assert.Contains(new SendAdvert(255), m.Fire(VrrpTimerKind.MasterDown));
    }

    [Fact]
    public void Step_StaleTimer_Ignored()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        m.Receive(m.Advert(200)); // moves the deadline later
        m.Advance(TimeSpan.FromSeconds(2.7));
        var before = m.State;
        Assert.Empty(m.Step(new TimerExpiredEvent(VrrpTimerKind.MasterDown)));
        Assert.Empty(m.Step(new TimerExpiredEvent(VrrpTimerKind.Advert)));
        Assert.Equal(before, m.State);
    }

    public static TheoryData<string, VrrpCounter> BadPackets => new()
    {
        { "ttl", VrrpCounter.IpTtlError },
        { "checksum", VrrpCounter.ChecksumError },
        { "password", VrrpCounter.AuthFailure },
        { "truncated", VrrpCounter.PacketLengthError },
        { "version", VrrpCounter.VersionError },
        { "authtype", VrrpCounter.AuthTypeMismatch },
        { "interval", VrrpCounter.AdvertIntervalError },
    };

    private static VrrpReceivedPacket Bad(string kind, VrrpAdvertisement good, byte priority)
    {
        var ok = Ipv4(good.WithPriority(priority));
        var bytes = ok.Data.ToArray();
        switch (kind)
        {
            case "ttl": return Ipv4(good.WithPriority(priority), ttl: 64);
            case "checksum": bytes[27] ^= 0x40; return ok with { Data = bytes };
            case "password": return Ipv4(V2(prio: priority, pass: "guess"));
            case "truncated": return ok with { Data = bytes[..^3] };
            case "version": return Ipv4(V3(prio: priority));
            case "authtype": return Ipv4(V2(prio: priority, pass: null));
            case "interval": return Ipv4(V2(prio: priority, seconds: 3));
            default: throw new ArgumentException(kind);
        }
    }

    [Theory]
    [MemberData(nameof(BadPackets))]
    public void Step_BadPacketInBackup_CountedAndChangesNothingElse(string kind, VrrpCounter counter)
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        var before = m.State;
        var actions = m.Step(new AdvertReceivedEvent(Bad(kind, m.Advert(100), 200)));

        Assert.Single(actions);
        Assert.IsType<PacketRejected>(actions[0]);
        Assert.Equal(before with { Stats = before.Stats.Increment(counter) }, m.State);
    }

    [Theory]
    [MemberData(nameof(BadPackets))]
    public void Step_BadPacketInMaster_CountedAndChangesNothingElse(string kind, VrrpCounter counter)
    {
        var m = Master(V2Config());
        var before = m.State;
        var actions = m.Step(new AdvertReceivedEvent(Bad(kind, m.Advert(100), 250)));

        Assert.Single(actions);
        Assert.Equal(before with { Stats = before.Stats.Increment(counter) }, m.State);
    }

    [Fact]
    public void Step_AddressListDiffers_CountedButAccepted()
    {
        var m = new MachineHarness(V2Config());
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        var actions = m.Receive(new VrrpAdvertisement(VrrpVersion.V2, 51, 200, 100, [IPAddress.Parse("10.0.0.200")], VrrpAuthType.SimplePassword, Pass("secret")));

        Assert.Equal(1UL, m.State.Stats[VrrpCounter.AddressListError]);
        Assert.Equal(1UL, m.State.Stats[VrrpCounter.AdvertReceived]);
        Assert.Contains(actions, a => a is AddressListMismatch);
        Assert.Contains(actions, a => a is ArmTimer);
    }

    [Fact]
    public void Step_StrictAddressListDiffers_Rejected()
    {
        var m = new MachineHarness(V2Config() with { Strict = true });
        m.Start();
        var before = m.State;
        m.Receive(new VrrpAdvertisement(VrrpVersion.V2, 51, 200, 100, [IPAddress.Parse("10.0.0.200")], VrrpAuthType.SimplePassword, Pass("secret")));
        Assert.Equal(before with { Stats = before.Stats.Increment(VrrpCounter.AddressListError) }, m.State);
    }

    [Fact]
    public void Statistics_ToDictionary_UsesKeepalivedNames()
    {
        var m = Master(V2Config());
        m.Step(new ShutdownEvent());
        var d = m.State.Stats.ToDictionary();
        Assert.Equal(1UL, d["become_master"]);
        Assert.Equal(2UL, d["advert_sent"]);
        Assert.Equal(1UL, d["pri_zero_sent"]);
        Assert.Equal(0UL, d["release_master"]);
        Assert.Contains("advert_rcvd", d.Keys);
        Assert.Contains("packet_len_err", d.Keys);
    }

    [Fact]
    public void Step_V3Ipv6Instance_FullCycle()
    {
        var cfg = V3Config() with { Family = AddressFamily.InterNetworkV6, VirtualAddresses = [Vip6] };
        var m = new MachineHarness(cfg);
        m.Start();
        m.Advance(TimeSpan.FromSeconds(1));
        var actions = m.Receive(m.Advert(200));
        Assert.Contains(actions, a => a is ArmTimer);
        m.Fire(VrrpTimerKind.MasterDown);
        Assert.Equal(VrrpStateKind.Master, m.State.State);
    }

    [Fact]
    public void Config_Validate_NamesTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => (V2Config() with { AdvertInterval = TimeSpan.FromMilliseconds(1500) }).Validate());
        Assert.Contains("advert_int", e.Message);
        Assert.Contains("VI_1", e.Message);
        Assert.Throws<ArgumentException>(() => (V3Config() with { AuthType = VrrpAuthType.SimplePassword, AuthPassword = "x" }).Validate());
        Assert.Throws<ArgumentException>(() => (V2Config() with { VirtualAddresses = [Vip6] }).Validate());
    }
}
