using System.Buffers.Binary;
using System.Net;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Protocol;

public sealed class LinkFramesTests
{
    private static readonly byte[] Mac = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    [Fact]
    public void GratuitousArp_Build_SenderAndTargetAreTheVipAndBroadcast()
    {
        var f = GratuitousArp.Build(Mac, IPAddress.Parse("192.168.1.100"));

        Assert.Equal(42, f.Length);
        Assert.Equal(Enumerable.Repeat((byte)0xff, 6), f[0..6]);
        Assert.Equal(Mac, f[6..12]);
        Assert.Equal(0x0806, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14))); // Ethernet
        Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16)));
        Assert.Equal(6, f[18]);
        Assert.Equal(4, f[19]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(20))); // request
        Assert.Equal(Mac, f[22..28]);
        Assert.Equal(new byte[] { 192, 168, 1, 100 }, f[28..32]);
        Assert.Equal(Enumerable.Repeat((byte)0xff, 6), f[32..38]);
        Assert.Equal(new byte[] { 192, 168, 1, 100 }, f[38..42]);
    }

    [Fact]
    public void GratuitousArp_Ipv6Address_Throws() =>
        Assert.Throws<ArgumentException>(() => GratuitousArp.Build(Mac, IPAddress.Parse("2001:db8::1")));

    [Theory]
    [InlineData(false, 0x20)]
    [InlineData(true, 0xa0)]
    public void NeighborAdvertisement_Build_FieldsAndChecksum(bool router, byte flags)
    {
        var vip = IPAddress.Parse("2001:db8::100");
        var f = UnsolicitedNeighborAdvertisement.Build(Mac, vip, router);

        Assert.Equal(14 + 40 + 32, f.Length);
        Assert.Equal(new byte[] { 0x33, 0x33, 0, 0, 0, 1 }, f[0..6]);
        Assert.Equal(Mac, f[6..12]);
        Assert.Equal(0x86dd, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        Assert.Equal(0x60, f[14] & 0xf0);
        Assert.Equal(32, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(18)));
        Assert.Equal(58, f[20]);
        Assert.Equal(255, f[21]);
        Assert.Equal(vip.GetAddressBytes(), f[22..38]);
        Assert.Equal(IPAddress.Parse("ff02::1").GetAddressBytes(), f[38..54]);
        Assert.Equal(136, f[54]);
        Assert.Equal(0, f[55]);
        Assert.Equal(flags, f[58]);
        Assert.Equal(vip.GetAddressBytes(), f[62..78]);
        Assert.Equal(2, f[78]);
        Assert.Equal(1, f[79]);
        Assert.Equal(Mac, f[80..86]);
        var icmp = f[54..].ToArray();
        var stored = BinaryPrimitives.ReadUInt16BigEndian(icmp.AsSpan(2));
        icmp[2] = icmp[3] = 0;
        var pseudo = f[22..54].Concat(new byte[] { 0, 0, 0, 32, 0, 0, 0, 58 }).ToArray();
        Assert.Equal(TestPackets.NaiveChecksum(pseudo, icmp), stored);
    }
}
