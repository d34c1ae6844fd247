using System.Globalization;

namespace Vigil.Rpc.Protocol;

/// <summary>
/// The grpc-timeout header: 1 to 8 ASCII digits followed by a unit, H (hours), M (minutes),
/// S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
public static class GrpcTimeout
{
    private const long MaxValue = 99_999_999;

    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan timeout)
    {
        timeout = default;
        if (text.Length < 2 || text.Length > 9) return false;
        var digits = text[..^1];
        foreach (var c in digits)
        {
            if (c is < '0' or > '9') return false;
        }
        var value = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        long ticks;
        switch (text[^1])
        {
            case 'H': ticks = value * TimeSpan.TicksPerHour; break;
            case 'M': ticks = value * TimeSpan.TicksPerMinute; break;
            case 'S': ticks = value * TimeSpan.TicksPerSecond; break;
            case 'm': ticks = value * TimeSpan.TicksPerMillisecond; break;
            case 'u': ticks = value * 10; break;
            case 'n': ticks = value / 100; break;
            default: return false;
        }
        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>The shortest exact-or-rounded-up encoding that fits in 8 digits.</summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) return "1n";
        var ticks = timeout.Ticks;
        // Pick the finest unit whose value fits in 8 digits, rounding up so a deadline is never shortened.
        if (ticks <= MaxValue / 100) return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        if (CeilDiv(ticks, 10) <= MaxValue) return CeilDiv(ticks, 10).ToString(CultureInfo.InvariantCulture) + "u";
        if (CeilDiv(ticks, TimeSpan.TicksPerMillisecond) <= MaxValue) return CeilDiv(ticks, TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "m";
        if (CeilDiv(ticks, TimeSpan.TicksPerSecond) <= MaxValue) return CeilDiv(ticks, TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "S";
        if (CeilDiv(ticks, TimeSpan.TicksPerMinute) <= MaxValue) return CeilDiv(ticks, TimeSpan.TicksPerMinute).ToString(CultureInfo.InvariantCulture) + "M";
        return Math.Min(CeilDiv(ticks, TimeSpan.TicksPerHour), MaxValue).ToString(CultureInfo.InvariantCulture) + "H";
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
