using System.Net;
using Microsoft.Extensions.Logging;
using Vigil.Check.V1;
using Vigil.Ipvs.V1;
using Vigil.Ipvsd.Backends;
using Vigil.Netlink.Ipvs;
using IpvsService = Vigil.Netlink.Ipvs.IpvsService;

namespace Vigil.Ipvsd.Engine;

/// <summary>What one ApplyConfig did.</summary>
public sealed record ApplyOutcome(string Backend, int Added, int Removed, int Kept, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings, int Changes);

/// <summary>
/// vigil-ipvsd's one work loop: holds the desired configuration, checkd's destination sets and
/// the sync daemon's role; on every change of those, and every reconcile interval, reads the
/// backend's table, plans the difference and applies it. A difference found when no input
/// changed was made by someone else (an out-of-band ipvsadm or nft edit): it is put back and
/// logged. The loop beats its heartbeat between steps; big plans are applied in batches so a
/// reconcile of thousands of services never looks like a stall.
/// </summary>
public sealed partial class Reconciler : IAsyncDisposable
{
    /// <summary>
    /// How long the loop keeps beating while it waits for one backend call: nft has a 60 s
    /// limit of its own, so a call that outlasts this is hung and the loop shows as stalled.
    /// </summary>
    private static readonly TimeSpan BackendCallAllowance = TimeSpan.FromSeconds(70);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private readonly Func<Backend, CancellationToken, Task<(ILvsBackend Backend, string? Warning)>> _openBackend;
    private readonly ILogger _logger;
    private readonly Action _beat;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _backendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, DestinationSet> _sets = new(StringComparer.Ordinal);
    private readonly HashSet<IpvsService> _owned = [];
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private IpvsConfig? _config;
    private bool _configApplied;
    private long _inputVersion;
    private long _reconciledVersion = -1;
    private IReadOnlyDictionary<string, bool> _vrrpMaster = new Dictionary<string, bool>();
    private List<TaskCompletionSource<int>> _waiters = [];
    private ILvsBackend? _backend;
    private Task? _loop;

    public Reconciler(Func<Backend, CancellationToken, Task<(ILvsBackend, string?)>> openBackend, ILoggerFactory loggers, Action? beat = null)
    {
        _openBackend = openBackend;
        _logger = loggers.CreateLogger("vigil-ipvsd.reconciler");
        _beat = beat ?? (() => { });
    }

    public ILvsBackend? Backend => _backend;

    public LvsTarget LastTarget { get; private set; } = LvsTarget.Empty;

    public DateTime? LastReconcile { get; private set; }

    public IReadOnlyDictionary<string, ulong> Counters()
    {
        lock (_gate) return _counters.ToDictionary(kv => kv.Key, kv => (ulong)kv.Value);
    }

    private void Count(string name, long by = 1)
    {
        lock (_gate) _counters[name] = _counters.GetValueOrDefault(name) + by;
    }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Replaces the configuration and waits for the reconcile that applies it.</summary>
    public async Task<ApplyOutcome> ApplyConfigAsync(IpvsConfig config, CancellationToken cancellationToken)
    {
        try
        {
            TargetBuilder.Validate(config);
        }
        catch (IpvsConfigException)
        {
            Count("configurations_refused");
            throw;
        }
        var warnings = new List<string>();
        if (_backend is null)
        {
            var (backend, warning) = await _openBackend(config.Globals?.Backend ?? Ipvs.V1.Backend.Unspecified, cancellationToken).ConfigureAwait(false);
            _backend = backend;
            if (warning is not null)
            {
                warnings.Add(warning);
                LogBackendWarning(warning);
            }
            LogBackend(backend.Name, await backend.VersionAsync(cancellationToken).ConfigureAwait(false));
        }
        if (config.Globals?.SyncDaemon is { } sd && !_backend.HasSyncDaemon)
        {
            warnings.Add($"lvs_sync_daemon {sd.Interface}: the {_backend.Name} backend has no connection sync daemon; connections do not survive a director failover");
        }
        int added, removed, kept;
        TaskCompletionSource<int> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var before = (_config?.VirtualServers ?? []).Select(v => TargetBuilder.KeyText(v.Key)).ToHashSet(StringComparer.Ordinal);
            var after = config.VirtualServers.Select(v => TargetBuilder.KeyText(v.Key)).ToHashSet(StringComparer.Ordinal);
            added = after.Count(k => !before.Contains(k));
            removed = before.Count(k => !after.Contains(k));
            kept = after.Count - added;
            _config = config;
            _inputVersion++;
            _waiters.Add(done);
            _counters["configurations_applied"] = _counters.GetValueOrDefault("configurations_applied") + 1;
        }
        _wake.Release();
        var changes = await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new ApplyOutcome(_backend.Name, added, removed, kept, LastTarget.Refused, warnings, changes);
    }

    /// <summary>checkd's destination sets: a full snapshot (replaces all) or one set.</summary>
    public void SetDestinations(IEnumerable<DestinationSet> sets, bool replaceAll)
    {
        lock (_gate)
        {
            if (replaceAll) _sets.Clear();
            foreach (var s in sets) _sets[TargetBuilder.KeyText(s.Key)] = s;
            _inputVersion++;
            _counters["destination_updates"] = _counters.GetValueOrDefault("destination_updates") + 1;
        }
        _wake.Release();
    }

    public void RemoveDestinations(VirtualServerKey key)
    {
        lock (_gate)
        {
            _sets.Remove(TargetBuilder.KeyText(key));
            _inputVersion++;
        }
        _wake.Release();
    }

    /// <summary>vrrpd's instances: which are MASTER here (for lvs_sync_daemon).</summary>
    public void SetVrrpStates(IReadOnlyDictionary<string, bool> isMaster)
    {
        lock (_gate)
        {
            _vrrpMaster = isMaster;
            _inputVersion++;
        }
        _wake.Release();
    }

    /// <summary>Reads the backend's table now (for ListVirtualServers).</summary>
    public async Task<(IReadOnlyList<LvsEntry> Table, IReadOnlyList<IpvsDaemon> Daemons, string Version)> ReadAsync(CancellationToken cancellationToken)
    {
        var backend = _backend ?? throw new InvalidOperationException("no configuration applied yet: no backend chosen");
        await _backendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Count("kernel_reads");
            return (await backend.ReadAsync(cancellationToken).ConfigureAwait(false),
                await backend.ListSyncDaemonsAsync(cancellationToken).ConfigureAwait(false),
                await backend.VersionAsync(cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _backendLock.Release();
        }
    }

    /// <summary>The virtual_server a kernel service belongs to (empty when Vigil does not own it).</summary>
    public string OwnerOf(IpvsService service) => LastTarget.Owners.GetValueOrDefault(service.Key, "");

    private async Task RunAsync(CancellationToken stopping)
    {
        var nextPeriodic = DateTime.UtcNow;
        while (!stopping.IsCancellationRequested)
        {
            _beat();
            var interval = _config?.Globals?.ReconcileInterval?.ToTimeSpan() ?? DefaultInterval;
            var wait = nextPeriodic - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                // Wake at least every 250 ms to beat; an input change wakes at once.
                var slice = wait < TimeSpan.FromMilliseconds(250) ? wait : TimeSpan.FromMilliseconds(250);
                try
                {
                    if (!await _wake.WaitAsync(slice, stopping).ConfigureAwait(false)) continue;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                while (_wake.CurrentCount > 0) _wake.Wait(0, CancellationToken.None);
            }
            nextPeriodic = DateTime.UtcNow + interval;
            if (_backend is null || _config is null) continue;
            await ReconcileOnceAsync(stopping).ConfigureAwait(false);
        }
    }

    private async Task ReconcileOnceAsync(CancellationToken stopping)
    {
        IpvsConfig config;
        Dictionary<string, DestinationSet> sets;
        IReadOnlyDictionary<string, bool> vrrp;
        long version;
        List<TaskCompletionSource<int>> waiters;
        bool firstApply;
        lock (_gate)
        {
            config = _config!;
            sets = new Dictionary<string, DestinationSet>(_sets, StringComparer.Ordinal);
            vrrp = _vrrpMaster;
            version = _inputVersion;
            (waiters, _waiters) = (_waiters, []);
            firstApply = !_configApplied;
        }
        var backend = _backend!;
        var outOfBand = version == _reconciledVersion;
        var changesMade = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await _backendLock.WaitAsync(stopping).ConfigureAwait(false);
        try
        {
            Count("reconciles");
            if (firstApply)
            {
                if (config.Globals?.FlushOnStart == true)
                {
                    await backend.FlushAsync(stopping).ConfigureAwait(false);
                    Count("kernel_writes");
                    LogFlushed("lvs_flush");
                }
                if (config.Globals?.Timeouts is { } t && (t.Tcp is not null || t.TcpFin is not null || t.Udp is not null))
                {
                    await backend.SetTimeoutsAsync(new IpvsTimeouts(t.Tcp?.ToTimeSpan() ?? TimeSpan.Zero, t.TcpFin?.ToTimeSpan() ?? TimeSpan.Zero, t.Udp?.ToTimeSpan() ?? TimeSpan.Zero), stopping).ConfigureAwait(false);
                    Count("kernel_writes");
                }
                _configApplied = true;
            }
            var target = TargetBuilder.Build(config, sets, backend, _beat);
            if (!target.Refused.SequenceEqual(LastTarget.Refused))
            {
                foreach (var r in target.Refused) LogRefused(r);
            }
            LastTarget = target;
            _beat();
            Count("kernel_reads");
            var actual = await BeatingWhile(Task.Run(() => backend.ReadAsync(stopping))).ConfigureAwait(false);
            _beat();
            var owned = new HashSet<IpvsService>(_owned);
            owned.UnionWith(target.Owners.Keys);
            var plan = Planner.Plan(target.Entries, actual, owned, _beat);
            if (plan.Count > 0)
            {
                if (outOfBand)
                {
                    Count("out_of_band_repairs");
                    foreach (var c in plan.Take(20)) LogOutOfBand(backend.Name, Describe(c));
                }
                var batchSize = Math.Max(1, backend.ChangesPerApply);
                for (var i = 0; i < plan.Count; i += batchSize)
                {
                    var batch = plan.Skip(i).Take(batchSize).ToList();
                    await BeatingWhile(Task.Run(() => backend.ApplyAsync(batch, target.Entries, stopping))).ConfigureAwait(false);
                    Count("kernel_writes", batch.Count);
                    changesMade += batch.Count;
                    _beat();
                }
                LogApplied(plan.Count, target.Entries.Count, watch.ElapsedMilliseconds);
            }
            _owned.Clear();
            _owned.UnionWith(target.Owners.Keys);
            changesMade += await ReconcileSyncDaemonsAsync(config, vrrp, backend, stopping).ConfigureAwait(false);
            _reconciledVersion = version;
            LastReconcile = DateTime.UtcNow;
            // The last pass's duration, and the last one that changed the table (bench/lvs reads them).
            lock (_gate)
            {
                _counters["last_reconcile_micros"] = (long)watch.Elapsed.TotalMicroseconds;
                if (changesMade > 0) _counters["last_change_reconcile_micros"] = (long)watch.Elapsed.TotalMicroseconds;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The next pass reads the table again: a failed write is retried, never assumed.
            Count("reconcile_failures");
            LogReconcileFailed(e.Message);
            _reconciledVersion = -1;
        }
        finally
        {
            _backendLock.Release();
            foreach (var w in waiters) w.TrySetResult(changesMade);
        }
    }

    /// <summary>
    /// Waits for a backend call, beating meanwhile: the loop is waiting on the kernel or on nft
    /// (which may take seconds for thousands of services on busy cores), not stalled. Callers
    /// start the call with Task.Run, so even its synchronous part (building an nft script of
    /// 100,000 rules) runs while this beats. Past
    /// <see cref="BackendCallAllowance"/> it stops beating, so a hung call is seen.
    /// </summary>
    private async Task<T> BeatingWhile<T>(Task<T> call)
    {
        await BeatingWhile((Task)call).ConfigureAwait(false);
        return await call.ConfigureAwait(false);
    }

    private async Task BeatingWhile(Task call)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!call.IsCompleted && waited.Elapsed < BackendCallAllowance)
        {
            await Task.WhenAny(call, Task.Delay(250)).ConfigureAwait(false);
            _beat();
        }
        await call.ConfigureAwait(false);
    }

    /// <summary>keepalived's lvs_sync_daemon: master while the instance is MASTER here, backup otherwise.</summary>
    private async Task<int> ReconcileSyncDaemonsAsync(IpvsConfig config, IReadOnlyDictionary<string, bool> vrrp, ILvsBackend backend, CancellationToken stopping)
    {
        if (!backend.HasSyncDaemon) return 0;
        var running = await backend.ListSyncDaemonsAsync(stopping).ConfigureAwait(false);
        var want = new List<IpvsDaemon>();
        if (config.Globals?.SyncDaemon is { } sd)
        {
            var master = vrrp.GetValueOrDefault(sd.Instance);
            want.Add(new IpvsDaemon
            {
                State = master ? IpvsDaemonState.Master : IpvsDaemonState.Backup,
                Interface = sd.Interface,
                SyncId = sd.SyncId,
                MaxSyncLength = sd.MaxLength > 0 ? (ushort)sd.MaxLength : null,
                MulticastPort = sd.Port > 0 ? (ushort)sd.Port : null,
                MulticastTtl = sd.Ttl > 0 ? (byte)sd.Ttl : null,
                MulticastGroup = IPAddress.TryParse(sd.Group, out var g) ? g : null,
            });
        }
        var changes = 0;
        foreach (var r in running)
        {
            var w = want.FirstOrDefault(x => x.State == r.State);
            if (w is null || w.Interface != r.Interface || w.SyncId != r.SyncId)
            {
                await backend.StopSyncDaemonAsync(r.State, stopping).ConfigureAwait(false);
                Count("kernel_writes");
                LogSyncDaemon("stopped", r.ToString());
                changes++;
            }
        }
        foreach (var w in want)
        {
            var r = running.FirstOrDefault(x => x.State == w.State);
            if (r is null || w.Interface != r.Interface || w.SyncId != r.SyncId)
            {
                await backend.StartSyncDaemonAsync(w, stopping).ConfigureAwait(false);
                Count("kernel_writes");
                LogSyncDaemon("started", w.ToString());
                changes++;
            }
        }
        return changes;
    }

    /// <summary>Stops the loop and removes what this daemon programmed, as keepalived does on stop.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        if (_backend is null) return;
        await _backendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (_config?.Globals?.FlushOnStop == Ipvs.V1.FlushOnStop.Full)
            {
                await _backend.FlushAsync(timeout.Token).ConfigureAwait(false);
                LogFlushed("lvs_flush_on_stop");
            }
            else if (_owned.Count > 0)
            {
                var actual = await _backend.ReadAsync(timeout.Token).ConfigureAwait(false);
                var mine = actual.Where(e => _owned.Contains(e.Service.Key)).Select(e => (LvsChange)new LvsChange.DeleteService(e.Service)).ToList();
                await _backend.ApplyAsync(mine, [], timeout.Token).ConfigureAwait(false);
                LogRemovedOnStop(mine.Count);
            }
            if (_backend.HasSyncDaemon)
            {
                foreach (var d in await _backend.ListSyncDaemonsAsync(timeout.Token).ConfigureAwait(false))
                {
                    await _backend.StopSyncDaemonAsync(d.State, timeout.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReconcileFailed("on stop: " + e.Message);
        }
        finally
        {
            _backendLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync().ConfigureAwait(false);
        if (_backend is not null) await _backend.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
        _backendLock.Dispose();
    }

    private static string Describe(LvsChange c) => c switch
    {
        LvsChange.AddService a => $"add service {a.Service}",
        LvsChange.UpdateService u => $"update service {u.Service}",
        LvsChange.DeleteService d => $"delete service {d.Service.Key}",
        LvsChange.AddDestination a => $"add real server {a.Service.Key} {a.Destination}",
        LvsChange.UpdateDestination u => $"set real server {u.Service.Key} {u.Destination}",
        LvsChange.DeleteDestination d => $"delete real server {d.Service.Key} {d.Destination}",
        _ => c.ToString(),
    };

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "load balancer backend {Backend}: {Version}")]
    private partial void LogBackend(string backend, string version);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "{Warning}")]
    private partial void LogBackendWarning(string warning);

    [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "applied {Changes} changes in {Milliseconds} ms; {Services} services wanted")]
    private partial void LogApplied(int changes, int services, long milliseconds);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "out-of-band change to the {Backend} table put back: {Change}")]
    private partial void LogOutOfBand(string backend, string change);

    [LoggerMessage(EventId = 604, Level = LogLevel.Error, Message = "reconcile failed (retried at the next pass): {Reason}")]
    private partial void LogReconcileFailed(string reason);

    [LoggerMessage(EventId = 605, Level = LogLevel.Error, Message = "{Refusal}")]
    private partial void LogRefused(string refusal);

    [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "{Why}: IPVS table flushed")]
    private partial void LogFlushed(string why);

    [LoggerMessage(EventId = 607, Level = LogLevel.Information, Message = "sync daemon {What}: {Daemon}")]
    private partial void LogSyncDaemon(string what, string daemon);

    [LoggerMessage(EventId = 608, Level = LogLevel.Information, Message = "removed {Count} virtual services on stop")]
    private partial void LogRemovedOnStop(int count);
}
