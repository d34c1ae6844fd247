namespace Vigil.Vrrpd.Engine;

/// <summary>
/// A virtual clock that moves only when told (Microsoft.Extensions.TimeProvider.Testing is not
/// available here). Timers fire from <see cref="AdvanceAsync"/>, in due order, each at its own
/// instant, with a settle callback between firings so the driver can arm new timers. It runs the
/// takeover warm-up (<see cref="TakeoverWarmUp"/>) and the driver's tests.
/// </summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks = TimeSpan.FromDays(1).Ticks;

    public TimeSpan Elapsed { get { lock (_gate) return TimeSpan.FromTicks(_ticks); } }

    /// <summary>Fire timers this much before their due time, as real millisecond timers can.</summary>
    public TimeSpan FireEarlyBy { get; set; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() { lock (_gate) return _ticks; }
    public override DateTimeOffset GetUtcNow() { lock (_gate) return new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks); }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new ManualTimer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>Moves time forward by <paramref name="by"/>, firing every timer that falls due.</summary>
    public async Task AdvanceAsync(TimeSpan by, Func<Task> settle)
    {
        long target;
        lock (_gate) target = _ticks + by.Ticks;
        await settle();
        while (true)
        {
            ManualTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.DueTicks is { } d && d <= target).MinBy(t => t.DueTicks);
                if (next is null) break;
                // Early only for delays long enough to be rounded (a re-armed remainder fires on time).
                var early = next.DueTicks!.Value - next.ArmedTicks > 2 * FireEarlyBy.Ticks ? FireEarlyBy.Ticks : 0;
                _ticks = Math.Max(_ticks, next.DueTicks!.Value - early);
                next.Fired();
            }
            next.Invoke();
            await settle();
        }
        lock (_gate) _ticks = target;
        await settle();
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period;
        public long? DueTicks { get; private set; }
        public long ArmedTicks { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this)) owner._timers.Add(this);
                ArmedTicks = owner._ticks;
                DueTicks = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + Math.Max(0, dueTime.Ticks);
                _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            }
            return true;
        }

        public void Fired() => DueTicks = _period > 0 ? DueTicks + _period : null;

        public void Invoke() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                DueTicks = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
