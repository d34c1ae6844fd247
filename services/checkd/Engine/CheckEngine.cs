using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Checkd.Alerts;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;
using Vigil.Checkd.Scheduling;
using Vigil.Scripts;

namespace Vigil.Checkd.Engine;

/// <summary>
/// vigil-checkd's engine: runs the checkers of every real server, applies keepalived's retry,
/// alpha/omega, quorum/hysteresis, inhibit and sorry-server logic, runs the notify scripts, sends
/// the mails, and publishes per virtual server the destinations that should be live.
/// <para>
/// All state has one owner: a loop task draining a channel. Probe results, API calls and
/// configuration changes are messages to it, so they apply in order and never race; probes and
/// scripts run outside it and post back. Callers of a stopped engine get
/// <see cref="CheckdUnavailableException"/>, never a hang.
/// </para>
/// Hosting: construct, call <see cref="ApplyConfigurationAsync"/> with the configuration (again
/// on every reload), feed <see cref="SetVrrpInstanceStateAsync"/> from vrrpd's WatchInstances,
/// and <see cref="StopAsync"/> at shutdown.
/// </summary>
public sealed partial class CheckEngine : IAsyncDisposable
{
    private readonly CheckEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IProbeFactory _probes;
    private readonly IAlertSink _alerts;
    private readonly AlertSender? _ownedAlerts;
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Task _loop;
    private readonly EventHub _hub = new();
    private readonly PoolEffects _resultEffects = new(); // reused for every probe result (loop only)
    private readonly CheckScheduler _scheduler;
    private readonly Func<double> _random;
    private readonly ConcurrentDictionary<Task, bool> _scriptTasks = new();
    private readonly CancellationTokenSource _stopping = new();

    // Owned by the loop.
    private readonly List<VirtualServerState> _virtualServers = [];
    private readonly Dictionary<CheckerSlot, CheckerRunner> _runners = [];
    private readonly Dictionary<VirtualServerKey, DesiredVirtualServer> _publishedDesired = [];
    private readonly Dictionary<string, VrrpInstanceState> _vrrpInstances = new(StringComparer.Ordinal);
    private HashSet<IPAddress>? _localAddresses;
    private CheckdConfig _config = new();
    private long _sequence;
    private bool _stopped;
    private Task? _localAddressPoller;

    private long _probesRun;
    private long _probeSuccesses;
    private long _probeFailures;
    private long _probeLocalErrors;
    private long _checkerTransitions;
    private long _realServerTransitions;
    private long _quorumTransitions;
    private long _scriptsRun;
    private long _scriptsFailed;
    private long _alertsQueued;
    private long _configurationsApplied;
    private long _internalErrors;
    private long _malformedReplies;
    private long _loopLagMaxTicks;
    private long _loopLagTotalTicks;
    private long _timerLatenessMaxTicks;
    private long _timerLatenessTotalTicks;

    public CheckEngine(CheckEngineOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? new CheckEngineOptions();
        _time = _options.Time;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<CheckEngine>();
        _probes = _options.Probes ?? new ProbeFactory(_options.Sockets, _options.Scripts, _time);
        if (_options.Alerts is { } alerts)
        {
            _alerts = alerts;
        }
        else
        {
            _ownedAlerts = new AlertSender(new SmtpAlertClient(_options.Sockets, _time), _time, loggerFactory.CreateLogger<AlertSender>());
            _alerts = _ownedAlerts;
        }
        _random = _options.Random ?? System.Random.Shared.NextDouble;
        _coalesceTicks = (long)(_time.TimestampFrequency * 0.002);
        _scheduler = new CheckScheduler(_time, () => Send(TickMessage.Instance),
            _options.StartProbesInline ? CheckScheduler.DispatchInline : null, RecordTimerLateness);
        if (_options.OnBeat is not null)
        {
            _beatTimer = _time.CreateTimer(_ => Send(BeatMessage.Instance), null, _options.BeatInterval, _options.BeatInterval);
        }
        // The loop gets a thread of its own: under load it must not queue behind (or starve) the
        // thread pool work of thousands of probes.
        var loopDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = loopDone.Task;
        new Thread(() =>
        {
            RunLoop();
            loopDone.SetResult();
        }) { IsBackground = true, Name = "vigil-checkd-engine" }.Start();
    }

    // ------------------------------------------------------------------ public API

    /// <summary>Applies a configuration: the first call starts the checkers; later calls (reload)
    /// keep the state of unchanged virtual servers, real servers and checkers, start new ones and
    /// take removed ones down with their notifiers.</summary>
    /// <exception cref="CheckdInvalidArgumentException">the configuration has errors (nothing changed).</exception>
    public Task<ApplyResult> ApplyConfigurationAsync(CheckdConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        // Validation is pure: done on the caller's thread, so a large configuration's checks
        // (100,000 real servers) do not hold the loop, which keeps scheduling checks meanwhile.
        (CheckdConfig Config, IReadOnlyList<string> Warnings) validated;
        try
        {
            validated = ConfigValidator.Validate(config);
        }
        catch (CheckdInvalidArgumentException e)
        {
            return Task.FromException<ApplyResult>(e);
        }
        return InvokeAsync(() => Apply(validated.Config, validated.Warnings), cancellationToken);
    }

    /// <summary>Every virtual and real server with health, last result, reason and latency.</summary>
    public Task<CheckdSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(() => new CheckdSnapshot(_sequence, _time.GetUtcNow(), _virtualServers.Select(StatusOf).ToEquatableArray()), cancellationToken);

    /// <summary>One virtual server's status.</summary>
    /// <exception cref="CheckdNotFoundException">no such virtual server.</exception>
    public Task<VirtualServerStatus> GetVirtualServerAsync(VirtualServerKey key, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => StatusOf(FindVirtualServer(key)), cancellationToken);

    /// <summary>The destinations ipvsd should program, per virtual server.</summary>
    public Task<IReadOnlyList<DesiredVirtualServer>> GetDesiredDestinationsAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(() => (IReadOnlyList<DesiredVirtualServer>)_virtualServers.Select(PoolPolicy.Desired).ToList(), cancellationToken);

    /// <summary>
    /// The ordered change stream: one <see cref="VirtualServerUpdated"/> per virtual server (the
    /// snapshot), an <see cref="EndOfSnapshot"/>, then changes as they happen. A subscriber that
    /// falls more than <see cref="CheckEngineOptions.SubscriberCapacity"/> events behind loses the
    /// oldest ones; the stream ends when the engine stops or the token is cancelled.
    /// </summary>
    public async IAsyncEnumerable<CheckEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var subscriber = await InvokeAsync(() =>
        {
            var now = _time.GetUtcNow();
            var snapshot = new List<CheckEvent>();
            foreach (var vs in _virtualServers) snapshot.Add(new VirtualServerUpdated(_sequence, now, StatusOf(vs)));
            snapshot.Add(new EndOfSnapshot(_sequence, now));
            return _hub.Subscribe(snapshot, _options.SubscriberCapacity);
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var e in subscriber.Snapshot) yield return e;
            await foreach (var e in subscriber.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
        finally
        {
            _hub.Remove(subscriber);
        }
    }

    /// <summary>Sets a real server's weight at runtime (null: back to the configured weight).</summary>
    /// <exception cref="CheckdNotFoundException">no such virtual or real server.</exception>
    /// <exception cref="CheckdInvalidArgumentException">weight outside 0..2147483647.</exception>
    public Task<RealServerStatus> SetRealServerWeightAsync(VirtualServerKey virtualServer, RealServerKey realServer, int? weight, CancellationToken cancellationToken = default)
    {
        if (weight is < 0) throw new CheckdInvalidArgumentException([$"weight {weight} is outside 0..{ConfigValidator.MaxWeight}"]);
        return InvokeAsync(() => ChangeRealServer(virtualServer, realServer, rs => rs.WeightOverride = weight,
            $"weight of {realServer} set to {(weight?.ToString() ?? "the configured value")}"), cancellationToken);
    }

    /// <summary>Drains a real server (kept in the pool with weight 0) or undrains it.</summary>
    /// <exception cref="CheckdNotFoundException">no such virtual or real server.</exception>
    public Task<RealServerStatus> SetRealServerDrainAsync(VirtualServerKey virtualServer, RealServerKey realServer, bool drain, CancellationToken cancellationToken = default) =>
        InvokeAsync(() => ChangeRealServer(virtualServer, realServer, rs => rs.Drained = drain,
            $"{realServer} {(drain ? "drained" : "undrained")}"), cancellationToken);

    /// <summary>
    /// Adds a real server to a virtual server at runtime: the running configuration with it is
    /// validated and merged like a reload, so the others keep their state and checkers. It lasts
    /// until the next <see cref="ApplyConfigurationAsync"/>, which applies the file as written.
    /// </summary>
    /// <exception cref="CheckdNotFoundException">no such virtual server.</exception>
    /// <exception cref="CheckdAlreadyExistsException">the virtual server has that real server.</exception>
    /// <exception cref="CheckdInvalidArgumentException">the real server or its checkers are invalid (nothing changed).</exception>
    public Task<RealServerStatus> AddRealServerAsync(VirtualServerKey virtualServer, RealServerConfig realServer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(realServer);
        var key = realServer.Key;
        return InvokeAsync(() =>
        {
            var vs = FindVirtualServer(virtualServer);
            if (vs.Find(key) is not null || _config.VirtualServers.Any(v => v.Key == virtualServer && v.RealServers.Any(r => r.Key == key)))
                throw new CheckdAlreadyExistsException($"virtual server {virtualServer} already has real server {key}");
            RuntimeApply(virtualServer, rs => rs.Append(realServer), $"real server {key} added");
            vs = FindVirtualServer(virtualServer);
            return StatusOf(vs, vs.Find(key)!, PoolPolicy.Desired(vs));
        }, cancellationToken);
    }

    /// <summary>Removes a real server from a virtual server at runtime, as a reload without it would; until the next <see cref="ApplyConfigurationAsync"/>.</summary>
    /// <exception cref="CheckdNotFoundException">no such virtual or real server.</exception>
    public Task RemoveRealServerAsync(VirtualServerKey virtualServer, RealServerKey realServer, CancellationToken cancellationToken = default) =>
        InvokeAsync(() =>
        {
            var vs = FindVirtualServer(virtualServer);
            if (vs.Find(realServer) is null) throw new CheckdNotFoundException($"real server {realServer} not found in virtual server {virtualServer}");
            RuntimeApply(virtualServer, rs => rs.Where(r => r.Key != realServer), $"real server {realServer} removed");
            return true;
        }, cancellationToken);

    /// <summary>
    /// A runtime change of one virtual server's real servers in the running configuration,
    /// validated and merged on the loop (so no reload interleaves).
    /// </summary>
    private void RuntimeApply(VirtualServerKey virtualServer, Func<IEnumerable<RealServerConfig>, IEnumerable<RealServerConfig>> change, string what)
    {
        var next = _config with
        {
            VirtualServers = _config.VirtualServers
                .Select(v => v.Key == virtualServer ? v with { RealServers = change(v.RealServers).ToEquatableArray() } : v)
                .ToEquatableArray(),
        };
        var (config, warnings) = ConfigValidator.Validate(next);
        Apply(config, warnings);
        LogRuntimeChange(what, virtualServer.ToString());
    }

    /// <summary>A VRRP instance's state from vrrpd (WatchInstances). Once any instance is known,
    /// ha_suspend follows the virtual addresses of the MASTER instances instead of the host's
    /// interface addresses.</summary>
    public Task SetVrrpInstanceStateAsync(VrrpInstanceState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return InvokeAsync(() =>
        {
            _vrrpInstances[state.Name] = state;
            RecomputeSuspension();
            return true;
        }, cancellationToken);
    }

    /// <summary>vrrpd dropped an instance (or went away: call for each, or
    /// <see cref="ClearVrrpInstancesAsync"/>).</summary>
    public Task RemoveVrrpInstanceAsync(string name, CancellationToken cancellationToken = default) =>
        InvokeAsync(() =>
        {
            _vrrpInstances.Remove(name);
            RecomputeSuspension();
            return true;
        }, cancellationToken);

    /// <summary>Forgets every VRRP instance: ha_suspend falls back to the host's addresses.</summary>
    public Task ClearVrrpInstancesAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(() =>
        {
            _vrrpInstances.Clear();
            RecomputeSuspension();
            return true;
        }, cancellationToken);

    /// <summary>The host's addresses for ha_suspend without vrrpd (overrides reading the
    /// interfaces; null goes back to reading them).</summary>
    public Task SetLocalAddressesAsync(IReadOnlyCollection<IPAddress>? addresses, CancellationToken cancellationToken = default) =>
        InvokeAsync(() =>
        {
            _localAddresses = addresses is null ? null : [.. addresses];
            _localAddressesPinned = addresses is not null;
            RecomputeSuspension();
            return true;
        }, cancellationToken);

    private bool _localAddressesPinned;

    /// <summary>Where probe results and latencies are measured (the daemon's Meter); null: nowhere.</summary>
    public CheckMetrics? Metrics { get; set; }

    public EngineCounters GetCounters() => new(
        Interlocked.Read(ref _probesRun),
        Interlocked.Read(ref _probeSuccesses),
        Interlocked.Read(ref _probeFailures),
        Interlocked.Read(ref _probeLocalErrors),
        Interlocked.Read(ref _checkerTransitions),
        Interlocked.Read(ref _realServerTransitions),
        Interlocked.Read(ref _quorumTransitions),
        Interlocked.Read(ref _scriptsRun),
        Interlocked.Read(ref _scriptsFailed),
        Interlocked.Read(ref _alertsQueued),
        _hub.Published,
        _hub.Dropped,
        Interlocked.Read(ref _configurationsApplied),
        Interlocked.Read(ref _internalErrors))
    {
        LoopLagMax = TimeSpan.FromTicks(Interlocked.Read(ref _loopLagMaxTicks)),
        LoopLagTotal = TimeSpan.FromTicks(Interlocked.Read(ref _loopLagTotalTicks)),
        TimerLatenessMax = TimeSpan.FromTicks(Interlocked.Read(ref _timerLatenessMaxTicks)),
        TimerLatenessTotal = TimeSpan.FromTicks(Interlocked.Read(ref _timerLatenessTotalTicks)),
        MalformedReplies = Interlocked.Read(ref _malformedReplies),
    };

    /// <summary>
    /// Stops every checker. Virtual servers with <c>omega</c> run their real servers'
    /// notify_down and their quorum_down (1 s each, like keepalived) and send the
    /// "Shutting down" mails, which get up to the SMTP timeout (at most 10 s) to leave.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await InvokeAsync(() =>
            {
                Shutdown();
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckdUnavailableException)
        {
            return;
        }
        var scripts = _scriptTasks.Keys.ToArray();
        try
        {
            await Task.WhenAll(scripts).WaitAsync(_options.ShutdownScriptTimeout + TimeSpan.FromSeconds(5), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        var smtpTimeout = _config.Globals.Alerts.ConnectTimeout;
        await _alerts.FlushAsync(smtpTimeout < TimeSpan.FromSeconds(10) ? smtpTimeout : TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _beatTimer?.Dispose();
        _inbox.Writer.TryComplete();
        _wake.Set();
        await _loop.ConfigureAwait(false);
        _hub.CompleteAll();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_localAddressPoller is not null) await _localAddressPoller.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAsync().ConfigureAwait(false);
        if (_ownedAlerts is not null) await _ownedAlerts.DisposeAsync().ConfigureAwait(false);
    }

    private int _disposed;

    // ------------------------------------------------------------------ the loop

    private Task<T> InvokeAsync<T>(Func<T> action, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Action work = () =>
        {
            if (_stopped)
            {
                tcs.TrySetException(new CheckdUnavailableException("vigil-checkd is stopping"));
                return;
            }
            try
            {
                tcs.TrySetResult(action());
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
        };
        if (!Send(work))
        {
            return Task.FromException<T>(new CheckdUnavailableException("vigil-checkd is stopped"));
        }
        return cancellationToken.CanBeCanceled ? tcs.Task.WaitAsync(cancellationToken) : tcs.Task;
    }

    private void RunLoop()
    {
        var reader = _inbox.Reader;
        while (true)
        {
            if (!reader.TryRead(out var item))
            {
                // Sleep without spinning (a spinning wait costs a core's worth of sched_yield
                // calls at 10,000 results a second); writers set the event after each write.
                _wake.Reset();
                if (!reader.TryRead(out item))
                {
                    if (reader.Completion.IsCompleted) return;
                    _wake.Wait();
                    continue;
                }
            }
            try
            {
                switch (item)
                {
                    case ProbeCompletion completion:
                        OnProbeCompleted(completion);
                        break;
                    case Action action:
                        action();
                        break;
                    case TickMessage:
                        _scheduler.OnTick();
                        break;
                    case BeatMessage:
                        Beat();
                        break;
                }
            }
            catch (Exception e)
            {
                // One bad message must not stop the daemon's checks.
                Interlocked.Increment(ref _internalErrors);
                LogInternalError(e);
            }
        }
    }

    /// <summary>
    /// A probe result for the loop. When the scheduler wakes the loop within a couple of
    /// milliseconds anyway (it does about every millisecond while thousands of checks run), the
    /// result waits for that wake-up instead of waking the loop itself: one thread wake-up per
    /// result was a tenth of a core at 10,000 checks a second.
    /// </summary>
    private void Post(ProbeCompletion completion)
    {
        if (!_inbox.Writer.TryWrite(completion)) return;
        var armed = _scheduler.ArmedFor;
        if (armed == long.MaxValue || armed - _time.GetTimestamp() > _coalesceTicks) _wake.Set();
    }

    private readonly long _coalesceTicks;

    /// <summary>Queues a message for the loop and wakes it.</summary>
    private bool Send(object message)
    {
        if (!_inbox.Writer.TryWrite(message)) return false;
        _wake.Set();
        return true;
    }

    /// <summary>The scheduler's wake-up, handled by the loop like any other message.</summary>
    private sealed class TickMessage
    {
        public static readonly TickMessage Instance = new();
    }

    /// <summary>The heartbeat timer's tick.</summary>
    private sealed class BeatMessage
    {
        public static readonly BeatMessage Instance = new();
    }

    private readonly ITimer? _beatTimer;

    /// <summary>Beats unless the scheduler's wake-up is overdue (checks would start late).</summary>
    private void Beat()
    {
        var armed = _scheduler.ArmedFor;
        if (armed != long.MaxValue && _time.GetElapsedTime(armed) > _options.SchedulerLatenessAllowance) return;
        _options.OnBeat!();
    }

    private void RecordTimerLateness(TimeSpan late) => RecordMax(ref _timerLatenessMaxTicks, ref _timerLatenessTotalTicks, late);

    private static void RecordMax(ref long max, ref long total, TimeSpan value)
    {
        var ticks = Math.Max(value.Ticks, 0);
        Interlocked.Add(ref total, ticks);
        long current;
        while (ticks > (current = Interlocked.Read(ref max)) && Interlocked.CompareExchange(ref max, ticks, current) != current)
        {
        }
    }

    private void OnProbeError(CheckerRunner runner, Exception e)
    {
        Interlocked.Increment(ref _internalErrors);
        LogProbeCrashed(runner.Slot.Describe(), e);
    }

    // ------------------------------------------------------------------ probe results

    private void OnProbeCompleted(ProbeCompletion completion)
    {
        var runner = completion.Runner;
        if (runner.Disposed || _stopped) return;
        var slot = runner.Slot;
        var rs = runner.RealServer;
        var vs = runner.VirtualServer;
        var result = completion.Result;
        var now = _time.GetUtcNow();
        RecordMax(ref _loopLagMaxTicks, ref _loopLagTotalTicks, _time.GetElapsedTime(completion.EndTimestamp));

        Interlocked.Increment(ref _probesRun);
        switch (result.Outcome)
        {
            case ProbeOutcome.Success: Interlocked.Increment(ref _probeSuccesses); break;
            case ProbeOutcome.Failure: Interlocked.Increment(ref _probeFailures); break;
            default: Interlocked.Increment(ref _probeLocalErrors); break;
        }
        if (result.Malformed) Interlocked.Increment(ref _malformedReplies);
        Metrics?.OnProbe(slot.Config, result, _time.GetElapsedTime(completion.StartTimestamp, completion.EndTimestamp));

        var timing = slot.Timing;
        var decision = slot.Config switch
        {
            HttpCheckConfig http => CheckerPolicy.OnHttpResult(slot.State, result, http.Urls.Count, timing, http.FastRecovery),
            MiscCheckConfig misc => CheckerPolicy.OnMiscResult(slot.State, result, misc.Dynamic, timing),
            FileCheckConfig file => CheckerPolicy.OnFileValue(slot.State, result, file.Weight, file.Reverse, timing),
            _ => CheckerPolicy.OnResult(slot.State, result, timing),
        };

        var info = CheckResultInfo.From(result, now);
        var previous = slot.LastResult;
        slot.LastResult = info;
        if (result.Outcome == ProbeOutcome.Success) slot.ConsecutiveFailures = 0;
        else if (result.Outcome == ProbeOutcome.Failure) slot.ConsecutiveFailures++;

        var wasUp = slot.State.Up;
        var effects = _resultEffects;
        effects.Clear();
        PoolPolicy.OnCheckerDecision(vs, rs, slot, decision, info, _config.Globals.Alerts.NoCheckerEmails, now, effects);
        LogDecision(vs, rs, slot, decision, result, wasUp);

        var delay = slot.Config is FileCheckConfig ? _options.FilePollInterval : decision.NextDelay;
        if (decision.DelayFromRunStart) delay -= _time.GetElapsedTime(completion.StartTimestamp);
        if (delay <= TimeSpan.Zero) delay = TimeSpan.FromTicks(10);
        _scheduler.Schedule(runner, delay, slot.State.UrlIndex);

        if (decision.Transition != CheckerTransition.None) Interlocked.Increment(ref _checkerTransitions);
        var resultChanged = previous is null || previous.Outcome != info.Outcome || previous.Reason != info.Reason || decision.Transition != CheckerTransition.None;
        if (resultChanged && _hub.HasSubscribers)
        {
            _hub.Publish(new CheckerResultReported(++_sequence, now, vs.Key, rs.Key, StatusOf(slot), decision.Transition));
        }
        if (effects.HasWork) Execute(effects, stopping: false);
        PublishChanges(vs, effects, now);
    }

    private void LogDecision(VirtualServerState vs, RealServerState rs, CheckerSlot slot, CheckerDecision decision, ProbeResult result, bool wasUp)
    {
        // Called for every result: build the strings only when a line is written.
        switch (decision.Transition)
        {
            case CheckerTransition.Up:
                LogCheckerUp(slot.Config.Keyword, rs.Key.Format(vs.Key.Protocol), vs.Key.ToString(), result.Reason);
                break;
            case CheckerTransition.Down:
                var retries = slot.Timing.Retry > 0 && slot.Config is not FileCheckConfig ? $" after {slot.Timing.Retry} retries" : "";
                LogCheckerDown(slot.Config.Keyword, rs.Key.Format(vs.Key.Protocol), vs.Key.ToString(), retries, result.Reason);
                break;
            default:
                if (result.Outcome == ProbeOutcome.LocalError)
                {
                    LogCheckerLocalError(slot.Config.Keyword, rs.Key.Format(vs.Key.Protocol), result.Reason);
                }
                else if (decision.RetryScheduled && slot.Timing.LogAllFailures && wasUp)
                {
                    LogCheckerRetry(slot.Config.Keyword, rs.Key.Format(vs.Key.Protocol), vs.Key.ToString(), decision.State.RetryCount, slot.Timing.Retry, result.Reason);
                }
                break;
        }
    }

    // ------------------------------------------------------------------ effects and events

    private void Execute(PoolEffects effects, bool stopping)
    {
        foreach (var line in effects.Logs)
        {
            if (line.Warning) LogPoolWarning(line.Message);
            else LogPoolChange(line.Message);
        }
        Interlocked.Add(ref _quorumTransitions, effects.QuorumTransitions);
        Interlocked.Add(ref _realServerTransitions, effects.ServerTransitions);
        foreach (var script in effects.Scripts) StartScript(script, stopping);
        foreach (var alert in effects.Alerts)
        {
            Interlocked.Increment(ref _alertsQueued);
            _alerts.Enqueue(alert, _config.Globals);
        }
    }

    private void StartScript(ScriptAction action, bool stopping)
    {
        var command = ScriptCommand.Parse(action.Script.Command);
        ResolvedScriptUser? user;
        try
        {
            user = (action.Script.User ?? _config.Globals.DefaultScriptUser)?.Resolve();
        }
        catch (ArgumentException e)
        {
            LogScriptFailed(RoleName(action.Role), action.Script.Command, e.Message, "");
            Interlocked.Increment(ref _scriptsFailed);
            return;
        }
        var env = new Dictionary<string, string>
        {
            ["VIGIL_SCRIPT"] = RoleName(action.Role),
            ["VIGIL_VIRTUAL_SERVER"] = action.VirtualServer.ToString(),
            ["VIGIL_STATE"] = action.Role is ScriptRole.NotifyUp or ScriptRole.QuorumUp ? "UP" : "DOWN",
        };
        if (action.RealServer is { } rsKey) env["VIGIL_REAL_SERVER"] = rsKey.Format(action.VirtualServer.Protocol);
        var request = new ScriptRequest(command)
        {
            Timeout = stopping ? _options.ShutdownScriptTimeout : _options.NotifyScriptTimeout,
            User = user,
            Environment = env,
        };
        Interlocked.Increment(ref _scriptsRun);
        var task = RunScriptAsync(action, request);
        _scriptTasks.TryAdd(task, true);
        _ = task.ContinueWith(t => _scriptTasks.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task RunScriptAsync(ScriptAction action, ScriptRequest request)
    {
        try
        {
            var result = await _options.Scripts.RunAsync(request).ConfigureAwait(false);
            if (result.Succeeded)
            {
                LogScriptRan(RoleName(action.Role), action.Script.Command, result.Describe());
            }
            else
            {
                Interlocked.Increment(ref _scriptsFailed);
                LogScriptFailed(RoleName(action.Role), action.Script.Command, result.Describe(), result.Output.Trim());
            }
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _scriptsFailed);
            LogScriptFailed(RoleName(action.Role), action.Script.Command, e.Message, "");
        }
    }

    private static string RoleName(ScriptRole role) => role switch
    {
        ScriptRole.NotifyUp => "notify_up",
        ScriptRole.NotifyDown => "notify_down",
        ScriptRole.QuorumUp => "quorum_up",
        _ => "quorum_down",
    };

    private void PublishChanges(VirtualServerState vs, PoolEffects effects, DateTimeOffset now)
    {
        // The destinations only change with a real server, weight or quorum change.
        if (effects.ChangedRealServers.Count == 0 && !effects.VirtualServerChanged && _publishedDesired.ContainsKey(vs.Key)) return;
        var desired = PoolPolicy.Desired(vs);
        if (_hub.HasSubscribers)
        {
            foreach (var key in effects.ChangedRealServers)
            {
                var rs = vs.Find(key);
                if (rs is not null) _hub.Publish(new RealServerUpdated(++_sequence, now, StatusOf(vs, rs, desired)));
            }
            if (effects.VirtualServerChanged) _hub.Publish(new VirtualServerUpdated(++_sequence, now, StatusOf(vs)));
        }
        if (!_publishedDesired.TryGetValue(vs.Key, out var last) || last != desired)
        {
            _publishedDesired[vs.Key] = desired;
            _hub.Publish(new DestinationsChanged(++_sequence, now, desired));
        }
    }

    // ------------------------------------------------------------------ configuration

    private ApplyResult Apply(CheckdConfig config, IReadOnlyList<string> warnings)
    {
        foreach (var w in warnings) LogConfigWarning(w);
        var now = _time.GetUtcNow();
        var globals = config.Globals;
        var oldByKey = _virtualServers.ToDictionary(v => v.Key);
        var newList = new List<VirtualServerState>();
        int vsAdded = 0, vsKept = 0, rsAdded = 0, rsRemoved = 0, checkersKept = 0, checkersStarted = 0;
        var perVs = new List<(VirtualServerState Vs, PoolEffects Effects)>();
        var removedEvents = new List<CheckEvent>();
        _config = config;

        foreach (var vsConfig in config.VirtualServers)
        {
            var effects = new PoolEffects();
            if (oldByKey.Remove(vsConfig.Key, out var vs))
            {
                vsKept++;
                var (added, removed, kept, started) = MergeVirtualServer(vs, vsConfig, globals, now, effects, removedEvents);
                rsAdded += added;
                rsRemoved += removed;
                checkersKept += kept;
                checkersStarted += started;
            }
            else
            {
                vsAdded++;
                vs = new VirtualServerState(vsConfig, VsSmtpAlert(vsConfig, globals));
                foreach (var rsConfig in vsConfig.RealServers)
                {
                    var rs = NewRealServer(vs, rsConfig, globals);
                    vs.RealServers.Add(rs);
                    checkersStarted += rs.Checkers.Count;
                    rsAdded++;
                }
                PoolPolicy.Start(vs, vs.RealServers, globals.RealServerInitNotifies, now, effects);
                LogVirtualServerAdded(vs.Key.ToString(), vs.RealServers.Count);
            }
            newList.Add(vs);
            perVs.Add((vs, effects));
            // A large configuration takes a while to merge: that is progress, not a stall.
            _options.OnBeat?.Invoke();
        }

        // Virtual servers that are gone: their live servers go down with their notifiers.
        foreach (var gone in oldByKey.Values)
        {
            var effects = new PoolEffects();
            LogVirtualServerRemoved(gone.Key.ToString());
            foreach (var rs in gone.RealServers)
            {
                DisposeRunners(rs);
                PoolPolicy.RemoveServer(gone, rs, stopping: false, now, effects);
                rsRemoved++;
            }
            PoolPolicy.AfterRemoval(gone, stopping: false, now, effects);
            Execute(effects, stopping: false);
            _publishedDesired.Remove(gone.Key);
            _options.OnBeat?.Invoke();
            removedEvents.Add(new VirtualServerRemoved(0, now, gone.Key));
        }

        _virtualServers.Clear();
        _virtualServers.AddRange(newList);
        RecomputeSuspension(publish: false);
        EnsureLocalAddressPoller();

        foreach (var e in removedEvents)
        {
            _hub.Publish(e with { Sequence = ++_sequence });
        }
        foreach (var (vs, effects) in perVs)
        {
            Execute(effects, stopping: false);
            effects.VirtualServerChanged = true;
            PublishChanges(vs, effects, now);
            _options.OnBeat?.Invoke();
        }
        Interlocked.Increment(ref _configurationsApplied);
        var result = new ApplyResult(vsAdded, oldByKey.Count, vsKept, rsAdded, rsRemoved, checkersKept, checkersStarted, warnings.ToEquatableArray());
        LogConfigApplied(newList.Count, vsAdded, oldByKey.Count, rsAdded, rsRemoved, checkersKept, checkersStarted);
        return result;
    }

    private (int Added, int Removed, int Kept, int Started) MergeVirtualServer(VirtualServerState vs, VirtualServerConfig config, CheckdGlobals globals,
        DateTimeOffset now, PoolEffects effects, List<CheckEvent> removedEvents)
    {
        vs.Config = config;
        vs.SmtpAlert = VsSmtpAlert(config, globals);
        if (config.SorryServer is null) vs.SorryServerActive = false;
        var old = vs.RealServers.ToDictionary(r => r.Key);
        vs.RealServers.Clear();
        var added = new List<RealServerState>();
        int kept = 0, started = 0;
        foreach (var rsConfig in config.RealServers)
        {
            if (old.Remove(rsConfig.Key, out var rs))
            {
                var (k, s) = MergeRealServer(vs, rs, rsConfig, globals, now, effects);
                kept += k;
                started += s;
                vs.RealServers.Add(rs);
            }
            else
            {
                rs = NewRealServer(vs, rsConfig, globals);
                started += rs.Checkers.Count;
                vs.RealServers.Add(rs);
                added.Add(rs);
            }
        }
        foreach (var gone in old.Values)
        {
            LogRealServerRemoved(gone.Key.Format(vs.Key.Protocol));
            DisposeRunners(gone);
            PoolPolicy.RemoveServer(vs, gone, stopping: false, now, effects);
            removedEvents.Add(new RealServerRemoved(0, now, vs.Key, gone.Key));
        }
        PoolPolicy.AfterRemoval(vs, stopping: false, now, effects);
        PoolPolicy.Start(vs, added, globals.RealServerInitNotifies, now, effects);
        return (added.Count, old.Count, kept, started);
    }

    /// <summary>A real server present before and after a reload (clear_diff_rs, migrate_checkers).</summary>
    private (int Kept, int Started) MergeRealServer(VirtualServerState vs, RealServerState rs, RealServerConfig config, CheckdGlobals globals, DateTimeOffset now, PoolEffects effects)
    {
        var oldWeight = rs.RealWeight;
        rs.Config = config;
        rs.Inhibit = config.InhibitOnFailure ?? vs.Config.InhibitOnFailure;
        rs.ConfiguredWeight = config.Weight ?? vs.Config.DefaultWeight;
        rs.SmtpAlert = RsSmtpAlert(config, globals);
        var oldSlots = rs.Checkers.ToList();
        rs.Checkers.Clear();
        var fresh = new List<CheckerSlot>();
        int kept = 0, started = 0;
        for (var i = 0; i < config.Checkers.Count; i++)
        {
            var checker = config.Checkers[i];
            var timing = CheckerTiming.Resolve(vs.Config, config, checker, globals.LogAllFailures);
            var slot = new CheckerSlot(i, checker, timing, ProbeFactory.DescribeTarget(config, checker));
            var match = oldSlots.FirstOrDefault(o => o.Config.Equals(checker));
            if (match is not null)
            {
                oldSlots.Remove(match);
                var s = match.State;
                var up = s.HasRun ? s.Up : true;
                var retry = !up ? timing.Retry + 1 : Math.Min(s.RetryCount, timing.Retry);
                slot.State = s with { Up = up, RetryCount = retry };
                slot.LastResult = match.LastResult;
                slot.ConsecutiveFailures = match.ConsecutiveFailures;
                var runner = _runners[match];
                _runners.Remove(match);
                runner.Slot = slot;
                runner.RealServer = rs;
                runner.VirtualServer = vs;
                runner.Probe = _probes.Create(new ProbeContext(vs.Config, config, checker, timing, globals));
                _runners[slot] = runner;
                kept++;
            }
            else
            {
                slot.State = CheckerState.Initial(timing) with { Up = true };
                fresh.Add(slot);
                started++;
            }
            rs.Checkers.Add(slot);
        }
        foreach (var gone in oldSlots)
        {
            if (_runners.Remove(gone, out var runner)) runner.Dispose();
        }
        // New checkers of a server already failing (or never checked) start down when alpha.
        var anyRun = rs.Checkers.Any(c => c.State.HasRun);
        if (rs.FailedCheckers > 0 || (!rs.Alive && !anyRun))
        {
            foreach (var slot in fresh)
            {
                if (slot.Timing.Alpha) slot.State = slot.State with { Up = false };
                slot.State = slot.State with { RetryCount = slot.Timing.Retry };
            }
        }
        foreach (var slot in fresh) StartRunner(vs, rs, slot, globals);
        if (rs.FailedCheckers == 0 && !rs.Alive) PoolPolicy.SetServerState(vs, rs, alive: true, now, effects);
        else if (rs.FailedCheckers > 0 && rs.Alive) PoolPolicy.SetServerState(vs, rs, alive: false, now, effects);
        if (rs.RealWeight != oldWeight) PoolPolicy.OnWeightChanged(vs, rs, oldWeight, now, effects);
        effects.ChangedRealServers.Add(rs.Key);
        return (kept, started);
    }

    private RealServerState NewRealServer(VirtualServerState vs, RealServerConfig config, CheckdGlobals globals)
    {
        var rs = new RealServerState(vs.Config, config, RsSmtpAlert(config, globals));
        for (var i = 0; i < config.Checkers.Count; i++)
        {
            var checker = config.Checkers[i];
            var timing = CheckerTiming.Resolve(vs.Config, config, checker, globals.LogAllFailures);
            var slot = new CheckerSlot(i, checker, timing, ProbeFactory.DescribeTarget(config, checker));
            rs.Checkers.Add(slot);
            StartRunner(vs, rs, slot, globals);
        }
        return rs;
    }

    private void StartRunner(VirtualServerState vs, RealServerState rs, CheckerSlot slot, CheckdGlobals globals)
    {
        var probe = _probes.Create(new ProbeContext(vs.Config, rs.Config, slot.Config, slot.Timing, globals));
        var runner = new CheckerRunner(probe, slot, rs, vs, _time, Post, OnProbeError);
        _runners[slot] = runner;
        if (slot.Config is FileCheckConfig file)
        {
            // keepalived reads tracked files at start-up: the state is known before any delay.
            var first = probe.RunAsync(0, CancellationToken.None).GetAwaiter().GetResult();
            var decision = CheckerPolicy.OnFileValue(slot.State, first, file.Weight, file.Reverse, slot.Timing);
            slot.State = decision.State;
            slot.LastResult = CheckResultInfo.From(first, _time.GetUtcNow());
            _scheduler.Schedule(runner, _options.FilePollInterval, 0);
            return;
        }
        var warmup = slot.Timing.Warmup > TimeSpan.Zero ? slot.Timing.Warmup * _random() : TimeSpan.Zero;
        _scheduler.Schedule(runner, _options.BootstrapDelay + warmup, slot.State.UrlIndex);
    }

    private void DisposeRunners(RealServerState rs)
    {
        foreach (var slot in rs.Checkers)
        {
            if (_runners.Remove(slot, out var runner)) runner.Dispose();
        }
    }

    private static bool VsSmtpAlert(VirtualServerConfig vs, CheckdGlobals globals) =>
        vs.SmtpAlert ?? globals.Alerts.SmtpAlertChecker ?? globals.Alerts.SmtpAlert ?? false;

    // keepalived defaults a real server's smtp_alert to on, for backward compatibility.
    private static bool RsSmtpAlert(RealServerConfig rs, CheckdGlobals globals) =>
        rs.SmtpAlert ?? globals.Alerts.SmtpAlertChecker ?? globals.Alerts.SmtpAlert ?? true;

    // ------------------------------------------------------------------ runtime changes

    private VirtualServerState FindVirtualServer(VirtualServerKey key) =>
        _virtualServers.FirstOrDefault(v => v.Key == key) ?? throw new CheckdNotFoundException($"virtual server {key} not found");

    private RealServerStatus ChangeRealServer(VirtualServerKey vsKey, RealServerKey rsKey, Action<RealServerState> change, string what)
    {
        var vs = FindVirtualServer(vsKey);
        var rs = vs.Find(rsKey) ?? throw new CheckdNotFoundException($"real server {rsKey} not found in virtual server {vsKey}");
        var now = _time.GetUtcNow();
        var oldWeight = rs.RealWeight;
        change(rs);
        LogRuntimeChange(what, vsKey.ToString());
        var effects = new PoolEffects();
        effects.ChangedRealServers.Add(rs.Key);
        PoolPolicy.OnWeightChanged(vs, rs, oldWeight, now, effects);
        Execute(effects, stopping: false);
        PublishChanges(vs, effects, now);
        return StatusOf(vs, rs, PoolPolicy.Desired(vs));
    }

    // ------------------------------------------------------------------ ha_suspend

    private HashSet<IPAddress> HeldAddresses()
    {
        if (_vrrpInstances.Count > 0)
        {
            return [.. _vrrpInstances.Values.Where(i => i.IsMaster).SelectMany(i => i.VirtualAddresses)];
        }
        if (_localAddresses is null)
        {
            try
            {
                _localAddresses = [.. ReadLocalAddresses()];
            }
            catch (Exception e) when (e is NetworkInformationException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                // Without the host's addresses every ha_suspend server stays suspended; the poller retries.
                LogPoolWarning($"cannot read the local addresses for ha_suspend: {e.Message}");
                return [];
            }
        }
        return _localAddresses;
    }

    private IReadOnlyCollection<IPAddress> ReadLocalAddresses()
    {
        if (_options.LocalAddresses is { } provider) return provider();
        return _options.Sockets.Invoke(() => NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(a => a.Address))
            // Compare link-local addresses without their interface scope.
            .Select(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()) : a)
            .ToList());
    }

    private void RecomputeSuspension(bool publish = true)
    {
        if (!_virtualServers.Any(v => v.Config.HaSuspend)) return;
        var held = HeldAddresses();
        var now = _time.GetUtcNow();
        foreach (var vs in _virtualServers)
        {
            // keepalived enables checkers only once the virtual address is present; a virtual
            // server without an address (fwmark, group) therefore stays suspended.
            var suspended = vs.Config.HaSuspend && (vs.Key.Address is not { } address || !held.Contains(address));
            var changed = suspended != vs.Suspended;
            vs.Suspended = suspended;
            foreach (var rs in vs.RealServers)
            {
                foreach (var slot in rs.Checkers)
                {
                    if (slot.Suspended == suspended && !changed) continue;
                    slot.Suspended = suspended;
                    if (_runners.TryGetValue(slot, out var runner)) runner.Suspended = suspended;
                }
            }
            if (!changed) continue;
            LogSuspension(suspended ? "Suspending" : "Activating", vs.Key.ToString());
            vs.LastChange = now;
            if (publish) _hub.Publish(new VirtualServerUpdated(++_sequence, now, StatusOf(vs)));
        }
    }

    private void EnsureLocalAddressPoller()
    {
        if (_localAddressPoller is not null || !_virtualServers.Any(v => v.Config.HaSuspend)) return;
        _localAddressPoller = Task.Run(async () =>
        {
            try
            {
                while (!_stopping.IsCancellationRequested)
                {
                    await Task.Delay(_options.LocalAddressPollInterval, _time, _stopping.Token).ConfigureAwait(false);
                    IReadOnlyCollection<IPAddress> current;
                    try
                    {
                        current = ReadLocalAddresses();
                    }
                    catch (Exception e) when (e is NetworkInformationException or System.Net.Sockets.SocketException or InvalidOperationException)
                    {
                        continue;
                    }
                    Send((Action)(() =>
                    {
                        if (_localAddressesPinned || _vrrpInstances.Count > 0) return;
                        if (_localAddresses is not null && _localAddresses.SetEquals(current)) return;
                        _localAddresses = [.. current];
                        RecomputeSuspension();
                    }));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    // ------------------------------------------------------------------ shutdown

    private void Shutdown()
    {
        if (_stopped) return;
        var now = _time.GetUtcNow();
        foreach (var runner in _runners.Values) runner.Dispose();
        _runners.Clear();
        _scheduler.Dispose();
        foreach (var vs in _virtualServers)
        {
            var effects = new PoolEffects();
            foreach (var rs in vs.RealServers) PoolPolicy.RemoveServer(vs, rs, stopping: true, now, effects);
            PoolPolicy.AfterRemoval(vs, stopping: true, now, effects);
            Execute(effects, stopping: true);
            PublishChanges(vs, effects, now);
        }
        _stopped = true;
        LogStopped();
    }

    // ------------------------------------------------------------------ status

    private CheckerStatus StatusOf(CheckerSlot slot) => new(
        slot.Index,
        slot.Config.Type,
        slot.Config.Keyword,
        slot.Target,
        slot.State.Up,
        slot.State.HasRun,
        slot.Suspended,
        slot.State.RetryCount,
        slot.Timing.Retry,
        slot.ConsecutiveFailures,
        slot.Timing.DelayLoop,
        slot.LastResult);

    private RealServerStatus StatusOf(VirtualServerState vs, RealServerState rs, DesiredVirtualServer desired)
    {
        var destination = desired.Destinations.FirstOrDefault(d => d.Key == rs.Key && d.Role == DestinationRole.RealServer);
        var latest = rs.Checkers.Select(c => c.LastResult).Where(r => r is not null).MaxBy(r => r!.At);
        var failing = rs.Checkers.FirstOrDefault(c => !c.State.Up)?.LastResult;
        var reason = !rs.Alive && failing is not null ? failing.Reason : latest?.Reason ?? rs.Reason;
        if (!rs.Alive && failing is null && rs.Checkers.Count > 0 && !rs.Checkers.Any(c => c.State.HasRun)) reason = "alpha: waiting for the first check";
        return new RealServerStatus(
            vs.Key,
            rs.Key,
            rs.Alive,
            destination is not null,
            destination?.Weight ?? 0,
            rs.ConfiguredWeight,
            rs.WeightOverride,
            rs.Drained,
            rs.Inhibit,
            rs.EffectiveWeight,
            reason,
            latest?.Latency,
            rs.LastChange,
            rs.Checkers.Select(StatusOf).ToEquatableArray());
    }

    private VirtualServerStatus StatusOf(VirtualServerState vs)
    {
        var desired = PoolPolicy.Desired(vs);
        return new VirtualServerStatus(
            vs.Key,
            vs.QuorumUp,
            vs.LiveWeight,
            vs.Config.Quorum,
            vs.Config.Hysteresis,
            vs.SorryServerActive,
            vs.Suspended,
            vs.LastChange,
            vs.RealServers.Select(rs => StatusOf(vs, rs, desired)).ToEquatableArray(),
            desired);
    }

    // ------------------------------------------------------------------ logging

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{checker} on service {service} of VS {vs} succeeded: {reason}")]
    private partial void LogCheckerUp(string checker, string service, string vs, string reason);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "{checker} on service {service} of VS {vs} failed{retries}: {reason}")]
    private partial void LogCheckerDown(string checker, string service, string vs, string retries, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "{checker} on service {service} of VS {vs} failed, retry {retry}/{retries}: {reason}")]
    private partial void LogCheckerRetry(string checker, string service, string vs, int retry, int retries, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "{checker} for {service} could not run: {reason}. Rescheduling.")]
    private partial void LogCheckerLocalError(string checker, string service, string reason);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "{message}")]
    private partial void LogPoolChange(string message);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "{message}")]
    private partial void LogPoolWarning(string message);

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "{role} script {command}: {outcome}")]
    private partial void LogScriptRan(string role, string command, string outcome);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "{role} script {command}: {outcome} {output}")]
    private partial void LogScriptFailed(string role, string command, string outcome, string output);

    [LoggerMessage(EventId = 130, Level = LogLevel.Information, Message = "Configuration applied: {virtualServers} virtual servers ({added} added, {removed} removed), real servers {rsAdded} added {rsRemoved} removed, checkers {kept} kept {started} started")]
    private partial void LogConfigApplied(int virtualServers, int added, int removed, int rsAdded, int rsRemoved, int kept, int started);

    [LoggerMessage(EventId = 131, Level = LogLevel.Warning, Message = "Configuration: {warning}")]
    private partial void LogConfigWarning(string warning);

    [LoggerMessage(EventId = 132, Level = LogLevel.Information, Message = "Activating healthcheckers for VS {vs} ({count} real servers)")]
    private partial void LogVirtualServerAdded(string vs, int count);

    [LoggerMessage(EventId = 133, Level = LogLevel.Information, Message = "Removing Virtual Server {vs}")]
    private partial void LogVirtualServerRemoved(string vs);

    [LoggerMessage(EventId = 134, Level = LogLevel.Information, Message = "service {service} no longer exists")]
    private partial void LogRealServerRemoved(string service);

    [LoggerMessage(EventId = 135, Level = LogLevel.Information, Message = "{action} healthcheckers of VS {vs} (ha_suspend)")]
    private partial void LogSuspension(string action, string vs);

    [LoggerMessage(EventId = 136, Level = LogLevel.Information, Message = "Runtime change on VS {vs}: {what}")]
    private partial void LogRuntimeChange(string what, string vs);

    [LoggerMessage(EventId = 140, Level = LogLevel.Information, Message = "Health checkers stopped")]
    private partial void LogStopped();

    [LoggerMessage(EventId = 190, Level = LogLevel.Error, Message = "Probe {checker} threw")]
    private partial void LogProbeCrashed(string checker, Exception exception);

    [LoggerMessage(EventId = 191, Level = LogLevel.Error, Message = "Engine loop message failed")]
    private partial void LogInternalError(Exception exception);
}
