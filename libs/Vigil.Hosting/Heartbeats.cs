using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Vigil.Hosting;

/// <summary>One work loop's heartbeat: the loop calls <see cref="Beat"/> each time it makes progress.</summary>
public sealed class Heartbeat
{
    private readonly TimeProvider _time;
    private long _last;

    internal Heartbeat(string name, TimeSpan allowance, TimeProvider time)
    {
        Name = name;
        Allowance = allowance;
        _time = time;
        _last = time.GetTimestamp();
    }

    public string Name { get; }

    /// <summary>The longest silence before the loop counts as stalled.</summary>
    public TimeSpan Allowance { get; }

    /// <summary>Called by the loop itself, from its own thread: cheap (one volatile write).</summary>
    public void Beat() => Volatile.Write(ref _last, _time.GetTimestamp());

    public TimeSpan Silence => _time.GetElapsedTime(Volatile.Read(ref _last));

    public bool IsStalled => Silence > Allowance;
}

/// <summary>
/// A daemon's health, made of its work loops' heartbeats instead of a constant: healthy while every
/// registered loop has beaten within its allowance. A change of health is reported (grpc.health.v1
/// follows it, so vigil-controld sees a stalled daemon) and logged naming the loop. The evaluation
/// runs on a thread of its own, so a starved thread pool cannot keep a stall from being seen.
/// </summary>
public sealed partial class Heartbeats : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly List<Heartbeat> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private bool _healthy = true;

    public Heartbeats(ILogger log, TimeProvider? time = null)
    {
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Health changed (true: every loop beats on time).</summary>
    public event Action<bool>? HealthChanged;

    /// <summary>Called after each evaluation with the current health (the watchdog hangs on this).</summary>
    public event Action<bool>? Evaluated;

    /// <summary>How often health is evaluated.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMilliseconds(100);

    public bool IsHealthy
    {
        get { lock (_loops) return _healthy; }
    }

    public Heartbeat Register(string loop, TimeSpan allowance)
    {
        var h = new Heartbeat(loop, allowance, _time);
        lock (_loops) _loops.Add(h);
        return h;
    }

    public void Unregister(Heartbeat heartbeat)
    {
        lock (_loops) _loops.Remove(heartbeat);
    }

    public IReadOnlyList<Heartbeat> Loops
    {
        get { lock (_loops) return [.. _loops]; }
    }

    /// <summary>Looks at every loop once; returns the health (public for tests with a virtual clock).</summary>
    public bool Evaluate()
    {
        List<Heartbeat> stalled;
        bool changed, healthy;
        lock (_loops)
        {
            stalled = _loops.Where(l => l.IsStalled).ToList();
            healthy = stalled.Count == 0;
            changed = healthy != _healthy;
            _healthy = healthy;
        }
        if (changed)
        {
            if (healthy) LogRecovered();
            else foreach (var l in stalled) LogStalled(l.Name, l.Silence.TotalSeconds, l.Allowance.TotalSeconds);
            HealthChanged?.Invoke(healthy);
        }
        Evaluated?.Invoke(healthy);
        return healthy;
    }

    public void Start()
    {
        if (_thread is not null) return;
        _thread = new Thread(() =>
        {
            var token = _stop.Token;
            while (!token.WaitHandle.WaitOne(Period))
            {
                try { Evaluate(); }
                catch (Exception e) { LogEvaluationFailed(e); }
            }
        })
        { IsBackground = true, Name = "heartbeats" };
        _thread.Start();
    }

    /// <summary>As GetDaemonInfo reports them.</summary>
    public IEnumerable<Types.V1.LoopHeartbeat> ToProto() => Loops.Select(l => new Types.V1.LoopHeartbeat
    {
        Name = l.Name,
        Silence = Duration.FromTimeSpan(l.Silence),
        Allowance = Duration.FromTimeSpan(l.Allowance),
        Stalled = l.IsStalled,
    });

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(2));
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "work loop '{Loop}' has not made progress for {Seconds:0.0} s (allowed {Allowance:0.0} s): health NOT_SERVING")]
    private partial void LogStalled(string loop, double seconds, double allowance);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "every work loop is beating again: health SERVING")]
    private partial void LogRecovered();

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "health evaluation failed")]
    private partial void LogEvaluationFailed(Exception e);
}
