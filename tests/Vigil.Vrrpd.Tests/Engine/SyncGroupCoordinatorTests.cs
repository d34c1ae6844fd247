using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Tests.Engine;

public sealed class SyncGroupCoordinatorTests
{
    private static readonly VrrpSyncGroupConfig Group = new("VG", ["A", "B"]);

    private static VrrpInstanceState Member(string name, VrrpStateKind state, VrrpStateKind want = VrrpStateKind.Backup,
        bool requested = false, VrrpFaults faults = VrrpFaults.None) =>
        VrrpInstanceState.Initial(VrrpInstanceMachineTests.V2Config() with { Name = name, SyncGroup = "VG" }) with
        {
            State = state,
            WantState = want,
            SyncMasterRequested = requested,
            Faults = faults,
        };

    private static SyncGroupDecision Decide(VrrpStateKind group, string changed, VrrpStateKind from, params VrrpInstanceState[] members) =>
        SyncGroupCoordinator.Coordinate(Group, group, members.ToDictionary(m => m.Config.Name), changed, from);

    [Fact]
    public void Coordinate_OneWantsMasterOtherDoesNot_NothingHappens()
    {
        var d = Decide(VrrpStateKind.Backup, "A", VrrpStateKind.Backup,
            Member("A", VrrpStateKind.Backup, VrrpStateKind.Master, requested: true), Member("B", VrrpStateKind.Backup));
        Assert.Empty(d.Events);
        Assert.Equal(VrrpStateKind.Backup, d.GroupState);
    }

    [Fact]
    public void Coordinate_AllWantMaster_AllGoMaster()
    {
        var d = Decide(VrrpStateKind.Backup, "B", VrrpStateKind.Backup,
            Member("A", VrrpStateKind.Backup, VrrpStateKind.Master, requested: true), Member("B", VrrpStateKind.Backup, VrrpStateKind.Master, requested: true));
        Assert.Equal(VrrpStateKind.Master, d.GroupState);
        Assert.Equal(new[] { "A", "B" }, d.Events.Select(e => e.Member).Order());
        Assert.All(d.Events, e => Assert.IsType<SyncGotoMasterEvent>(e.Event));
        Assert.Equal(new SyncGroupTransition("VG", VrrpStateKind.Backup, VrrpStateKind.Master), d.Transition);
    }

    [Fact]
    public void Coordinate_MemberFault_OthersForcedToFault()
    {
        var d = Decide(VrrpStateKind.Master, "A", VrrpStateKind.Master,
            Member("A", VrrpStateKind.Fault, VrrpStateKind.Fault, faults: VrrpFaults.InterfaceDown), Member("B", VrrpStateKind.Master, VrrpStateKind.Master));
        Assert.Equal(VrrpStateKind.Fault, d.GroupState);
        var e = Assert.Single(d.Events);
        Assert.Equal("B", e.Member);
        Assert.IsType<SyncGotoFaultEvent>(e.Event);
    }

    [Fact]
    public void Coordinate_LastFaultCleared_AllLeaveFaultTogether()
    {
        var d = Decide(VrrpStateKind.Fault, "A", VrrpStateKind.Fault,
            Member("A", VrrpStateKind.Fault), Member("B", VrrpStateKind.Fault, VrrpStateKind.Fault));
        Assert.Equal(VrrpStateKind.Backup, d.GroupState);
        Assert.Equal(2, d.Events.Count);
        Assert.All(d.Events, e => Assert.IsType<SyncGotoBackupEvent>(e.Event));
    }

    [Fact]
    public void Coordinate_FaultStillHeldByOther_StaysFault()
    {
        var d = Decide(VrrpStateKind.Fault, "A", VrrpStateKind.Fault,
            Member("A", VrrpStateKind.Fault), Member("B", VrrpStateKind.Fault, VrrpStateKind.Fault, faults: VrrpFaults.Tracker));
        Assert.Empty(d.Events);
        Assert.Equal(VrrpStateKind.Fault, d.GroupState);
    }

    [Fact]
    public void Coordinate_MasterOutvoted_OthersFollowToBackup()
    {
        var d = Decide(VrrpStateKind.Master, "A", VrrpStateKind.Master,
            Member("A", VrrpStateKind.Backup), Member("B", VrrpStateKind.Master, VrrpStateKind.Master));
        Assert.Equal(VrrpStateKind.Backup, d.GroupState);
        var e = Assert.Single(d.Events);
        Assert.Equal(("B", (VrrpEvent)new SyncGotoBackupEvent()), (e.Member, e.Event));
    }

    [Fact]
    public void Coordinate_MemberNotStarted_WaitsForIt()
    {
        var d = Decide(VrrpStateKind.Init, "A", VrrpStateKind.Init,
            Member("A", VrrpStateKind.Backup, VrrpStateKind.Master, requested: true), Member("B", VrrpStateKind.Init, VrrpStateKind.Master));
        Assert.Empty(d.Events);
        Assert.Null(d.Transition);
    }
}
