using Microsoft.Extensions.Logging;
using Vigil.Scripts;

namespace Vigil.Vrrpd.Daemon;

/// <summary>What a vrrp_script says about its instances.</summary>
public enum TrackScriptStatus
{
    /// <summary>Not exited yet: weighs nothing, and holds back the start of an instance that tracks it with weight 0.</summary>
    Init,
    Up,
    Down,
}

/// <summary>
/// keepalived's rise/fall counter for one vrrp_script (vrrp_scheduler.c), as a pure value.
/// The result runs 0 .. rise+fall-1 and the script is up from <c>rise</c>: at start it is
/// rise-1 (one success is enough) or 0 with init_fail; a success when below rise-1 counts up,
/// at rise-1 goes up and jumps to the top; a failure above rise counts down, at rise (or in
/// INIT) goes down and drops to 0. So "fall 3" takes 3 failures after being up, "rise 2" two
/// successes after being down.
/// </summary>
public readonly record struct TrackScriptCounter(int Rise, int Fall, int Result, TrackScriptStatus Status)
{
    public static TrackScriptCounter Start(int rise, int fall, bool initFail) =>
        initFail ? new(rise, fall, 0, TrackScriptStatus.Down) : new(rise, fall, rise - 1, TrackScriptStatus.Init);

    public TrackScriptCounter Record(bool success)
    {
        if (success)
        {
            if (Result < Rise - 1) return this with { Result = Result + 1 };
            if (Result == Rise + Fall - 1) return this;
            return this with { Result = Rise + Fall - 1, Status = Result < Rise ? TrackScriptStatus.Up : Status };
        }
        if (Result > Rise) return this with { Result = Result - 1 };
        var goesDown = Result == Rise || Status == TrackScriptStatus.Init;
        return this with { Result = 0, Status = goesDown ? TrackScriptStatus.Down : Status };
    }
}

/// <summary>
/// Runs one vrrp_script every interval (the first run at once), with its timeout (the interval
/// when none is set; a run that overruns is killed and counts as a failure), as its user, through
/// <see cref="ScriptRunner"/> (so "[ -f /tmp/x ]" goes through /bin/sh -c like keepalived), and
/// reports each change of <see cref="TrackScriptStatus"/>. A run still going when the next is due
/// makes that one skip, as keepalived skips it.
/// </summary>
internal sealed partial class TrackScriptRunner : IAsyncDisposable
{
    private readonly ScriptRunner _runner;
    private readonly ScriptUser? _defaultUser;
    private readonly Action<TrackScriptRunner> _changed;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cts = new();
    private TrackScriptCounter _counter;

    // Read by other threads; the counter itself is only touched by the run loop.
    private volatile TrackScriptStatus _status;
    private int? _lastExit;
    private Task _loop = Task.CompletedTask;

    public TrackScriptRunner(TrackScriptDefinition definition, ScriptRunner runner, ScriptUser? defaultUser,
        Action<TrackScriptRunner> changed, ILogger log, TimeProvider? time = null)
    {
        Definition = definition;
        _runner = runner;
        _defaultUser = defaultUser;
        _changed = changed;
        _log = log;
        _time = time ?? TimeProvider.System;
        _counter = TrackScriptCounter.Start(definition.Rise, definition.Fall, definition.InitFail);
        _status = _counter.Status;
    }

    public TrackScriptDefinition Definition { get; }

    public TrackScriptStatus Status => _status;

    /// <summary>Runs so far (for tests and diagnostics).</summary>
    public long Runs { get; private set; }

    public void Start() => _loop = Task.Run(() => RunAsync(_cts.Token));

    private async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Definition.Interval, _time);
        try
        {
            do
            {
                await RunOnceAsync(ct).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunOnceAsync(CancellationToken ct)
    {
        ScriptResult result;
        try
        {
            var user = (Definition.User ?? _defaultUser)?.Resolve();
            result = await _runner.RunAsync(new ScriptRequest(Definition.Command)
            {
                Timeout = Definition.Timeout,
                User = user,
                MaxOutputBytes = 512,
            }, ct).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // The user vanished from the system since the configuration was applied.
            LogCannotRun(_log, Definition.Name, e.Message);
            Record(false, "cannot run", null);
            return;
        }
        Runs++;
        if (result.ExitCode is { } code && code != _lastExit)
        {
            LogNowReturning(_log, Definition.Name, code);
            _lastExit = code;
        }
        if (result.StartError is not null) LogCannotRun(_log, Definition.Name, result.StartError);
        var why = result.Succeeded ? null
            : result.TimedOut ? "timed out"
            : result.Describe();
        Record(result.Succeeded, why, result.TimedOut ? "timed_out" : null);
    }

    private void Record(bool success, string? why, string? kind)
    {
        var before = _counter.Status;
        _counter = _counter.Record(success);
        _status = _counter.Status;
        if (_counter.Status == before) return;
        if (_counter.Status == TrackScriptStatus.Up) LogSucceeded(_log, Definition.Name);
        else LogFailed(_log, Definition.Name, kind ?? "failed", why ?? "");
        _changed(this);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _cts.Dispose();
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "VRRP_Script({Script}) succeeded")]
    private static partial void LogSucceeded(ILogger logger, string script);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "VRRP_Script({Script}) {Kind} ({Why})")]
    private static partial void LogFailed(ILogger logger, string script, string kind, string why);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Script `{Script}` now returning {Code}")]
    private static partial void LogNowReturning(ILogger logger, string script, int code);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "VRRP_Script({Script}) cannot run: {Reason}")]
    private static partial void LogCannotRun(ILogger logger, string script, string reason);
}
