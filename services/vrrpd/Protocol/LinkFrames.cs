using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Protocol;

/// <summary>
/// Gratuitous ARP: an Ethernet broadcast ARP request whose sender and target protocol addresses
/// are both the VIP, so every host on the segment updates its entry for the VIP to our MAC.
/// Layout as keepalived sends it (target hardware address = broadcast):
/// <code>
///    Ethernet: dst ff:ff:ff:ff:ff:ff | src MAC | type 0x0806
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |   Hardware type = 1 (Ether)   |   Protocol type = 0x0800      |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |  HLen = 6     |  PLen = 4     |   Operation = 1 (request)     |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |  Sender hardware address (MAC, 6) | Sender protocol addr (VIP)|
///    |  Target hardware address (broadcast, 6) | Target protocol (VIP)|
/// </code>
/// </summary>
public static class GratuitousArp
{
    public const int FrameLength = 14 + 28;
    public const ushort EtherTypeArp = 0x0806;

    public static byte[] Build(ReadOnlySpan<byte> sourceMac, IPAddress vip)
    {
        if (sourceMac.Length != 6) throw new ArgumentException("an Ethernet MAC address has 6 bytes", nameof(sourceMac));
        if (vip.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException($"gratuitous ARP is for IPv4, got {vip}", nameof(vip));
        var f = new byte[FrameLength];
        f.AsSpan(0, 6).Fill(0xff);
        sourceMac.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherTypeArp);
        var arp = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);
        sourceMac.CopyTo(arp[8..]);
        vip.TryWriteBytes(arp[14..], out _);
        arp.Slice(18, 6).Fill(0xff);
        vip.TryWriteBytes(arp[24..], out _);
        return f;
    }
}

/// <summary>
/// Unsolicited Neighbor Advertisement (RFC 4861 section 4.4 and 7.2.6) for an IPv6 VIP: from the
/// VIP to all-nodes ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255, Override set (Router set
/// when the interface forwards), with a Target Link-Layer Address option carrying our MAC.
/// <code>
///    Ethernet: dst 33:33:00:00:00:01 | src MAC | type 0x86dd
///    IPv6: version 6, payload 32, next header 58 (ICMPv6), hop limit 255, src VIP, dst ff02::1
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |     Type = 136    |     Code = 0  |          Checksum         |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |R|S|O|                     Reserved                            |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |                       Target Address (VIP, 16)                |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///    |  Type = 2     |  Length = 1   |   Link-layer address (6)  ... |
///    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public static class UnsolicitedNeighborAdvertisement
{
    public const int IcmpLength = 24 + 8;
    public const int FrameLength = 14 + 40 + IcmpLength;
    public const ushort EtherTypeIpv6 = 0x86dd;
    public const byte IcmpTypeNeighborAdvertisement = 136;
    public const byte NextHeaderIcmpv6 = 58;

    public static byte[] Build(ReadOnlySpan<byte> sourceMac, IPAddress vip, bool router)
    {
        if (sourceMac.Length != 6) throw new ArgumentException("an Ethernet MAC address has 6 bytes", nameof(sourceMac));
        if (vip.AddressFamily != AddressFamily.InterNetworkV6) throw new ArgumentException($"a neighbor advertisement is for IPv6, got {vip}", nameof(vip));
        var f = new byte[FrameLength];
        // RFC 2464 section 7: multicast to 33:33 followed by the low 32 bits of ff02::1.
        f[0] = 0x33; f[1] = 0x33; f[5] = 0x01;
        sourceMac.CopyTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherTypeIpv6);

        var ip6 = f.AsSpan(14, 40);
        ip6[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip6[4..], IcmpLength);
        ip6[6] = NextHeaderIcmpv6;
        ip6[7] = 255;
        vip.TryWriteBytes(ip6.Slice(8, 16), out _);
        VrrpConstants.AllNodesV6.TryWriteBytes(ip6.Slice(24, 16), out _);

        var icmp = f.AsSpan(54, IcmpLength);
        icmp[0] = IcmpTypeNeighborAdvertisement;
        icmp[4] = (byte)((router ? 0x80 : 0) | 0x20);
        vip.TryWriteBytes(icmp.Slice(8, 16), out _);
        icmp[24] = 2;
        icmp[25] = 1;
        sourceMac.CopyTo(icmp[26..]);
        var sum = InternetChecksum.AddIpv6PseudoHeader(0, ip6.Slice(8, 16), ip6.Slice(24, 16), NextHeaderIcmpv6, IcmpLength);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Finish(InternetChecksum.Add(sum, icmp)));
        return f;
    }
}
