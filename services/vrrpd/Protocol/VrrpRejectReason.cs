namespace Vigil.Vrrpd.Protocol;

/// <summary>
/// Why a received packet was not accepted as an advertisement. Each reason feeds exactly one
/// per-instance counter (<see cref="VrrpRejectReasonExtensions.Counter"/>), named like keepalived's
/// statistics, so a rejected packet is always visible and never changes state.
/// </summary>
public enum VrrpRejectReason
{
    None = 0,
    /// <summary>Shorter than an IP header plus the fixed VRRP header.</summary>
    Truncated,
    /// <summary>The IPv4 header is not a valid IPv4 header (version or header length).</summary>
    BadIpHeader,
    /// <summary>IPv4 protocol is not 112 (for example AH, which Vigil does not implement).</summary>
    WrongProtocol,
    /// <summary>The length does not match the header's address count (RFC 3768 7.1 "MUST verify").</summary>
    LengthMismatch,
    /// <summary>The IPv4 total length does not match what was received.</summary>
    IpTotalLengthMismatch,
    /// <summary>Multicast advert whose TTL / hop limit is not 255.</summary>
    InvalidTtl,
    /// <summary>Unicast advert whose TTL is outside the peer's min_ttl..max_ttl.</summary>
    TtlOutOfRange,
    /// <summary>Version nibble differs from the instance's version.</summary>
    WrongVersion,
    /// <summary>VRRPv2 auth type not 0, 1 or 2.</summary>
    InvalidAuthType,
    /// <summary>VRRPv2 auth type differs from the configured one.</summary>
    AuthTypeMismatch,
    /// <summary>VRRPv2 PASS authentication data differs from the configured password.</summary>
    AuthFailure,
    /// <summary>VRRPv2 advert interval differs from the configured one (RFC 3768 7.1 "MUST").</summary>
    AdvertIntervalMismatch,
    /// <summary>Type nibble is not ADVERTISEMENT (1).</summary>
    InvalidType,
    /// <summary>Checksum does not verify.</summary>
    BadChecksum,
    /// <summary>Multicast advert on a unicast instance, or unicast advert on a multicast one.</summary>
    UnicastMulticastMismatch,
    /// <summary>Address list differs from the configured VIPs and the instance is strict.</summary>
    AddressListMismatch,
    /// <summary>Unicast source is not one of the configured unicast peers (check_unicast_src).</summary>
    UnknownUnicastSource,
}

/// <summary>Per-instance counters; <see cref="VrrpCounterExtensions.KeepalivedName"/> gives keepalived's name.</summary>
public enum VrrpCounter
{
    AdvertReceived,
    AdvertSent,
    BecomeMaster,
    ReleaseMaster,
    PacketLengthError,
    AdvertIntervalError,
    IpTtlError,
    InvalidTypeReceived,
    AddressListError,
    InvalidAuthType,
    AuthTypeMismatch,
    AuthFailure,
    PriorityZeroReceived,
    PriorityZeroSent,
    /// <summary>keepalived counts this only for SNMP (RFC 6527 vrrpv3StatisticsRcvdChecksumErrors).</summary>
    ChecksumError,
    /// <summary>keepalived counts this only for SNMP (vrrpv3StatisticsRcvdVersionErrors).</summary>
    VersionError,
    /// <summary>Vigil's own: keepalived rejects such adverts without counting them.</summary>
    UnknownUnicastSource,
    /// <summary>Vigil's own: as MASTER we heard another master (split brain, or a preempting peer).</summary>
    OtherMasterSeen,
}

public static class VrrpCounterExtensions
{
    /// <summary>The field name keepalived uses in its JSON dump / stats struct.</summary>
    public static string KeepalivedName(this VrrpCounter counter) => counter switch
    {
        VrrpCounter.AdvertReceived => "advert_rcvd",
        VrrpCounter.AdvertSent => "advert_sent",
        VrrpCounter.BecomeMaster => "become_master",
        VrrpCounter.ReleaseMaster => "release_master",
        VrrpCounter.PacketLengthError => "packet_len_err",
        VrrpCounter.AdvertIntervalError => "advert_interval_err",
        VrrpCounter.IpTtlError => "ip_ttl_err",
        VrrpCounter.InvalidTypeReceived => "invalid_type_rcvd",
        VrrpCounter.AddressListError => "addr_list_err",
        VrrpCounter.InvalidAuthType => "invalid_authtype",
        VrrpCounter.AuthTypeMismatch => "authtype_mismatch",
        VrrpCounter.AuthFailure => "auth_failure",
        VrrpCounter.PriorityZeroReceived => "pri_zero_rcvd",
        VrrpCounter.PriorityZeroSent => "pri_zero_sent",
        VrrpCounter.ChecksumError => "chk_err",
        VrrpCounter.VersionError => "vers_err",
        VrrpCounter.UnknownUnicastSource => "unknown_unicast_src",
        VrrpCounter.OtherMasterSeen => "other_master_seen",
        _ => throw new ArgumentOutOfRangeException(nameof(counter), counter, null),
    };
}

public static class VrrpRejectReasonExtensions
{
    /// <summary>The counter a rejected packet increments (keepalived's choice where it counts one).</summary>
    public static VrrpCounter Counter(this VrrpRejectReason reason) => reason switch
    {
        VrrpRejectReason.Truncated or VrrpRejectReason.BadIpHeader or VrrpRejectReason.LengthMismatch
            or VrrpRejectReason.IpTotalLengthMismatch => VrrpCounter.PacketLengthError,
        VrrpRejectReason.WrongProtocol or VrrpRejectReason.InvalidType => VrrpCounter.InvalidTypeReceived,
        VrrpRejectReason.InvalidTtl or VrrpRejectReason.TtlOutOfRange => VrrpCounter.IpTtlError,
        VrrpRejectReason.WrongVersion => VrrpCounter.VersionError,
        VrrpRejectReason.InvalidAuthType => VrrpCounter.InvalidAuthType,
        VrrpRejectReason.AuthTypeMismatch => VrrpCounter.AuthTypeMismatch,
        VrrpRejectReason.AuthFailure => VrrpCounter.AuthFailure,
        VrrpRejectReason.AdvertIntervalMismatch => VrrpCounter.AdvertIntervalError,
        VrrpRejectReason.BadChecksum => VrrpCounter.ChecksumError,
        VrrpRejectReason.UnicastMulticastMismatch or VrrpRejectReason.AddressListMismatch => VrrpCounter.AddressListError,
        VrrpRejectReason.UnknownUnicastSource => VrrpCounter.UnknownUnicastSource,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "not a reject reason"),
    };
}
