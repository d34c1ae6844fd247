using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Scheduling;

/// <summary>A finished probe run, posted to the engine loop.</summary>
internal sealed record ProbeCompletion(CheckerRunner Runner, ProbeResult Result, long StartTimestamp);

/// <summary>
/// Runs one checker's probe on its own timer: the engine loop arms the timer with the delay the
/// policy chose; when it fires the probe runs asynchronously (so a probe that hangs until its
/// timeout delays nobody else) and its result is posted back to the loop, which decides the next
/// delay. At most one run is in flight. While suspended (ha_suspend) a firing timer only re-arms
/// itself after delay_loop, like keepalived's disabled checkers.
/// </summary>
internal sealed class CheckerRunner : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<ProbeCompletion> _post;
    private readonly Action<CheckerRunner, Exception> _onError;
    private readonly ITimer _timer;
    private readonly CancellationTokenSource _cts = new();
    private volatile bool _disposed;
    private volatile bool _suspended;
    private int _nextStep;
    private TimeSpan _suspendedDelay;

    public CheckerRunner(IProbe probe, CheckerSlot slot, Policy.RealServerState realServer, Policy.VirtualServerState virtualServer,
        TimeProvider time, Action<ProbeCompletion> post, Action<CheckerRunner, Exception> onError)
    {
        Probe = probe;
        Slot = slot;
        RealServer = realServer;
        VirtualServer = virtualServer;
        _time = time;
        _post = post;
        _onError = onError;
        _timer = time.CreateTimer(static s => ((CheckerRunner)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Owned by the engine loop; replaced on a reload that keeps the checker.</summary>
    public IProbe Probe { get; set; }

    public CheckerSlot Slot { get; set; }

    public RealServerState RealServer { get; set; }

    public VirtualServerState VirtualServer { get; set; }

    public bool Disposed => _disposed;

    /// <summary>Arms the timer for the next run of the given step (URL index).</summary>
    public void Schedule(TimeSpan delay, int step)
    {
        if (_disposed) return;
        Volatile.Write(ref _nextStep, step);
        _timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Pauses (or resumes) probing; while paused the timer ticks every delay_loop.</summary>
    public void SetSuspended(bool suspended, TimeSpan delayLoop)
    {
        _suspendedDelay = delayLoop;
        _suspended = suspended;
    }

    private void OnTimer()
    {
        if (_disposed) return;
        if (_suspended)
        {
            _timer.Change(_suspendedDelay, Timeout.InfiniteTimeSpan);
            return;
        }
        _ = RunAsync(Volatile.Read(ref _nextStep));
    }

    private async Task RunAsync(int step)
    {
        var started = _time.GetTimestamp();
        ProbeResult result;
        try
        {
            result = await Probe.RunAsync(step, _cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            // A probe bug must not kill the checker: report it and count it as a local error.
            _onError(this, e);
            result = ProbeResult.Local($"internal error: {e.GetType().Name}: {e.Message}", _time.GetElapsedTime(started));
        }
        if (_disposed) return;
        _post(new ProbeCompletion(this, result, started));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _timer.Dispose();
        // Not disposed: a run that is just starting may still read the token.
        _cts.Cancel();
    }
}
