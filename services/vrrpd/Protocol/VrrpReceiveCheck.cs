using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Vigil.Vrrpd.Protocol;

/// <summary>A unicast peer (<c>unicast_peer { IP [min_ttl N] [max_ttl N] }</c>).</summary>
public sealed record VrrpUnicastPeer(IPAddress Address, byte MinTtl = 0, byte MaxTtl = 255);

/// <summary>What one instance expects of the adverts it receives.</summary>
public sealed record VrrpCheckOptions
{
    public required VrrpVersion Version { get; init; }
    public required AddressFamily Family { get; init; }
    public VrrpAuthType AuthType { get; init; }

    /// <summary>The PASS password, zero-padded to 8 bytes as it is on the wire.</summary>
    public ReadOnlyMemory<byte> AuthData { get; init; }

    /// <summary>The locally configured interval, which VRRPv2 adverts must carry exactly.</summary>
    public int AdvertIntervalCentiseconds { get; init; } = 100;

    public IReadOnlyList<IPAddress> VirtualAddresses { get; init; } = [];
    public bool Unicast { get; init; }
    public IReadOnlyList<VrrpUnicastPeer> UnicastPeers { get; init; } = [];

    /// <summary><c>check_unicast_src</c>: unicast adverts must come from a configured peer.</summary>
    public bool CheckUnicastSource { get; init; }

    public bool V3ChecksumAsV2 { get; init; }

    /// <summary>Reject (rather than count and accept) adverts whose address list differs (strict mode).</summary>
    public bool StrictAddressList { get; init; }
}

/// <summary>
/// A packet as the raw socket delivered it. For IPv4, <see cref="Data"/> is the whole datagram and
/// the addresses and TTL are read from its header; for IPv6 it is the VRRP message, and the source
/// (recvfrom), destination (IPV6_PKTINFO) and hop limit (IPV6_HOPLIMIT) come from the socket.
/// </summary>
public sealed record VrrpReceivedPacket(
    AddressFamily Family,
    ReadOnlyMemory<byte> Data,
    IPAddress? Source = null,
    IPAddress? Destination = null,
    int HopLimit = -1,
    string? Interface = null)
{
    /// <summary>The VRID of the advert, if the packet is long enough to carry one.</summary>
    public bool TryGetVrid(out byte vrid)
    {
        vrid = 0;
        var span = Data.Span;
        if (Family == AddressFamily.InterNetwork)
        {
            if (!Ipv4Header.TryParse(span, out var ip, out _)) return false;
            return VrrpMessage.TryReadVrid(span[ip.HeaderLength..], out vrid);
        }
        return Family == AddressFamily.InterNetworkV6 && VrrpMessage.TryReadVrid(span, out vrid);
    }

    /// <summary>The sender: the IPv4 header's source, or the socket's source for IPv6.</summary>
    public IPAddress? SenderAddress =>
        Family == AddressFamily.InterNetwork && Ipv4Header.TryParse(Data.Span, out var ip, out _) ? ip.Source : Source;
}

/// <summary>The outcome of checking a received packet against one instance.</summary>
public sealed record VrrpCheckResult(
    VrrpRejectReason Reason,
    VrrpAdvertisement? Advert,
    IPAddress? Source,
    IPAddress? Destination,
    int Ttl,
    bool AddressListMismatch = false,
    bool IntervalMismatch = false)
{
    public bool Accepted => Reason == VrrpRejectReason.None;
}

/// <summary>
/// The receive-side checks of RFC 3768 section 7.1 / RFC 5798 section 7.1, in the order keepalived's
/// <c>vrrp_check_packet</c> applies them, so the same bad packet increments the same counter.
/// Pure: the same bytes and options give the same result; never throws on any input.
/// </summary>
public static class VrrpReceiveCheck
{
    // An Ethernet frame is at least 60 bytes (ETH_ZLEN) including its 14-byte header, so a short IP
    // datagram may arrive padded; 802.1Q tags shift the padding by multiples of 4.
    private const int MinEthernetPayload = 60 - 14;

    private static bool IsEthernetPadding(int expected, int received) =>
        expected < MinEthernetPayload && expected < received && received <= MinEthernetPayload
        && (received - expected) % 4 == (4 - MinEthernetPayload % 4) % 4;

    /// <param name="checkVipAddresses">compare each VIP too (keepalived: when the master changed, or
    /// unless <c>skip_check_adv_addr</c>); the address count is always compared.</param>
    public static VrrpCheckResult Check(VrrpReceivedPacket packet, VrrpCheckOptions options, bool checkVipAddresses = true)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(options);
        var data = packet.Data.Span;
        IPAddress? source = packet.Source, destination = packet.Destination;
        var ttl = packet.HopLimit;
        int ipHeaderLength = 0, ipTotalLength = -1;

        VrrpCheckResult Reject(VrrpRejectReason r) => new(r, null, source, destination, ttl);

        if (packet.Family != options.Family) return Reject(VrrpRejectReason.BadIpHeader);
        if (options.Family == AddressFamily.InterNetwork)
        {
            if (!Ipv4Header.TryParse(data, out var ip, out var ipReason)) return Reject(ipReason);
            source = ip.Source;
            destination = ip.Destination;
            ttl = ip.Ttl;
            ipHeaderLength = ip.HeaderLength;
            ipTotalLength = ip.TotalLength;
            // keepalived: an AH datagram on a non-AH instance is an auth type mismatch.
            if (ip.Protocol == 51) return Reject(VrrpRejectReason.AuthTypeMismatch);
            if (ip.Protocol != VrrpConstants.IpProtocol) return Reject(VrrpRejectReason.WrongProtocol);
        }
        var vrrp = data[ipHeaderLength..];
        if (vrrp.Length < VrrpMessage.HeaderLength) return Reject(VrrpRejectReason.Truncated);

        // MUST verify the packet holds the complete message, addresses included. The length the
        // header announces depends on its own version nibble (v2 over IPv4 adds the auth data).
        var versionNibble = vrrp[0] >> 4;
        var expected = ipHeaderLength + VrrpMessage.GetLength(versionNibble, options.Family, vrrp[3]);
        if (data.Length != expected && !IsEthernetPadding(expected, data.Length)) return Reject(VrrpRejectReason.LengthMismatch);
        vrrp = vrrp[..(expected - ipHeaderLength)];

        // MUST verify TTL / hop limit 255, except for unicast (which may be routed).
        if (!options.Unicast && ttl != -1 && ttl != VrrpConstants.Ttl) return Reject(VrrpRejectReason.InvalidTtl);

        if (versionNibble != (int)options.Version) return Reject(VrrpRejectReason.WrongVersion);

        if (options.Version == VrrpVersion.V2)
        {
            var authType = vrrp[4];
            if (authType > (byte)VrrpAuthType.IpsecAh) return Reject(VrrpRejectReason.InvalidAuthType);
            if (authType != (byte)options.AuthType) return Reject(VrrpRejectReason.AuthTypeMismatch);
            if (options.AuthType == VrrpAuthType.SimplePassword && options.Family == AddressFamily.InterNetwork)
            {
                Span<byte> want = stackalloc byte[VrrpConstants.AuthDataLength];
                want.Clear();
                var cfg = options.AuthData.Span;
                cfg[..Math.Min(cfg.Length, want.Length)].CopyTo(want);
                var got = vrrp[^VrrpConstants.AuthDataLength..];
                if (!CryptographicOperations.FixedTimeEquals(got, want)) return Reject(VrrpRejectReason.AuthFailure);
            }
            // MUST match the local interval in v2, else two masters could run one VRID.
            if (vrrp[5] * 100 != options.AdvertIntervalCentiseconds) return Reject(VrrpRejectReason.AdvertIntervalMismatch);
        }

        if ((vrrp[0] & 0x0f) != VrrpConstants.TypeAdvertisement) return Reject(VrrpRejectReason.InvalidType);

        if (options.Family == AddressFamily.InterNetwork && ipTotalLength != data.Length && !IsEthernetPadding(ipTotalLength, data.Length))
            return Reject(VrrpRejectReason.IpTotalLengthMismatch);

        var intervalMismatch = options.Version == VrrpVersion.V3
            && (BinaryPrimitives.ReadUInt16BigEndian(vrrp[4..]) & VrrpMessage.MaxV3IntervalCentiseconds) != options.AdvertIntervalCentiseconds;

        // MUST verify the checksum. For IPv6 the kernel already did (IPV6_CHECKSUM); verifying
        // again costs nothing and covers packets that reach us some other way.
        if (options.Family == AddressFamily.InterNetwork || (source is not null && destination is not null))
        {
            var kind = VrrpMessage.ChecksumKindFor(options.Version, options.Family, options.V3ChecksumAsV2);
            if (!VrrpMessage.VerifyChecksum(vrrp, kind, source, destination)) return Reject(VrrpRejectReason.BadChecksum);
        }

        if (destination is not null && (destination.IsIPv6Multicast || IsIpv4Multicast(destination)) == options.Unicast)
            return Reject(VrrpRejectReason.UnicastMulticastMismatch);

        var advert = VrrpMessage.Decode(vrrp, options.Family);

        // MAY verify the addresses. keepalived counts a mismatch (addr_list_err) and accepts the
        // advert anyway; strict mode refuses it.
        var mismatch = advert.Addresses.Count != options.VirtualAddresses.Count
            || (checkVipAddresses && options.VirtualAddresses.Any(v => !advert.Addresses.Contains(v)));
        if (mismatch && options.StrictAddressList) return Reject(VrrpRejectReason.AddressListMismatch);

        if (options.Unicast && options.CheckUnicastSource)
        {
            var peer = options.UnicastPeers.FirstOrDefault(p => SameAddress(p.Address, source));
            if (peer is null) return Reject(VrrpRejectReason.UnknownUnicastSource);
            if (ttl != -1 && (ttl < peer.MinTtl || ttl > peer.MaxTtl)) return Reject(VrrpRejectReason.TtlOutOfRange);
        }

        return new VrrpCheckResult(VrrpRejectReason.None, advert, source, destination, ttl, mismatch, intervalMismatch);
    }

    /// <summary>Equal addresses, ignoring an IPv6 scope id (configured peers carry none).</summary>
    public static bool SameAddress(IPAddress? a, IPAddress? b)
    {
        if (a is null || b is null || a.AddressFamily != b.AddressFamily) return false;
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out var n);
        b.TryWriteBytes(y, out _);
        return x[..n].SequenceEqual(y[..n]);
    }

    private static bool IsIpv4Multicast(IPAddress a)
    {
        if (a.AddressFamily != AddressFamily.InterNetwork) return false;
        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return (b[0] & 0xf0) == 0xe0;
    }
}
