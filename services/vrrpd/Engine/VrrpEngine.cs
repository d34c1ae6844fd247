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
    /// The engine state after a configuration reload. Instances named in <paramref name="keep"/>
    /// (their specification is unchanged; the caller decides that) carry their whole
    /// <see cref="VrrpInstanceState"/> over: state, timers' deadlines, master, priorities, counters,
    /// VIPs held. Every other instance starts afresh in INIT. A sync group keeps its state when it
    /// existed before with the same members. Throws <see cref="ArgumentException"/> for an invalid
    /// configuration, like <see cref="VrrpEngineState.Create"/>; the current state is not touched.
    /// </summary>
    public static VrrpEngineState Reload(
        VrrpEngineState current,
        IEnumerable<VrrpInstanceConfig> instances,
        IEnumerable<VrrpSyncGroupConfig>? groups,
        IReadOnlySet<string> keep)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(keep);
        var fresh = VrrpEngineState.Create(instances, groups);
        var map = fresh.Instances.ToBuilder();
        foreach (var (name, next) in fresh.Instances)
        {
            if (!keep.Contains(name) || !current.Instances.TryGetValue(name, out var old)) continue;
            // A stopped instance has nothing worth keeping; it starts again.
            if (old.State == VrrpStateKind.Stopped) continue;
            map[name] = old with { Config = next.Config };
        }
        var groupStates = fresh.GroupStates.ToBuilder();
        foreach (var (name, group) in fresh.Groups)
        {
            if (current.Groups.TryGetValue(name, out var before) && before.Members.SequenceEqual(group.Members)
                && group.Members.All(keep.Contains) && current.GroupStates.TryGetValue(name, out var state))
                groupStates[name] = state;
        }
        return fresh with { Instances = map.ToImmutable(), GroupStates = groupStates.ToImmutable() };
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
