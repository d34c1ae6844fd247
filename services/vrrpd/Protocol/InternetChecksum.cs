using System.Buffers.Binary;

namespace Vigil.Vrrpd.Protocol;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
/// the data taken as big-endian 16-bit words, an odd last byte padded with zero. Sums of several
/// pieces (pseudo-header, then message) are accumulated with <see cref="Add"/> and folded once.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds the bytes to a running 32-bit sum. Only the last piece may have odd length.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            // Fold early so that no realistic length can overflow the accumulator.
            if ((sum & 0x8000_0000) != 0) sum = (sum & 0xffff) + (sum >> 16);
        }
        if (i < data.Length) sum += (uint)data[i] << 8;
        return sum;
    }

    public static uint Add(uint sum, ushort word) => sum + word;

    /// <summary>Folds the carries and complements: the value to store in a checksum field.</summary>
    public static ushort Finish(uint sum)
    {
        while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The checksum of one buffer (its checksum field zero when computing, as it is).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>
    /// The sum of the IPv4 pseudo-header (RFC 768 layout: source, destination, zero, protocol,
    /// upper-layer length) that RFC 5798 section 5.2.8 puts in front of a VRRPv3 message.
    /// </summary>
    public static uint AddIpv4PseudoHeader(uint sum, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        sum = Add(sum, source);
        sum = Add(sum, destination);
        sum = Add(sum, protocol);
        return Add(sum, (ushort)length);
    }

    /// <summary>
    /// The sum of the IPv6 pseudo-header (RFC 8200 section 8.1: source, destination, 32-bit
    /// upper-layer length, three zero bytes, next header).
    /// </summary>
    public static uint AddIpv6PseudoHeader(uint sum, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, int length)
    {
        sum = Add(sum, source);
        sum = Add(sum, destination);
        sum = Add(sum, (ushort)((uint)length >> 16));
        sum = Add(sum, (ushort)length);
        return Add(sum, nextHeader);
    }
}
