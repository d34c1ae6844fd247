using System.Collections.Immutable;

namespace Vigil.Vrrpd.Engine;

/// <summary>All instances and sync groups of one daemon, as one immutable value.</summary>
public sealed record VrrpEngineState
{
    public ImmutableDictionary<string, VrrpInstanceState> Instances { get; init; } = ImmutableDictionary<string, VrrpInstanceState>.Empty;
    public ImmutableDictionary<string, VrrpSyncGroupConfig> Groups { get; init; } = ImmutableDictionary<string, VrrpSyncGroupConfig>.Empty;
    public ImmutableDictionary<string, VrrpStateKind> GroupStates { get; init; } = ImmutableDictionary<string, VrrpStateKind>.Empty;

    /// <summary>Builds the initial state; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static VrrpEngineState Create(IEnumerable<VrrpInstanceConfig> instances, IEnumerable<VrrpSyncGroupConfig>? groups = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var map = ImmutableDictionary.CreateBuilder<string, VrrpInstanceState>();
        foreach (var config in instances)
        {
            if (map.ContainsKey(config.Name)) throw new ArgumentException($"vrrp_instance {config.Name} is defined twice");
            map.Add(config.Name, VrrpInstanceState.Initial(config));
        }
        var groupMap = ImmutableDictionary.CreateBuilder<string, VrrpSyncGroupConfig>();
        var states = ImmutableDictionary.CreateBuilder<string, VrrpStateKind>();
        foreach (var g in groups ?? [])
        {
            if (groupMap.ContainsKey(g.Name)) throw new ArgumentException($"vrrp_sync_group {g.Name} is defined twice");
            foreach (var m in g.Members)
            {
                if (!map.TryGetValue(m, out var member)) throw new ArgumentException($"vrrp_sync_group {g.Name}: instance {m} does not exist");
                if (member.Config.SyncGroup != g.Name)
                    throw new ArgumentException($"vrrp_sync_group {g.Name}: instance {m} must name the group in its SyncGroup");
            }
            groupMap.Add(g.Name, g);
            states.Add(g.Name, VrrpStateKind.Init);
        }
        foreach (var (name, s) in map)
        {
            if (s.Config.SyncGroup is { } gname && !groupMap.ContainsKey(gname))
                throw new ArgumentException($"vrrp_instance {name}: sync group {gname} does not exist");
        }
        return new VrrpEngineState { Instances = map.ToImmutable(), Groups = groupMap.ToImmutable(), GroupStates = states.ToImmutable() };
    }
}

/// <summary>A reload's outcome: the step of the instances changed in place, and their names.</summary>
public sealed record VrrpReloadStep(VrrpEngineStep Step, IReadOnlySet<string> Reconfigured);

/// <summary>One dispatch's outcome: actions in the order they must be executed.</summary>
public sealed record VrrpEngineStep(
    VrrpEngineState State,
    IReadOnlyList<(string Instance, VrrpAction Action)> Actions,
    IReadOnlyList<SyncGroupTransition> GroupTransitions);

/// <summary>
/// Steps one instance and then lets its sync group react, feeding the group's events back to the
/// members until nothing changes. Pure, like <see cref="VrrpInstanceMachine"/>.
/// </summary>
public static class VrrpEngine
{
    /// <summary>
    /// The engine state after a configuration reload, with the actions of the instances that take
    /// their new configuration in place. An instance carries over (<see cref="CarriesOver"/>) when
    /// it exists already under the same name, is running, is not named in
    /// <paramref name="restart"/> (what the engine cannot see, a VMAC or a group that changed, the
    /// caller decides) and <see cref="RestartReason"/> finds its identity unchanged: it then keeps
    /// its whole <see cref="VrrpInstanceState"/> (state, timers' deadlines, master, counters, VIPs
    /// held) and steps a <see cref="ConfigChangedEvent"/> with its new configuration. Every other
    /// instance starts afresh in INIT. A sync group keeps its state when it existed before with
    /// the same members, all carried over. Instances named in <paramref name="unchanged"/> (the
    /// caller compared their whole specification) carry over without the event, so nothing at
    /// all happens to them. Throws <see cref="ArgumentException"/> for an invalid configuration,
    /// like <see cref="VrrpEngineState.Create"/>; the current state is not touched.
    /// </summary>
    public static VrrpReloadStep Reload(
        VrrpEngineState current,
        IEnumerable<VrrpInstanceConfig> instances,
        IEnumerable<VrrpSyncGroupConfig>? groups,
        IReadOnlySet<string> restart,
        TimeSpan now,
        IReadOnlySet<string>? unchanged = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(restart);
        var fresh = VrrpEngineState.Create(instances, groups);
        // An unchanged instance with a runtime priority still steps the event: a reload clears the override.
        bool IsUntouched(string name) => unchanged?.Contains(name) == true && current.Instances[name].PriorityOverride is null;
        var map = fresh.Instances.ToBuilder();
        var carried = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, next) in fresh.Instances)
        {
            if (!CarriesOver(current, next.Config, restart)) continue;
            // An unchanged one takes the new (equal) configuration as it is; a changed one keeps the
            // old for now, and the event below moves it to the new one.
            map[name] = IsUntouched(name) ? current.Instances[name] with { Config = next.Config } : current.Instances[name];
            carried.Add(name);
        }
        var groupStates = fresh.GroupStates.ToBuilder();
        foreach (var (name, group) in fresh.Groups)
        {
            if (current.Groups.TryGetValue(name, out var before) && before.Members.SequenceEqual(group.Members)
                && group.Members.All(carried.Contains) && current.GroupStates.TryGetValue(name, out var state))
                groupStates[name] = state;
        }
        var engine = fresh with { Instances = map.ToImmutable(), GroupStates = groupStates.ToImmutable() };
        var actions = new List<(string, VrrpAction)>();
        var transitions = new List<SyncGroupTransition>();
        foreach (var name in carried.Where(n => !IsUntouched(n)))
        {
            var step = Dispatch(engine, name, new ConfigChangedEvent(fresh.Instances[name].Config), now);
            engine = step.State;
            actions.AddRange(step.Actions);
            transitions.AddRange(step.GroupTransitions);
        }
        return new VrrpReloadStep(new VrrpEngineStep(engine, actions, transitions), carried);
    }

    /// <summary>Whether <paramref name="next"/> takes over the running instance of its name in place (see <see cref="Reload"/>).</summary>
    public static bool CarriesOver(VrrpEngineState current, VrrpInstanceConfig next, IReadOnlySet<string> restart)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(restart);
        return !restart.Contains(next.Name)
            && current.Instances.TryGetValue(next.Name, out var old)
            // A stopped instance has nothing worth keeping; it starts again.
            && old.State != VrrpStateKind.Stopped
            && RestartReason(old.Config, next) is null;
    }

    /// <summary>
    /// Why the new configuration of an instance is a new instance, or null when it can be applied
    /// in place. keepalived 2.2.7 (vrrp.c vrrp_exist) keeps an instance across a reload when its
    /// VRID, address family and interface are the same, it is unicast on both sides or on
    /// neither, and then the same unicast source, or the same multicast group. Vigil also
    /// restarts on a changed mcast_src_ip and sync group (vrrp_sync_group membership is matched
    /// by name here; keepalived re-links it), which keepalived would carry over.
    /// </summary>
    public static string? RestartReason(VrrpInstanceConfig before, VrrpInstanceConfig after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        if (before.Interface != after.Interface) return $"interface {before.Interface} -> {after.Interface}";
        if (before.Vrid != after.Vrid) return $"virtual_router_id {before.Vrid} -> {after.Vrid}";
        if (before.Family != after.Family) return "address family changed";
        if (before.IsUnicast != after.IsUnicast) return before.IsUnicast ? "unicast -> multicast" : "multicast -> unicast";
        if (!Equals(before.SourceAddress, after.SourceAddress))
            return $"source address {before.SourceAddress?.ToString() ?? "(interface's)"} -> {after.SourceAddress?.ToString() ?? "(interface's)"}";
        if (!before.IsUnicast && !before.MulticastDestination.Equals(after.MulticastDestination))
            return $"multicast group {before.MulticastDestination} -> {after.MulticastDestination}";
        if (before.SyncGroup != after.SyncGroup) return $"sync group {before.SyncGroup ?? "(none)"} -> {after.SyncGroup ?? "(none)"}";
        return null;
    }

    /// <summary>
    /// The instances of a reload that keepalived 2.2.7 takes for running ones under another name
    /// (vrrp.c vrrp_exist matches on VRID, family, interface and addressing, never on the name):
    /// a name that is gone whose identity (<see cref="RestartReason"/>) is that of a name that is
    /// new. Old name to new name; each matched once, in configuration order. Sync group members
    /// are not matched (the group names its members: renaming one changes the group, which restarts).
    /// </summary>
    public static IReadOnlyDictionary<string, string> Renames(IEnumerable<VrrpInstanceConfig> before, IEnumerable<VrrpInstanceConfig> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var oldOnes = before.ToList();
        var newOnes = after.ToList();
        var oldNames = oldOnes.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var newNames = newOnes.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var gone = oldOnes.Where(c => !newNames.Contains(c.Name) && c.SyncGroup is null).ToList();
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var next in newOnes.Where(c => !oldNames.Contains(c.Name) && c.SyncGroup is null))
        {
            var match = gone.FirstOrDefault(o => !renames.ContainsKey(o.Name) && RestartReason(o with { Name = next.Name }, next) is null);
            if (match is not null) renames[match.Name] = next.Name;
        }
        return renames;
    }

    /// <summary>
    /// The state with the instances of <paramref name="renames"/> (old name to new) under their new
    /// names, everything else about them kept; their configuration moves to the new one at the
    /// reload that follows (<see cref="Reload"/>).
    /// </summary>
    public static VrrpEngineState Rename(VrrpEngineState current, IReadOnlyDictionary<string, string> renames)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(renames);
        var map = current.Instances.ToBuilder();
        foreach (var (from, to) in renames)
        {
            if (!current.Instances.TryGetValue(from, out var s)) continue;
            if (current.Instances.ContainsKey(to)) throw new ArgumentException($"cannot rename vrrp_instance {from} to {to}: {to} exists", nameof(renames));
            if (s.Config.SyncGroup is not null) throw new ArgumentException($"cannot rename vrrp_instance {from}: it is in vrrp_sync_group {s.Config.SyncGroup}", nameof(renames));
            map.Remove(from);
            map[to] = s with { Config = s.Config with { Name = to } };
        }
        return current with { Instances = map.ToImmutable() };
    }

    // A group of n members settles in a few rounds; far more means a bug, not a busy network.
    private const int MaxCascade = 1000;

    public static VrrpEngineStep Dispatch(VrrpEngineState state, string instance, VrrpEvent @event, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.Instances.ContainsKey(instance)) throw new ArgumentException($"no vrrp_instance {instance}", nameof(instance));
        var actions = new List<(string, VrrpAction)>();
        var transitions = new List<SyncGroupTransition>();
        var queue = new Queue<(string, VrrpEvent)>();
        queue.Enqueue((instance, @event));
        var rounds = 0;
        while (queue.Count > 0)
        {
            if (++rounds > MaxCascade) throw new InvalidOperationException($"sync group cascade did not settle after {MaxCascade} steps (from {instance}: {@event})");
            var (name, e) = queue.Dequeue();
            var before = state.Instances[name];
            var result = VrrpInstanceMachine.Step(before, e, now);
            state = state with { Instances = state.Instances.SetItem(name, result.State) };
            foreach (var a in result.Actions) actions.Add((name, a));

            if (before.Config.SyncGroup is not { } groupName) continue;
            var decision = SyncGroupCoordinator.Coordinate(state.Groups[groupName], state.GroupStates[groupName], state.Instances, name, before.State);
            state = state with { GroupStates = state.GroupStates.SetItem(groupName, decision.GroupState) };
            if (decision.Transition is not null) transitions.Add(decision.Transition);
            foreach (var ev in decision.Events) queue.Enqueue(ev);
        }
        return new VrrpEngineStep(state, actions, transitions);
    }
}
