using System.Diagnostics;
using System.Globalization;

namespace Vigil.Controld.Supervisor;

/// <summary>How controld runs the daemons (--supervise).</summary>
public enum SupervisionMode
{
    /// <summary>controld starts vigil-vrrpd, vigil-checkd and vigil-ipvsd as its children (keepalived's way).</summary>
    Spawn,

    /// <summary>
    /// The daemons are systemd units (vigil-vrrpd.service, ...): controld starts no process; it
    /// follows each daemon's health on its socket and asks systemd to start or restart the unit.
    /// </summary>
    Systemd,
}

/// <summary>A unit's ActiveState as systemd reports it (systemctl show -p ActiveState).</summary>
public enum UnitActiveState
{
    /// <summary>systemctl could not tell (not installed, no systemd, an error).</summary>
    Unknown,
    Active,
    Reloading,
    Inactive,
    Failed,
    Activating,
    Deactivating,
}

/// <summary>What systemd says of a unit: its ActiveState, SubState ("running", "auto-restart") and main pid.</summary>
public sealed record UnitStatus(UnitActiveState ActiveState, string SubState, int MainPid)
{
    public static readonly UnitStatus Unknown = new(UnitActiveState.Unknown, "", 0);

    public override string ToString() => $"{ActiveState.ToString().ToLowerInvariant()} ({SubState})";

    /// <summary>Parses `systemctl show -p ActiveState -p SubState -p MainPID` (KEY=value lines).</summary>
    public static UnitStatus Parse(string output)
    {
        var state = UnitActiveState.Unknown;
        var sub = "";
        var pid = 0;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            var eq = line.IndexOf('=');
            if (eq <= 0) continue;
            var (key, value) = (line[..eq], line[(eq + 1)..]);
            switch (key)
            {
                case "ActiveState":
                    state = value switch
                    {
                        "active" => UnitActiveState.Active,
                        "reloading" or "refreshing" => UnitActiveState.Reloading,
                        "inactive" => UnitActiveState.Inactive,
                        "failed" => UnitActiveState.Failed,
                        "activating" => UnitActiveState.Activating,
                        "deactivating" => UnitActiveState.Deactivating,
                        _ => UnitActiveState.Unknown,
                    };
                    break;
                case "SubState": sub = value; break;
                case "MainPID": _ = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pid); break;
            }
        }
        return new UnitStatus(state, sub, pid);
    }
}

/// <summary>The part of systemd controld uses: a unit's state, and a restart (tests fake it).</summary>
public interface ISystemctl
{
    Task<UnitStatus> GetStatusAsync(string unit, CancellationToken cancellationToken);

    /// <summary>Asks systemd to restart the unit (which starts it when it is not running); returns the error, or null.</summary>
    Task<string?> RestartAsync(string unit, CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="ISystemctl"/> through the systemctl program (systemd's private socket, as root).
/// `restart --no-block` only queues the job: systemd runs it, controld sees the result on the
/// daemon's socket and in the unit's state.
/// </summary>
public sealed class Systemctl(string program = "systemctl") : ISystemctl
{
    public async Task<UnitStatus> GetStatusAsync(string unit, CancellationToken cancellationToken)
    {
        var (code, output) = await RunAsync(["show", "-p", "ActiveState", "-p", "SubState", "-p", "MainPID", "--", unit], cancellationToken);
        return code == 0 ? UnitStatus.Parse(output) : UnitStatus.Unknown;
    }

    public async Task<string?> RestartAsync(string unit, CancellationToken cancellationToken)
    {
        var (code, output) = await RunAsync(["restart", "--no-block", "--", unit], cancellationToken);
        return code == 0 ? null : $"systemctl restart {unit}: exit status {code}: {output.Trim()}";
    }

    private async Task<(int Code, string Output)> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // systemctl's own pager and colours stay out of a daemon's pipes.
        psi.Environment["SYSTEMD_PAGER"] = "";
        psi.Environment["SYSTEMD_COLORS"] = "0";
        try
        {
            using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            var stdout = p.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = p.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                p.Kill();
                return (-1, $"{program} did not answer within 10 s");
            }
            return (p.ExitCode, await stdout + await stderr);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (-1, $"cannot run {program}: {e.Message}");
        }
    }
}

/// <summary>What to do about a unit now.</summary>
public abstract record UnitDecision
{
    private UnitDecision() { }

    /// <summary>The daemon serves: nothing to do.</summary>
    public sealed record Nothing : UnitDecision;

    /// <summary>Not serving, but systemd is at it (starting it, restarting it on its own) or a restart is young or held back.</summary>
    public sealed record Wait(string Reason) : UnitDecision;

    /// <summary>Ask systemd to restart (or start) the unit.</summary>
    public sealed record Restart(string Reason) : UnitDecision;
}

/// <summary>How long a daemon has not served on its socket, and how that shows (for the log).</summary>
public sealed record Unhealthy(TimeSpan For, string What);

/// <summary>
/// The decision of controld --supervise systemd, as a pure function of what it sees (the
/// daemon's health on its socket, the unit's state) and the time, with its own memory of the
/// restarts it asked for. systemd restarts a daemon that exits (Restart=on-failure) or stops
/// feeding its watchdog; controld steps in only where systemd cannot see:
/// <list type="bullet">
/// <item>a unit controld needs that is not running (inactive, or failed after systemd gave up) is
/// restarted, which starts it;</item>
/// <item>an active unit whose daemon has not answered, or has answered NOT_SERVING, for the
/// heartbeat timeout is restarted;</item>
/// <item>a unit systemd is starting, stopping or about to restart (activating, deactivating,
/// auto-restart) is left to systemd;</item>
/// <item>after a restart the daemon gets <see cref="StartGrace"/> to serve (once it has served, the
/// heartbeat timeout judges it again), and restarts back off
/// 1, 2, 4 .. 60 s (reset after 60 s of serving), like the children of spawn mode.</item>
/// </list>
/// </summary>
public sealed class UnitRestartPolicy(TimeSpan heartbeatTimeout, TimeProvider? time = null)
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long? _lastRestart;
    private long? _servingSince;
    private bool _servedSinceRestart;
    private readonly Vigil.Hosting.Backoff _backoff = new(TimeSpan.FromSeconds(1), MaxBackoff);

    public TimeSpan HeartbeatTimeout { get; } = heartbeatTimeout;

    /// <summary>Time a restarted daemon has to serve before it is judged again.</summary>
    public TimeSpan StartGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before the next restart may be asked for.</summary>
    public TimeSpan Backoff => _backoff.Current;

    /// <param name="status">The unit's state; only asked for (and needed) when the daemon is unhealthy.</param>
    /// <param name="unhealthy">Null: the daemon serves now.</param>
    public UnitDecision Decide(UnitStatus? status, Unhealthy? unhealthy)
    {
        var now = _time.GetTimestamp();
        if (unhealthy is null)
        {
            _servingSince ??= now;
            _servedSinceRestart = true;
            if (_time.GetElapsedTime(_servingSince.Value) >= MaxBackoff) _backoff.Reset();
            return new UnitDecision.Nothing();
        }
        _servingSince = null;
        status ??= UnitStatus.Unknown;
        switch (status.ActiveState)
        {
            case UnitActiveState.Activating or UnitActiveState.Deactivating or UnitActiveState.Reloading:
                return new UnitDecision.Wait($"the unit is {status}: left to systemd");
            case UnitActiveState.Inactive or UnitActiveState.Failed:
                return TryRestart(now, $"the unit is {status}");
            case UnitActiveState.Active:
                if (_lastRestart is { } last && !_servedSinceRestart && _time.GetElapsedTime(last) < StartGrace)
                    return new UnitDecision.Wait($"restarted {_time.GetElapsedTime(last).TotalSeconds:0.0} s ago; giving it {StartGrace.TotalSeconds:0} s to serve");
                if (unhealthy.For < HeartbeatTimeout)
                    return new UnitDecision.Wait($"{unhealthy.What} for {unhealthy.For.TotalSeconds:0.0} s (limit {HeartbeatTimeout.TotalSeconds:0.#} s)");
                return TryRestart(now, $"{unhealthy.What} for {unhealthy.For.TotalSeconds:0.0} s (limit {HeartbeatTimeout.TotalSeconds:0.#} s) while the unit is {status}");
            default:
                return new UnitDecision.Wait("systemctl cannot tell the unit's state");
        }
    }

    private UnitDecision TryRestart(long now, string reason)
    {
        if (_lastRestart is { } last && _time.GetElapsedTime(last) < _backoff.Current)
            return new UnitDecision.Wait($"{reason}; next restart in {(_backoff.Current - _time.GetElapsedTime(last)).TotalSeconds:0.0} s (back-off)");
        if (_lastRestart is not null) _backoff.Grow();
        _lastRestart = now;
        _servedSinceRestart = false;
        return new UnitDecision.Restart(reason);
    }
}
