using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>The driver has stopped; the command was not run.</summary>
public sealed class VrrpDriverStoppedException() : InvalidOperationException("the VRRP driver has stopped");

/// <summary>What the driver needs from its host.</summary>
public sealed record VrrpDriverDependencies(
    IVrrpTransport Transport,
    IAddressManager Addresses,
    IArpSender Arp,
    INotifier Notifier,
    TimeProvider? Time = null,
    ILogger? Logger = null,
    IVrrpEventSink? Sink = null)
{
    /// <summary>Log adverts for VRIDs nobody here runs (keepalived <c>log_unknown_vrids</c>).</summary>
    public bool LogUnknownVrids { get; init; } = true;

    /// <summary>
    /// The loop's heartbeat: called from the loop every <see cref="BeatInterval"/> while the loop
    /// drains its commands and no protocol timer (an advert, a master-down timer) is more than
    /// <see cref="TimerLatenessAllowance"/> overdue. The beat is driven by a timer of
    /// <see cref="Time"/>, so a stalled timer thread stops it too. Null: no heartbeat.
    /// </summary>
    public Action? OnBeat { get; init; }

    public TimeSpan BeatInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan TimerLatenessAllowance { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Hosts many instances: one task owns the <see cref="VrrpEngineState"/> and drains a channel
/// of commands (received packets, timer expiries, link and tracker changes, operator requests),
/// steps the pure engine and performs the resulting actions through the injected interfaces.
/// Timers come from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class VrrpDriver
{
    private abstract record Command;
    private sealed record EventCommand(string Instance, VrrpEvent Event, TaskCompletionSource? Done) : Command;
    private sealed record InterfaceCommand(string Interface, VrrpEvent Event, TaskCompletionSource? Done) : Command;
    private sealed record PacketCommand(VrrpReceivedPacket Packet) : Command;
    private sealed record TimerCommand(string Instance, VrrpTimerKind Kind, TimeSpan Due) : Command;
    private sealed record StopCommand(TaskCompletionSource Done) : Command;
    private sealed record FlushCommand(TaskCompletionSource Done) : Command;
    private sealed record ReloadCommand(IReadOnlyList<VrrpInstanceConfig> Instances, IReadOnlyList<VrrpSyncGroupConfig> Groups,
        IReadOnlySet<string> Restart, IReadOnlySet<string>? Unchanged, Action? ConfigSwitched, IReadOnlyDictionary<string, string>? Renames,
        TaskCompletionSource Done) : Command;
    private sealed record InvokeCommand(Action Run, TaskCompletionSource Done) : Command;
    private sealed record BeatCommand : Command
    {
        public static readonly BeatCommand Instance = new();
    }

    private readonly Channel<Command> _commands = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
    private readonly VrrpDriverDependencies _deps;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly long _epoch;
    private readonly Dictionary<(string, VrrpTimerKind), (TimeSpan Due, ITimer Timer)> _timers = [];
    private readonly HashSet<(string, VrrpRejectReason)> _loggedRejects = [];
    private readonly Dictionary<string, ushort> _ipIds = [];
    private VrrpEngineState _state;
    private long _unknownVridPackets;
    private long _malformedPackets;
    private int _running;
    private bool _logUnknownVrids;

    public VrrpDriver(VrrpEngineState initial, VrrpDriverDependencies dependencies)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(dependencies);
        _state = initial;
        _deps = dependencies;
        _time = dependencies.Time ?? TimeProvider.System;
        _log = dependencies.Logger ?? NullLogger.Instance;
        _epoch = _time.GetTimestamp();
        LogUnknownVrids = dependencies.LogUnknownVrids;
    }

    /// <summary>Log every advert for a VRID nobody here runs (keepalived <c>log_unknown_vrids</c>); settable on reload.</summary>
    public bool LogUnknownVrids
    {
        get => Volatile.Read(ref _logUnknownVrids);
        set => Volatile.Write(ref _logUnknownVrids, value);
    }

    /// <summary>The latest state of every instance and group (immutable; safe from any thread).</summary>
    public VrrpEngineState State => Volatile.Read(ref _state);

    /// <summary>Adverts for VRIDs that no instance on the receiving interface runs.</summary>
    public long UnknownVridPackets => Interlocked.Read(ref _unknownVridPackets);

    /// <summary>Packets too short to carry a VRRP header (cannot be given to any instance).</summary>
    public long MalformedPackets => Interlocked.Read(ref _malformedPackets);

    /// <summary>The driver's monotonic clock, the <c>now</c> its steps see.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_epoch);

    /// <summary>Runs the loop until <see cref="StopAsync"/> or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0) throw new InvalidOperationException("the driver is already running");
        using var beat = _deps.OnBeat is null ? null
            : _time.CreateTimer(_ => _commands.Writer.TryWrite(BeatCommand.Instance), null, _deps.BeatInterval, _deps.BeatInterval);
        try
        {
            await foreach (var command in _commands.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (command is StopCommand stop)
                {
                    await StopAllAsync(cancellationToken).ConfigureAwait(false);
                    _commands.Writer.TryComplete();
                    stop.Done.TrySetResult();
                    break;
                }
                await HandleAsync(command, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _commands.Writer.TryComplete();
            foreach (var (_, t) in _timers) t.Timer.Dispose();
            _timers.Clear();
            // Nobody waits forever on a stopped driver.
            while (_commands.Reader.TryRead(out var left))
            {
                switch (left)
                {
                    case EventCommand { Done: { } d }: d.TrySetException(new VrrpDriverStoppedException()); break;
                    case InterfaceCommand { Done: { } d }: d.TrySetException(new VrrpDriverStoppedException()); break;
                    case StopCommand s: s.Done.TrySetResult(); break;
                    case FlushCommand f: f.Done.TrySetException(new VrrpDriverStoppedException()); break;
                    case ReloadCommand r: r.Done.TrySetException(new VrrpDriverStoppedException()); break;
                    case InvokeCommand i: i.Done.TrySetException(new VrrpDriverStoppedException()); break;
                }
            }
        }
    }

    /// <summary>Queues an event for one instance; completes when it has been handled.</summary>
    public Task PostAsync(string instance, VrrpEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (!State.Instances.ContainsKey(instance)) throw new ArgumentException($"no vrrp_instance {instance}", nameof(instance));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new EventCommand(instance, @event, done))) throw new VrrpDriverStoppedException();
        return done.Task;
    }

    /// <summary>Starts every instance that has not started, each with its source address and link state.</summary>
    public Task StartAllAsync(Func<VrrpInstanceConfig, (IPAddress? Source, bool InterfaceUp)> resolve)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        var tasks = State.Instances.Values
            .Where(s => s.State == VrrpStateKind.Init)
            .Select(s =>
            {
                var (src, up) = resolve(s.Config);
                return PostAsync(s.Config.Name, new StartupEvent(s.Config.SourceAddress ?? src, up));
            });
        return Task.WhenAll(tasks);
    }

    /// <summary>Queues an event for every instance on an interface (link up/down, address change).</summary>
    public Task PostToInterfaceAsync(string interfaceName, VrrpEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new InterfaceCommand(interfaceName, @event, done))) throw new VrrpDriverStoppedException();
        return done.Task;
    }

    /// <summary>Hands a received packet to the loop (never blocks; dropped once stopped).</summary>
    public bool PostPacket(VrrpReceivedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        return _commands.Writer.TryWrite(new PacketCommand(packet));
    }

    /// <summary>Completes once everything queued before it has been handled.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new FlushCommand(done))) throw new VrrpDriverStoppedException();
        return done.Task;
    }

    /// <summary>
    /// Replaces the configuration without disturbing what has not changed, as keepalived's reload
    /// does (<see cref="VrrpEngine.Reload"/>): an instance whose identity is the same (name,
    /// interface, VRID, family, addressing) and that is not named in <paramref name="restart"/>
    /// keeps its state and running timers and takes its new configuration in place: a master
    /// stays master, keeps the VIPs that stay, removes the removed ones, adds and announces the
    /// added ones, and advertises at once when its advert changed. Every other running instance
    /// stops as on shutdown (a master sends priority 0 and releases its VIPs; the notify is
    /// DELETED when the instance is gone, STOP when it restarts), and is left in INIT with the new
    /// ones: start them with <see cref="PostAsync"/> and a <see cref="StartupEvent"/>.
    /// Instances named in <paramref name="unchanged"/> (their whole specification is the same; the
    /// caller compares) carry over without anything happening to them.
    /// <paramref name="configSwitched"/> runs on the loop between the two, after the stops and
    /// before the instances changed in place act, so the host can switch what its
    /// <see cref="IAddressManager"/> and <see cref="INotifier"/> look up from the old configuration
    /// to the new. Throws <see cref="ArgumentException"/> (nothing changed) for an invalid
    /// configuration; completes once the new state is in place.
    /// </summary>
    public Task ReloadAsync(IReadOnlyList<VrrpInstanceConfig> instances, IReadOnlyList<VrrpSyncGroupConfig> groups, IReadOnlySet<string> restart,
        IReadOnlySet<string>? unchanged = null, Action? configSwitched = null, IReadOnlyDictionary<string, string>? renames = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(restart);
        // Validate now, so that the caller hears about a bad configuration before anything stops.
        _ = VrrpEngineState.Create(instances, groups);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new ReloadCommand(instances, groups, restart, unchanged, configSwitched, renames, done))) throw new VrrpDriverStoppedException();
        return done.Task;
    }

    /// <summary>
    /// Runs <paramref name="read"/> on the loop, between two commands: what it sees of
    /// <see cref="State"/> is consistent with every event-sink call made so far and none made
    /// later (a Watch subscriber registers here, then gets the snapshot).
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<VrrpEngineState, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.Task.ContinueWith(t =>
        {
            if (t.IsFaulted) result.TrySetException(t.Exception!.InnerExceptions);
        }, TaskScheduler.Default);
        void Run()
        {
            try
            {
                result.TrySetResult(read(State));
            }
            catch (Exception e)
            {
                result.TrySetException(e);
            }
        }
        if (!_commands.Writer.TryWrite(new InvokeCommand(Run, done))) throw new VrrpDriverStoppedException();
        return result.Task;
    }

    /// <summary>Stops every instance cleanly (priority 0 from masters, VIPs released) and ends the loop.</summary>
    public Task StopAsync()
    {
        // Never started: nothing to stop, and no loop would ever answer.
        if (Volatile.Read(ref _running) == 0)
        {
            _commands.Writer.TryComplete();
            return Task.CompletedTask;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_commands.Writer.TryWrite(new StopCommand(done))) return Task.CompletedTask;
        return done.Task;
    }

    private async Task HandleAsync(Command command, CancellationToken ct)
    {
        switch (command)
        {
            case EventCommand e:
                await DispatchAsync(e.Instance, e.Event, ct).ConfigureAwait(false);
                e.Done?.TrySetResult();
                break;
            case InterfaceCommand i:
                foreach (var name in State.Instances.Values.Where(s => s.Config.Interface == i.Interface).Select(s => s.Config.Name).ToList())
                    await DispatchAsync(name, i.Event, ct).ConfigureAwait(false);
                i.Done?.TrySetResult();
                break;
            case TimerCommand t:
                if (_timers.TryGetValue((t.Instance, t.Kind), out var armed) && armed.Due == t.Due)
                {
                    armed.Timer.Dispose();
                    _timers.Remove((t.Instance, t.Kind));
                }
                await DispatchAsync(t.Instance, new TimerExpiredEvent(t.Kind), ct).ConfigureAwait(false);
                // A system timer may fire a little before the deadline by our clock (it counts in
                // milliseconds); the engine then ignores it and nothing changes, so re-arm here.
                if (State.Instances.TryGetValue(t.Instance, out var after)) SyncTimers(t.Instance, after);
                break;
            case PacketCommand p:
                await ReceiveAsync(p.Packet, ct).ConfigureAwait(false);
                break;
            case FlushCommand f:
                f.Done.TrySetResult();
                break;
            case BeatCommand:
                Beat();
                break;
            case InvokeCommand i:
                i.Run();
                i.Done.TrySetResult();
                break;
            case ReloadCommand r:
                try
                {
                    await ReloadOnLoopAsync(r, ct).ConfigureAwait(false);
                    r.Done.TrySetResult();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    r.Done.TrySetException(e);
                }
                break;
        }
    }

    /// <summary>Beats unless a protocol timer is overdue (its expiry should have reached the loop by now).</summary>
    private void Beat()
    {
        var now = Now;
        foreach (var ((instance, kind), armed) in _timers)
        {
            var late = now - armed.Due;
            if (late <= _deps.TimerLatenessAllowance) continue;
            if (!_overdueLogged)
            {
                _overdueLogged = true;
                VrrpDriverLog.TimerOverdue(_log, instance, kind.ToString(), late.TotalMilliseconds);
            }
            return;
        }
        _overdueLogged = false;
        _deps.OnBeat!();
    }

    private bool _overdueLogged;

    private async Task ReloadOnLoopAsync(ReloadCommand r, CancellationToken ct)
    {
        var next = r.Instances.ToDictionary(i => i.Name, StringComparer.Ordinal);
        // Checked again here: the configuration was valid when queued and nothing has stopped yet.
        var renamed = r.Renames is { Count: > 0 } renames ? VrrpEngine.Rename(State, renames) : State;
        _ = VrrpEngine.Reload(renamed, r.Instances, r.Groups, r.Restart, Now);
        if (!ReferenceEquals(renamed, State))
        {
            // A renamed instance runs on under its new name: nothing stops, nothing is sent; its
            // timers are armed again under the new name below, with the same deadlines.
            foreach (var (from, to) in r.Renames!)
            {
                if (!State.Instances.ContainsKey(from)) continue;
                foreach (var kind in Enum.GetValues<VrrpTimerKind>())
                {
                    if (_timers.Remove((from, kind), out var t)) t.Timer.Dispose();
                }
                if (_ipIds.Remove(from, out var id)) _ipIds[to] = id;
                _loggedRejects.RemoveWhere(k => k.Item1 == from);
                VrrpDriverLog.Renamed(_log, from, to);
            }
            Volatile.Write(ref _state, renamed);
        }
        foreach (var (name, s) in State.Instances.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
        {
            if (next.TryGetValue(name, out var config) && VrrpEngine.CarriesOver(State, config, r.Restart)) continue;
            if (s.State is not (VrrpStateKind.Init or VrrpStateKind.Stopped))
                await DispatchAsync(name, new ShutdownEvent(Deleted: !next.ContainsKey(name)), ct).ConfigureAwait(false);
        }
        try
        {
            r.ConfigSwitched?.Invoke();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            VrrpDriverLog.ActionFailed(_log, e, "reload", "configuration switch");
        }
        // Built from the state after the stops, so whatever they did is the starting point.
        var reload = VrrpEngine.Reload(State, r.Instances, r.Groups, r.Restart, Now, r.Unchanged);
        var before = State;
        Volatile.Write(ref _state, reload.Step.State);
        foreach (var name in before.Instances.Keys)
        {
            if (reload.Reconfigured.Contains(name)) continue;
            // Gone or restarted: its timers die with the old instance.
            foreach (var kind in Enum.GetValues<VrrpTimerKind>())
            {
                if (_timers.Remove((name, kind), out var t)) t.Timer.Dispose();
            }
            _ipIds.Remove(name);
            _loggedRejects.RemoveWhere(k => k.Item1 == name);
        }
        await PerformAsync(reload.Step, ct).ConfigureAwait(false);
        foreach (var (name, s) in reload.Step.State.Instances) SyncTimers(name, s);
    }

    private async Task ReceiveAsync(VrrpReceivedPacket packet, CancellationToken ct)
    {
        if (!packet.TryGetVrid(out var vrid))
        {
            Interlocked.Increment(ref _malformedPackets);
            VrrpDriverLog.Malformed(_log, packet.Interface, packet.SenderAddress, packet.Data.Length);
            return;
        }
        var candidates = State.Instances.Values
            .Where(s => s.Config.Vrid == vrid && s.Config.Family == packet.Family
                && (packet.Interface is null || s.Config.Interface == packet.Interface))
            .ToList();
        if (candidates.Count == 0)
        {
            Interlocked.Increment(ref _unknownVridPackets);
            if (LogUnknownVrids) VrrpDriverLog.UnknownVrid(_log, vrid, packet.Interface, packet.SenderAddress);
            try
            {
                _deps.Sink?.OnUnknownVrid(packet.Interface, packet.Family, vrid, packet.SenderAddress);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                VrrpDriverLog.ActionFailed(_log, e, $"VRID {vrid}", "event sink");
            }
            return;
        }
        // Several unicast instances may share a VRID on one interface: the sender picks the instance.
        var sender = packet.SenderAddress;
        var target = candidates.Count == 1 ? candidates[0]
            : candidates.FirstOrDefault(s => s.Config.UnicastPeers.Any(p => VrrpReceiveCheck.SameAddress(p.Address, sender))) ?? candidates[0];
        await DispatchAsync(target.Config.Name, new AdvertReceivedEvent(packet), ct).ConfigureAwait(false);
    }

    private async Task StopAllAsync(CancellationToken ct)
    {
        foreach (var name in State.Instances.Keys.Order().ToList())
            await DispatchAsync(name, new ShutdownEvent(), ct).ConfigureAwait(false);
    }

    private async Task DispatchAsync(string instance, VrrpEvent @event, CancellationToken ct)
    {
        VrrpEngineStep step;
        try
        {
            step = VrrpEngine.Dispatch(State, instance, @event, Now);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug in a step must not take the daemon (and every other instance) down.
            VrrpDriverLog.StepFailed(_log, e, instance, @event.GetType().Name);
            return;
        }
        var before = State;
        Volatile.Write(ref _state, step.State);
        await PerformAsync(step, ct).ConfigureAwait(false);
        foreach (var (name, s) in step.State.Instances)
        {
            if (!ReferenceEquals(before.Instances.GetValueOrDefault(name), s)) SyncTimers(name, s);
        }
    }

    /// <summary>Executes a step's actions, then its sync group transitions (notify scripts, sink).</summary>
    private async Task PerformAsync(VrrpEngineStep step, CancellationToken ct)
    {
        foreach (var (name, action) in AdvertsFirst(step.Actions))
        {
            await ExecuteAsync(name, action, ct).ConfigureAwait(false);
        }
        foreach (var t in step.GroupTransitions)
        {
            VrrpDriverLog.GroupTransition(_log, t.Group, VrrpText.State(t.From), VrrpText.State(t.To));
            try
            {
                if (t.To is VrrpStateKind.Master or VrrpStateKind.Backup or VrrpStateKind.Fault)
                    await _deps.Notifier.NotifyGroupAsync(t.Group, t.To, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                VrrpDriverLog.ActionFailed(_log, e, t.Group, "group notify");
            }
            try
            {
                _deps.Sink?.OnGroupTransition(t);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                VrrpDriverLog.ActionFailed(_log, e, t.Group, "event sink");
            }
        }
    }

    /// <summary>
    /// The step's actions with each advert moved ahead of the log-only actions before it: on a
    /// takeover the engine says "log the transition, then advertise", and the advert is what the
    /// network waits for (the log line and the watch events it feeds can follow by a few hundred
    /// µs). Nothing with an effect on the network or the host changes order.
    /// </summary>
    internal static IReadOnlyList<(string Instance, VrrpAction Action)> AdvertsFirst(IReadOnlyList<(string Instance, VrrpAction Action)> actions)
    {
        List<(string, VrrpAction)>? reordered = null;
        var logOnlyStart = -1;
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i].Action;
            if (action is LogTransition or LogNote or PriorityChanged or OtherMasterDetected or AddressListMismatch)
            {
                if (logOnlyStart < 0) logOnlyStart = i;
                continue;
            }
            if (action is SendAdvert && logOnlyStart >= 0)
            {
                reordered ??= [.. actions];
                // Same instance only: an advert never overtakes another instance's actions.
                var at = i;
                while (at > logOnlyStart && reordered[at - 1].Item1 == actions[i].Instance)
                {
                    (reordered[at - 1], reordered[at]) = (reordered[at], reordered[at - 1]);
                    at--;
                }
            }
            logOnlyStart = -1;
        }
        return reordered ?? actions;
    }

    /// <summary>Makes the armed timers match the deadlines in the instance's state.</summary>
    private void SyncTimers(string instance, VrrpInstanceState state)
    {
        foreach (var kind in Enum.GetValues<VrrpTimerKind>())
        {
            var key = (instance, kind);
            var want = state.TimerDue(kind);
            var have = _timers.TryGetValue(key, out var t) ? t : default((TimeSpan Due, ITimer Timer)?);
            if (have is { } h && want == h.Due) continue;
            if (have is { } old)
            {
                old.Timer.Dispose();
                _timers.Remove(key);
            }
            if (want is not { } due) continue;
            var delay = due - Now;
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            var timer = _time.CreateTimer(_ => _commands.Writer.TryWrite(new TimerCommand(instance, kind, due)), null, delay, Timeout.InfiniteTimeSpan);
            _timers[key] = (due, timer);
        }
    }

    private async Task ExecuteAsync(string instance, VrrpAction action, CancellationToken ct)
    {
        var s = State.Instances[instance];
        var cfg = s.Config;
        try
        {
            switch (action)
            {
                case SendAdvert send:
                    await SendAdvertAsync(s, send.Priority, ct).ConfigureAwait(false);
                    break;
                case SendGarp garp:
                    for (var round = 0; round < garp.Repeat; round++)
                        foreach (var vip in garp.Only ?? [.. cfg.VirtualAddresses, .. cfg.ExcludedVirtualAddresses])
                            await _deps.Arp.AnnounceAsync(cfg.Interface, vip, ct).ConfigureAwait(false);
                    break;
                case AddVips:
                    await _deps.Addresses.AddVipsAsync(cfg, ct).ConfigureAwait(false);
                    break;
                case RemoveVips:
                    await _deps.Addresses.RemoveVipsAsync(cfg, ct).ConfigureAwait(false);
                    break;
                case ChangeVips change:
                    await _deps.Addresses.ChangeVipsAsync(cfg, change.Added, change.Removed, ct).ConfigureAwait(false);
                    break;
                case RunNotify notify:
                    await _deps.Notifier.NotifyInstanceAsync(instance, notify.State, notify.Priority, ct).ConfigureAwait(false);
                    break;
                case LogTransition t:
                    VrrpDriverLog.Transition(_log, instance, VrrpText.State(t.From), VrrpText.State(t.To), VrrpText.Reason(t.Reason));
                    break;
                case OtherMasterDetected o:
                    VrrpDriverLog.OtherMaster(_log, instance, o.Address, o.Priority,
                        s.State == VrrpStateKind.Master ? "we win the election: advertising so it steps down" : "it wins the election: stepping down");
                    break;
                case PacketRejected r:
                    // Every rejection is counted; the log says it once per instance and reason.
                    if (_loggedRejects.Add((instance, r.Reason)))
                        VrrpDriverLog.Rejected(_log, instance, r.Source, r.Reason, r.Reason.Counter().KeepalivedName());
                    else
                        VrrpDriverLog.RejectedAgain(_log, instance, r.Source, r.Reason);
                    break;
                case AddressListMismatch m:
                    VrrpDriverLog.AddressList(_log, instance, m.Source, string.Join(' ', m.Received));
                    break;
                case PriorityChanged p:
                    VrrpDriverLog.Priority(_log, instance, p.From, p.To);
                    break;
                case LogNote n:
                    VrrpDriverLog.Note(_log, instance, n.Message);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            VrrpDriverLog.ActionFailed(_log, e, instance, action.GetType().Name);
        }
        try
        {
            _deps.Sink?.OnAction(instance, action, s);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            VrrpDriverLog.ActionFailed(_log, e, instance, "event sink");
        }
    }

    private async Task SendAdvertAsync(VrrpInstanceState s, byte priority, CancellationToken ct)
    {
        var cfg = s.Config;
        var advert = cfg.Advertisement(priority);
        var destinations = cfg.IsUnicast ? cfg.UnicastPeers.Select(p => p.Address).ToList() : [cfg.MulticastDestination];
        foreach (var destination in destinations)
        {
            byte[] packet;
            if (cfg.Family == AddressFamily.InterNetwork)
            {
                if (s.SourceAddress is null) return; // FAULT covers this; nothing can be sent without it.
                var id = _ipIds.TryGetValue(cfg.Name, out var last) ? (ushort)(last + 1) : (ushort)1;
                if (id == 0) id = 1; // 0 would let the kernel pick one
                _ipIds[cfg.Name] = id;
                packet = VrrpDatagram.BuildIpv4(advert, s.SourceAddress, destination, cfg.V3ChecksumAsV2,
                    cfg.IsUnicast ? cfg.UnicastTtl : VrrpConstants.Ttl, id);
            }
            else
            {
                packet = VrrpDatagram.BuildIpv6(advert, s.SourceAddress, destination);
            }
            await _deps.Transport.SendAsync(cfg, packet, destination, ct).ConfigureAwait(false);
        }
    }
}
