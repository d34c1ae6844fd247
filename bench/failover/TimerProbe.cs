using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Vigil.Bench.Failover;

/// <summary>
/// Diagnostic (`vigil-bench-failover timers`): how late a one-shot timer is handled on this
/// machine, measured against the precise monotonic clock, for the way vigil-vrrpd's driver
/// arms its timers and for alternatives:
/// - <b>driver</b>: TimeProvider.System.CreateTimer (System.Threading.Timer); its callback
///   writes to an unbounded channel drained by an async loop (the VrrpDriver path: timer thread,
///   thread-pool callback, loop continuation), re-arming when it fired before the deadline as
///   the driver does;
/// - <b>timer callback</b>: the same timer, lateness seen inside its callback (one hop less);
/// - <b>nanosleep thread</b>: a dedicated thread sleeping with clock_nanosleep(CLOCK_MONOTONIC,
///   TIMER_ABSTIME) to the deadline (what a timerfd/epoll loop such as keepalived's gets).
/// Deadlines are random fractions of a millisecond past whole milliseconds, like
/// Master_Down_Interval (3609.375 ms, 360.937 ms).
/// </summary>
internal static partial class TimerProbe
{
    public static async Task<int> RunAsync(int samples)
    {
        Console.WriteLine($"timer lateness, {samples} samples each, deadlines 20-60 ms + a random fraction of a ms; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var random = new Random(1);
        var driver = new List<double>();
        var callback = new List<double>();
        var rearms = 0;
        var sleeper = new List<double>();
        var sleeperLoop = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var delay = TimeSpan.FromMicroseconds(20_000 + random.Next(40_000) + random.NextDouble() * 1000);
            var (d, c, r) = await DriverStyleAsync(delay);
            driver.Add(d);
            callback.Add(c);
            rearms += r;
            sleeper.Add(NanosleepThread(delay));
            sleeperLoop.Add(await NanosleepThreadToLoopAsync(delay));
        }
        Print("driver (timer -> channel -> loop, re-arm if early)", driver);
        Print("timer callback (first firing, may be early)", callback);
        Print("nanosleep thread (CLOCK_MONOTONIC, absolute)", sleeper);
        Print("nanosleep thread -> channel -> loop", sleeperLoop);
        Console.WriteLine($"driver-style re-arms after an early firing: {rearms} of {samples}");
        return 0;
    }

    private static void Print(string what, List<double> lateMs)
    {
        var v = lateMs.Order().ToList();
        var early = v.Count(x => x < 0);
        string P(double q) => v[(int)Math.Ceiling(q * v.Count) - 1].ToString("0.000", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-52} min {v[0],7:0.000}  median {P(0.5),7}  p90 {P(0.9),7}  p99 {P(0.99),7}  max {v[^1],7:0.000} ms{(early > 0 ? $"  ({early} early)" : "")}"));
    }

    /// <summary>Lateness (ms) as the loop sees it, as the first callback saw it, and how many re-arms it took.</summary>
    private static async Task<(double Loop, double Callback, int Rearms)> DriverStyleAsync(TimeSpan delay)
    {
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        var time = TimeProvider.System;
        var start = Stopwatch.GetTimestamp();
        var due = start + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        double firstCallback = double.NaN;
        var timers = new List<ITimer>();
        void Arm(TimeSpan after) => timers.Add(time.CreateTimer(_ =>
        {
            var now = Stopwatch.GetTimestamp();
            // Negative when the timer fired before the deadline (it counts whole milliseconds).
            if (double.IsNaN(firstCallback)) firstCallback = (now - due) * 1000.0 / Stopwatch.Frequency;
            channel.Writer.TryWrite(now);
        }, null, after, Timeout.InfiniteTimeSpan));
        Arm(delay);
        var rearms = 0;
        await foreach (var _ in channel.Reader.ReadAllAsync())
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= due) break;
            rearms++;
            var left = Stopwatch.GetElapsedTime(now, due);
            Arm(left);
        }
        var seen = Stopwatch.GetTimestamp();
        foreach (var t in timers) t.Dispose();
        return (Stopwatch.GetElapsedTime(due, seen).TotalMilliseconds, firstCallback, rearms);
    }

    /// <summary>A precise sleeper thread handing the expiry to an async loop through a channel (a possible driver timer).</summary>
    private static async Task<double> NanosleepThreadToLoopAsync(TimeSpan delay)
    {
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        var due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        var thread = new Thread(() =>
        {
            clock_gettime(ClockMonotonic, out var now);
            var left = (due - Stopwatch.GetTimestamp()) * 1_000_000_000L / Stopwatch.Frequency;
            var dueNs = now.Seconds * 1_000_000_000L + now.Nanoseconds + left;
            var ts = new TimeSpec { Seconds = dueNs / 1_000_000_000L, Nanoseconds = dueNs % 1_000_000_000L };
            while (clock_nanosleep(ClockMonotonic, TimerAbstime, ref ts, IntPtr.Zero) == 4) { } // EINTR
            channel.Writer.TryWrite(0);
        }) { IsBackground = true };
        thread.Start();
        await channel.Reader.ReadAsync();
        var seen = Stopwatch.GetTimestamp();
        thread.Join();
        return (seen - due) * 1000.0 / Stopwatch.Frequency;
    }

    private static double NanosleepThread(TimeSpan delay)
    {
        double late = 0;
        var thread = new Thread(() =>
        {
            clock_gettime(ClockMonotonic, out var now);
            var dueNs = now.Seconds * 1_000_000_000L + now.Nanoseconds + (long)(delay.TotalMilliseconds * 1_000_000);
            var ts = new TimeSpec { Seconds = dueNs / 1_000_000_000L, Nanoseconds = dueNs % 1_000_000_000L };
            while (clock_nanosleep(ClockMonotonic, TimerAbstime, ref ts, IntPtr.Zero) == 4) { } // EINTR
            clock_gettime(ClockMonotonic, out var after);
            late = (after.Seconds * 1_000_000_000L + after.Nanoseconds - dueNs) / 1e6;
        }) { IsBackground = true };
        thread.Start();
        thread.Join();
        return late;
    }

    /// <summary>Sleeps the calling thread until a wall-clock instant (microseconds since the epoch), precisely.</summary>
    public static void SleepUntilRealtime(long unixMicros)
    {
        var ts = new TimeSpec { Seconds = unixMicros / 1_000_000, Nanoseconds = unixMicros % 1_000_000 * 1000 };
        while (clock_nanosleep(ClockRealtime, TimerAbstime, ref ts, IntPtr.Zero) == 4) { } // EINTR
    }

    private const int ClockRealtime = 0;
    private const int ClockMonotonic = 1;
    private const int TimerAbstime = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clock, out TimeSpec ts);

    [LibraryImport("libc")]
    private static partial int clock_nanosleep(int clock, int flags, ref TimeSpec request, IntPtr remain);
}
