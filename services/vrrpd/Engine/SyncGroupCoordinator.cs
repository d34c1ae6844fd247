namespace Vigil.Vrrpd.Engine;

/// <summary>A sync group's state change, for group notify scripts and events.</summary>
public sealed record SyncGroupTransition(string Group, VrrpStateKind From, VrrpStateKind To);

/// <summary>What the coordinator decided: the group's new state and events for its members.</summary>
public sealed record SyncGroupDecision(
    VrrpStateKind GroupState,
    IReadOnlyList<(string Member, VrrpEvent Event)> Events,
    SyncGroupTransition? Transition);

/// <summary>
/// Makes the members of a <c>vrrp_sync_group</c> follow each other, with keepalived's semantics
/// (vrrp_sync.c): one member FAULT puts all in FAULT until no member has a fault of its own; one
/// member leaving MASTER for BACKUP takes the others to BACKUP; the group goes MASTER only when
/// every member wants to (so a member whose master is still heard holds the others back), and
/// then all go MASTER together. Pure: called after each member's step with all members' states.
/// </summary>
public static class SyncGroupCoordinator
{
    /// <param name="changed">the member that just stepped, and the state it was in before.</param>
    public static SyncGroupDecision Coordinate(
        VrrpSyncGroupConfig group,
        VrrpStateKind groupState,
        IReadOnlyDictionary<string, VrrpInstanceState> members,
        string changed,
        VrrpStateKind changedFrom)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(members);
        var list = group.Members.Where(members.ContainsKey).Select(m => (Name: m, State: members[m])).ToList();
        var events = new List<(string, VrrpEvent)>();

        SyncGroupDecision Decide(VrrpStateKind to) =>
            new(to, events, to == groupState ? null : new SyncGroupTransition(group.Name, groupState, to));

        // Not all members running yet (or stopping): nothing to synchronise.
        if (list.Any(m => m.State.State is VrrpStateKind.Init or VrrpStateKind.Stopped)) return new(groupState, events, null);

        // 1. A member with a fault of its own takes the whole group to FAULT.
        if (list.Any(m => m.State.Faults != VrrpFaults.None))
        {
            if (groupState == VrrpStateKind.Fault && list.All(m => m.State.State == VrrpStateKind.Fault)) return new(groupState, events, null);
            foreach (var m in list.Where(m => m.State.State != VrrpStateKind.Fault)) events.Add((m.Name, new SyncGotoFaultEvent()));
            return Decide(VrrpStateKind.Fault);
        }

        // 2. The last fault cleared: everyone leaves FAULT together, to BACKUP.
        if (list.Any(m => m.State.State == VrrpStateKind.Fault))
        {
            foreach (var m in list.Where(m => m.State.State == VrrpStateKind.Fault)) events.Add((m.Name, new SyncGotoBackupEvent()));
            return Decide(VrrpStateKind.Backup);
        }

        var me = members.TryGetValue(changed, out var s) ? s : null;

        // 3. A master was outvoted: the others follow it to BACKUP.
        if (me is not null && changedFrom == VrrpStateKind.Master && me.State == VrrpStateKind.Backup && groupState != VrrpStateKind.Backup)
        {
            foreach (var m in list.Where(m => m.Name != changed && m.State.State != VrrpStateKind.Backup)) events.Add((m.Name, new SyncGotoBackupEvent()));
            return Decide(VrrpStateKind.Backup);
        }

        // 4. A member wants MASTER: allowed when the group is MASTER already or every other member
        //    wants it too; then every member that is not MASTER goes.
        var requesters = list.Where(m => m.State.State == VrrpStateKind.Backup && m.State.SyncMasterRequested).ToList();
        if (requesters.Count > 0 &&
            (groupState == VrrpStateKind.Master || list.All(m => m.State.WantState == VrrpStateKind.Master)))
        {
            foreach (var m in list.Where(m => m.State.State != VrrpStateKind.Master)) events.Add((m.Name, new SyncGotoMasterEvent()));
            return Decide(VrrpStateKind.Master);
        }

        // 5. A member became MASTER by itself (e.g. an owner): pull the others along.
        if (list.Any(m => m.State.State == VrrpStateKind.Master) && groupState != VrrpStateKind.Master)
        {
            foreach (var m in list.Where(m => m.State.State != VrrpStateKind.Master)) events.Add((m.Name, new SyncGotoMasterEvent()));
            return Decide(VrrpStateKind.Master);
        }

        // All BACKUP and nobody asking: the group is BACKUP.
        if (list.All(m => m.State.State == VrrpStateKind.Backup) && groupState != VrrpStateKind.Backup)
            return Decide(VrrpStateKind.Backup);

        return new(groupState, events, null);
    }
}
