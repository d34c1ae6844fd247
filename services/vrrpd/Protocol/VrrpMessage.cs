using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Protocol;

/// <summary>How the checksum of a VRRP message is formed.</summary>
public enum VrrpChecksumKind
{
    /// <summary>Over the VRRP message only: VRRPv2, or VRRPv3 with <c>v3_checksum_as_v2</c>.</summary>
    MessageOnly,
    /// <summary>VRRPv3 over IPv4: the IPv4 pseudo-header, then the message (RFC 5798 5.2.8).</summary>
    Ipv4PseudoHeader,
    /// <summary>Over IPv6 (either version): the IPv6 pseudo-header, then the message.</summary>
    Ipv6PseudoHeader,
}

/// <summary>
/// Codec of the VRRP message itself (the IP payload), for both versions and both families.
/// <code>
/// VRRPv2 (RFC 3768 section 5.1):
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |   Auth Type   |   Adver Int   |          Checksum             |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                         IP Address (1)                        |
///    |                            .                                  |
///    |                         IP Address (n)                        |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                     Authentication Data (1)                   |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                     Authentication Data (2)                   |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// VRRPv3 (RFC 5798 section 5.1, unchanged in RFC 9568):
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |(rsvd) |     Max Adver Int     |          Checksum             |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                       IPvX Address(es)                        |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The authentication data exists only in VRRPv2 over IPv4 (keepalived's layout; VRRPv2 over
/// IPv6 is a keepalived extension without it).
/// </summary>
public static class VrrpMessage
{
    public const int HeaderLength = 8;
    public const int ChecksumOffset = 6;

    /// <summary>Largest VRRPv3 interval (12 bits of centiseconds, 40.95 s).</summary>
    public const int MaxV3IntervalCentiseconds = 0xfff;

    public static int AddressLength(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 4,
        AddressFamily.InterNetworkV6 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "VRRP runs over IPv4 or IPv6"),
    };

    public static bool HasAuthData(int versionNibble, AddressFamily family) =>
        versionNibble == (int)VrrpVersion.V2 && family == AddressFamily.InterNetwork;

    /// <summary>Length of a message with this version, family and number of addresses.</summary>
    public static int GetLength(int versionNibble, AddressFamily family, int addressCount) =>
        HeaderLength + addressCount * AddressLength(family) + (HasAuthData(versionNibble, family) ? VrrpConstants.AuthDataLength : 0);

    public static VrrpChecksumKind ChecksumKindFor(VrrpVersion version, AddressFamily family, bool v3ChecksumAsV2) =>
        family == AddressFamily.InterNetworkV6 ? VrrpChecksumKind.Ipv6PseudoHeader
        : version == VrrpVersion.V3 && !v3ChecksumAsV2 ? VrrpChecksumKind.Ipv4PseudoHeader
        : VrrpChecksumKind.MessageOnly;

    /// <summary>Reads the VRID without checking anything else; false when shorter than the header.</summary>
    public static bool TryReadVrid(ReadOnlySpan<byte> message, out byte vrid)
    {
        vrid = message.Length >= HeaderLength ? message[1] : (byte)0;
        return message.Length >= HeaderLength;
    }

    /// <summary>
    /// Decodes one message of exactly the length its header announces. Checks only the structure
    /// (length, version 2 or 3, type ADVERTISEMENT); checksum and authentication are separate.
    /// Never throws on any input.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, AddressFamily family, out VrrpAdvertisement? advert, out VrrpRejectReason reason)
    {
        advert = null;
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            reason = VrrpRejectReason.BadIpHeader;
            return false;
        }
        if (message.Length < HeaderLength)
        {
            reason = VrrpRejectReason.Truncated;
            return false;
        }
        var versionNibble = message[0] >> 4;
        if (message.Length != GetLength(versionNibble, family, message[3]))
        {
            reason = VrrpRejectReason.LengthMismatch;
            return false;
        }
        if (versionNibble is not ((int)VrrpVersion.V2 or (int)VrrpVersion.V3))
        {
            reason = VrrpRejectReason.WrongVersion;
            return false;
        }
        if ((message[0] & 0x0f) != VrrpConstants.TypeAdvertisement)
        {
            reason = VrrpRejectReason.InvalidType;
            return false;
        }
        advert = Decode(message, family);
        reason = VrrpRejectReason.None;
        return true;
    }

    /// <summary>Decodes a message whose length already matches its header (callers checked it).</summary>
    internal static VrrpAdvertisement Decode(ReadOnlySpan<byte> message, AddressFamily family)
    {
        var version = (VrrpVersion)(message[0] >> 4);
        var count = message[3];
        var addrLen = AddressLength(family);
        var addresses = new IPAddress[count];
        for (var i = 0; i < count; i++)
        {
            addresses[i] = new IPAddress(message.Slice(HeaderLength + i * addrLen, addrLen));
        }
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(message[ChecksumOffset..]);
        if (version == VrrpVersion.V2)
        {
            var auth = HasAuthData((int)version, family)
                ? message.Slice(HeaderLength + count * addrLen, VrrpConstants.AuthDataLength).ToArray()
                : [];
            return new VrrpAdvertisement(version, message[1], message[2], message[5] * 100, addresses, (VrrpAuthType)message[4], auth, checksum);
        }
        // The top 4 bits of the interval word are reserved: ignored on receipt (RFC 5798 5.2.6).
        var interval = BinaryPrimitives.ReadUInt16BigEndian(message[4..]) & MaxV3IntervalCentiseconds;
        return new VrrpAdvertisement(version, message[1], message[2], interval, addresses, VrrpAuthType.None, default, checksum);
    }

    /// <summary>
    /// Encodes the advert into <paramref name="destination"/> and fills in its checksum. The
    /// pseudo-header kinds need the IP source and destination the packet will carry.
    /// Returns the number of bytes written.
    /// </summary>
    public static int Write(Span<byte> destination, VrrpAdvertisement advert, AddressFamily family, VrrpChecksumKind checksumKind,
        IPAddress? source = null, IPAddress? ipDestination = null)
    {
        ArgumentNullException.ThrowIfNull(advert);
        var addrLen = AddressLength(family);
        if (advert.Addresses.Count > byte.MaxValue)
            throw new ArgumentException($"at most 255 addresses fit in one advert, got {advert.Addresses.Count}", nameof(advert));
        var length = GetLength((int)advert.Version, family, advert.Addresses.Count);
        if (destination.Length < length)
            throw new ArgumentException($"buffer of {destination.Length} bytes is too small for a {length}-byte advert", nameof(destination));

        var msg = destination[..length];
        msg[0] = (byte)(((int)advert.Version << 4) | VrrpConstants.TypeAdvertisement);
        msg[1] = advert.Vrid;
        msg[2] = advert.Priority;
        msg[3] = (byte)advert.Addresses.Count;
        if (advert.Version == VrrpVersion.V2)
        {
            if (advert.IntervalCentiseconds % 100 != 0 || advert.IntervalCentiseconds / 100 is < 0 or > 255)
                throw new ArgumentException($"VRRPv2 interval must be whole seconds 0..255, got {advert.IntervalCentiseconds} cs", nameof(advert));
            msg[4] = (byte)advert.AuthType;
            msg[5] = (byte)(advert.IntervalCentiseconds / 100);
        }
        else
        {
            if (advert.IntervalCentiseconds is < 0 or > MaxV3IntervalCentiseconds)
                throw new ArgumentException($"VRRPv3 interval must be 0..4095 cs, got {advert.IntervalCentiseconds}", nameof(advert));
            BinaryPrimitives.WriteUInt16BigEndian(msg[4..], (ushort)advert.IntervalCentiseconds);
        }
        msg[6] = 0;
        msg[7] = 0;
        for (var i = 0; i < advert.Addresses.Count; i++)
        {
            var a = advert.Addresses[i];
            if (a.AddressFamily != family)
                throw new ArgumentException($"address {a} is not of the advert's family {family}", nameof(advert));
            a.TryWriteBytes(msg.Slice(HeaderLength + i * addrLen, addrLen), out _);
        }
        if (HasAuthData((int)advert.Version, family))
        {
            var auth = msg.Slice(HeaderLength + advert.Addresses.Count * addrLen, VrrpConstants.AuthDataLength);
            auth.Clear();
            var data = advert.AuthData.Span;
            data[..Math.Min(data.Length, VrrpConstants.AuthDataLength)].CopyTo(auth);
        }
        BinaryPrimitives.WriteUInt16BigEndian(msg[ChecksumOffset..], ComputeChecksum(msg, checksumKind, source, ipDestination));
        return length;
    }

    /// <summary>Encodes into a new array.</summary>
    public static byte[] Build(VrrpAdvertisement advert, AddressFamily family, VrrpChecksumKind checksumKind, IPAddress? source = null, IPAddress? ipDestination = null)
    {
        var buffer = new byte[GetLength((int)advert.Version, family, advert.Addresses.Count)];
        Write(buffer, advert, family, checksumKind, source, ipDestination);
        return buffer;
    }

    /// <summary>The checksum of the message, computed as if its checksum field were zero.</summary>
    public static ushort ComputeChecksum(ReadOnlySpan<byte> message, VrrpChecksumKind kind, IPAddress? source, IPAddress? destination)
    {
        var sum = StartSum(message.Length, kind, source, destination);
        sum = InternetChecksum.Add(sum, message[..ChecksumOffset]);
        sum = InternetChecksum.Add(sum, message[(ChecksumOffset + 2)..]);
        return InternetChecksum.Finish(sum);
    }

    /// <summary>True when the checksum field of the message verifies.</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> message, VrrpChecksumKind kind, IPAddress? source, IPAddress? destination)
    {
        if (message.Length < HeaderLength) return false;
        var sum = StartSum(message.Length, kind, source, destination);
        return InternetChecksum.Finish(InternetChecksum.Add(sum, message)) == 0;
    }

    private static uint StartSum(int length, VrrpChecksumKind kind, IPAddress? source, IPAddress? destination)
    {
        if (kind == VrrpChecksumKind.MessageOnly) return 0;
        if (source is null || destination is null)
            throw new ArgumentException($"checksum kind {kind} needs the IP source and destination");
        var family = kind == VrrpChecksumKind.Ipv4PseudoHeader ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (source.AddressFamily != family || destination.AddressFamily != family)
            throw new ArgumentException($"checksum kind {kind} needs {family} addresses, got {source} and {destination}");
        Span<byte> src = stackalloc byte[16];
        Span<byte> dst = stackalloc byte[16];
        source.TryWriteBytes(src, out var n);
        destination.TryWriteBytes(dst, out _);
        return kind == VrrpChecksumKind.Ipv4PseudoHeader
            ? InternetChecksum.AddIpv4PseudoHeader(0, src[..n], dst[..n], VrrpConstants.IpProtocol, length)
            : InternetChecksum.AddIpv6PseudoHeader(0, src[..n], dst[..n], VrrpConstants.IpProtocol, length);
    }
}
