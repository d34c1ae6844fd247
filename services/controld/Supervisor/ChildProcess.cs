using System.Diagnostics;
using System.Runtime.InteropServices;
using Grpc.Health.V1;
using Microsoft.Extensions.Logging;
using Vigil.Client;
using Vigil.Hosting;
using Grpc.Core;
using Vigil.Rpc.Client;

namespace Vigil.Controld.Supervisor;

/// <summary>What controld needs to run one child daemon.</summary>
public sealed record ChildSpec(string Name, string Program, IReadOnlyList<string> Arguments, string SocketPath);

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
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);
    private readonly ChildSpec _spec;
    private readonly ILogger _logger;
    private readonly Func<ChildProcess, Task> _onReady;
    private readonly Action<ChildProcess, int> _onFatalExit;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private Process? _process;
    private int? _adoptedPid;

    public ChildProcess(ChildSpec spec, ILogger logger, Func<ChildProcess, Task> onReady, Action<ChildProcess, int> onFatalExit)
    {
        _spec = spec;
        _logger = logger;
        _onReady = onReady;
        _onFatalExit = onFatalExit;
    }

    public string Name => _spec.Name;
    public string SocketPath => _spec.SocketPath;
    public int? Pid => _process is { HasExited: false } p ? p.Id : _adoptedPid;
    public int Restarts { get; private set; }
    public bool IsReady { get; private set; }

    public void Start() => _loop ??= Task.Run(RunAsync);

    private async Task RunAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stop.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            int exitCode;
            try
            {
                if (await TryAdoptAsync())
                {
                    exitCode = await WaitAdoptedAsync();
                }
                else
                {
                    _process = StartProcess();
                    LogStarted(Name, _process.Id);
                    _ = ReadyWhenServingAsync(_process);
                    await _process.WaitForExitAsync(_stop.Token);
                    exitCode = _process.ExitCode;
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
            }
            IsReady = false;
            if (_stop.IsCancellationRequested) return;
            if (exitCode == ExitCodes.ConfigError)
            {
                LogConfigExit(Name);
                _onFatalExit(this, exitCode);
                return;
            }
            if (DateTime.UtcNow - started > MaxBackoff) backoff = TimeSpan.FromSeconds(1);
            LogExited(Name, exitCode, backoff.TotalSeconds);
            try
            {
                await Task.Delay(backoff, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Restarts++;
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
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
        return Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {_spec.Program}");
    }

    private async Task ReadyWhenServingAsync(Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!process.HasExited && DateTime.UtcNow < deadline && !_stop.IsCancellationRequested)
        {
            if (await IsServingAsync())
            {
                await BecomeReadyAsync();
                return;
            }
            await Task.Delay(50);
        }
        if (!process.HasExited && !_stop.IsCancellationRequested) LogNotServing(Name, process.Id);
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
        if (!File.Exists(_spec.SocketPath) || !await IsServingAsync()) return false;
        using var channel = UnixChannel.Open(_spec.SocketPath);
        try
        {
            _adoptedPid = Name switch
            {
                VigilPaths.Vrrpd => (await new Vrrp.V1.VrrpService.VrrpServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), Deadline.In(TimeSpan.FromSeconds(2)))).Daemon.Pid,
                VigilPaths.Checkd => (await new Check.V1.CheckService.CheckServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), Deadline.In(TimeSpan.FromSeconds(2)))).Daemon.Pid,
                _ => (await new Ipvs.V1.IpvsService.IpvsServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), Deadline.In(TimeSpan.FromSeconds(2)))).Daemon.Pid,
            };
        }
        catch (RpcException)
        {
            return false;
        }
        LogAdopted(Name, _adoptedPid.Value);
        await BecomeReadyAsync();
        return true;
    }

    /// <summary>An adopted daemon is not our child: watch it through its socket until it stops answering.</summary>
    private async Task<int> WaitAdoptedAsync()
    {
        var failures = 0;
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token);
            failures = await IsServingAsync() ? 0 : failures + 1;
            if (failures >= 3) break;
        }
        _adoptedPid = null;
        return -1;
    }

    private async Task<bool> IsServingAsync()
    {
        if (!File.Exists(_spec.SocketPath)) return false;
        using var channel = UnixChannel.Open(_spec.SocketPath);
        try
        {
            var r = await new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new HealthCheckRequest(), Deadline.In(TimeSpan.FromSeconds(2)));
            return r.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>Stops supervising; <paramref name="terminate"/> also stops the daemon (SIGTERM, then SIGKILL after the grace).</summary>
    public async Task StopAsync(bool terminate, TimeSpan grace)
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop; } catch (OperationCanceledException) { }
        }
        if (!terminate) return;
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
        _process?.Dispose();
        _stop.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "started {Child} (pid {Pid})")]
    private partial void LogStarted(string child, int pid);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "{Child} (pid {Pid}) is serving")]
    private partial void LogReady(string child, int pid);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "{Child} exited with status {ExitCode}; restarting in {Seconds} s")]
    private partial void LogExited(string child, int exitCode, double seconds);

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
}
