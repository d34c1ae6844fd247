using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vigil.Hosting;
using Vigil.Netlink.Route;
using Vigil.Scripts;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Platform;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Daemon;

/// <summary>What ApplyConfig did, by instance name.</summary>
public sealed record ApplyResult(
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> Changed,
    IReadOnlyList<string> Unchanged);

/// <summary>
/// vigil-vrrpd's composition: one <see cref="VrrpDriver"/> for the daemon's whole life (it starts
/// empty; every ApplyConfig is a reload), raw sockets, GARP/NA, VIPs through rtnetlink, link and
/// address monitoring, track scripts and files, notify scripts and FIFO, and the event hub behind
/// WatchInstances. Link, tracker and API inputs become driver events; the driver's loop is the one
/// owner of the VRRP state.
/// </summary>
internal sealed partial class VrrpDaemon : IAsyncDisposable
{
    private readonly ILogger _log;
    private readonly Rtnetlink _rtnl;
    private readonly Rtnetlink _monitorRtnl;
    private readonly LinkMonitor _links;
    private readonly LinuxVrrpTransport _transport;
    private readonly LinuxArpSender _arp;
    private readonly VipManager _vips;
    private readonly VmacManager _vmacs;
    private readonly Notifier _notifier;
    private readonly EventHub _hub;
    private readonly Tracking _tracking;
    private readonly VrrpDriver _driver;
    private readonly Task _loop;
    private readonly ScriptRunner _scriptRunner = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly SemaphoreSlim _apply = new(1, 1);
    private readonly object _gate = new();

    // Guards the script runners and file watchers only, and is taken last: Tracking asks for their
    // status while holding its own lock, which _gate's holders may also take.
    private readonly object _trackerObjects = new();
    private readonly Dictionary<string, TrackScriptRunner> _scripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrackFileWatcher> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _started = new(StringComparer.Ordinal);
    private readonly HashSet<string> _awaitingStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPAddress?> _sources = new(StringComparer.Ordinal);
    private readonly HashSet<(string?, byte)> _unknownVridsLogged = [];
    private DaemonConfig _config = DaemonConfig.Empty;
    private HashSet<IPAddress> _ownAddresses = [];
    private int _applies;
    private int _stopping;
    private Task? _stopped;

    private VrrpDaemon(ILoggerFactory loggers, Rtnetlink rtnl, Rtnetlink monitorRtnl, LinkMonitor links, LinuxArpSender arp, TimeProvider time, Action? onBeat)
    {
        _log = loggers.CreateLogger("vigil-vrrpd");
        _rtnl = rtnl;
        _monitorRtnl = monitorRtnl;
        _links = links;
        _arp = arp;
        _transport = LinuxVrrpTransport.Create(loggers.CreateLogger("vigil-vrrpd.transport"));
        _vips = new VipManager(rtnl, name => Config.Instance(name), loggers.CreateLogger("vigil-vrrpd.vips"));
        _vmacs = new VmacManager(rtnl, loggers.CreateLogger("vigil-vrrpd.vmac"));
        _notifier = new Notifier(_scriptRunner, () => Config, loggers.CreateLogger("vigil-vrrpd.notify"));
        _hub = new EventHub(WallClock, () => DateTime.UtcNow);
        _tracking = new Tracking(_links.IsUp, ScriptStatus, FileValue, (name, e) => Post(name, e));
        var sink = new Sink(this);
        _driver = new VrrpDriver(VrrpEngineState.Create([]),
            new VrrpDriverDependencies(_transport, _vips, _arp, _notifier, time, loggers.CreateLogger("vigil-vrrpd.vrrp"), sink) { OnBeat = onBeat });
        _wallEpoch = DateTime.UtcNow - _driver.Now;
        _loop = _driver.RunAsync(CancellationToken.None);
        _transport.StartReceiving(_driver.PostPacket, _cts.Token);
        _links.LinkChanged += OnLinkChanged;
        _links.AddressesChanged += OnAddressesChanged;
    }

    /// <summary>Opens netlink (monitor first, then the current state) and the packet socket; no instance runs yet.</summary>
    /// <param name="onBeat">The protocol loop's heartbeat (see <see cref="VrrpDriverDependencies.OnBeat"/>).</param>
    public static async Task<VrrpDaemon> StartAsync(ILoggerFactory loggers, TimeProvider? time = null, Action? onBeat = null, CancellationToken cancellationToken = default)
    {
        var rtnl = Rtnetlink.Open();
        var monitorRtnl = Rtnetlink.Open();
        LinkMonitor? links = null;
        LinuxArpSender? arp = null;
        try
        {
            links = await LinkMonitor.StartAsync(monitorRtnl, loggers.CreateLogger("vigil-vrrpd.links"), cancellationToken).ConfigureAwait(false);
            arp = new LinuxArpSender();
            return new VrrpDaemon(loggers, rtnl, monitorRtnl, links, arp, time ?? TimeProvider.System, onBeat);
        }
        catch
        {
            arp?.Dispose();
            if (links is not null) await links.DisposeAsync().ConfigureAwait(false);
            monitorRtnl.Dispose();
            rtnl.Dispose();
            throw;
        }
    }

    public DaemonConfig Config => Volatile.Read(ref _config);

    /// <summary>The state of every instance (immutable snapshot).</summary>
    public VrrpEngineState State => _driver.State;

    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Every action the engine takes, as the event hub sees it, on the protocol loop (telemetry listens here; keep it cheap).</summary>
    public event Action<string, VrrpAction, VrrpInstanceState>? ActionObserved;

    /// <summary>Daemon-wide counters (ListInstancesResponse.counters).</summary>
    public IReadOnlyDictionary<string, ulong> Counters => new Dictionary<string, ulong>
    {
        ["unknown_vrid"] = (ulong)_driver.UnknownVridPackets,
        ["packet_too_short"] = (ulong)_driver.MalformedPackets,
    };

    /// <summary>A driver instant as UTC time (fixed offset, so one instant always maps to the same time).</summary>
    public DateTime WallClock(TimeSpan monotonic) => _wallEpoch + monotonic;

    private readonly DateTime _wallEpoch;

    // ------------------------------------------------------------------ configuration

    /// <summary>
    /// Applies a validated configuration as keepalived applies a reload: unchanged instances keep
    /// running untouched; changed instances whose identity is the same (interface, VRID, family,
    /// addressing, VMAC, sync group: <see cref="RestartReason"/>) take the change in place (a
    /// master stays master with its unchanged VIPs; priority, VIPs, advert_int, preemption, GARP,
    /// authentication, trackers and notify scripts apply at once); removed instances stop
    /// (priority 0, VIPs released, notify DELETED); added ones, and changed ones that are a new
    /// instance, (re)start.
    /// </summary>
    public async Task<ApplyResult> ApplyAsync(DaemonConfig next, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        await _apply.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsStopping) throw DaemonStopping.Error();
            var old = Config;
            var added = new List<string>();
            var changed = new List<string>();
            var unchanged = new List<string>();
            var restart = new HashSet<string>(StringComparer.Ordinal);
            var fresh = new List<string>();
            var primaryTracking = new List<InstanceDefinition>();
            // An instance renamed in the file is the running one (keepalived matches by VRID,
            // family and interface): it keeps its state and changes in place like any other.
            var renames = VrrpEngine.Renames(old.Instances.Select(d => d.Config), next.Instances.Select(d => d.Config))
                .Where(kv => old.Instance(kv.Key)!.Vmac == next.Instance(kv.Value)!.Vmac)
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            var renamedFrom = renames.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
            foreach (var d in next.Instances)
            {
                var before = old.Instance(d.Name) ?? (renamedFrom.TryGetValue(d.Name, out var was) ? old.Instance(was) : null);
                if (before is null)
                {
                    added.Add(d.Name);
                    fresh.Add(d.Name);
                    continue;
                }
                if (before.FullKey == d.FullKey && GroupKey(old, before) == GroupKey(next, d) && TrackerKey(old, before) == TrackerKey(next, d))
                {
                    unchanged.Add(d.Name);
                    continue;
                }
                changed.Add(d.Name);
                if (RestartReason(old, before, next, d) is { } why)
                {
                    LogRestarting(_log, d.Name, why);
                    restart.Add(d.Name);
                    fresh.Add(d.Name);
                }
                else if (before.DontTrackPrimary != d.DontTrackPrimary)
                {
                    primaryTracking.Add(d);
                }
            }
            var removed = old.Instances.Select(d => d.Name).Where(n => next.Instance(n) is null && !renames.ContainsKey(n)).ToList();

            _driver.LogUnknownVrids = next.Globals.LogUnknownVrids;
            // On the driver's loop, once the removed and restarted instances have stopped (their
            // VIPs and notify scripts are looked up in the old configuration) and before the
            // instances changed in place act (theirs are in the new one).
            void SwitchConfig()
            {
                lock (_gate)
                {
                    foreach (var (from, to) in renames)
                    {
                        if (_started.Remove(from)) _started.Add(to);
                        if (_awaitingStart.Remove(from)) _awaitingStart.Add(to);
                        if (_sources.Remove(from, out var source)) _sources[to] = source;
                        _vips.Rename(from, to);
                    }
                    Volatile.Write(ref _config, next);
                    _ownAddresses = next.Instances.SelectMany(d => d.AllAddresses.Select(a => a.Address)).ToHashSet();
                }
            }
            try
            {
                await _driver.ReloadAsync(next.Instances.Select(d => d.Config).ToList(), next.Groups.Select(g => g.Config).ToList(), restart,
                        unchanged.ToHashSet(StringComparer.Ordinal), SwitchConfig, renames)
                    .ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                throw new InvalidArgumentException(e.ParamName ?? "config", e.Message);
            }
            catch (VrrpDriverStoppedException)
            {
                throw DaemonStopping.Error();
            }

            lock (_gate)
            {
                foreach (var name in removed.Concat(fresh))
                {
                    _started.Remove(name);
                    _awaitingStart.Remove(name);
                    _sources.Remove(name);
                }
                // Normally done on the loop already; the one place that writes it if the loop did not.
                if (!ReferenceEquals(Config, next)) SwitchConfig();
                // dont_track_primary changed: the link state now counts, or no longer does.
                foreach (var d in primaryTracking.Where(d => _started.Contains(d.Name)))
                    Post(d.Name, new InterfaceStateChangedEvent(d.DontTrackPrimary || _links.IsUp(d.Config.Interface)));
            }
            // Past the point of no return: the caller going away must not leave instances unstarted,
            // and a failure in one step (a FIFO, a watcher) must not keep the others from running.
            var firstLoad = Interlocked.Increment(ref _applies) == 1;
            Step("notify fifo", () => _notifier.SetFifo(next.Globals.NotifyFifo));
            try
            {
                var vmacs = next.Instances.Where(d => d.Vmac is not null).Select(d => d.Vmac!).ToList();
                await _vmacs.RemoveUnusedAsync(vmacs.Select(v => v.Name).ToHashSet(StringComparer.Ordinal)).ConfigureAwait(false);
                await _vmacs.EnsureAsync(vmacs, CancellationToken.None).ConfigureAwait(false);
                // A new VMAC comes up with its parent's carrier a moment later; start its instance then.
                await Poll(() => vmacs.All(v => _links.IsUp(v.Name) || !_links.IsUp(v.BaseInterface)), TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogApplyStepFailed(_log, e, "vmacs");
            }
            Step("sockets", UpdateSockets);
            try
            {
                await UpdateTrackersAsync(next, firstLoad).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogApplyStepFailed(_log, e, "trackers");
            }
            Step("tracking", () =>
            {
                _tracking.SetConfig(next, fresh);
                _tracking.Recompute();
            });
            if (firstLoad)
            {
                foreach (var d in next.Instances) await _vips.RemoveLeftoversAsync(d, CancellationToken.None).ConfigureAwait(false);
            }
            lock (_gate)
            {
                foreach (var name in fresh) Step($"start {name}", () => StartLocked(name));
            }
            WarnUnsupported(next);
            // For the instances (re)started by this apply (a carried-over one was warmed when it started),
            // in the background: they start as BACKUP, so this is done long before any takeover.
            var started = fresh.ToHashSet(StringComparer.Ordinal);
            var configs = next.Instances.Where(d => started.Contains(d.Name)).Select(d => d.Config).ToList();
            _ = Task.Run(async () =>
            {
                try
                {
                    await TakeoverWarmUp.RunAsync(configs).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogApplyStepFailed(_log, e, "takeover warm-up");
                }
            });
            LogApplied(_log, added.Count, removed.Count, changed.Count, unchanged.Count,
                string.Join(' ', added.Select(n => "+" + n).Concat(removed.Select(n => "-" + n))
                    .Concat(changed.Select(n => renamedFrom.TryGetValue(n, out var was) ? $"~{was}->{n}" : "~" + n))));
            return new ApplyResult(added, removed, changed, unchanged);
        }
        finally
        {
            _apply.Release();
        }
    }

    private static async Task Poll(Func<bool> done, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!done() && DateTime.UtcNow < until) await Task.Delay(20).ConfigureAwait(false);
    }

    private void Step(string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogApplyStepFailed(_log, e, what);
        }
    }

    /// <summary>
    /// Why a changed instance must restart rather than change in place: what the engine calls its
    /// identity (<see cref="VrrpEngine.RestartReason"/>), or what only the daemon sees: its VMAC
    /// and its sync group's membership.
    /// </summary>
    private static string? RestartReason(DaemonConfig oldConfig, InstanceDefinition before, DaemonConfig newConfig, InstanceDefinition after)
    {
        if (VrrpEngine.RestartReason(before.Config, after.Config) is { } why) return why;
        if (before.Vmac != after.Vmac) return "use_vmac changed";
        if (GroupKey(oldConfig, before) != GroupKey(newConfig, after)) return $"vrrp_sync_group {after.Config.SyncGroup} changed its members";
        return null;
    }

    private static string GroupKey(DaemonConfig config, InstanceDefinition d) =>
        d.Config.SyncGroup is { } g ? config.Group(g)?.Key ?? "" : "";

    /// <summary>Everything about an instance's trackers, with the definitions of the scripts and files it names.</summary>
    private static string TrackerKey(DaemonConfig config, InstanceDefinition d)
    {
        var group = d.Config.SyncGroup is { } g ? config.Group(g) : null;
        var scripts = d.TrackScripts.Concat(group?.TrackScripts ?? []).Select(t => $"{t}:{config.Scripts.GetValueOrDefault(t.Script)?.Key}");
        var files = d.TrackFiles.Concat(group?.TrackFiles ?? []).Select(t => $"{t}:{config.TrackFiles.GetValueOrDefault(t.TrackFile)?.Key}");
        var ifs = d.TrackInterfaces.Concat(group?.TrackInterfaces ?? []).Select(t => t.ToString());
        var notify = group?.Notify.ToString() ?? "";
        return string.Join('|', scripts.Concat(files).Concat(ifs).Append(notify).Append(config.Globals.ScriptUser?.ToString() ?? ""));
    }

    private void WarnUnsupported(DaemonConfig config)
    {
        foreach (var d in config.Instances)
        {
            if (d.Config.Strict) LogNoFirewall(_log, d.Name);
        }
        if (config.Globals.EnableScriptSecurity) LogNoScriptSecurity(_log);
    }

    /// <summary>Starts an instance now, or once the weight-0 scripts it tracks have exited once.</summary>
    private void StartLocked(string name)
    {
        if (Config.Instance(name) is not { } d || _started.Contains(name)) return;
        if (_tracking.IsStartPending(name))
        {
            if (_awaitingStart.Add(name)) LogAwaitingScripts(_log, name);
            return;
        }
        _awaitingStart.Remove(name);
        var c = d.Config;
        var source = c.SourceAddress ?? _links.SourceFor(d.SourceInterface, c.Family, _ownAddresses);
        var up = d.DontTrackPrimary || _links.IsUp(c.Interface);
        _sources[name] = source;
        _started.Add(name);
        Post(name, new StartupEvent(source, up));
    }

    private void StartAwaiting()
    {
        lock (_gate)
        {
            foreach (var name in _awaitingStart.ToList()) StartLocked(name);
        }
    }

    private void UpdateSockets()
    {
        foreach (var (iface, family, error) in _transport.Update(Config.Instances.Select(d => d.Config)))
            LogSocketFailed(_log, iface, family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4", error.Message);
    }

    private async Task UpdateTrackersAsync(DaemonConfig config, bool firstLoad)
    {
        var scriptsUsed = config.Instances.SelectMany(d => d.TrackScripts.Select(t => t.Script))
            .Concat(config.Groups.SelectMany(g => g.TrackScripts.Select(t => t.Script))).ToHashSet(StringComparer.Ordinal);
        var filesUsed = config.Instances.SelectMany(d => d.TrackFiles.Select(t => t.TrackFile))
            .Concat(config.Groups.SelectMany(g => g.TrackFiles.Select(t => t.TrackFile))).ToHashSet(StringComparer.Ordinal);
        List<TrackScriptRunner> stop;
        var start = new List<TrackScriptRunner>();
        lock (_trackerObjects)
        {
            stop = _scripts.Where(kv => !scriptsUsed.Contains(kv.Key) || !Equals(kv.Value.Definition, config.Scripts[kv.Key]) || ScriptUserChanged(kv.Value, config))
                .Select(kv => kv.Value).ToList();
            foreach (var r in stop) _scripts.Remove(r.Definition.Name);
            foreach (var name in scriptsUsed.Where(n => !_scripts.ContainsKey(n)))
            {
                var runner = new TrackScriptRunner(config.Scripts[name], _scriptRunner, config.Globals.ScriptUser, OnScriptChanged, _log);
                _scripts[name] = runner;
                _scriptUsers[name] = config.Globals.ScriptUser?.ToString();
                start.Add(runner);
            }
            foreach (var (name, w) in _files.Where(kv => !filesUsed.Contains(kv.Key) || kv.Value.Definition != config.TrackFiles[kv.Key]).ToList())
            {
                w.Dispose();
                _files.Remove(name);
            }
            foreach (var name in filesUsed.Where(n => !_files.ContainsKey(n)))
            {
                var w = new TrackFileWatcher(config.TrackFiles[name], OnFileChanged, _log);
                _files[name] = w;
                w.Start(firstLoad);
            }
        }
        foreach (var r in stop) await r.DisposeAsync().ConfigureAwait(false);
        foreach (var r in start) r.Start();
    }

    private readonly Dictionary<string, string?> _scriptUsers = new(StringComparer.Ordinal);

    private bool ScriptUserChanged(TrackScriptRunner runner, DaemonConfig config) =>
        runner.Definition.User is null && _scriptUsers.GetValueOrDefault(runner.Definition.Name) != config.Globals.ScriptUser?.ToString();

    private TrackScriptStatus? ScriptStatus(string name)
    {
        lock (_trackerObjects) return _scripts.TryGetValue(name, out var r) ? r.Status : null;
    }

    private long? FileValue(string name)
    {
        lock (_trackerObjects) return _files.TryGetValue(name, out var f) ? f.Value : null;
    }

    private void OnScriptChanged(TrackScriptRunner runner)
    {
        if (IsStopping) return;
        _tracking.Recompute(_tracking.TrackingScript(runner.Definition.Name));
        StartAwaiting();
    }

    private void OnFileChanged(TrackFileWatcher watcher)
    {
        if (IsStopping) return;
        _tracking.Recompute(_tracking.TrackingFile(watcher.Definition.Name));
    }

    // ------------------------------------------------------------------ links

    private void OnLinkChanged(LinkInfo? before, LinkInfo? after)
    {
        if (IsStopping) return;
        var name = (after ?? before)!.Name;
        _arp.Invalidate(name);
        if (after is null || (before is not null && before.Index != after.Index)) _transport.Close(name);
        if (after is not null && !Config.Instances.All(d => d.Config.Interface != name || _transport.HasSocket(name, d.Config.Family)))
            UpdateSockets();
        var up = after?.Up ?? false;
        if ((before?.Up ?? false) != up)
        {
            lock (_gate)
            {
                foreach (var d in Config.Instances.Where(d => d.Config.Interface == name && !d.DontTrackPrimary && _started.Contains(d.Name)))
                    Post(d.Name, new InterfaceStateChangedEvent(up));
            }
            _tracking.Recompute(_tracking.TrackingInterface(name));
        }
        OnAddressesChanged(name);
    }

    private void OnAddressesChanged(string name)
    {
        if (IsStopping) return;
        lock (_gate)
        {
            foreach (var d in Config.Instances.Where(d => d.SourceInterface == name && d.Config.SourceAddress is null && _started.Contains(d.Name)))
            {
                var source = _links.SourceFor(name, d.Config.Family, _ownAddresses);
                if (Equals(source, _sources.GetValueOrDefault(d.Name))) continue;
                LogSourceChanged(_log, d.Name, _sources.GetValueOrDefault(d.Name)?.ToString() ?? "none", source?.ToString() ?? "none");
                _sources[d.Name] = source;
                Post(d.Name, new SourceAddressChangedEvent(source));
            }
        }
    }

    /// <summary>Queues an event for an instance without waiting; one that left meanwhile is fine.</summary>
    private void Post(string instance, VrrpEvent e)
    {
        try
        {
            _ = _driver.PostAsync(instance, e).ContinueWith(
                t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (ArgumentException)
        {
            // Removed by a reload since.
        }
        catch (VrrpDriverStoppedException)
        {
        }
    }

    // ------------------------------------------------------------------ API

    /// <summary>Subscribes to WatchInstances: the snapshot and end marker are queued first.</summary>
    public async Task<EventHub.Subscription> WatchAsync()
    {
        if (IsStopping) throw DaemonStopping.Error();
        try
        {
            return await _driver.InvokeAsync(state => _hub.Subscribe(state)).ConfigureAwait(false);
        }
        catch (VrrpDriverStoppedException)
        {
            throw DaemonStopping.Error();
        }
    }

    /// <summary>
    /// Overrides an instance's priority at runtime (null: back to the configured one) without
    /// restarting it; the next reload clears it. Returns the instance once the change is applied.
    /// 255 is the address owner's alone, as in keepalived's configuration.
    /// </summary>
    public async Task<VrrpInstanceState> SetPriorityAsync(string instance, uint? priority)
    {
        if (IsStopping) throw DaemonStopping.Error();
        if (string.IsNullOrEmpty(instance)) throw new InvalidArgumentException("instance", "an instance name is required");
        if (!State.Instances.TryGetValue(instance, out var s)) throw new NotFoundException($"no instance named '{instance}'");
        if (priority is { } p)
        {
            if (p is < 1 or > VrrpConstants.PriorityOwner) throw new InvalidArgumentException("priority", $"{p} is outside 1..254 (255 only for the address owner)");
            if (p == VrrpConstants.PriorityOwner && !s.Config.IsOwner)
                throw new InvalidArgumentException("priority", $"255 is the address owner's priority; {instance} is configured with {s.Config.Priority}, use 1..254");
        }
        try
        {
            await _driver.PostAsync(instance, new PriorityOverrideEvent((byte?)priority)).ConfigureAwait(false);
            return await _driver.InvokeAsync(e => e.Instances.TryGetValue(instance, out var now) ? now : throw new NotFoundException($"no instance named '{instance}'")).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            // Removed by a reload between the check and the post.
            throw new NotFoundException($"no instance named '{instance}'");
        }
        catch (VrrpDriverStoppedException)
        {
            throw DaemonStopping.Error();
        }
    }

    /// <summary>SendGarp: one master instance, or every master when <paramref name="instance"/> is empty.</summary>
    public async Task<IReadOnlyList<string>> SendGarpAsync(string instance)
    {
        if (IsStopping) throw DaemonStopping.Error();
        var state = State;
        List<string> targets;
        if (string.IsNullOrEmpty(instance))
        {
            targets = state.Instances.Values.Where(s => s.State == VrrpStateKind.Master).Select(s => s.Config.Name).Order(StringComparer.Ordinal).ToList();
        }
        else
        {
            if (!state.Instances.TryGetValue(instance, out var s)) throw new NotFoundException($"no instance named '{instance}'");
            if (s.State != VrrpStateKind.Master)
                throw new FailedPreconditionException($"{instance} is {VrrpText.State(s.State)}, not MASTER: only a master announces its addresses");
            targets = [instance];
        }
        try
        {
            await Task.WhenAll(targets.Select(t => _driver.PostAsync(t, new SendGarpRequestedEvent()))).ConfigureAwait(false);
        }
        catch (VrrpDriverStoppedException)
        {
            throw DaemonStopping.Error();
        }
        return targets;
    }

    /// <summary>keepalived's USR1 / USR2 dumps: one line per instance (and its counters), to the log.</summary>
    public void LogState(bool withCounters)
    {
        foreach (var s in State.Instances.Values.OrderBy(s => s.Config.Name, StringComparer.Ordinal))
        {
            var c = s.Config;
            LogInstanceState(_log, c.Name, VrrpText.State(s.State), c.Interface, c.Vrid, c.Priority, s.EffectivePriority,
                s.MasterAddress?.ToString() ?? "-", string.Join(',', VrrpText.Faults(s.Faults)));
            if (withCounters)
                LogInstanceCounters(_log, c.Name, string.Join(' ', s.Stats.ToDictionary().Select(kv => $"{kv.Key}={kv.Value}")));
        }
        if (withCounters) LogDaemonCounters(_log, string.Join(' ', Counters.Select(kv => $"{kv.Key}={kv.Value}")));
    }

    // ------------------------------------------------------------------ stop

    /// <summary>
    /// Stops cleanly: trackers first (no more changes), then every instance (a master sends
    /// priority 0 and releases its VIPs; STOP notifies), then waits a little for the notify scripts,
    /// ends the Watch streams and closes the sockets.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            if (Interlocked.Exchange(ref _stopping, 1) == 0) _stopped = Task.Run(StopCoreAsync);
            return _stopped!;
        }
    }

    private async Task StopCoreAsync()
    {
        await _apply.WaitAsync().ConfigureAwait(false);
        try
        {
            List<TrackScriptRunner> runners;
            lock (_trackerObjects)
            {
                runners = [.. _scripts.Values];
                _scripts.Clear();
                foreach (var f in _files.Values) f.Dispose();
                _files.Clear();
            }
            foreach (var r in runners) await r.DisposeAsync().ConfigureAwait(false);
            var config = Config;
            await _driver.StopAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            // keepalived's notify_shutdown: every sync group reports STOP as well.
            foreach (var g in config.Groups) await _notifier.NotifyGroupAsync(g.Name, VrrpStateKind.Stopped, CancellationToken.None).ConfigureAwait(false);
            await _notifier.DrainAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            // keepalived deletes its VMACs at exit (the VIPs on them are gone already).
            await _vmacs.RemoveUnusedAsync(new HashSet<string>()).ConfigureAwait(false);
            _hub.Complete(DaemonStopping.Error());
            await _cts.CancelAsync().ConfigureAwait(false);
            await _links.DisposeAsync().ConfigureAwait(false);
            _transport.Dispose();
            _arp.Dispose();
            _notifier.Dispose();
            _rtnl.Dispose();
            _monitorRtnl.Dispose();
            LogStopped(_log);
        }
        finally
        {
            _apply.Release();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>The driver's event sink: the hub, plus the first unknown-VRID log line when log_unknown_vrids is off.</summary>
    private sealed class Sink(VrrpDaemon daemon) : IVrrpEventSink
    {
        public void OnAction(string instance, VrrpAction action, VrrpInstanceState state)
        {
            daemon._hub.OnAction(instance, action, state);
            daemon.ActionObserved?.Invoke(instance, action, state);
        }

        public void OnGroupTransition(SyncGroupTransition transition) => daemon._hub.OnGroupTransition(transition);

        public void OnUnknownVrid(string? interfaceName, AddressFamily family, byte vrid, IPAddress? source)
        {
            if (!daemon._driver.LogUnknownVrids && daemon._unknownVridsLogged.Add((interfaceName, vrid)))
                LogUnknownVrid(daemon._log, vrid, interfaceName ?? "?", source?.ToString() ?? "?");
            daemon._hub.OnUnknownVrid(interfaceName, family, vrid, source);
        }
    }

    [LoggerMessage(EventId = 3501, Level = LogLevel.Information, Message = "configuration applied: {Added} added, {Removed} removed, {Changed} changed, {Unchanged} unchanged {Details}")]
    private static partial void LogApplied(ILogger logger, int added, int removed, int changed, int unchanged, string details);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Error, Message = "cannot open the VRRP socket on {Interface} ({Family}): {Reason}; its instances stay in FAULT until it can")]
    private static partial void LogSocketFailed(ILogger logger, string @interface, string family, string reason);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Information, Message = "{Instance}: source address {From} -> {To}")]
    private static partial void LogSourceChanged(ILogger logger, string instance, string from, string to);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Information, Message = "{Instance}: waiting for the first result of its weight-0 track scripts before starting")]
    private static partial void LogAwaitingScripts(ILogger logger, string instance);

    [LoggerMessage(EventId = 3505, Level = LogLevel.Warning, Message = "unknown VRID {Vrid} received on interface {Interface} from {Source}; ignoring (logged once; set log_unknown_vrids to log every one)")]
    private static partial void LogUnknownVrid(ILogger logger, byte vrid, string @interface, string source);

    [LoggerMessage(EventId = 3506, Level = LogLevel.Warning, Message = "{Instance}: vrrp_strict: Vigil does not install the no_accept firewall rules; addresses stay reachable")]
    private static partial void LogNoFirewall(ILogger logger, string instance);

    [LoggerMessage(EventId = 3507, Level = LogLevel.Warning, Message = "enable_script_security: script ownership and permission checks are not enforced by vigil-vrrpd yet")]
    private static partial void LogNoScriptSecurity(ILogger logger);

    [LoggerMessage(EventId = 3509, Level = LogLevel.Error, Message = "applying the configuration: {Step} failed; the rest goes ahead")]
    private static partial void LogApplyStepFailed(ILogger logger, Exception exception, string step);

    [LoggerMessage(EventId = 3510, Level = LogLevel.Information, Message = "{Instance}: {State} on {Interface} vrid {Vrid} priority {Priority} effective {Effective} master {Master} faults [{Faults}]")]
    private static partial void LogInstanceState(ILogger logger, string instance, string state, string @interface, byte vrid, byte priority, byte effective, string master, string faults);

    [LoggerMessage(EventId = 3511, Level = LogLevel.Information, Message = "{Instance}: {Counters}")]
    private static partial void LogInstanceCounters(ILogger logger, string instance, string counters);

    [LoggerMessage(EventId = 3512, Level = LogLevel.Information, Message = "daemon: {Counters}")]
    private static partial void LogDaemonCounters(ILogger logger, string counters);

    [LoggerMessage(EventId = 3513, Level = LogLevel.Information, Message = "{Instance}: restarting for the new configuration: {Reason}")]
    private static partial void LogRestarting(ILogger logger, string instance, string reason);

    [LoggerMessage(EventId = 3508, Level = LogLevel.Information, Message = "VRRP stopped; every instance released")]
    private static partial void LogStopped(ILogger logger);
}
