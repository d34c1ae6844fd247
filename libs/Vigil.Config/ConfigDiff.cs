using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Vigil.Config.Model;

namespace Vigil.Config;

/// <summary>What changed in an instance: its addresses and the names of other settings that differ.</summary>
public sealed record InstanceChange(
    string Name,
    VrrpInstance Old,
    VrrpInstance New,
    EquatableArray<VirtualIpAddress> AddedVips,
    EquatableArray<VirtualIpAddress> RemovedVips,
    EquatableArray<VirtualIpAddress> AddedExcludedVips,
    EquatableArray<VirtualIpAddress> RemovedExcludedVips,
    EquatableArray<string> ChangedSettings)
{
    /// <summary>Only addresses changed: the instance keeps its state, only its VIPs are updated.</summary>
    public bool OnlyAddressesChanged => ChangedSettings.All(s => s is nameof(VrrpInstance.VirtualIpAddresses) or nameof(VrrpInstance.ExcludedVirtualIpAddresses));
}

/// <summary>What changed in a real server: its checkers (compared as wholes) and other settings.</summary>
public sealed record RealServerChange(
    string Key,
    RealServer Old,
    RealServer New,
    EquatableArray<Checker> AddedCheckers,
    EquatableArray<Checker> RemovedCheckers,
    EquatableArray<string> ChangedSettings);

/// <summary>What changed in a virtual server: real servers added, removed and changed, and other settings.</summary>
public sealed record VirtualServerChange(
    string Key,
    VirtualServer Old,
    VirtualServer New,
    EquatableArray<RealServer> AddedRealServers,
    EquatableArray<RealServer> RemovedRealServers,
    EquatableArray<RealServerChange> ChangedRealServers,
    EquatableArray<string> ChangedSettings);

/// <summary>Named blocks (scripts, track files, sync groups, ...) added, removed or changed.</summary>
public sealed record NamedChanges(EquatableArray<string> Added, EquatableArray<string> Removed, EquatableArray<string> Changed)
{
    public bool IsEmpty => Added.IsEmpty && Removed.IsEmpty && Changed.IsEmpty;
}

/// <summary>
/// The difference between two configurations, for a reload: which instances, VIPs, virtual
/// servers, real servers and checkers were added, removed or changed. Instances and named
/// blocks are matched by name, virtual servers by address/port/protocol (or fwmark, or group),
/// real servers by address and port; VIPs and checkers compare as whole values.
/// </summary>
public sealed record ConfigDiff
{
    public bool GlobalChanged { get; init; }

    public EquatableArray<string> ChangedGlobalSettings { get; init; }

    public EquatableArray<VrrpInstance> AddedInstances { get; init; }

    public EquatableArray<VrrpInstance> RemovedInstances { get; init; }

    public EquatableArray<InstanceChange> ChangedInstances { get; init; }

    public NamedChanges SyncGroups { get; init; } = new([], [], []);

    public NamedChanges VrrpScripts { get; init; } = new([], [], []);

    public NamedChanges TrackFiles { get; init; } = new([], [], []);

    public NamedChanges TrackProcesses { get; init; } = new([], [], []);

    public NamedChanges BfdInstances { get; init; } = new([], [], []);

    public NamedChanges TrackGroups { get; init; } = new([], [], []);

    public bool GarpGroupsChanged { get; init; }

    public bool SslChanged { get; init; }

    public bool StaticAddressesChanged { get; init; }

    public bool StaticRoutesChanged { get; init; }

    public bool StaticRulesChanged { get; init; }

    public NamedChanges VirtualServerGroups { get; init; } = new([], [], []);

    public EquatableArray<VirtualServer> AddedVirtualServers { get; init; }

    public EquatableArray<VirtualServer> RemovedVirtualServers { get; init; }

    public EquatableArray<VirtualServerChange> ChangedVirtualServers { get; init; }

    public bool IsEmpty =>
        !GlobalChanged && AddedInstances.IsEmpty && RemovedInstances.IsEmpty && ChangedInstances.IsEmpty
        && SyncGroups.IsEmpty && VrrpScripts.IsEmpty && TrackFiles.IsEmpty && TrackProcesses.IsEmpty && BfdInstances.IsEmpty
        && TrackGroups.IsEmpty && !GarpGroupsChanged && !SslChanged && !StaticAddressesChanged && !StaticRoutesChanged && !StaticRulesChanged && VirtualServerGroups.IsEmpty
        && AddedVirtualServers.IsEmpty && RemovedVirtualServers.IsEmpty && ChangedVirtualServers.IsEmpty;

    public static ConfigDiff Compute(KeepalivedConfig old, KeepalivedConfig @new)
    {
        var (addedInstances, removedInstances, changedInstances) = Match(old.Instances, @new.Instances, i => i.Name);
        var (addedVs, removedVs, changedVs) = Match(old.VirtualServers, @new.VirtualServers, v => v.Key);
        return new ConfigDiff
        {
            GlobalChanged = old.Global != @new.Global,
            ChangedGlobalSettings = [.. ChangedProperties(old.Global, @new.Global)],
            AddedInstances = [.. addedInstances],
            RemovedInstances = [.. removedInstances],
            ChangedInstances = [.. changedInstances.Select(p => InstanceDiff(p.Old, p.New))],
            SyncGroups = Named(old.SyncGroups, @new.SyncGroups, g => g.Name),
            VrrpScripts = Named(old.VrrpScripts, @new.VrrpScripts, s => s.Name),
            TrackFiles = Named(old.TrackFiles, @new.TrackFiles, f => f.Name),
            TrackProcesses = Named(old.TrackProcesses, @new.TrackProcesses, p => p.Name),
            BfdInstances = Named(old.BfdInstances, @new.BfdInstances, b => b.Name),
            TrackGroups = Named(old.TrackGroups, @new.TrackGroups, g => g.Name),
            GarpGroupsChanged = old.GarpGroups != @new.GarpGroups,
            SslChanged = old.Ssl != @new.Ssl,
            StaticAddressesChanged = old.StaticAddresses != @new.StaticAddresses,
            StaticRoutesChanged = old.StaticRoutes != @new.StaticRoutes,
            StaticRulesChanged = old.StaticRules != @new.StaticRules,
            VirtualServerGroups = Named(old.VirtualServerGroups, @new.VirtualServerGroups, g => g.Name),
            AddedVirtualServers = [.. addedVs],
            RemovedVirtualServers = [.. removedVs],
            ChangedVirtualServers = [.. changedVs.Select(p => VirtualServerDiff(p.Old, p.New))],
        };
    }

    private static InstanceChange InstanceDiff(VrrpInstance old, VrrpInstance @new) => new(
        @new.Name,
        old,
        @new,
        [.. @new.VirtualIpAddresses.Except(old.VirtualIpAddresses)],
        [.. old.VirtualIpAddresses.Except(@new.VirtualIpAddresses)],
        [.. @new.ExcludedVirtualIpAddresses.Except(old.ExcludedVirtualIpAddresses)],
        [.. old.ExcludedVirtualIpAddresses.Except(@new.ExcludedVirtualIpAddresses)],
        [.. ChangedProperties(old, @new)]);

    private static VirtualServerChange VirtualServerDiff(VirtualServer old, VirtualServer @new)
    {
        var (added, removed, changed) = Match(old.RealServers, @new.RealServers, RealServerKey);
        return new VirtualServerChange(
            @new.Key,
            old,
            @new,
            [.. added],
            [.. removed],
            [.. changed.Select(p => new RealServerChange(
                RealServerKey(p.New),
                p.Old,
                p.New,
                [.. MultisetExcept(p.New.Checkers, p.Old.Checkers)],
                [.. MultisetExcept(p.Old.Checkers, p.New.Checkers)],
                [.. ChangedProperties(p.Old, p.New)]))],
            [.. ChangedProperties(old, @new)]);
    }

    private static string RealServerKey(RealServer rs) => $"{rs.Address}:{rs.Port}";

    /// <summary>Items of <paramref name="a"/> not matched one for one in <paramref name="b"/>.</summary>
    private static List<T> MultisetExcept<T>(EquatableArray<T> a, EquatableArray<T> b)
    {
        var remaining = b.ToList();
        var result = new List<T>();
        foreach (var item in a)
        {
            var i = remaining.IndexOf(item);
            if (i >= 0) remaining.RemoveAt(i);
            else result.Add(item);
        }
        return result;
    }

    private static (List<T> Added, List<T> Removed, List<(T Old, T New)> Changed) Match<T>(EquatableArray<T> old, EquatableArray<T> @new, Func<T, string> key)
        where T : notnull
    {
        var oldByKey = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var o in old) oldByKey.TryAdd(key(o), o);
        var newKeys = new HashSet<string>(StringComparer.Ordinal);
        var added = new List<T>();
        var changed = new List<(T, T)>();
        foreach (var n in @new)
        {
            var k = key(n);
            newKeys.Add(k);
            if (!oldByKey.TryGetValue(k, out var o)) added.Add(n);
            else if (!EqualityComparer<T>.Default.Equals(o, n)) changed.Add((o, n));
        }
        var removed = old.Where(o => !newKeys.Contains(key(o))).ToList();
        return (added, removed, changed);
    }

    private static NamedChanges Named<T>(EquatableArray<T> old, EquatableArray<T> @new, Func<T, string> key) where T : notnull
    {
        var (added, removed, changed) = Match(old, @new, key);
        return new NamedChanges([.. added.Select(key)], [.. removed.Select(key)], [.. changed.Select(c => key(c.New))]);
    }

    /// <summary>The names of the public properties whose values differ (records compare by value).</summary>
    private static IEnumerable<string> ChangedProperties<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(T old, T @new)
    {
        foreach (var p in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0) continue;
            if (!Equals(p.GetValue(old), p.GetValue(@new))) yield return p.Name;
        }
    }
}
