using System.Net;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>The scenarios of scenarios.md played on a simulated LAN (pure engine, real codec).</summary>
public sealed class ScenarioSimTests
{
    private static VrrpInstanceConfig Vi(string name, byte vrid, byte prio, string vip, string? group = null, bool nopreempt = false) => new()
    {
        Name = name,
        Interface = "eth0",
        Vrid = vrid,
        Priority = prio,
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "1111",
        VirtualAddresses = [IPAddress.Parse(vip)],
        SyncGroup = group,
        Nopreempt = nopreempt,
    };

    private static TimeSpan S(double s) => TimeSpan.FromSeconds(s);

    /// <summary>Nodes a (10.0.0.1) and b (10.0.0.2) with the given instances, started and run for 10 s.</summary>
    private static (SimLan Lan, SimLan.Node A, SimLan.Node B) Pair(VrrpInstanceConfig[] onA, VrrpInstanceConfig[] onB, VrrpSyncGroupConfig[]? groups = null)
    {
        var lan = new SimLan();
        var a = lan.Add("a", "10.0.0.1", onA, groups);
        var b = lan.Add("b", "10.0.0.2", onB, groups);
        lan.Start(a);
        lan.Start(b);
        lan.RunFor(S(10));
        return (lan, a, b);
    }

    [Fact]
    public void S1_FailoverAndFailback_OnlyMasterAdvertises()
    {
        var (lan, a, b) = Pair([Vi("VI_1", 51, 150, "10.0.0.100")], [Vi("VI_1", 51, 100, "10.0.0.100")]);

        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_1"].State);
        var recent = lan.Wire.Where(w => w.At > lan.Now - S(5)).ToList();
        Assert.All(recent, w => Assert.Equal("a", w.From));
        Assert.InRange(recent.Count, 4, 5); // once per advert_int

        // The master's link dies (it goes silent): after Master_Down_Interval the backup takes over.
        a.Mute = true;
        a.Deaf = true;
        var lastHeard = lan.Wire.Last(w => w.From == "a").At;
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);
        var takeover = b.Log.First(l => l.Action is LogTransition { To: VrrpStateKind.Master }).At;
        Assert.Equal(lastHeard + VrrpTiming.FromMicros(3_609_375), takeover);
        Assert.Contains(b.Log, l => l.At == takeover && l.Action is AddVips);
        Assert.Contains(b.Log, l => l.At == takeover && l.Action is SendGarp);

        // It comes back: preempt (default) gives it the role back.
        a.Mute = false;
        a.Deaf = false;
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_1"].State);
        Assert.Contains(b.Log, l => l.Action is LogTransition { From: VrrpStateKind.Master, To: VrrpStateKind.Backup, Reason: VrrpTransitionReason.HigherPriorityAdvert });
    }

    [Fact]
    public void S1_CleanStop_BackupTakesOverAfterSkewOnly()
    {
        var (lan, a, b) = Pair([Vi("VI_1", 51, 150, "10.0.0.100")], [Vi("VI_1", 51, 100, "10.0.0.100")]);

        var stop = lan.Now;
        lan.Dispatch(a, "VI_1", new ShutdownEvent());
        Assert.Contains(lan.Wire, w => w.From == "a" && w.At == stop && w.Advert.Priority == 0);
        lan.RunFor(S(2));
        var takeover = b.Log.First(l => l.Action is LogTransition { To: VrrpStateKind.Master }).At;
        Assert.Equal(stop + VrrpTiming.FromMicros(609_375), takeover);
    }

    [Fact]
    public void S2_SplitBrainWithNopreempt_BothMasterThenConvergeOnHigherAddress()
    {
        var (lan, a, b) = Pair([Vi("VI_1", 51, 100, "10.0.0.100", nopreempt: true)], [Vi("VI_1", 51, 100, "10.0.0.100", nopreempt: true)]);
        var first = a["VI_1"].State == VrrpStateKind.Master ? a : b;
        var other = first == a ? b : a;
        Assert.Equal(VrrpStateKind.Backup, other["VI_1"].State);

        // Multicast dropped on the backup: it stops hearing the master and both become MASTER.
        other.Deaf = true;
        first.Deaf = true;
        lan.RunFor(S(10));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);

        // Filter removed: the higher address (b) keeps the role, a steps down; b names a as the other master.
        other.Deaf = false;
        first.Deaf = false;
        lan.RunFor(S(3));
        Assert.Equal(VrrpStateKind.Backup, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);
        // Whichever side heard the other first names the other master.
        Assert.True(
            b.Log.Any(l => l.Action is OtherMasterDetected o && o.Address.Equals(IPAddress.Parse("10.0.0.1")))
            || a.Log.Any(l => l.Action is OtherMasterDetected o && o.Address.Equals(IPAddress.Parse("10.0.0.2"))),
            "no OtherMasterDetected after the split healed");
    }

    [Fact]
    public void S2_MismatchedVrid_EachMasterOfItsOwn()
    {
        var (lan, a, b) = Pair([Vi("VI_1", 51, 150, "10.0.0.100")], [Vi("VI_1", 52, 100, "10.0.0.100")]);
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);
    }

    [Fact]
    public void S4_TrackScriptWeight_BackupPreemptsAndMasterTakesBack()
    {
        var (lan, a, b) = Pair([Vi("VI_1", 51, 100, "10.0.0.100")], [Vi("VI_1", 51, 99, "10.0.0.100")]);
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);

        // weight -2: script fails, 100 -> 98 < 99, the backup preempts.
        lan.Dispatch(a, "VI_1", TrackerAggregate.ToEvent([new TrackedItem("my_test", -2, Up: false)]));
        lan.RunFor(S(5));
        Assert.Equal(98, a["VI_1"].EffectivePriority);
        Assert.Equal(VrrpStateKind.Backup, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);

        lan.Dispatch(a, "VI_1", TrackerAggregate.ToEvent([new TrackedItem("my_test", -2, Up: true)]));
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_1"].State);
    }

    private static (SimLan Lan, SimLan.Node A, SimLan.Node B) SyncPair()
    {
        return Pair(
            [Vi("VI_OUT", 51, 150, "10.0.0.100", "VG_1"), Vi("VI_IN", 52, 150, "10.0.1.1", "VG_1")],
            [Vi("VI_OUT", 51, 100, "10.0.0.100", "VG_1"), Vi("VI_IN", 52, 100, "10.0.1.1", "VG_1")],
            [new VrrpSyncGroupConfig("VG_1", ["VI_OUT", "VI_IN"])]);
    }

    [Fact]
    public void S6_SyncGroup_StartsWithBothMembersOnOneNode()
    {
        var (_, a, b) = SyncPair();
        Assert.Equal(VrrpStateKind.Master, a["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Master, a["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Master, a.State.GroupStates["VG_1"]);
        Assert.Equal(VrrpStateKind.Backup, b.State.GroupStates["VG_1"]);
    }

    [Fact]
    public void S6_SyncGroup_OneMemberFaultMovesBothVips()
    {
        var (lan, a, b) = SyncPair();

        // The inside interface of the master fails: VI_IN faults, VI_OUT follows it to FAULT.
        lan.Dispatch(a, "VI_IN", new InterfaceStateChangedEvent(false));
        Assert.Equal(VrrpStateKind.Fault, a["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Fault, a["VI_OUT"].State);
        Assert.Contains(a.GroupLog, t => t.To == VrrpStateKind.Fault);
        lan.RunFor(S(2));
        Assert.Equal(VrrpStateKind.Master, b["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_IN"].State);

        // Repaired: both come back, and with preempt they take the role back together.
        lan.Dispatch(a, "VI_IN", new InterfaceStateChangedEvent(true));
        Assert.Equal(VrrpStateKind.Backup, a["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Backup, a["VI_OUT"].State);
        lan.RunFor(S(10));
        Assert.Equal(VrrpStateKind.Master, a["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Master, a["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_IN"].State);
    }

    [Fact]
    public void S6_SyncGroup_MemberStillHearingMasterHoldsTheOtherBack()
    {
        var (lan, a, b) = SyncPair();

        // Only VI_OUT's adverts stop reaching b (a filter on one VLAN): b's VI_OUT wants MASTER,
        // but VI_IN still hears a master, so the group stays BACKUP (no thrashing).
        var before = b.Log.Count;
        a.Muted.Add("VI_OUT");
        lan.RunFor(S(10));
        Assert.True(b["VI_OUT"].SyncMasterRequested);
        Assert.Equal(VrrpStateKind.Backup, b["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_IN"].State);
        Assert.DoesNotContain(b.Log.Skip(before), l => l.Action is LogTransition { To: VrrpStateKind.Master });
    }

    [Fact]
    public void S6_SyncGroup_OutvotedGroupFollowsItsFirstMemberToBackup()
    {
        var (lan, a, b) = SyncPair();
        // A group tracker raises both of b's members above a's (keepalived applies a sync group's
        // trackers to every member): b preempts, and on a each member that hears the higher
        // priority first takes its sibling to BACKUP with it.
        lan.Dispatch(b, "VI_OUT", new TrackersChangedEvent(100, 0));
        lan.Dispatch(b, "VI_IN", new TrackersChangedEvent(100, 0));
        lan.RunFor(S(10));
        Assert.Equal(VrrpStateKind.Master, b["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Master, b["VI_IN"].State);
        Assert.Equal(VrrpStateKind.Backup, a["VI_OUT"].State);
        Assert.Equal(VrrpStateKind.Backup, a["VI_IN"].State);
        Assert.Contains(a.Log, l => l.Action is LogTransition { From: VrrpStateKind.Master, To: VrrpStateKind.Backup, Reason: VrrpTransitionReason.SyncGroup });
    }
}
