using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Vigil.Vrrpd.Platform;

/// <summary>
/// Protocol timers that fire when they are due, not on the next clock tick.
/// </summary>
/// <remarks>
/// <see cref="System.Threading.Timer"/> keeps its queue in <c>Environment.TickCount64</c>, which
/// advances in 4 ms steps on a HZ=250 kernel, fires up to a tick early or late and hands each
/// callback to the thread pool: bench/results/failover-analysis.md measured a p90 of 5.6 ms on
/// the master-down timer. Here one thread blocks in read(2) on a timerfd armed to the earliest
/// deadline as an absolute CLOCK_MONOTONIC time (the clock of <see cref="Stopwatch"/>, so of
/// <see cref="TimeProvider.GetTimestamp"/>); whoever schedules an earlier timer re-arms the fd,
/// so a sleeping thread wakes at the new deadline. Callbacks run on that thread and must be
/// short and never block (the VRRP driver's only write to its command channel).
/// </remarks>
internal sealed partial class MonotonicTimeProvider : TimeProvider, IDisposable
{
    private readonly object _gate = new();
    private readonly PriorityQueue<(Entry Timer, long Generation), long> _queue = new();
    private readonly int _fd;
    private long _armedNs = long.MaxValue;
    private bool _disposed;

    public MonotonicTimeProvider()
    {
        if (Stopwatch.Frequency != 1_000_000_000L)
            throw new PlatformNotSupportedException("the monotonic timer expects Stopwatch to count CLOCK_MONOTONIC nanoseconds");
        _fd = timerfd_create(ClockMonotonic, TfdCloexec);
        if (_fd < 0) throw new IOException($"timerfd_create: errno {Marshal.GetLastPInvokeError()}");
        new Thread(Run) { IsBackground = true, Name = "vrrp timers" }.Start();
    }

    /// <summary>Callbacks that threw (they are caught so the other timers keep running).</summary>
    public long CallbackFailures => Interlocked.Read(ref _callbackFailures);
    private long _callbackFailures;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new Entry(this, callback, state);
        Schedule(timer, dueTime, period);
        return timer;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _queue.Clear();
            // Wake the thread now so it sees _disposed and closes the fd itself.
            Arm(1);
        }
    }

    private sealed class Entry(MonotonicTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long DueNs;
        public long PeriodNs;
        public long Generation;
        public readonly TimerCallback Callback = callback;
        public readonly object? State = state;

        public bool Change(TimeSpan dueTime, TimeSpan period) => owner.Schedule(this, dueTime, period);

        public void Dispose() => owner.Cancel(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static long NowNs() => Stopwatch.GetTimestamp();

    private static long ToNs(TimeSpan t) => t.Ticks > long.MaxValue / 100 ? long.MaxValue / 2 : t.Ticks * 100;

    private bool Schedule(Entry timer, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan && dueTime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(dueTime));
        if (period != Timeout.InfiniteTimeSpan && period < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(period));
        lock (_gate)
        {
            if (_disposed) return false;
            // A new generation makes any queued copy of this timer stale.
            timer.Generation++;
            if (dueTime == Timeout.InfiniteTimeSpan) return true;
            timer.DueNs = NowNs() + ToNs(dueTime);
            timer.PeriodNs = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? 0 : ToNs(period);
            _queue.Enqueue((timer, timer.Generation), timer.DueNs);
            if (timer.DueNs < _armedNs) Arm(timer.DueNs);
            return true;
        }
    }

    private void Cancel(Entry timer)
    {
        lock (_gate) timer.Generation++;
    }

    /// <summary>Sets the timerfd to fire at an absolute monotonic instant (0 disarms). Under the lock.</summary>
    private void Arm(long atNs)
    {
        _armedNs = atNs == 0 ? long.MaxValue : atNs;
        var spec = new ITimerSpec { Value = new TimeSpec { Seconds = atNs / 1_000_000_000L, Nanoseconds = atNs % 1_000_000_000L } };
        if (timerfd_settime(_fd, TfdTimerAbstime, ref spec, IntPtr.Zero) != 0)
            throw new IOException($"timerfd_settime: errno {Marshal.GetLastPInvokeError()}");
    }

    private void Run()
    {
        var due = new List<Entry>();
        while (true)
        {
            WaitForExpiry();
            lock (_gate)
            {
                if (_disposed)
                {
                    _ = close(_fd);
                    return;
                }
                var now = NowNs();
                while (_queue.TryPeek(out var head, out var at))
                {
                    if (head.Timer.Generation != head.Generation)
                    {
                        _queue.Dequeue(); // cancelled or re-scheduled
                        continue;
                    }
                    if (at > now) break;
                    _queue.Dequeue();
                    due.Add(head.Timer);
                    if (head.Timer.PeriodNs > 0)
                    {
                        // Periodic: the next deadline follows the last one, not this late wake-up.
                        head.Timer.DueNs = Math.Max(head.Timer.DueNs + head.Timer.PeriodNs, now);
                        _queue.Enqueue((head.Timer, head.Generation), head.Timer.DueNs);
                    }
                }
                Arm(_queue.TryPeek(out _, out var next) ? next : 0);
            }
            foreach (var timer in due)
            {
                try
                {
                    timer.Callback(timer.State);
                }
                catch (Exception)
                {
                    // As with a thread-pool timer, one throwing callback must not stop the others.
                    Interlocked.Increment(ref _callbackFailures);
                }
            }
            due.Clear();
        }
    }

    private unsafe void WaitForExpiry()
    {
        ulong expirations;
        while (read(_fd, &expirations, sizeof(ulong)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // EINTR: a signal; ECANCELED cannot happen without TFD_TIMER_CANCEL_ON_SET.
            if (errno != Eintr) throw new IOException($"read(timerfd): errno {errno}");
        }
    }

    private const int ClockMonotonic = 1;
    private const int TfdCloexec = 0x80000;
    private const int TfdTimerAbstime = 1;
    private const int Eintr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ITimerSpec
    {
        public TimeSpec Interval;
        public TimeSpec Value;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int timerfd_create(int clockId, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int timerfd_settime(int fd, int flags, ref ITimerSpec newValue, IntPtr oldValue);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
