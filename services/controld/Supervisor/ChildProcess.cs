using System.Diagnostics;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using Vigil.Hosting;
using Vigil.Rpc.Client;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Vigil.Controld.Supervisor;

/// <summary>What controld needs to run one child daemon.</summary>
public sealed record ChildSpec(string Name, string Program, IReadOnlyList<string> Arguments, string SocketPath)
{
    /// <summary>A child that has not answered health checks, or has reported NOT_SERVING, for longer is killed and restarted.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the child's health is checked (besides its Health/Watch stream).</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>--supervise systemd: the daemon's unit (vigil-vrrpd.service); null: controld spawns it.</summary>
    public string? Unit { get; init; }

    /// <summary>Variables set for the child on top of controld's environment (the OTLP settings of the metrics block).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>Exit codes the daemons share with keepalived's meaning.</summary>
public static class ExitCodes
{
    /// <summary>The child cannot run with its configuration: restarting it would not help.</summary>
    public const int ConfigError = 4;
}

/// <summary>
/// One supervised child daemon: started with the same run dir, considered up once its socket
/// answers health checks, restarted when it exits (back-off 1, 2, 4 .. 60 s, reset after 60 s of
/// running, like keepalived's parent), stopped with SIGTERM then SIGKILL. A child already serving
/// on its socket (controld restarted while the daemon kept running) is adopted, not replaced.
/// While it runs, its health is followed two ways, as keepalived's parent follows its children's
/// heartbeats: its grpc.health.v1 Watch stream (NOT_SERVING at once when one of its work loops
/// stalls) and a Check every <see cref="ChildSpec.CheckInterval"/> with a short deadline (a hung or
/// stopped process answers nothing). A child that stays NOT_SERVING, or answers nothing, for
/// <see cref="ChildSpec.HeartbeatTimeout"/> is killed (SIGKILL: a stopped or hung process would
/// not act on SIGTERM) and restarted, and the log says why.
/// <para>Under systemd (<see cref="ChildSpec.Unit"/> set, --supervise systemd) no process is
/// started or killed: the daemon is its unit's, it is adopted whenever it serves on its socket,
/// followed the same two ways, and <see cref="UnitRestartPolicy"/> decides when systemd is asked
/// to restart (or start) the unit.</para>
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);
    private readonly ChildSpec _spec;
    private readonly ILogger _logger;
    private readonly Func<ChildProcess, Task> _onReady;
    private readonly Action<ChildProcess, int> _onFatalExit;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly ISystemctl? _systemd;
    private Task? _loop;
    private Process? _process;
    private int? _adoptedPid;
    private long _lastAnswer;
    private long _notServingSince;
    private volatile bool _serving;

    /// <param name="systemd">With <see cref="ChildSpec.Unit"/>: how systemd is asked about and to restart the unit.</param>
    public ChildProcess(ChildSpec spec, ILogger logger, Func<ChildProcess, Task> onReady, Action<ChildProcess, int> onFatalExit, ISystemctl? systemd = null)
    {
        if (spec.Unit is not null && systemd is null) throw new ArgumentException("a child run by systemd needs an ISystemctl", nameof(systemd));
        _systemd = spec.Unit is null ? null : systemd;
        _spec = spec;
        _logger = logger;
        _onReady = onReady;
        _onFatalExit = onFatalExit;
    }

    public string Name => _spec.Name;
    public string SocketPath => _spec.SocketPath;

    /// <summary>
    /// The one channel to the child for every caller in controld (configuration pushes, the
    /// control API, the dumps): its HTTP/2 connection is reused from call to call instead of a
    /// connection per call, and made again on the next call after the child restarts.
    /// </summary>
    public CallInvoker Invoker
    {
        get
        {
            lock (_channelGate) return (_channel ??= UnixChannel.Open(_spec.SocketPath)).Invoker;
        }
    }

    private readonly object _channelGate = new();
    private UnixChannel? _channel;
    public int? Pid => _process is { HasExited: false } p ? p.Id : _adoptedPid;
    public int Restarts { get; private set; }
    public bool IsReady { get; private set; }

    /// <summary>The child's last health answer was SERVING.</summary>
    public bool IsHealthy => IsReady && _serving;

    /// <summary>Time since the child last answered a health check (null before it first did).</summary>
    public TimeSpan? HeartbeatAge => Volatile.Read(ref _lastAnswer) is var t and not 0 ? _time.GetElapsedTime(t) : null;

    /// <summary>Why the child was last restarted (its exit, or a health verdict), null before any restart.</summary>
    public string? LastRestartReason { get; private set; }

    /// <summary>Told the reason each time the child is about to be restarted (the node's event log).</summary>
    public Action<ChildProcess, string>? Restarting { get; init; }

    /// <summary>The child's unit when systemd runs it (--supervise systemd), else null.</summary>
    public string? Unit => _spec.Unit;

    public void Start() => _loop ??= Task.Run(_systemd is null ? RunAsync : RunUnitAsync);

    /// <summary>
    /// --supervise systemd: adopts the daemon whenever it serves on its socket and follows it; while
    /// it does not serve, asks the unit's state and lets <see cref="UnitRestartPolicy"/> decide.
    /// </summary>
    private async Task RunUnitAsync()
    {
        var systemd = _systemd!;
        var unit = _spec.Unit!;
        var policy = new UnitRestartPolicy(_spec.HeartbeatTimeout, _time);
        var unhealthySince = _time.GetTimestamp();
        var what = "has not served on its socket";
        string? lastWait = null;
        LogWatchingUnit(Name, unit);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (await TryAdoptAsync())
                {
                    policy.Decide(null, null);
                    lastWait = null;
                    var verdict = await SuperviseAsync(_adoptedPid!.Value, exited: null, kill: false);
                    var notServing = Volatile.Read(ref _notServingSince);
                    var lastAnswer = Volatile.Read(ref _lastAnswer);
                    (unhealthySince, what) = notServing != 0 ? (notServing, "has reported NOT_SERVING")
                        : lastAnswer != 0 ? (lastAnswer, "has not answered health checks")
                        : (_time.GetTimestamp(), verdict ?? "stopped serving");
                    Volatile.Write(ref _lastAnswer, 0);
                    Volatile.Write(ref _notServingSince, 0);
                    IsReady = false;
                    _serving = false;
                    _adoptedPid = null;
                    LogUnitUnhealthy(Name, unit, verdict ?? what);
                }
                var status = await systemd.GetStatusAsync(unit, _stop.Token);
                switch (policy.Decide(status, new Unhealthy(_time.GetElapsedTime(unhealthySince), what)))
                {
                    case UnitDecision.Restart restart:
                        lastWait = null;
                        LastRestartReason = restart.Reason;
                        Restarting?.Invoke(this, restart.Reason);
                        Restarts++;
                        LogAskingRestart(Name, unit, restart.Reason);
                        if (await systemd.RestartAsync(unit, _stop.Token) is { } error) LogRestartFailed(Name, error);
                        unhealthySince = _time.GetTimestamp();
                        what = "has not served since the restart";
                        break;
                    case UnitDecision.Wait wait when wait.Reason != lastWait:
                        lastWait = wait.Reason;
                        LogUnitWaiting(Name, unit, wait.Reason);
                        break;
                }
                await Task.Delay(_spec.CheckInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunAsync()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), MaxBackoff);
        while (!_stop.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            string? reason;
            int exitCode;
            try
            {
                if (await TryAdoptAsync())
                {
                    reason = await SuperviseAsync(_adoptedPid!.Value, exited: null) ?? "adopted daemon stopped answering";
                    exitCode = -1;
                    _adoptedPid = null;
                }
                else
                {
                    _process = StartProcess();
                    LogStarted(Name, _process.Id);
                    var exited = _process.WaitForExitAsync(_stop.Token);
                    reason = await SuperviseAsync(_process.Id, exited);
                    await exited;
                    exitCode = _process.ExitCode;
                    reason ??= $"exited with status {exitCode}";
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                LogCannotStart(Name, _spec.Program, e.Message);
                exitCode = -1;
                reason = "could not be started";
            }
            IsReady = false;
            _serving = false;
            if (_stop.IsCancellationRequested) return;
            if (exitCode == ExitCodes.ConfigError)
            {
                LogConfigExit(Name);
                _onFatalExit(this, exitCode);
                return;
            }
            if (DateTime.UtcNow - started > MaxBackoff) backoff.Reset();
            reason ??= $"exited with status {exitCode}";
            LastRestartReason = reason;
            LogRestarting(Name, reason, backoff.Current.TotalSeconds);
            Restarting?.Invoke(this, reason);
            try
            {
                await Task.Delay(backoff.Current, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Restarts++;
            backoff.Grow();
        }
    }

    private Process StartProcess()
    {
        var psi = new ProcessStartInfo(_spec.Program) { UseShellExecute = false };
        foreach (var a in _spec.Arguments) psi.ArgumentList.Add(a);
        // The child logs to the same stderr (the journal under systemd) and is notified by nobody:
        // systemd's NOTIFY_SOCKET belongs to controld alone.
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("WATCHDOG_USEC");
        psi.Environment.Remove("WATCHDOG_PID");
        foreach (var (name, value) in _spec.Environment) psi.Environment[name] = value;
        return Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {_spec.Program}");
    }

    /// <summary>
    /// Waits for the child to serve (60 s at most), pushes its configuration, then follows its
    /// health until it exits (<paramref name="exited"/>; an adopted child: until it stops answering)
    /// or it has to be killed. Returns the reason it was killed, or null when it exited by itself.
    /// </summary>
    private async Task<string?> SuperviseAsync(int pid, Task? exited, bool kill = true)
    {
        var health = new Health.HealthClient(Invoker);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        if (!IsReady)
        {
            var deadline = _time.GetTimestamp() + (long)(60 * _time.TimestampFrequency);
            while (!await CheckAsync(health))
            {
                if (exited is { IsCompleted: true }) return null;
                if (_time.GetTimestamp() > deadline)
                {
                    LogNotServing(Name, pid);
                    break;
                }
                await Task.Delay(50, _stop.Token);
            }
            // The configuration push runs beside the supervision: a child that hangs while it
            // applies its configuration is found like any other.
            if (_serving) _ = BecomeReadyAsync();
        }
        var watch = WatchAsync(health, done.Token);
        // Checks run beside the verdict, so one that hangs until its deadline delays nothing.
        Task check = Task.CompletedTask;
        var lastCheck = _time.GetTimestamp();
        try
        {
            while (true)
            {
                var tick = Task.Delay(VerdictInterval, _stop.Token);
                if (exited is not null && await Task.WhenAny(tick, exited) == exited) return null;
                await tick;
                if (check.IsCompleted && _time.GetElapsedTime(lastCheck) >= _spec.CheckInterval)
                {
                    lastCheck = _time.GetTimestamp();
                    check = CheckAsync(health);
                }
                if (Verdict() is { } verdict)
                {
                    if (exited is null && !IsAlive(pid)) return "adopted daemon is gone";
                    if (!kill) return verdict;
                    await KillAsync(pid, verdict, exited);
                    return verdict;
                }
            }
        }
        finally
        {
            await done.CancelAsync();
            try { await watch; } catch (OperationCanceledException) { }
            await check;
        }
    }

    /// <summary>How often the verdict is taken (a stalled child is killed at most this late).</summary>
    private static readonly TimeSpan VerdictInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Why the child must go, or null while it is fine.</summary>
    private string? Verdict()
    {
        var timeout = _spec.HeartbeatTimeout;
        var last = Volatile.Read(ref _lastAnswer);
        if (last != 0 && _time.GetElapsedTime(last) > timeout)
            return $"has not answered health checks for {_time.GetElapsedTime(last).TotalSeconds:0.0} s (limit {timeout.TotalSeconds:0.#} s)";
        var since = Volatile.Read(ref _notServingSince);
        if (since != 0 && _time.GetElapsedTime(since) > timeout)
            return $"has reported NOT_SERVING for {_time.GetElapsedTime(since).TotalSeconds:0.0} s (limit {timeout.TotalSeconds:0.#} s)";
        return null;
    }

    private async Task<bool> CheckAsync(Health.HealthClient health)
    {
        try
        {
            var r = await health.CheckAsync(new HealthCheckRequest(), Deadline.In(TimeSpan.FromSeconds(1), _stop.Token));
            Record(r.Status);
            return r.Status == ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>Health/Watch: hears NOT_SERVING the moment the child reports it.</summary>
    private async Task WatchAsync(Health.HealthClient health, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = health.Watch(new HealthCheckRequest(), cancellationToken: stop);
                await foreach (var r in call.ResponseStream.ReadAllAsync(stop)) Record(r.Status);
            }
            catch (RpcException) { /* reconnects below, or ends when stopping */ }
            catch (OperationCanceledException) { return; }
            try { await Task.Delay(_spec.CheckInterval, stop); } catch (OperationCanceledException) { return; }
        }
    }

    private void Record(ServingStatus status)
    {
        var now = _time.GetTimestamp();
        Volatile.Write(ref _lastAnswer, now);
        var serving = status == ServingStatus.Serving;
        if (serving) Volatile.Write(ref _notServingSince, 0);
        else if (Interlocked.CompareExchange(ref _notServingSince, now, 0) == 0 && IsReady) LogReportsNotServing(Name);
        _serving = serving;
    }

    private async Task KillAsync(int pid, string reason, Task? exited)
    {
        LogKillingUnhealthy(Name, pid, reason);
        _ = kill(pid, 9);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < until && (exited is null ? IsAlive(pid) : !exited.IsCompleted)) await Task.Delay(20);
        Volatile.Write(ref _lastAnswer, 0);
        Volatile.Write(ref _notServingSince, 0);
    }

    private async Task BecomeReadyAsync()
    {
        IsReady = true;
        LogReady(Name, Pid ?? 0);
        try
        {
            await _onReady(this);
        }
        catch (Exception e)
        {
            LogReadyHandlerFailed(e, Name);
        }
    }

    /// <summary>A daemon already serving on the socket is adopted (its pid from GetDaemonInfo).</summary>
    private async Task<bool> TryAdoptAsync()
    {
        if (!File.Exists(_spec.SocketPath)) return false;
        var invoker = Invoker;
        if (!await CheckAsync(new Health.HealthClient(invoker))) return false;
        try
        {
            var options = Deadline.In(TimeSpan.FromSeconds(2), _stop.Token);
            _adoptedPid = Name switch
            {
                Hosting.VigilPaths.Vrrpd => (await new Vrrp.V1.VrrpService.VrrpServiceClient(invoker).GetDaemonInfoAsync(new(), options)).Daemon.Pid,
                Hosting.VigilPaths.Checkd => (await new Check.V1.CheckService.CheckServiceClient(invoker).GetDaemonInfoAsync(new(), options)).Daemon.Pid,
                _ => (await new Ipvs.V1.IpvsService.IpvsServiceClient(invoker).GetDaemonInfoAsync(new(), options)).Daemon.Pid,
            };
        }
        catch (RpcException)
        {
            return false;
        }
        LogAdopted(Name, _adoptedPid.Value);
        _ = BecomeReadyAsync();
        return true;
    }

    /// <summary>Stops supervising; <paramref name="terminate"/> also stops the daemon (SIGTERM, then SIGKILL after the grace).</summary>
    public async Task StopAsync(bool terminate, TimeSpan grace)
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop; } catch (OperationCanceledException) { }
        }
        // A unit's daemon is systemd's to stop (PartOf=vigil.target), never controld's.
        if (!terminate || _systemd is not null) return;
        var pid = Pid;
        if (pid is null) return;
        _ = kill(pid.Value, 15);
        var until = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < until && IsAlive(pid.Value)) await Task.Delay(20);
        if (IsAlive(pid.Value))
        {
            LogKilled(Name, pid.Value);
            _ = kill(pid.Value, 9);
        }
        if (_process is not null) await _process.WaitForExitAsync();
    }

    private bool IsAlive(int pid) => _process is not null && _process.Id == pid ? !_process.HasExited : kill(pid, 0) == 0;

    public async ValueTask DisposeAsync()
    {
        await StopAsync(terminate: false, TimeSpan.Zero);
        lock (_channelGate)
        {
            _channel?.Dispose();
            _channel = null;
        }
        _process?.Dispose();
        _stop.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "started {Child} (pid {Pid})")]
    private partial void LogStarted(string child, int pid);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "{Child} (pid {Pid}) is serving")]
    private partial void LogReady(string child, int pid);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "{Child} {Reason}; restarting in {Seconds} s")]
    private partial void LogRestarting(string child, string reason, double seconds);

    [LoggerMessage(EventId = 303, Level = LogLevel.Critical, Message = "{Child} exited with a configuration error; stopping")]
    private partial void LogConfigExit(string child);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "cannot start {Child} from {Program}: {Reason}")]
    private partial void LogCannotStart(string child, string program, string reason);

    [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "adopted running {Child} (pid {Pid})")]
    private partial void LogAdopted(string child, int pid);

    [LoggerMessage(EventId = 306, Level = LogLevel.Warning, Message = "{Child} (pid {Pid}) did not start serving within 60 s")]
    private partial void LogNotServing(string child, int pid);

    [LoggerMessage(EventId = 307, Level = LogLevel.Warning, Message = "{Child} (pid {Pid}) did not stop in time; killed")]
    private partial void LogKilled(string child, int pid);

    [LoggerMessage(EventId = 308, Level = LogLevel.Error, Message = "pushing configuration to {Child} failed")]
    private partial void LogReadyHandlerFailed(Exception e, string child);

    [LoggerMessage(EventId = 309, Level = LogLevel.Error, Message = "{Child} (pid {Pid}) {Reason}: killing it (SIGKILL)")]
    private partial void LogKillingUnhealthy(string child, int pid, string reason);

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "{Child} reports NOT_SERVING (one of its work loops has stalled)")]
    private partial void LogReportsNotServing(string child);

    [LoggerMessage(EventId = 311, Level = LogLevel.Information, Message = "{Child} runs as systemd unit {Unit}: following it on its socket, restarting it through systemd")]
    private partial void LogWatchingUnit(string child, string unit);

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "{Child} ({Unit}) {Reason}: asking systemd to restart it")]
    private partial void LogAskingRestart(string child, string unit, string reason);

    [LoggerMessage(EventId = 313, Level = LogLevel.Error, Message = "{Child}: {Error}")]
    private partial void LogRestartFailed(string child, string error);

    [LoggerMessage(EventId = 314, Level = LogLevel.Information, Message = "{Child} ({Unit}) not serving: {Reason}")]
    private partial void LogUnitWaiting(string child, string unit, string reason);

    [LoggerMessage(EventId = 315, Level = LogLevel.Warning, Message = "{Child} ({Unit}) {Reason}")]
    private partial void LogUnitUnhealthy(string child, string unit, string reason);
}
