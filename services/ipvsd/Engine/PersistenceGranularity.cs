using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Vigil.Ipvsd.Engine;

/// <summary>
/// persistence_granularity both ways: keepalived.conf writes an IPv4 netmask ("255.255.255.0")
/// or an IPv6 prefix length, the kernel keeps a prefix length, ipvsadm prints it back the way
/// keepalived.conf writes it. One place, so the two directions cannot drift apart.
/// </summary>
public static class PersistenceGranularity
{
    /// <summary>The prefix length; null for an empty value (one client address).</summary>
    /// <exception cref="FormatException">not a contiguous netmask or an in-range prefix length</exception>
    public static int? Parse(string text, AddressFamily family)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (int.TryParse(text, out var prefix) && prefix >= 1 && prefix <= (family == AddressFamily.InterNetworkV6 ? 128 : 32)) return prefix;
        if (family == AddressFamily.InterNetwork && IPAddress.TryParse(text, out var mask) && mask.AddressFamily == AddressFamily.InterNetwork)
        {
            var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
            var ones = BitOperations.LeadingZeroCount(~bits);
            if (ones == 32 || bits << ones == 0) return ones;
        }
        throw new FormatException($"persistence_granularity: \"{text}\" is not a netmask or prefix length");
    }

    /// <summary>As ipvsadm prints it: IPv4 as a netmask, IPv6 as a prefix length.</summary>
    public static string Format(int prefix, AddressFamily family)
    {
        if (family == AddressFamily.InterNetworkV6) return prefix.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(mask)).ToString();
    }
}
