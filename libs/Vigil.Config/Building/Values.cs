using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

/// <summary>
/// Reads numbers, timers, booleans and addresses the way keepalived's read_int(),
/// read_unsigned(), read_decimal_unsigned(), read_timer(), check_true_false() and inet_pton()
/// do, with keepalived's messages, so an invalid value is reported where keepalived reports it.
/// </summary>
internal sealed class Values(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    /// <summary>
    /// The argument at <paramref name="index"/>, or null after reporting it missing (keepalived
    /// exits at once when a handler reads a word that is not there, so the configuration cannot run).
    /// </summary>
    public string? Required(ConfigNode node, int index)
    {
        if (node.Arg(index) is { } value) return value;
        var word = index + 1;
        var previous = node.Tokens[Math.Min(word - 1, node.Tokens.Count - 1)].Text;
        Diagnostics.Fatal(node.ArgPosition(index),
            $"*** Configuration line starting `{node.Keyword}` is missing a parameter after keyword `{previous}` at word position {word + 1}",
            ConfigErrorClass.Aborted);
        return null;
    }

    public bool TryUnsigned(ConfigNode node, int index, ulong min, ulong max, out ulong value)
    {
        value = 0;
        var text = Required(node, index);
        return text is not null && TryUnsigned(text, node.ArgPosition(index), min, max, out value);
    }

    public bool TryUnsigned(string text, SourcePosition at, ulong min, ulong max, out ulong value, ulong limit = uint.MaxValue)
    {
        value = 0;
        var s = text.TrimStart(' ', '\t', '\f', '\n', '\r', '\v');
        if (s.StartsWith('-'))
        {
            Diagnostics.Error(at, $"negative number '{text}'", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (!TryStrtoul(s, 10, out value, out var overflow))
        {
            Diagnostics.Error(at, $"invalid number '{text}'", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (overflow || value > limit)
        {
            Diagnostics.Error(at, $"number '{text}' outside unsigned integer range", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (value < min || value > max)
        {
            Diagnostics.Error(at, $"number '{text}' outside range [{min}, {max}]", ConfigErrorClass.InvalidNumber);
            return false;
        }
        return true;
    }

    public bool TryInt(ConfigNode node, int index, long min, long max, out long value)
    {
        value = 0;
        var text = Required(node, index);
        return text is not null && TryInt(text, node.ArgPosition(index), min, max, out value);
    }

    public bool TryInt(string text, SourcePosition at, long min, long max, out long value)
    {
        value = 0;
        var s = text.TrimStart(' ', '\t', '\f', '\n', '\r', '\v');
        var negative = s.StartsWith('-');
        var digits = s.StartsWith('-') || s.StartsWith('+') ? s[1..] : s;
        if (!TryStrtoul(digits, 10, out var magnitude, out var overflow))
        {
            Diagnostics.Error(at, $"invalid number '{text}'", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (overflow || magnitude > (negative ? 2147483648UL : int.MaxValue))
        {
            Diagnostics.Error(at, $"number '{text}' outside integer range", ConfigErrorClass.InvalidNumber);
            return false;
        }
        value = negative ? -(long)magnitude : (long)magnitude;
        if (value < min || value > max)
        {
            Diagnostics.Error(at, $"number '{text}' outside range [{min}, {max}]", ConfigErrorClass.InvalidNumber);
            return false;
        }
        return true;
    }

    /// <summary>
    /// A decimal with up to <paramref name="digits"/> places, returned scaled by 10^digits (keepalived's
    /// read_decimal_unsigned); min and max are scaled too. Too many places is reported and rounded.
    /// </summary>
    public bool TryDecimal(string text, SourcePosition at, int digits, ulong min, ulong max, out ulong value)
    {
        value = 0;
        if (text.StartsWith('-'))
        {
            Diagnostics.Error(at, $"negative number '{text}'", ConfigErrorClass.InvalidNumber);
            return false;
        }
        var dot = text.IndexOf('.');
        var places = dot < 0 ? 0 : text.Length - dot - 1;
        var roundUp = false;
        var s = text;
        if (places > digits)
        {
            Diagnostics.Error(at, $"number '{text}' has too many decimal places", ConfigErrorClass.InvalidNumber);
            roundUp = text[dot + digits + 1] >= '5';
            s = text[..(dot + digits + 1)];
            places = digits;
        }
        var joined = dot < 0 ? s : s.Remove(dot, 1);
        joined += new string('0', digits - places);
        if (!TryStrtoul(joined, 10, out value, out var overflow))
        {
            Diagnostics.Error(at, $"invalid number '{text}'", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (overflow)
        {
            Diagnostics.Error(at, $"number '{text}' outside unsigned decimal range", ConfigErrorClass.InvalidNumber);
            return false;
        }
        if (roundUp) value++;
        if (value < min || value > max)
        {
            var scale = (ulong)Math.Pow(10, digits);
            var f = "D" + digits.ToString(CultureInfo.InvariantCulture);
            Diagnostics.Error(at, $"number '{text}' outside range [{min / scale}.{(min % scale).ToString(f, CultureInfo.InvariantCulture)}, {max / scale}.{(max % scale).ToString(f, CultureInfo.InvariantCulture)}]", ConfigErrorClass.InvalidNumber);
            return false;
        }
        return true;
    }

    /// <summary>keepalived's read_timer(): seconds with microsecond resolution; min and max in microseconds (max 0: none).</summary>
    public bool TryTimer(ConfigNode node, int index, ulong minMicros, ulong maxMicros, out TimeSpan value)
    {
        value = default;
        var text = Required(node, index);
        if (text is null) return false;
        if (!TryDecimal(text, node.ArgPosition(index), 6, minMicros, maxMicros == 0 ? ulong.MaxValue - 1 : maxMicros, out var micros)) return false;
        value = TimeSpan.FromTicks((long)Math.Min(micros, (ulong)(long.MaxValue / 10)) * 10);
        return true;
    }

    /// <summary>on/true/yes or off/false/no; null for anything else.</summary>
    public static bool? TrueFalse(string s) => s switch
    {
        "true" or "on" or "yes" => true,
        "false" or "off" or "no" => false,
        _ => null,
    };

    /// <summary>strtoul(s, end, base) where the whole string must be consumed ("" is invalid here, as in keepalived only when empty after skipping).</summary>
    private static bool TryStrtoul(string s, int radix, out ulong value, out bool overflow)
    {
        value = 0;
        overflow = false;
        // strtoul("") consumes nothing and leaves *endptr == '\0', so keepalived takes "" as 0.
        if (s.Length == 0) return true;
        var i = s[0] == '+' ? 1 : 0;
        if (i >= s.Length) return false;
        for (; i < s.Length; i++)
        {
            var d = s[i] - '0';
            if (d < 0 || d >= radix) return false;
            if (value > (ulong.MaxValue - (ulong)d) / (ulong)radix) overflow = true;
            else value = value * (ulong)radix + (ulong)d;
        }
        return true;
    }

    // ------------------------------------------------------------------ addresses

    /// <summary>inet_pton() with keepalived's rule that a ':' makes an address IPv6.</summary>
    public static IPAddress? ParseAddress(string text)
    {
        if (text.Contains(':'))
        {
            if (text.Contains('%') || text.Contains('[') || text.Contains('/')) return null;
            return IPAddress.TryParse(text, out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6 ? a6 : null;
        }
        return ParseIPv4(text);
    }

    /// <summary>Strict dotted quad (inet_pton: four decimal parts 0..255, no leading zeros).</summary>
    public static IPAddress? ParseIPv4(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4) return null;
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length == 0 || p.Length > 3 || (p.Length > 1 && p[0] == '0')) return null;
            var v = 0;
            foreach (var c in p)
            {
                if (c is < '0' or > '9') return null;
                v = v * 10 + (c - '0');
            }
            if (v > 255) return null;
            bytes[i] = (byte)v;
        }
        return new IPAddress(bytes);
    }

    /// <summary>keepalived's inet_stosockaddr(): an address (anything after '-' or '/' ignored) and an optional port 1..65535.</summary>
    public IPAddress? ParseSocketAddress(string ip, string? port, SourcePosition portAt, out int portNumber)
    {
        portNumber = 0;
        if (port is not null)
        {
            if (!TryUnsigned(port, portAt, 1, 65535, out var p)) return null;
            portNumber = (int)p;
        }
        var cut = ip.IndexOf('-');
        if (cut < 0) cut = ip.IndexOf('/');
        return ParseAddress(cut < 0 ? ip : ip[..cut]);
    }

    public static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? (address.GetAddressBytes()[0] & 0xf0) == 0xe0 : address.IsIPv6Multicast;

    /// <summary>IPv6 link-local multicast (ff02::/16 in the scope nibble).</summary>
    public static bool IsLinkLocalMulticast6(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return b.Length == 16 && b[0] == 0xff && (b[1] & 0x0f) == 2;
    }
}
