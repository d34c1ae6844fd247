using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Protocol;

/// <summary>Builds what the raw sockets send: a whole IPv4 datagram, or the IPv6 payload.</summary>
public static class VrrpDatagram
{
    /// <summary>
    /// IPv4 header (TOS 0xc0, TTL, protocol 112) followed by the VRRP message, whose checksum
    /// uses this header's source and destination for the VRRPv3 pseudo-header.
    /// </summary>
    public static byte[] BuildIpv4(VrrpAdvertisement advert, IPAddress source, IPAddress destination, bool v3ChecksumAsV2,
        byte ttl = VrrpConstants.Ttl, ushort identification = 0)
    {
        ArgumentNullException.ThrowIfNull(advert);
        var length = VrrpMessage.GetLength((int)advert.Version, AddressFamily.InterNetwork, advert.Addresses.Count);
        var buffer = new byte[Ipv4Header.MinLength + length];
        Ipv4Header.Write(buffer, source, destination, VrrpConstants.IpProtocol, ttl, VrrpConstants.Ipv4Tos, identification, length);
        var kind = VrrpMessage.ChecksumKindFor(advert.Version, AddressFamily.InterNetwork, v3ChecksumAsV2);
        VrrpMessage.Write(buffer.AsSpan(Ipv4Header.MinLength), advert, AddressFamily.InterNetwork, kind, source, destination);
        return buffer;
    }

    /// <summary>
    /// The VRRP message for an IPv6 raw socket. The kernel builds the IPv6 header and, with
    /// IPV6_CHECKSUM at offset 6, fills the checksum; when the source is known it is computed here
    /// too, so the bytes are final either way.
    /// </summary>
    public static byte[] BuildIpv6(VrrpAdvertisement advert, IPAddress? source, IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(advert);
        var buffer = new byte[VrrpMessage.GetLength((int)advert.Version, AddressFamily.InterNetworkV6, advert.Addresses.Count)];
        VrrpMessage.Write(buffer, advert, AddressFamily.InterNetworkV6, VrrpChecksumKind.MessageOnly);
        if (source is not null)
        {
            var sum = VrrpMessage.ComputeChecksum(buffer, VrrpChecksumKind.Ipv6PseudoHeader, source, destination);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(VrrpMessage.ChecksumOffset), sum);
        }
        else
        {
            buffer[VrrpMessage.ChecksumOffset] = 0;
            buffer[VrrpMessage.ChecksumOffset + 1] = 0;
        }
        return buffer;
    }
}
