using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Scheduling;

/// <summary>A finished probe run, posted to the engine loop.</summary>
internal sealed record ProbeCompletion(CheckerRunner Runner, ProbeResult Result, long StartTimestamp, long EndTimestamp);

/// <summary>
/// One checker's probe. The <see cref="CheckScheduler"/> starts it when it is due; the probe runs
/// asynchronously (so a probe that hangs until its timeout delays nobody else) and its result is
/// posted back to the engine loop, which decides the next delay. At most one run is in flight.
/// </summary>
internal sealed class CheckerRunner : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<ProbeCompletion> _post;
    private readonly Action<CheckerRunner, Exception> _onError;
    private readonly CancellationTokenSource _cts = new();
    private volatile bool _disposed;

    public CheckerRunner(IProbe probe, CheckerSlot slot, RealServerState realServer, VirtualServerState virtualServer,
        TimeProvider time, Action<ProbeCompletion> post, Action<CheckerRunner, Exception> onError)
    {
        Probe = probe;
        Slot = slot;
        RealServer = realServer;
        VirtualServer = virtualServer;
        _time = time;
        _post = post;
        _onError = onError;
    }

    /// <summary>Owned by the engine loop; replaced on a reload that keeps the checker.</summary>
    public IProbe Probe { get; set; }

    public CheckerSlot Slot { get; set; }

    public RealServerState RealServer { get; set; }

    public VirtualServerState VirtualServer { get; set; }

    /// <summary>Paused by ha_suspend: when due, the scheduler only re-arms it after delay_loop
    /// (keepalived's disabled checkers). Loop only.</summary>
    public bool Suspended { get; set; }

    /// <summary>Bumped by every schedule, so an older queue entry is recognised as stale.
    /// Loop only.</summary>
    public long Generation { get; set; }

    public bool Disposed => _disposed;

    /// <summary>The step (URL index) of the run being dispatched; set by the scheduler.</summary>
    public int NextStep { get; set; }

    /// <summary>Starts a run of the given step (URL index); called by the scheduler's dispatch.</summary>
    public void Start(int step)
    {
        if (_disposed) return;
        _ = RunAsync(step);
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
        _post(new ProbeCompletion(this, result, started, _time.GetTimestamp()));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Not disposed: a run that is just starting may still read the token.
        _cts.Cancel();
    }
}
