using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests;

/// <summary>Packets and helpers shared by the tests.</summary>
internal static class TestPackets
{
    public static readonly IPAddress Src4 = IPAddress.Parse("10.0.0.1");
    public static readonly IPAddress Peer4 = IPAddress.Parse("10.0.0.2");
    public static readonly IPAddress Vip4 = IPAddress.Parse("10.0.0.100");
    public static readonly IPAddress Src6 = IPAddress.Parse("fe80::1");
    public static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8::100");

    public static byte[] Pass(string s)
    {
        var b = new byte[8];
        System.Text.Encoding.ASCII.GetBytes(s).CopyTo(b, 0);
        return b;
    }

    public static VrrpAdvertisement V2(byte vrid = 51, byte prio = 100, int seconds = 1, string? pass = "secret", params IPAddress[] vips) =>
        new(VrrpVersion.V2, vrid, prio, seconds * 100, vips.Length == 0 ? [Vip4] : vips,
            pass is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword, pass is null ? default : Pass(pass));

    public static VrrpAdvertisement V3(byte vrid = 51, byte prio = 100, int centis = 100, params IPAddress[] vips) =>
        new(VrrpVersion.V3, vrid, prio, centis, vips.Length == 0 ? [Vip4] : vips);

    /// <summary>A whole IPv4 datagram as the raw socket would deliver it.</summary>
    public static VrrpReceivedPacket Ipv4(VrrpAdvertisement a, IPAddress? src = null, IPAddress? dst = null, byte ttl = 255, bool asV2 = false) =>
        new(AddressFamily.InterNetwork, VrrpDatagram.BuildIpv4(a, src ?? Peer4, dst ?? VrrpConstants.MulticastGroupV4, asV2, ttl));

    public static VrrpReceivedPacket Ipv6(VrrpAdvertisement a, IPAddress? src = null, IPAddress? dst = null, int hops = 255)
    {
        var s = src ?? IPAddress.Parse("fe80::2");
        var d = dst ?? VrrpConstants.MulticastGroupV6;
        return new(AddressFamily.InterNetworkV6, VrrpDatagram.BuildIpv6(a, s, d), s, d, hops);
    }

    /// <summary>An independent, naive RFC 1071 sum used to cross-check the codec.</summary>
    public static ushort NaiveChecksum(params byte[][] pieces)
    {
        var all = pieces.SelectMany(p => p).ToList();
        if (all.Count % 2 == 1) all.Add(0);
        long sum = 0;
        for (var i = 0; i < all.Count; i += 2) sum += (all[i] << 8) | all[i + 1];
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
