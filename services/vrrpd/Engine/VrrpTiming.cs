using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>
/// The protocol timers, in whole microseconds and integer arithmetic exactly as keepalived
/// computes them, so that both implementations time out at the same instant.
/// </summary>
public static class VrrpTiming
{
    public const long MicrosPerSecond = 1_000_000;
    public const long MicrosPerCentisecond = 10_000;

    /// <summary>
    /// Skew_Time. VRRPv2 (RFC 3768 6.1): (256 - Priority) / 256 seconds.
    /// VRRPv3 (RFC 5798 6.1): ((256 - Priority) x Master_Adver_Interval) / 256, where the interval
    /// is whole centiseconds; keepalived evaluates it as (256 - p) x cs x 625 / 16 microseconds
    /// (625/16 = 10000/256) and truncates, e.g. priority 254 with a 1 cs interval gives 78 us.
    /// </summary>
    /// <param name="weight">256 - priority; <see cref="SkewMicrosFor"/> takes the priority.</param>
    public static long SkewMicros(VrrpVersion version, int weight, long masterAdverIntervalMicros) =>
        version == VrrpVersion.V3
            ? weight * (masterAdverIntervalMicros / MicrosPerCentisecond) * 625 / 16
            : weight * MicrosPerSecond / 256;

    public static long SkewMicrosFor(VrrpVersion version, byte priority, long masterAdverIntervalMicros) =>
        SkewMicros(version, 256 - priority, masterAdverIntervalMicros);

    /// <summary>Master_Down_Interval = down_timer_adverts x Master_Adver_Interval + Skew_Time.</summary>
    public static long MasterDownMicros(VrrpVersion version, byte priority, long masterAdverIntervalMicros, int downTimerAdverts) =>
        downTimerAdverts * masterAdverIntervalMicros + SkewMicrosFor(version, priority, masterAdverIntervalMicros);

    public static TimeSpan FromMicros(long micros) => TimeSpan.FromTicks(micros * (TimeSpan.TicksPerMillisecond / 1000));

    public static long ToMicros(TimeSpan span) => span.Ticks / (TimeSpan.TicksPerMillisecond / 1000);
}
