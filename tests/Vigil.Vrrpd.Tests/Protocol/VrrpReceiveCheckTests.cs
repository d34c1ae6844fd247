using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;
using static Vigil.Vrrpd.Tests.TestPackets;

namespace Vigil.Vrrpd.Tests.Protocol;

public sealed class VrrpReceiveCheckTests
{
    private static VrrpCheckOptions V2Options(bool unicast = false) => new()
    {
        Version = VrrpVersion.V2,
        Family = AddressFamily.InterNetwork,
        AuthType = VrrpAuthType.SimplePassword,
        AuthData = Pass("secret"),
        AdvertIntervalCentiseconds = 100,
        VirtualAddresses = [Vip4],
        Unicast = unicast,
    };

    private static VrrpCheckOptions V3Options(AddressFamily family = AddressFamily.InterNetwork) => new()
    {
        Version = VrrpVersion.V3,
        Family = family,
        AdvertIntervalCentiseconds = 100,
        VirtualAddresses = [family == AddressFamily.InterNetwork ? Vip4 : Vip6],
    };

    [Fact]
    public void Check_ValidV2_AcceptedWithDecodedFields()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(prio: 150)), V2Options());

        Assert.True(r.Accepted, r.Reason.ToString());
        Assert.Equal(150, r.Advert!.Priority);
        Assert.Equal(Peer4, r.Source);
        Assert.Equal(255, r.Ttl);
        Assert.False(r.AddressListMismatch);
    }

    [Fact]
    public void Check_ValidV3Ipv4_Accepted() =>
        Assert.True(VrrpReceiveCheck.Check(Ipv4(V3()), V3Options()).Accepted);

    [Fact]
    public void Check_ValidV3Ipv6_Accepted() =>
        Assert.True(VrrpReceiveCheck.Check(Ipv6(V3(vips: [Vip6])), V3Options(AddressFamily.InterNetworkV6)).Accepted);

    [Fact]
    public void Check_V3ChecksumAsV2_AcceptedOnlyWhenBothSidesAgree()
    {
        var asV2 = Ipv4(V3(), asV2: true);
        Assert.Equal(VrrpRejectReason.BadChecksum, VrrpReceiveCheck.Check(asV2, V3Options()).Reason);
        Assert.True(VrrpReceiveCheck.Check(asV2, V3Options() with { V3ChecksumAsV2 = true }).Accepted);
        Assert.Equal(VrrpRejectReason.BadChecksum, VrrpReceiveCheck.Check(Ipv4(V3()), V3Options() with { V3ChecksumAsV2 = true }).Reason);
    }

    [Fact]
    public void Check_TtlNot255_InvalidTtlCountedAsIpTtlErr()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(), ttl: 254), V2Options());
        Assert.Equal(VrrpRejectReason.InvalidTtl, r.Reason);
        Assert.Equal("ip_ttl_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_UnicastWithLowTtl_Accepted() =>
        Assert.True(VrrpReceiveCheck.Check(Ipv4(V2(), dst: Src4, ttl: 64), V2Options(unicast: true)).Accepted);

    [Fact]
    public void Check_Ipv6HopLimitNot255_InvalidTtl() =>
        Assert.Equal(VrrpRejectReason.InvalidTtl,
            VrrpReceiveCheck.Check(Ipv6(V3(vips: [Vip6]), hops: 1), V3Options(AddressFamily.InterNetworkV6)).Reason);

    [Fact]
    public void Check_WrongVersion_VersErr()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V3()), V2Options());
        Assert.Equal(VrrpRejectReason.WrongVersion, r.Reason);
        Assert.Equal("vers_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_WrongPassword_AuthFailure()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(pass: "wrong")), V2Options());
        Assert.Equal(VrrpRejectReason.AuthFailure, r.Reason);
        Assert.Equal("auth_failure", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_NoAuthWhereConfigured_AuthTypeMismatch()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(pass: null)), V2Options());
        Assert.Equal(VrrpRejectReason.AuthTypeMismatch, r.Reason);
        Assert.Equal("authtype_mismatch", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_AuthTypeSeven_InvalidAuthType()
    {
        var a = new VrrpAdvertisement(VrrpVersion.V2, 51, 100, 100, [Vip4], (VrrpAuthType)7, Pass("secret"));
        var r = VrrpReceiveCheck.Check(Ipv4(a), V2Options());
        Assert.Equal(VrrpRejectReason.InvalidAuthType, r.Reason);
        Assert.Equal("invalid_authtype", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_V2IntervalDiffers_AdvertIntervalErr()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(seconds: 2)), V2Options());
        Assert.Equal(VrrpRejectReason.AdvertIntervalMismatch, r.Reason);
        Assert.Equal("advert_interval_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_V3IntervalDiffers_AcceptedAndFlagged()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V3(centis: 50)), V3Options());
        Assert.True(r.Accepted);
        Assert.True(r.IntervalMismatch);
    }

    [Fact]
    public void Check_BadChecksum_ChkErr()
    {
        var p = Ipv4(V2());
        var bytes = p.Data.ToArray();
        bytes[20 + 6] ^= 0x01;
        var r = VrrpReceiveCheck.Check(p with { Data = bytes }, V2Options());
        Assert.Equal(VrrpRejectReason.BadChecksum, r.Reason);
        Assert.Equal("chk_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_Truncated_PacketLenErr()
    {
        var p = Ipv4(V2());
        var r = VrrpReceiveCheck.Check(p with { Data = p.Data[..^1] }, V2Options());
        Assert.Equal(VrrpRejectReason.LengthMismatch, r.Reason);
        Assert.Equal("packet_len_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_EthernetPadding_Accepted()
    {
        // 20 + 8 + 4 + 8 = 40 bytes, padded to the 46-byte minimum Ethernet payload.
        var p = Ipv4(V2());
        var padded = p.Data.ToArray().Concat(new byte[6]).ToArray();
        Assert.True(VrrpReceiveCheck.Check(p with { Data = padded }, V2Options()).Accepted);
    }

    [Fact]
    public void Check_IpTotalLengthWrong_PacketLenErr()
    {
        var bytes = Ipv4(V2()).Data.ToArray();
        bytes[3] += 4;
        // Fix the IP header checksum is irrelevant: raw sockets hand over what the kernel accepted.
        var r = VrrpReceiveCheck.Check(new VrrpReceivedPacket(AddressFamily.InterNetwork, bytes), V2Options());
        Assert.Equal(VrrpRejectReason.IpTotalLengthMismatch, r.Reason);
    }

    [Fact]
    public void Check_TypeNotAdvertisement_InvalidTypeRcvd()
    {
        var bytes = Ipv4(V2()).Data.ToArray();
        bytes[20] = 0x22;
        var r = VrrpReceiveCheck.Check(new VrrpReceivedPacket(AddressFamily.InterNetwork, bytes), V2Options());
        Assert.Equal(VrrpRejectReason.InvalidType, r.Reason);
        Assert.Equal("invalid_type_rcvd", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_UnicastAdvertOnMulticastInstance_AddrListErr()
    {
        var r = VrrpReceiveCheck.Check(Ipv4(V2(), dst: Src4), V2Options());
        Assert.Equal(VrrpRejectReason.UnicastMulticastMismatch, r.Reason);
        Assert.Equal("addr_list_err", r.Reason.Counter().KeepalivedName());
    }

    [Fact]
    public void Check_OtherVips_AcceptedButFlagged_UnlessStrict()
    {
        var p = Ipv4(V2(vips: [IPAddress.Parse("10.9.9.9")]));
        var lax = VrrpReceiveCheck.Check(p, V2Options());
        Assert.True(lax.Accepted);
        Assert.True(lax.AddressListMismatch);

        var strict = VrrpReceiveCheck.Check(p, V2Options() with { StrictAddressList = true });
        Assert.Equal(VrrpRejectReason.AddressListMismatch, strict.Reason);
    }

    [Fact]
    public void Check_SameCountOtherVipWithoutVipCheck_NotFlagged()
    {
        var p = Ipv4(V2(vips: [IPAddress.Parse("10.9.9.9")]));
        Assert.False(VrrpReceiveCheck.Check(p, V2Options(), checkVipAddresses: false).AddressListMismatch);
    }

    [Fact]
    public void Check_UnicastSourceNotAPeer_Rejected()
    {
        var options = V2Options(unicast: true) with
        {
            CheckUnicastSource = true,
            UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.0.0.3"))],
        };
        Assert.Equal(VrrpRejectReason.UnknownUnicastSource, VrrpReceiveCheck.Check(Ipv4(V2(), dst: Src4), options).Reason);
    }

    [Fact]
    public void Check_UnicastPeerTtlOutOfRange_Rejected()
    {
        var options = V2Options(unicast: true) with
        {
            CheckUnicastSource = true,
            UnicastPeers = [new VrrpUnicastPeer(Peer4, MinTtl: 250, MaxTtl: 255)],
        };
        Assert.Equal(VrrpRejectReason.TtlOutOfRange, VrrpReceiveCheck.Check(Ipv4(V2(), dst: Src4, ttl: 64), options).Reason);
        Assert.True(VrrpReceiveCheck.Check(Ipv4(V2(), dst: Src4, ttl: 252), options).Accepted);
    }

    [Fact]
    public void Check_AhProtocol_AuthTypeMismatch()
    {
        var bytes = Ipv4(V2()).Data.ToArray();
        bytes[9] = 51;
        Assert.Equal(VrrpRejectReason.AuthTypeMismatch, VrrpReceiveCheck.Check(new VrrpReceivedPacket(AddressFamily.InterNetwork, bytes), V2Options()).Reason);
    }

    [Fact]
    public void Counter_EveryRejectReason_HasAKeepalivedStyleName()
    {
        foreach (var reason in Enum.GetValues<VrrpRejectReason>().Where(r => r != VrrpRejectReason.None))
        {
            Assert.Matches("^[a-z_]+$", reason.Counter().KeepalivedName());
        }
    }

    public static TheoryData<string> MutationCases => ["v2-ipv4-pass", "v3-ipv4", "v3-ipv6", "v2-ipv4-novip"];

    private static (VrrpReceivedPacket Packet, VrrpCheckOptions Options) Case(string name) => name switch
    {
        "v2-ipv4-pass" => (Ipv4(V2()), V2Options()),
        "v3-ipv4" => (Ipv4(V3()), V3Options()),
        "v3-ipv6" => (Ipv6(V3(vips: [Vip6])), V3Options(AddressFamily.InterNetworkV6)),
        "v2-ipv4-novip" => (Ipv4(new VrrpAdvertisement(VrrpVersion.V2, 1, 100, 100, [], VrrpAuthType.None)),
            V2Options() with { AuthType = VrrpAuthType.None, VirtualAddresses = [] }),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(MutationCases))]
    public void Check_EverySingleByteMutation_AcceptedFaithfullyOrRejectedWithReason(string name)
    {
        var (packet, options) = Case(name);
        var original = packet.Data.ToArray();
        var ipHeader = packet.Family == AddressFamily.InterNetwork ? 20 : 0;
        for (var i = 0; i < original.Length; i++)
        {
            for (var v = 0; v < 256; v++)
            {
                if (v == original[i]) continue;
                var bytes = original.ToArray();
                bytes[i] = (byte)v;
                var r = VrrpReceiveCheck.Check(packet with { Data = bytes }, options);
                if (!r.Accepted)
                {
                    Assert.NotNull(r.Reason.Counter().KeepalivedName());
                    Assert.Null(r.Advert);
                    continue;
                }
                // Accepted: the decoded advert must be exactly what the bytes say.
                var vrrp = bytes.AsSpan(ipHeader).ToArray();
                Assert.True(VrrpMessage.TryParse(vrrp, packet.Family, out var again, out var why), $"byte {i}={v}: {why}");
                Assert.Equal(again, r.Advert);
                if (i >= ipHeader && !(options.Version == VrrpVersion.V3 && i - ipHeader == 4))
                    Assert.Fail($"mutation of VRRP byte {i - ipHeader} to {v} was accepted");
            }
        }
    }

    [Theory]
    [MemberData(nameof(MutationCases))]
    public void Check_EveryTruncation_RejectedWithReason(string name)
    {
        var (packet, options) = Case(name);
        for (var n = 0; n < packet.Data.Length; n++)
        {
            var r = VrrpReceiveCheck.Check(packet with { Data = packet.Data[..n] }, options);
            Assert.False(r.Accepted, $"truncated to {n} bytes yet accepted");
            Assert.NotNull(r.Reason.Counter().KeepalivedName());
        }
    }

    [Fact]
    public void TryParse_RandomBytes_NeverThrows()
    {
        var rnd = new Random(42);
        for (var n = 0; n < 20000; n++)
        {
            var data = new byte[rnd.Next(0, 80)];
            rnd.NextBytes(data);
            var family = n % 2 == 0 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            VrrpMessage.TryParse(data, family, out _, out _);
            VrrpReceiveCheck.Check(new VrrpReceivedPacket(family, data, Src6, VrrpConstants.MulticastGroupV6, 255),
                family == AddressFamily.InterNetwork ? V2Options() : V3Options(AddressFamily.InterNetworkV6));
        }
    }
}
