using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Vigil.Scripts;
using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// <see cref="INotifier"/> as keepalived does it (vrrp_notify.c): the state's own script
/// (notify_master, notify_backup, notify_fault, notify_stop, notify_deleted,
/// notify_master_rx_lower_pri), then the generic <c>notify</c> script with
/// <c>INSTANCE|GROUP name STATE priority</c> appended (priority 0 for a group), then one line on
/// the notify FIFO: <c>INSTANCE "VI_1" MASTER 100</c>, <c>GROUP "G1" BACKUP 0</c>. Without
/// notify_deleted a removed instance reports FAULT, as keepalived does for compatibility.
/// <para>
/// Nothing here blocks the driver's loop: FIFO writes are non-blocking (a reader that does not keep
/// up loses lines, as with keepalived), and scripts run on their own, one after the other per
/// instance (or group), so that a master script never races the backup script that follows it.
/// A script still running after <see cref="OrderingWait"/> no longer holds the next one back.
/// STOP scripts are killed after <see cref="StopScriptTimeout"/> (keepalived allows one second).
/// </para>
/// </summary>
internal sealed partial class Notifier : INotifier, IDisposable
{
    public static readonly TimeSpan OrderingWait = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan StopScriptTimeout = TimeSpan.FromSeconds(2);

    private readonly ScriptRunner _runner;
    private readonly Func<DaemonConfig> _config;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);
    private NotifyFifo? _fifo;

    public Notifier(ScriptRunner runner, Func<DaemonConfig> config, ILogger log)
    {
        _runner = runner;
        _config = config;
        _log = log;
    }

    /// <summary>Scripts started so far (for tests and diagnostics).</summary>
    public long ScriptsStarted => Interlocked.Read(ref _scriptsStarted);

    private long _scriptsStarted;

    /// <summary>Opens (creating it if needed) or closes the notify FIFO; a failure is logged, not thrown.</summary>
    public void SetFifo(string? path)
    {
        lock (_gate)
        {
            if (_fifo?.Path == path) return;
            _fifo?.Dispose();
            _fifo = null;
            if (path is null) return;
            try
            {
                _fifo = NotifyFifo.Open(path);
            }
            catch (IOException e)
            {
                LogFifoFailed(_log, path, e.Message);
            }
        }
    }

    public ValueTask NotifyInstanceAsync(string instance, VrrpNotifyState state, byte priority, CancellationToken cancellationToken)
    {
        var config = _config();
        var notify = config.Instance(instance)?.Notify ?? NotifySpecs.None;
        // keepalived: without notify_deleted, a deleted instance is reported as FAULT.
        if (state == VrrpNotifyState.Deleted && notify.Deleted is null) state = VrrpNotifyState.Fault;
        var word = VrrpText.Notify(state);
        var specific = state switch
        {
            VrrpNotifyState.Master => notify.Master,
            VrrpNotifyState.Backup => notify.Backup,
            VrrpNotifyState.Fault => notify.Fault,
            VrrpNotifyState.Stop => notify.Stop,
            VrrpNotifyState.Deleted => notify.Deleted,
            VrrpNotifyState.MasterRxLowerPriority => notify.MasterRxLowerPriority,
            _ => null,
        };
        var stop = state is VrrpNotifyState.Stop;
        var user = notify.User ?? config.Globals.ScriptUser;
        var prio = priority.ToString(CultureInfo.InvariantCulture);
        if (specific is not null) Enqueue($"instance {instance}", instance, new ScriptRequest(specific) { Timeout = stop ? StopScriptTimeout : null }, user);
        if (notify.Generic is not null && state != VrrpNotifyState.MasterRxLowerPriority)
            Enqueue($"instance {instance}", instance, new ScriptRequest(notify.Generic)
            {
                ExtraArguments = ["INSTANCE", instance, word, prio],
                Timeout = stop ? StopScriptTimeout : null,
            }, user);
        WriteFifo($"INSTANCE \"{instance}\" {word} {prio}\n");
        return ValueTask.CompletedTask;
    }

    public ValueTask NotifyGroupAsync(string group, VrrpStateKind state, CancellationToken cancellationToken)
    {
        var config = _config();
        var notify = config.Group(group)?.Notify ?? NotifySpecs.None;
        var word = VrrpText.State(state);
        var specific = state switch
        {
            VrrpStateKind.Master => notify.Master,
            VrrpStateKind.Backup => notify.Backup,
            VrrpStateKind.Fault => notify.Fault,
            VrrpStateKind.Stopped => notify.Stop,
            _ => null,
        };
        var user = notify.User ?? config.Globals.ScriptUser;
        if (specific is not null) Enqueue($"group {group}", group, new ScriptRequest(specific), user);
        if (notify.Generic is not null)
            Enqueue($"group {group}", group, new ScriptRequest(notify.Generic) { ExtraArguments = ["GROUP", group, word, "0"] }, user);
        WriteFifo($"GROUP \"{group}\" {word} 0\n");
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) for every queued script to finish.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        Task[] tails;
        lock (_gate) tails = [.. _tails.Values];
        try
        {
            await Task.WhenAll(tails).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogDrainTimeout(_log, timeout.TotalSeconds);
        }
    }

    private void Enqueue(string key, string owner, ScriptRequest request, ScriptUser? user)
    {
        lock (_gate)
        {
            var previous = _tails.GetValueOrDefault(key) ?? Task.CompletedTask;
            var next = RunAfterAsync(previous, owner, request, user);
            _tails[key] = next;
            // Forget finished chains so the map does not grow with removed instances.
            _ = next.ContinueWith(t =>
            {
                lock (_gate)
                {
                    if (_tails.TryGetValue(key, out var current) && current == t) _tails.Remove(key);
                }
            }, TaskScheduler.Default);
        }
    }

    private async Task RunAfterAsync(Task previous, string owner, ScriptRequest request, ScriptUser? user)
    {
        await Task.Yield();
        try
        {
            await previous.WaitAsync(OrderingWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogStillRunning(_log, owner, OrderingWait.TotalSeconds);
        }
        try
        {
            var resolved = user?.Resolve();
            Interlocked.Increment(ref _scriptsStarted);
            var run = _runner.RunAsync(request with { User = resolved, MaxOutputBytes = 1024 });
            var result = await run.ConfigureAwait(false);
            if (result.StartError is not null) LogScriptFailed(_log, owner, result.Launch.ToString(), result.Describe(), "");
            else if (!result.Succeeded) LogScriptFailed(_log, owner, result.Launch.ToString(), result.Describe(), result.Output.Trim());
            else LogScriptRan(_log, owner, result.Launch.ToString());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            LogScriptFailed(_log, owner, request.Command.Text, e.Message, "");
        }
    }

    private void WriteFifo(string line)
    {
        NotifyFifo? fifo;
        lock (_gate) fifo = _fifo;
        if (fifo is null) return;
        if (!fifo.TryWrite(line, out var error)) LogFifoWriteFailed(_log, fifo.Path, error ?? "");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _fifo?.Dispose();
            _fifo = null;
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Debug, Message = "{Owner}: notify script ran: {Command}")]
    private static partial void LogScriptRan(ILogger logger, string owner, string command);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Warning, Message = "{Owner}: notify script {Command}: {Result} {Output}")]
    private static partial void LogScriptFailed(ILogger logger, string owner, string command, string result, string output);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "{Owner}: a notify script is still running after {Seconds} s; the next one starts anyway")]
    private static partial void LogStillRunning(ILogger logger, string owner, double seconds);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Error, Message = "cannot open notify fifo {Path}: {Reason}")]
    private static partial void LogFifoFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3405, Level = LogLevel.Information, Message = "notify fifo {Path} write error: {Reason}")]
    private static partial void LogFifoWriteFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3406, Level = LogLevel.Warning, Message = "notify scripts still running after {Seconds} s at stop")]
    private static partial void LogDrainTimeout(ILogger logger, double seconds);
}

/// <summary>
/// keepalived's notify FIFO (lib/notify.c): created with mkfifo (0644) when missing and then
/// removed on close; opened read-write and non-blocking, so opening never waits for a reader and a
/// full FIFO drops the line (EAGAIN) instead of stopping the daemon.
/// </summary>
internal sealed partial class NotifyFifo : IDisposable
{
    private const int O_RDWR = 2;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const int O_NOFOLLOW = 0x20000;
    private const int EEXIST = 17;
    private const int EAGAIN = 11;
    private readonly int _fd;
    private readonly bool _created;

    private NotifyFifo(string path, int fd, bool created)
    {
        Path = path;
        _fd = fd;
        _created = created;
    }

    public string Path { get; }

    public static NotifyFifo Open(string path)
    {
        var created = mkfifo(path, 0x1a4 /* 0644 */) == 0;
        if (!created && Marshal.GetLastPInvokeError() is var err && err != EEXIST)
            throw new IOException($"mkfifo {path}: {Marshal.GetPInvokeErrorMessage(err)}");
        var fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
        {
            var e = Marshal.GetLastPInvokeError();
            if (created) File.Delete(path);
            throw new IOException($"open {path}: {Marshal.GetPInvokeErrorMessage(e)}");
        }
        return new NotifyFifo(path, fd, created);
    }

    public unsafe bool TryWrite(string line, out string? error)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        fixed (byte* p = bytes)
        {
            if (write(_fd, p, (nuint)bytes.Length) >= 0)
            {
                error = null;
                return true;
            }
        }
        var e = Marshal.GetLastPInvokeError();
        // A full FIFO (nobody reading) loses the line quietly, as in keepalived.
        error = e == EAGAIN ? null : Marshal.GetPInvokeErrorMessage(e);
        return e == EAGAIN;
    }

    public void Dispose()
    {
        // Unlink first, so a reader that loops re-opening the FIFO cannot re-open this one.
        if (_created)
        {
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
            }
        }
        _ = close(_fd);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
