using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Protocol;

/// <summary>
/// Datagrams keepalived 2.2.7 sent in a lab namespace, captured with "tcpdump -xx" (the Ethernet
/// header dropped): instance vrid 51, priority 150, advert_int 1, VIPs 192.168.200.16 and .17,
/// from 192.168.200.1, first advert (IP id 1). Vigil must read them and write the same bytes.
/// </summary>
public sealed class KeepalivedGoldenTests
{
    // "VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s, length 24", auth_pass 1111
    private const string V2Pass = "45C0002C00010000FF7051E4C0A8C801E0000012" + "21339602" + "0101D3F2" + "C0A8C810C0A8C811" + "3131313100000000";

    // "VRRPv3, Advertisement, vrid 51, prio 150, intvl 100cs, length 16"
    private const string V3 = "45C0002400010000FF7051ECC0A8C801E0000012" + "31339602" + "0064BDB4" + "C0A8C810C0A8C811";

    private static readonly IPAddress Source = IPAddress.Parse("192.168.200.1");
    private static readonly IPAddress[] Vips = [IPAddress.Parse("192.168.200.16"), IPAddress.Parse("192.168.200.17")];

    [Fact]
    public void BuildIpv4_V2Pass_SameBytesAsKeepalived()
    {
        var a = new VrrpAdvertisement(VrrpVersion.V2, 51, 150, 100, Vips, VrrpAuthType.SimplePassword, TestPackets.Pass("1111"));
        Assert.Equal(V2Pass, Convert.ToHexString(VrrpDatagram.BuildIpv4(a, Source, VrrpConstants.MulticastGroupV4, false, 255, 1)));
    }

    [Fact]
    public void BuildIpv4_V3_SameBytesAsKeepalived()
    {
        var a = new VrrpAdvertisement(VrrpVersion.V3, 51, 150, 100, Vips);
        Assert.Equal(V3, Convert.ToHexString(VrrpDatagram.BuildIpv4(a, Source, VrrpConstants.MulticastGroupV4, false, 255, 1)));
    }

    [Theory]
    [InlineData(V2Pass, VrrpVersion.V2)]
    [InlineData(V3, VrrpVersion.V3)]
    public void Check_KeepalivedDatagram_Accepted(string hex, VrrpVersion version)
    {
        var options = new VrrpCheckOptions
        {
            Version = version,
            Family = AddressFamily.InterNetwork,
            AuthType = version == VrrpVersion.V2 ? VrrpAuthType.SimplePassword : VrrpAuthType.None,
            AuthData = TestPackets.Pass("1111"),
            AdvertIntervalCentiseconds = 100,
            VirtualAddresses = Vips,
        };
        var r = VrrpReceiveCheck.Check(new VrrpReceivedPacket(AddressFamily.InterNetwork, Convert.FromHexString(hex)), options);

        Assert.True(r.Accepted, r.Reason.ToString());
        Assert.Equal(150, r.Advert!.Priority);
        Assert.Equal(51, r.Advert.Vrid);
        Assert.Equal(Vips, r.Advert.Addresses);
        Assert.Equal(Source, r.Source);
    }
}
