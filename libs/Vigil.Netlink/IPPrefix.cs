using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Netlink;

/// <summary>
/// An address with a prefix length, as on an interface ("10.0.0.5/24": host bits may be set,
/// unlike <see cref="IPNetwork"/>) or as a route destination ("10.0.0.0/24").
/// </summary>
public readonly record struct IPPrefix
{
    public IPPrefix(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException($"{address} is neither IPv4 nor IPv6", nameof(address));
        }
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, $"prefix length of {address} must be 0..{max}");
        }
        Address = address;
        PrefixLength = prefixLength;
    }

    public IPAddress Address { get; }
    public int PrefixLength { get; }
    public AddressFamily AddressFamily => Address.AddressFamily;
    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>Bits of the address family: 32 or 128.</summary>
    public int MaxPrefixLength => IsIPv4 ? 32 : 128;

    /// <summary>A single host: /32 or /128.</summary>
    public static IPPrefix Host(IPAddress address) => new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);

    /// <summary>0.0.0.0/0 or ::/0.</summary>
    public static IPPrefix Default(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? new(IPAddress.IPv6Any, 0) : new(IPAddress.Any, 0);

    /// <summary>The prefix with host bits cleared ("10.0.0.5/24" -> "10.0.0.0/24").</summary>
    public IPPrefix Network
    {
        get
        {
            var bytes = Address.GetAddressBytes();
            for (var i = 0; i < bytes.Length; i++)
            {
                var bits = Math.Clamp(PrefixLength - i * 8, 0, 8);
                bytes[i] &= (byte)(0xff << (8 - bits));
            }
            return new IPPrefix(new IPAddress(bytes), PrefixLength);
        }
    }

    /// <summary>The IPv4 directed broadcast (host bits set), as <c>ip addr add ... brd +</c>
    /// computes it; null for IPv6 and for /31 and /32, where iproute2 sets none.</summary>
    public IPAddress? Broadcast
    {
        get
        {
            if (!IsIPv4 || PrefixLength > 30)
            {
                return null;
            }
            var bytes = Address.GetAddressBytes();
            for (var i = 0; i < 4; i++)
            {
                var bits = Math.Clamp(PrefixLength - i * 8, 0, 8);
                bytes[i] |= (byte)(0xff >> bits);
            }
            return new IPAddress(bytes);
        }
    }

    public bool Contains(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily)
        {
            return false;
        }
        return new IPPrefix(address, PrefixLength).Network.Address.Equals(Network.Address);
    }

    /// <summary>"10.0.0.5/24", "2001:db8::1/64"; a bare address is a host prefix.</summary>
    public static IPPrefix Parse(string text) =>
        TryParse(text, out var p, out var error) ? p : throw new FormatException($"'{text}' is not an address/prefix: {error}");

    public static bool TryParse([NotNullWhen(true)] string? text, out IPPrefix prefix) => TryParse(text, out prefix, out _);

    private static bool TryParse(string? text, out IPPrefix prefix, out string error)
    {
        prefix = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "empty";
            return false;
        }
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (addressText.Contains('%') || !IPAddress.TryParse(addressText, out var address)
            || address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            error = $"'{addressText}' is not an IPv4 or IPv6 address";
            return false;
        }
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, null, out length) || length > max))
        {
            error = $"prefix length must be 0..{max}";
            return false;
        }
        prefix = new IPPrefix(address, length);
        error = "";
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}
