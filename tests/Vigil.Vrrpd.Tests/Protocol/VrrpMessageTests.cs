using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;
using static Vigil.Vrrpd.Tests.TestPackets;

namespace Vigil.Vrrpd.Tests.Protocol;

public sealed class VrrpMessageTests
{
    [Fact]
    public void Write_V2Ipv4WithPassword_LayoutIsRfc3768()
    {
        var a = V2(vrid: 51, prio: 150, seconds: 1, pass: "1111", vips: [IPAddress.Parse("192.168.200.16"), IPAddress.Parse("192.168.200.17")]);
        var b = VrrpMessage.Build(a, AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly);

        Assert.Equal(8 + 2 * 4 + 8, b.Length);
        Assert.Equal(0x21, b[0]); // version 2, type 1
        Assert.Equal(51, b[1]);
        Assert.Equal(150, b[2]);
        Assert.Equal(2, b[3]);
        Assert.Equal(1, b[4]); // auth type PASS
        Assert.Equal(1, b[5]); // 1 s
        Assert.Equal(new byte[] { 192, 168, 200, 16, 192, 168, 200, 17 }, b[8..16]);
        Assert.Equal("1111\0\0\0\0"u8.ToArray(), b[16..24]);
        var zeroed = b.ToArray();
        zeroed[6] = zeroed[7] = 0;
        Assert.Equal(NaiveChecksum(zeroed), BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(6)));
    }

    [Fact]
    public void Write_V3Ipv4_ChecksumCoversIpv4PseudoHeader()
    {
        var a = V3(vrid: 7, prio: 200, centis: 150);
        var b = VrrpMessage.Build(a, AddressFamily.InterNetwork, VrrpChecksumKind.Ipv4PseudoHeader, Src4, VrrpConstants.MulticastGroupV4);

        Assert.Equal(0x31, b[0]);
        Assert.Equal(150, BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(4)));
        var zeroed = b.ToArray();
        zeroed[6] = zeroed[7] = 0;
        byte[] pseudo = [10, 0, 0, 1, 224, 0, 0, 18, 0, 112, 0, (byte)b.Length];
        Assert.Equal(NaiveChecksum(pseudo, zeroed), BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(6)));
        Assert.True(VrrpMessage.VerifyChecksum(b, VrrpChecksumKind.Ipv4PseudoHeader, Src4, VrrpConstants.MulticastGroupV4));
        Assert.False(VrrpMessage.VerifyChecksum(b, VrrpChecksumKind.MessageOnly, null, null));
    }

    [Fact]
    public void Write_V3Ipv6_ChecksumCoversIpv6PseudoHeader()
    {
        var a = V3(vrid: 9, prio: 100, centis: 100, vips: [Vip6]);
        var src = IPAddress.Parse("fe80::1");
        var b = VrrpMessage.Build(a, AddressFamily.InterNetworkV6, VrrpChecksumKind.Ipv6PseudoHeader, src, VrrpConstants.MulticastGroupV6);

        Assert.Equal(8 + 16, b.Length);
        var zeroed = b.ToArray();
        zeroed[6] = zeroed[7] = 0;
        var pseudo = src.GetAddressBytes().Concat(VrrpConstants.MulticastGroupV6.GetAddressBytes())
            .Concat(new byte[] { 0, 0, 0, (byte)b.Length, 0, 0, 0, 112 }).ToArray();
        Assert.Equal(NaiveChecksum(pseudo, zeroed), BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(6)));
    }

    [Theory]
    [InlineData(VrrpVersion.V2, AddressFamily.InterNetwork, 0)]
    [InlineData(VrrpVersion.V2, AddressFamily.InterNetwork, 1)]
    [InlineData(VrrpVersion.V2, AddressFamily.InterNetwork, 20)]
    [InlineData(VrrpVersion.V3, AddressFamily.InterNetwork, 3)]
    [InlineData(VrrpVersion.V3, AddressFamily.InterNetworkV6, 0)]
    [InlineData(VrrpVersion.V3, AddressFamily.InterNetworkV6, 2)]
    [InlineData(VrrpVersion.V2, AddressFamily.InterNetworkV6, 1)]
    public void Build_ThenTryParse_RoundTrips(VrrpVersion version, AddressFamily family, int count)
    {
        var vips = Enumerable.Range(1, count)
            .Select(i => family == AddressFamily.InterNetwork ? IPAddress.Parse($"192.0.2.{i}") : IPAddress.Parse($"2001:db8::{i:x}"))
            .ToArray();
        var a = version == VrrpVersion.V2
            ? new VrrpAdvertisement(version, 200, 254, 300, vips, family == AddressFamily.InterNetwork ? VrrpAuthType.SimplePassword : VrrpAuthType.None,
                family == AddressFamily.InterNetwork ? Pass("pw") : default)
            : new VrrpAdvertisement(version, 200, 254, 4095, vips);
        var kind = VrrpMessage.ChecksumKindFor(version, family, false);
        var src = family == AddressFamily.InterNetwork ? Src4 : Src6;
        var dst = family == AddressFamily.InterNetwork ? VrrpConstants.MulticastGroupV4 : VrrpConstants.MulticastGroupV6;
        var bytes = VrrpMessage.Build(a, family, kind, src, dst);

        Assert.True(VrrpMessage.TryParse(bytes, family, out var parsed, out var reason), reason.ToString());
        Assert.Equal(a.WithChecksum(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(6))), parsed);
        Assert.True(VrrpMessage.VerifyChecksum(bytes, kind, src, dst));
        Assert.Equal(bytes, VrrpMessage.Build(parsed!, family, kind, src, dst));
    }

    [Fact]
    public void TryParse_V3ReservedIntervalBitsSet_IgnoresThem()
    {
        var b = VrrpMessage.Build(V3(centis: 100), AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly);
        b[4] |= 0xf0;

        Assert.True(VrrpMessage.TryParse(b, AddressFamily.InterNetwork, out var parsed, out _));
        Assert.Equal(100, parsed!.IntervalCentiseconds);
    }

    [Theory]
    [InlineData(0, VrrpRejectReason.Truncated)]
    [InlineData(7, VrrpRejectReason.Truncated)]
    [InlineData(19, VrrpRejectReason.LengthMismatch)]
    public void TryParse_Short_Rejected(int length, VrrpRejectReason expected)
    {
        var b = VrrpMessage.Build(V2(), AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly);
        Assert.False(VrrpMessage.TryParse(b.AsSpan(0, length), AddressFamily.InterNetwork, out var parsed, out var reason));
        Assert.Null(parsed);
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void TryParse_VersionFour_WrongVersion()
    {
        var b = VrrpMessage.Build(V3(), AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly);
        b[0] = 0x41;
        Assert.False(VrrpMessage.TryParse(b, AddressFamily.InterNetwork, out _, out var reason));
        Assert.Equal(VrrpRejectReason.WrongVersion, reason);
    }

    [Fact]
    public void TryParse_TypeTwo_InvalidType()
    {
        var b = VrrpMessage.Build(V3(), AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly);
        b[0] = 0x32;
        Assert.False(VrrpMessage.TryParse(b, AddressFamily.InterNetwork, out _, out var reason));
        Assert.Equal(VrrpRejectReason.InvalidType, reason);
    }

    [Fact]
    public void Write_V2IntervalNotWholeSeconds_Throws()
    {
        var a = new VrrpAdvertisement(VrrpVersion.V2, 1, 100, 150, [Vip4]);
        Assert.Throws<ArgumentException>(() => VrrpMessage.Build(a, AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly));
    }

    [Fact]
    public void Write_AddressOfOtherFamily_Throws()
    {
        var a = V3(vips: [Vip6]);
        Assert.Throws<ArgumentException>(() => VrrpMessage.Build(a, AddressFamily.InterNetwork, VrrpChecksumKind.MessageOnly));
    }

    [Fact]
    public void BuildIpv4_Header_HasTtl255TosC0Protocol112AndValidChecksum()
    {
        var d = VrrpDatagram.BuildIpv4(V2(), Src4, VrrpConstants.MulticastGroupV4, false, identification: 0x1234);

        Assert.True(Ipv4Header.TryParse(d, out var h, out _));
        Assert.Equal(20, h.HeaderLength);
        Assert.Equal(255, h.Ttl);
        Assert.Equal(0xc0, h.Tos);
        Assert.Equal(112, h.Protocol);
        Assert.Equal(d.Length, h.TotalLength);
        Assert.Equal(0x1234, h.Identification);
        Assert.Equal(Src4, h.Source);
        Assert.Equal(VrrpConstants.MulticastGroupV4, h.Destination);
        Assert.Equal(0, InternetChecksum.Compute(d.AsSpan(0, 20)));
    }

    [Fact]
    public void InternetChecksum_OddLengthAndCarries_MatchNaive()
    {
        var rnd = new Random(7);
        for (var n = 0; n < 300; n++)
        {
            var data = new byte[rnd.Next(0, 100)];
            rnd.NextBytes(data);
            Assert.Equal(NaiveChecksum(data), InternetChecksum.Compute(data));
        }
    }
}
