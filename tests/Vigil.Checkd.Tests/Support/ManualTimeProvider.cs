namespace Vigil.Checkd.Tests.Support;

/// <summary>
/// A virtual clock that moves only when told (YARP's TestTimeProvider idea): timers fire, in due
/// order, inside <see cref="Advance"/>, so schedules and timeouts are exact arithmetic.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now;
    private long _ticks;

    public ManualTimeProvider(DateTimeOffset? start = null) => _now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override long GetTimestamp()
    {
        lock (_gate) return _ticks;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Time since the provider was created.</summary>
    public TimeSpan Elapsed
    {
        get
        {
            lock (_gate) return TimeSpan.FromTicks(_ticks);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>The earliest pending timer's due time (as elapsed time), or null.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            lock (_gate)
            {
                var due = _timers.Where(t => t.Due is not null).Select(t => t.Due!.Value).DefaultIfEmpty(long.MaxValue).Min();
                return due == long.MaxValue ? null : TimeSpan.FromTicks(due);
            }
        }
    }

    /// <summary>Moves to the next timer's due time (not beyond <paramref name="limit"/>) and fires
    /// the timers due then. Returns false when nothing is due before the limit.</summary>
    public bool FireNext(TimeSpan limit)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            var next = _timers.Where(t => t.Due is not null).Select(t => t.Due!.Value).DefaultIfEmpty(long.MaxValue).Min();
            if (next == long.MaxValue || next > limit.Ticks)
            {
                if (limit.Ticks > _ticks) SetTicks(limit.Ticks);
                return false;
            }
            if (next > _ticks) SetTicks(next);
            due = _timers.Where(t => t.Due is not null && t.Due.Value <= _ticks).ToList();
            foreach (var t in due) t.Reschedule();
        }
        foreach (var t in due) t.Fire();
        return true;
    }

    /// <summary>Advances by the amount, firing every timer due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        var limit = Elapsed + by;
        while (FireNext(limit)) { }
    }

    private void SetTicks(long ticks)
    {
        _now += TimeSpan.FromTicks(ticks - _ticks);
        _ticks = ticks;
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period = -1;

        /// <summary>Due time in provider ticks, or null when disarmed.</summary>
        public long? Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                if (!owner._timers.Contains(this)) owner._timers.Add(this);
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + Math.Max(dueTime.Ticks, 0);
                _period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? -1 : period.Ticks;
            }
            return true;
        }

        // Called under the owner's lock, before firing: periodic timers move on, one-shots disarm.
        public void Reschedule() => Due = _period > 0 ? Due + _period : null;

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                Due = null;
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
