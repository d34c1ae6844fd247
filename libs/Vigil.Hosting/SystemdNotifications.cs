using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;

namespace Vigil.Hosting;

/// <summary>
/// systemd's notification protocol through Microsoft.Extensions.Hosting.Systemd's
/// <see cref="SystemdNotifier"/> (the datagram to $NOTIFY_SOCKET, abstract sockets included).
/// Vigil's own part is only what that library has no state for: WATCHDOG=1, which is sent only
/// while the daemon's work loops are healthy (<see cref="Heartbeats"/>), never by a free-running
/// timer, and RELOADING=1 with the MONOTONIC_USEC that systemd 253's Type=notify-reload wants.
/// Without NOTIFY_SOCKET every call does nothing.
/// </summary>
public sealed class SystemdNotifications
{
    private readonly ISystemdNotifier _notifier;
    private long _lastWatchdog;

    /// <param name="watchdogInterval">Null: from WATCHDOG_USEC / WATCHDOG_PID, as systemd sets them.</param>
    public SystemdNotifications(ISystemdNotifier? notifier = null, TimeSpan? watchdogInterval = null)
    {
        _notifier = notifier ?? new SystemdNotifier();
        WatchdogInterval = watchdogInterval ?? ReadWatchdogInterval();
    }

    public bool Enabled => _notifier.IsEnabled;

    /// <summary>The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), or null.</summary>
    public TimeSpan? WatchdogInterval { get; }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");
    public void Stopping() => _notifier.Notify(ServiceState.Stopping);
    public void Reloading() => Send($"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds().ToString(CultureInfo.InvariantCulture)}");
    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>Sends WATCHDOG=1 when healthy and half the interval has passed since the last one.</summary>
    public void FeedWatchdog(bool healthy)
    {
        if (!healthy || WatchdogInterval is not { } interval) return;
        var now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastWatchdog) < (long)(interval.TotalMilliseconds / 2)) return;
        Volatile.Write(ref _lastWatchdog, now);
        Send("WATCHDOG=1");
    }

    private void Send(string state) => _notifier.Notify(new ServiceState(state));

    private static TimeSpan? ReadWatchdogInterval()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) || usec <= 0) return null;
        if (int.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_PID"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId) return null;
        return TimeSpan.FromMicroseconds(usec);
    }

    /// <summary>CLOCK_MONOTONIC in µs (Stopwatch counts it on Linux).</summary>
    private static long MonotonicMicroseconds() => (long)(System.Diagnostics.Stopwatch.GetTimestamp() * (1_000_000.0 / System.Diagnostics.Stopwatch.Frequency));
}
