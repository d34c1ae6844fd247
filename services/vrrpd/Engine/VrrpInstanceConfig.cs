using System.Net;
using System.Net.Sockets;
using System.Text;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>
/// One <c>vrrp_instance</c>, already resolved by the configuration layer (defaults applied, names
/// looked up). Immutable; a reload replaces it. Defaults are keepalived's.
/// </summary>
public sealed record VrrpInstanceConfig
{
    public required string Name { get; init; }

    /// <summary>The interface adverts are sent and received on (the VMAC interface when use_vmac).</summary>
    public required string Interface { get; init; }

    public required byte Vrid { get; init; }
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;

    /// <summary>Configured (base) priority; 255 = address owner.</summary>
    public byte Priority { get; init; } = VrrpConstants.PriorityDefault;

    /// <summary><c>state MASTER|BACKUP</c>: the state the instance wants at start.</summary>
    public VrrpStateKind InitialState { get; init; } = VrrpStateKind.Backup;

    /// <summary><c>advert_int</c>: whole seconds for VRRPv2, centiseconds (0.01..40.95 s) for VRRPv3.</summary>
    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);

    public bool Nopreempt { get; init; }
    public TimeSpan PreemptDelay { get; init; }

    public VrrpAuthType AuthType { get; init; }

    /// <summary><c>auth_pass</c>: at most 8 bytes; keepalived zero-pads it on the wire.</summary>
    public string? AuthPassword { get; init; }

    /// <summary>VIPs carried in adverts (<c>virtual_ipaddress</c>), in configuration order.</summary>
    public IReadOnlyList<IPAddress> VirtualAddresses { get; init; } = [];

    /// <summary><c>virtual_ipaddress_excluded</c>: added and announced, but not in adverts.</summary>
    public IReadOnlyList<IPAddress> ExcludedVirtualAddresses { get; init; } = [];

    /// <summary><c>mcast_src_ip</c> / <c>unicast_src_ip</c>; null = the interface's primary address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary><c>unicast_peer</c>; empty = multicast.</summary>
    public IReadOnlyList<VrrpUnicastPeer> UnicastPeers { get; init; } = [];

    /// <summary><c>unicast_ttl</c>.</summary>
    public byte UnicastTtl { get; init; } = VrrpConstants.Ttl;

    public bool CheckUnicastSource { get; init; }

    /// <summary><c>vrrp_mcast_group4</c> / <c>vrrp_mcast_group6</c>; null = 224.0.0.18 / ff02::12.</summary>
    public IPAddress? MulticastGroup { get; init; }

    public int DownTimerAdverts { get; init; } = 3;
    public bool LowerPrioNoAdvert { get; init; }
    public bool HigherPrioSendAdvert { get; init; }

    public TimeSpan GarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);
    public int GarpMasterRepeat { get; init; } = 5;

    /// <summary>Zero = no periodic refresh.</summary>
    public TimeSpan GarpMasterRefresh { get; init; }
    public int GarpMasterRefreshRepeat { get; init; } = 1;
    public TimeSpan GarpLowerPrioDelay { get; init; }
    public int GarpLowerPrioRepeat { get; init; }

    /// <summary><c>vrrp_startup_delay</c> (global in keepalived; carried per instance here).</summary>
    public TimeSpan StartupDelay { get; init; }

    public bool V3ChecksumAsV2 { get; init; }

    /// <summary><c>vrrp_strict</c> / <c>strict_mode</c>: adverts whose addresses differ are refused.</summary>
    public bool Strict { get; init; }

    /// <summary><c>skip_check_adv_addr</c>: compare VIPs only when the master changes.</summary>
    public bool SkipCheckAdvertAddresses { get; init; }

    /// <summary>The <c>vrrp_sync_group</c> this instance belongs to, if any.</summary>
    public string? SyncGroup { get; init; }

    public bool IsOwner => Priority == VrrpConstants.PriorityOwner;
    public bool IsUnicast => UnicastPeers.Count > 0;

    public IPAddress MulticastDestination => MulticastGroup
        ?? (Family == AddressFamily.InterNetworkV6 ? VrrpConstants.MulticastGroupV6 : VrrpConstants.MulticastGroupV4);

    public long AdvertIntervalMicros => VrrpTiming.ToMicros(AdvertInterval);
    public int AdvertIntervalCentiseconds => (int)(AdvertIntervalMicros / VrrpTiming.MicrosPerCentisecond);

    /// <summary>The password as it is on the wire: 8 bytes, zero-padded.</summary>
    public byte[] AuthData()
    {
        var data = new byte[VrrpConstants.AuthDataLength];
        if (AuthType == VrrpAuthType.SimplePassword && AuthPassword is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(AuthPassword);
            bytes.AsSpan(0, Math.Min(bytes.Length, data.Length)).CopyTo(data);
        }
        return data;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the instance and field when invalid.</summary>
    public void Validate()
    {
        void Fail(string field, string message) =>
            throw new ArgumentException($"vrrp_instance {Name}: {field}: {message}", field);

        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("vrrp_instance needs a name", nameof(Name));
        if (string.IsNullOrWhiteSpace(Interface)) Fail("interface", "missing");
        if (Vrid == 0) Fail("virtual_router_id", "must be 1..255");
        if (Priority == 0) Fail("priority", "must be 1..255");
        if (Family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) Fail("family", $"{Family} is neither IPv4 nor IPv6");
        var micros = AdvertIntervalMicros;
        if (Version == VrrpVersion.V2 && (micros <= 0 || micros % VrrpTiming.MicrosPerSecond != 0 || micros / VrrpTiming.MicrosPerSecond > 255))
            Fail("advert_int", $"VRRPv2 needs whole seconds 1..255, got {AdvertInterval.TotalSeconds} s");
        if (Version == VrrpVersion.V3 && (micros <= 0 || micros % VrrpTiming.MicrosPerCentisecond != 0 || micros / VrrpTiming.MicrosPerCentisecond > VrrpMessage.MaxV3IntervalCentiseconds))
            Fail("advert_int", $"VRRPv3 needs 0.01..40.95 s in centiseconds, got {AdvertInterval.TotalSeconds} s");
        if (VirtualAddresses.Count > 255) Fail("virtual_ipaddress", "at most 255 addresses fit in an advert");
        foreach (var a in VirtualAddresses)
            if (a.AddressFamily != Family) Fail("virtual_ipaddress", $"{a} is not of the instance's family {Family}");
        foreach (var p in UnicastPeers)
            if (p.Address.AddressFamily != Family) Fail("unicast_peer", $"{p.Address} is not of the instance's family {Family}");
        if (SourceAddress is not null && SourceAddress.AddressFamily != Family) Fail("unicast_src_ip", $"{SourceAddress} is not of family {Family}");
        if (AuthType == VrrpAuthType.IpsecAh) Fail("auth_type", "AH is not supported by Vigil (use PASS or none)");
        if (AuthType != VrrpAuthType.None && Version == VrrpVersion.V3) Fail("authentication", "VRRPv3 has no authentication");
        if (AuthType == VrrpAuthType.SimplePassword && Encoding.UTF8.GetByteCount(AuthPassword ?? "") is 0 or > 8)
            Fail("auth_pass", "PASS needs a password of 1..8 bytes");
        if (DownTimerAdverts is < 1 or > 100) Fail("down_timer_adverts", "must be 1..100");
        if (PreemptDelay < TimeSpan.Zero || PreemptDelay > TimeSpan.FromSeconds(1000)) Fail("preempt_delay", "must be 0..1000 s");
        if (GarpMasterRepeat < 0 || GarpMasterRefreshRepeat < 0 || GarpLowerPrioRepeat < 0) Fail("garp_master_repeat", "must not be negative");
        if (GarpMasterDelay < TimeSpan.Zero || GarpMasterRefresh < TimeSpan.Zero || GarpLowerPrioDelay < TimeSpan.Zero || StartupDelay < TimeSpan.Zero)
            Fail("garp_master_delay", "delays must not be negative");
    }

    /// <summary>The advert this instance sends with the given priority (auth data only in VRRPv2).</summary>
    public VrrpAdvertisement Advertisement(byte priority) => Version == VrrpVersion.V2
        ? new VrrpAdvertisement(VrrpVersion.V2, Vrid, priority, AdvertIntervalCentiseconds, VirtualAddresses, AuthType,
            AuthType == VrrpAuthType.SimplePassword ? AuthData() : default)
        : new VrrpAdvertisement(VrrpVersion.V3, Vrid, priority, AdvertIntervalCentiseconds, VirtualAddresses);

    /// <summary>What this instance expects of received adverts.</summary>
    public VrrpCheckOptions CheckOptions() => new()
    {
        Version = Version,
        Family = Family,
        AuthType = AuthType,
        AuthData = AuthData(),
        AdvertIntervalCentiseconds = AdvertIntervalCentiseconds,
        VirtualAddresses = VirtualAddresses,
        Unicast = IsUnicast,
        UnicastPeers = UnicastPeers,
        CheckUnicastSource = CheckUnicastSource,
        V3ChecksumAsV2 = V3ChecksumAsV2,
        StrictAddressList = Strict,
    };
}

/// <summary>One <c>vrrp_sync_group</c>: members change state together.</summary>
public sealed record VrrpSyncGroupConfig(string Name, IReadOnlyList<string> Members);
