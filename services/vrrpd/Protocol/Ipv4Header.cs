using System.Buffers.Binary;
using System.Net;

namespace Vigil.Vrrpd.Protocol;

/// <summary>
/// The fields of an IPv4 header that VRRP cares about. A raw IPv4 socket delivers the whole
/// datagram including this header, and Vigil sends adverts with IP_HDRINCL (as keepalived does)
/// so that TTL, TOS and source are exactly what the RFC asks.
/// <code>
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |Version|  IHL  |Type of Service|          Total Length         |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |         Identification        |Flags|      Fragment Offset    |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |  Time to Live |    Protocol   |         Header Checksum       |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                       Source Address                          |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                    Destination Address                        |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                    Options (IHL > 5)                          |
/// </code>
/// </summary>
public readonly record struct Ipv4Header(
    int HeaderLength,
    byte Tos,
    ushort TotalLength,
    ushort Identification,
    byte Ttl,
    byte Protocol,
    IPAddress Source,
    IPAddress Destination)
{
    public const int MinLength = 20;

    /// <summary>Reads the header; false (with a reason) when it is not a well-formed IPv4 header.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out Ipv4Header header, out VrrpRejectReason reason)
    {
        header = default;
        if (datagram.Length < MinLength)
        {
            reason = VrrpRejectReason.Truncated;
            return false;
        }
        var ihl = (datagram[0] & 0x0f) * 4;
        if (datagram[0] >> 4 != 4 || ihl < MinLength)
        {
            reason = VrrpRejectReason.BadIpHeader;
            return false;
        }
        if (datagram.Length < ihl)
        {
            reason = VrrpRejectReason.Truncated;
            return false;
        }
        header = new Ipv4Header(
            ihl,
            datagram[1],
            BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]),
            datagram[8],
            datagram[9],
            new IPAddress(datagram.Slice(12, 4)),
            new IPAddress(datagram.Slice(16, 4)));
        reason = VrrpRejectReason.None;
        return true;
    }

    /// <summary>
    /// Writes a 20-byte header without options, with its header checksum. (With IP_HDRINCL the
    /// kernel would fill an identification of 0 and the checksum itself; writing them keeps the
    /// bytes the same whether or not it does.)
    /// </summary>
    public static int Write(Span<byte> destination, IPAddress source, IPAddress target, byte protocol, byte ttl, byte tos, ushort identification, int payloadLength)
    {
        if (destination.Length < MinLength) throw new ArgumentException("buffer too small for an IPv4 header", nameof(destination));
        var total = MinLength + payloadLength;
        if (total > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(payloadLength));
        var h = destination[..MinLength];
        h[0] = 0x45;
        h[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], identification);
        h[6] = 0;
        h[7] = 0;
        h[8] = ttl;
        h[9] = protocol;
        h[10] = 0;
        h[11] = 0;
        if (!source.TryWriteBytes(h.Slice(12, 4), out var n1) || n1 != 4 || !target.TryWriteBytes(h.Slice(16, 4), out var n2) || n2 != 4)
            throw new ArgumentException($"IPv4 header needs IPv4 addresses, got {source} and {target}");
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], InternetChecksum.Compute(h));
        return MinLength;
    }
}
