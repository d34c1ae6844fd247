using System.Collections.Concurrent;
using System.Diagnostics;
using Vigil.Vrrpd.Platform;

namespace Vigil.Vrrpd.Tests.Platform;

/// <summary>The timerfd-backed TimeProvider that vigil-vrrpd's protocol timers run on.</summary>
public sealed class MonotonicTimeProviderTests : IDisposable
{
    private readonly MonotonicTimeProvider _time = new();

    public void Dispose() => _time.Dispose();

    private (ITimer Timer, TaskCompletionSource<long> Fired) OneShot(TimeSpan due)
    {
        var fired = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var timer = _time.CreateTimer(_ => fired.TrySetResult(Stopwatch.GetTimestamp()), null, due, Timeout.InfiniteTimeSpan);
        return (timer, fired);
    }

    [Fact]
    public async Task Timers_NeverFireEarly_AndMostlyWithinAMillisecond()
    {
        // System.Threading.Timer on this kind of kernel fires up to 4 ms early or late; these must not.
        var lateness = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            var due = TimeSpan.FromMilliseconds(3 + (i % 7) + i * 0.137 % 1);
            var armed = Stopwatch.GetTimestamp();
            var (timer, fired) = OneShot(due);
            using (timer)
            {
                var at = await fired.Task.WaitAsync(TimeSpan.FromSeconds(5));
                var late = Stopwatch.GetElapsedTime(armed, at) - due;
                Assert.True(late >= TimeSpan.Zero, $"fired {-late.TotalMilliseconds:0.000} ms early");
                lateness.Add(late.TotalMilliseconds);
            }
        }
        lateness.Sort();
        // The median, not the max: a loaded CI machine may delay any one wake-up.
        Assert.True(lateness[lateness.Count / 2] < 1.0, $"median lateness {lateness[lateness.Count / 2]:0.000} ms; all: {string.Join(' ', lateness.Select(l => l.ToString("0.00")))}");
    }

    [Fact]
    public async Task EarlierTimer_ScheduledWhileTheThreadSleeps_WakesItAtTheNewDeadline()
    {
        var (far, farFired) = OneShot(TimeSpan.FromSeconds(30));
        await Task.Delay(20); // the thread is now asleep until the far deadline
        var armed = Stopwatch.GetTimestamp();
        var (near, nearFired) = OneShot(TimeSpan.FromMilliseconds(10));
        var at = await nearFired.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.InRange(Stopwatch.GetElapsedTime(armed, at).TotalMilliseconds, 10, 1000);
        Assert.False(farFired.Task.IsCompleted);
        far.Dispose();
        near.Dispose();
    }

    [Fact]
    public async Task Dispose_AndChangeToInfinite_CancelATimer_ChangeReschedulesIt()
    {
        var (cancelled, cancelledFired) = OneShot(TimeSpan.FromMilliseconds(20));
        cancelled.Dispose();
        var (paused, pausedFired) = OneShot(TimeSpan.FromMilliseconds(20));
        Assert.True(paused.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        var (moved, movedFired) = OneShot(TimeSpan.FromSeconds(30));
        var armed = Stopwatch.GetTimestamp();
        Assert.True(moved.Change(TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan));

        var at = await movedFired.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(Stopwatch.GetElapsedTime(armed, at) >= TimeSpan.FromMilliseconds(30));
        await Task.Delay(50);
        Assert.False(cancelledFired.Task.IsCompleted);
        Assert.False(pausedFired.Task.IsCompleted);
        paused.Dispose();
        moved.Dispose();
    }

    [Fact]
    public async Task Periodic_FiresRepeatedly_AndAThrowingCallbackDoesNotStopOthers()
    {
        var ticks = new ConcurrentQueue<long>();
        using var periodic = _time.CreateTimer(_ => ticks.Enqueue(Stopwatch.GetTimestamp()), null, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
        using var throwing = _time.CreateTimer(_ => throw new InvalidOperationException("boom"), null, TimeSpan.FromMilliseconds(7), Timeout.InfiniteTimeSpan);
        var (after, afterFired) = OneShot(TimeSpan.FromMilliseconds(60));
        await afterFired.Task.WaitAsync(TimeSpan.FromSeconds(5));
        after.Dispose();
        Assert.True(ticks.Count >= 5, $"{ticks.Count} ticks in 60 ms of a 5 ms period");
        Assert.Equal(1, _time.CallbackFailures);
        periodic.Dispose();
        var count = ticks.Count;
        await Task.Delay(30);
        Assert.InRange(ticks.Count, count, count + 1); // at most one already on its way
    }

    [Fact]
    public void Disposed_TimersCannotBeChanged()
    {
        var (timer, _) = OneShot(TimeSpan.FromSeconds(1));
        _time.Dispose();
        Assert.False(timer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan));
    }
}
