using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// Folds everything an instance tracks (track_interface, track_script, track_file, its own and its
/// sync group's) into the <see cref="TrackersChangedEvent"/> the engine takes, with
/// <see cref="TrackerAggregate"/>'s keepalived rules, and posts it whenever the sum of weights or
/// the number of failed weight-0 items changes. A script that has not exited yet weighs nothing
/// (keepalived's INIT); one tracked with weight 0 holds the instance's start back until it has
/// (<see cref="IsStartPending"/>).
/// </summary>
internal sealed class Tracking(
    Func<string, bool> interfaceUp,
    Func<string, TrackScriptStatus?> scriptStatus,
    Func<string, long?> fileValue,
    Action<string, TrackersChangedEvent> post)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (int Sum, int Faults)> _posted = new(StringComparer.Ordinal);
    private DaemonConfig _config = DaemonConfig.Empty;

    /// <summary>
    /// Takes a new configuration. Instances in <paramref name="fresh"/> start with the engine's
    /// initial tracker state (nothing posted yet); the others keep what was posted.
    /// </summary>
    public void SetConfig(DaemonConfig config, IEnumerable<string> fresh)
    {
        lock (_gate)
        {
            _config = config;
            foreach (var name in fresh) _posted[name] = (0, 0);
            foreach (var name in _posted.Keys.Where(n => config.Instance(n) is null).ToList()) _posted.Remove(name);
        }
    }

    /// <summary>The tracked items of one instance as they stand now.</summary>
    public IReadOnlyList<TrackedItem> Items(string instance)
    {
        lock (_gate) return ItemsLocked(instance);
    }

    private List<TrackedItem> ItemsLocked(string instance)
    {
        var items = new List<TrackedItem>();
        if (_config.Instance(instance) is not { } def) return items;
        var group = def.Config.SyncGroup is { } g ? _config.Group(g) : null;
        foreach (var t in def.TrackInterfaces.Concat(group?.TrackInterfaces ?? []))
            items.Add(new TrackedItem($"interface {t.Interface}", t.Weight, t.Reverse, interfaceUp(t.Interface)));
        foreach (var t in def.TrackScripts.Concat(group?.TrackScripts ?? []))
        {
            var status = scriptStatus(t.Script) ?? TrackScriptStatus.Init;
            if (status == TrackScriptStatus.Init) continue;
            items.Add(new TrackedItem($"script {t.Script}", t.Weight, t.Reverse, status == TrackScriptStatus.Up));
        }
        foreach (var t in def.TrackFiles.Concat(group?.TrackFiles ?? []))
            items.Add(new TrackedItem($"file {t.TrackFile}", t.Weight, t.Reverse, FileValue: fileValue(t.TrackFile) ?? 0));
        return items;
    }

    /// <summary>True while a script tracked with weight 0 has not exited yet.</summary>
    public bool IsStartPending(string instance)
    {
        lock (_gate)
        {
            if (_config.Instance(instance) is not { } def) return false;
            var group = def.Config.SyncGroup is { } g ? _config.Group(g) : null;
            return def.TrackScripts.Concat(group?.TrackScripts ?? [])
                .Any(t => t.Weight == 0 && (scriptStatus(t.Script) ?? TrackScriptStatus.Init) == TrackScriptStatus.Init);
        }
    }

    /// <summary>Recomputes every instance (or those named) and posts what changed.</summary>
    public void Recompute(IEnumerable<string>? instances = null)
    {
        var posts = new List<(string, TrackersChangedEvent)>();
        lock (_gate)
        {
            foreach (var name in instances ?? _config.Instances.Select(i => i.Name))
            {
                if (_config.Instance(name) is null) continue;
                var (sum, faults) = TrackerAggregate.Compute(ItemsLocked(name));
                if (_posted.TryGetValue(name, out var last) && last == (sum, faults)) continue;
                _posted[name] = (sum, faults);
                posts.Add((name, new TrackersChangedEvent(sum, faults)));
            }
        }
        foreach (var (name, e) in posts) post(name, e);
    }

    /// <summary>The instances that track the interface (directly or through their group).</summary>
    public IReadOnlyList<string> TrackingInterface(string name)
    {
        lock (_gate) return Tracking_(d => d.TrackInterfaces.Any(t => t.Interface == name), g => g.TrackInterfaces.Any(t => t.Interface == name));
    }

    public IReadOnlyList<string> TrackingScript(string name)
    {
        lock (_gate) return Tracking_(d => d.TrackScripts.Any(t => t.Script == name), g => g.TrackScripts.Any(t => t.Script == name));
    }

    public IReadOnlyList<string> TrackingFile(string name)
    {
        lock (_gate) return Tracking_(d => d.TrackFiles.Any(t => t.TrackFile == name), g => g.TrackFiles.Any(t => t.TrackFile == name));
    }

    private List<string> Tracking_(Func<InstanceDefinition, bool> own, Func<SyncGroupDefinition, bool> viaGroup) =>
        _config.Instances
            .Where(d => own(d) || (d.Config.SyncGroup is { } g && _config.Group(g) is { } group && viaGroup(group)))
            .Select(d => d.Name)
            .ToList();
}
