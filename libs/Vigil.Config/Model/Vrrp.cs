using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Vigil.Config.Model;

public enum VrrpState
{
    Backup,
    Master,
}

public enum VrrpAuthType
{
    /// <summary>Simple password (8 bytes), VRRPv2 only.</summary>
    Pass,
    /// <summary>IPsec AH, VRRPv2 over IPv4 only.</summary>
    Ah,
}

public enum IpvlanMode
{
    Bridge,
    Private,
    Vepa,
}

/// <summary>old_unicast_checksum: accept the pre-1.3.6 VRRPv3 unicast checksum.</summary>
public enum OldUnicastChecksum
{
    /// <summary>Detect old checksums automatically (keepalived's default).</summary>
    Auto,
    /// <summary>"old_unicast_checksum": send the old checksum.</summary>
    Use,
    /// <summary>"old_unicast_checksum never": never detect it.</summary>
    Never,
}

/// <summary>VRRPv2 authentication (removed by RFC 3768, kept for compatibility).</summary>
public sealed record VrrpAuthentication(VrrpAuthType Type, string Password);

/// <summary>use_vmac: a macvlan for the instance (MAC 00:00:5e:00:01:VRID, or 00:00:5e:00:02:VRID for IPv6).</summary>
public sealed record VmacSettings
{
    /// <summary>The interface name; null: keepalived's vrrp.VRID (or vmac_prefix).</summary>
    public string? InterfaceName { get; init; }

    /// <summary>A MAC address given instead of the RFC one (with 5 octets the VRID is the last one).</summary>
    public PhysicalAddress? Mac { get; init; }
}

/// <summary>use_ipvlan: an L2 ipvlan for the instance.</summary>
public sealed record IpvlanSettings
{
    public string? InterfaceName { get; init; }

    public IpPrefix? Address { get; init; }

    public IpvlanMode Mode { get; init; } = IpvlanMode.Bridge;
}

/// <summary>A unicast peer, with the TTL/hop-limit range accepted from it (0..255 by default).</summary>
public sealed record UnicastPeer(IPAddress Address, int MinTtl = 0, int MaxTtl = 255);

/// <summary>
/// An address of virtual_ipaddress, virtual_ipaddress_excluded or static_ipaddress, with the
/// options of "ip address add".
/// </summary>
public sealed record VirtualIpAddress
{
    public required IpPrefix Address { get; init; }

    public IPAddress? Broadcast { get; init; }

    /// <summary>The interface ("dev"); null: the instance's interface (or default_interface for static addresses).</summary>
    public string? Device { get; init; }

    /// <summary>Address scope name or number ("global", "link", "host", "site", "nowhere").</summary>
    public string? Scope { get; init; }

    public string? Label { get; init; }

    /// <summary>The peer of a point-to-point address (the prefix length then applies to it).</summary>
    public IpPrefix? Peer { get; init; }

    public bool Home { get; init; }

    public bool NoDad { get; init; }

    public bool ManageTempAddr { get; init; }

    public bool NoPrefixRoute { get; init; }

    public bool AutoJoin { get; init; }

    /// <summary>no_track: the instance does not go FAULT if the address is removed.</summary>
    public bool NoTrack { get; init; }

    /// <summary>preferred_lft in seconds; uint.MaxValue is "forever"; null: default (0 for an IPv6 /128).</summary>
    public uint? PreferredLifetime { get; init; }

    /// <summary>use_vmac on the address: put it on a VMAC of its own interface.</summary>
    public bool UseVmac { get; init; }

    /// <summary>Static addresses only: the track_group whose instances track it.</summary>
    public string? TrackGroup { get; init; }

    public AddressFamily Family => Address.Family;
}

/// <summary>How a route is installed ("ip route prepend|add|append").</summary>
public enum RouteInstall
{
    Prepend,
    Add,
    Append,
}

/// <summary>
/// A route of virtual_routes or static_routes in "ip route" syntax. The common parts are typed;
/// other options (metrics, encap, ...) are kept as written in <see cref="Options"/>.
/// </summary>
public sealed record IpRoute
{
    /// <summary>The destination; null is "default".</summary>
    public IpPrefix? Destination { get; init; }

    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>Route type: unicast (default), blackhole, unreachable, prohibit, throw, local, ...</summary>
    public string Type { get; init; } = "unicast";

    public IPAddress? PreferredSource { get; init; }

    public IpPrefix? From { get; init; }

    public IPAddress? Via { get; init; }

    public string? Device { get; init; }

    public string? Table { get; init; }

    public uint? Metric { get; init; }

    public string? Protocol { get; init; }

    public string? Scope { get; init; }

    public string? Tos { get; init; }

    public bool OnLink { get; init; }

    public RouteInstall Install { get; init; } = RouteInstall.Prepend;

    /// <summary>"or ADDR": deprecated alternative gateway.</summary>
    public IPAddress? OrVia { get; init; }

    /// <summary>Each "nexthop ..." as written.</summary>
    public EquatableArray<string> Nexthops { get; init; }

    public bool NoTrack { get; init; }

    public string? TrackGroup { get; init; }

    public string? Vrf { get; init; }

    /// <summary>Other options as written, e.g. "mtu lock 1400", "advmss 1300".</summary>
    public EquatableArray<string> Options { get; init; }
}

/// <summary>A rule of virtual_rules or static_rules in "ip rule" syntax.</summary>
public sealed record IpRule
{
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    public bool Not { get; init; }

    public IpPrefix? From { get; init; }

    public IpPrefix? To { get; init; }

    /// <summary>The preference; keepalived assigns one (16384 downwards) when none is given.</summary>
    public uint Preference { get; init; }

    /// <summary>The action: "table", "goto", "nop", "blackhole", "prohibit", "unreachable", "l3mdev".</summary>
    public string Action { get; init; } = "table";

    public string? Table { get; init; }

    public uint? GotoTarget { get; init; }

    public string? Tos { get; init; }

    public uint? Fwmark { get; init; }

    public uint? FwmarkMask { get; init; }

    public string? InputInterface { get; init; }

    public string? OutputInterface { get; init; }

    public string? Protocol { get; init; }

    public bool NoTrack { get; init; }

    public string? TrackGroup { get; init; }

    /// <summary>Other options as written, e.g. "uidrange 1000-2000", "sport 10-20".</summary>
    public EquatableArray<string> Options { get; init; }
}

/// <summary>A vrrp_script: run periodically; its exit status is tracked by instances and groups.</summary>
public sealed record VrrpScript
{
    public required string Name { get; init; }

    public required ScriptSpec Script { get; init; }

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>0: the interval.</summary>
    public TimeSpan Timeout { get; init; }

    public int Weight { get; init; }

    public bool WeightReverse { get; init; }

    public int Rise { get; init; } = 1;

    public int Fall { get; init; } = 1;

    public bool InitFail { get; init; }
}

/// <summary>A track_file (vrrp_track_file): a number read from a file whenever it changes.</summary>
public sealed record TrackFile
{
    public required string Name { get; init; }

    public required string Path { get; init; }

    public int Weight { get; init; } = 1;

    public bool WeightReverse { get; init; }

    /// <summary>init_file: the value written at startup (null: the file is not created).</summary>
    public int? InitValue { get; init; }

    /// <summary>init_file ... overwrite: write the value even if the file exists.</summary>
    public bool InitOverwrite { get; init; }
}

public enum ProcessParamMatch
{
    /// <summary>Only the process name is matched.</summary>
    None,
    Exact,
    /// <summary>The last parameter may be longer than configured.</summary>
    Initial,
    /// <summary>The first n parameters match.</summary>
    Partial,
}

/// <summary>A vrrp_track_process: how many matching processes run.</summary>
public sealed record TrackProcess
{
    public required string Name { get; init; }

    public required string Process { get; init; }

    public EquatableArray<string> Parameters { get; init; }

    public ProcessParamMatch ParamMatch { get; init; }

    public int Weight { get; init; }

    public bool WeightReverse { get; init; }

    public int Quorum { get; init; } = 1;

    public int QuorumMax { get; init; } = int.MaxValue;

    public TimeSpan ForkDelay { get; init; }

    public TimeSpan TerminateDelay { get; init; }

    public bool FullCommand { get; init; }
}

/// <summary>A bfd_instance (RFC 5880 session) that instances and checkers can track.</summary>
public sealed record BfdInstance
{
    public required string Name { get; init; }

    public IPAddress? NeighborAddress { get; init; }

    public IPAddress? SourceAddress { get; init; }

    public TimeSpan MinRx { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MinTx { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan IdleTx { get; init; } = TimeSpan.FromMilliseconds(1000);

    public int Multiplier { get; init; } = 5;

    public bool Passive { get; init; }

    /// <summary>TTL (IPv4) or hop limit (IPv6) to send with; null: 255 for IPv4, 64 for IPv6.</summary>
    public int? Ttl { get; init; }

    public int MaxHops { get; init; }

    public int Weight { get; init; }

    public bool WeightReverse { get; init; }

    /// <summary>Events go to the VRRP plane (both planes when neither is set).</summary>
    public bool ToVrrp { get; init; }

    public bool ToChecker { get; init; }
}

/// <summary>A garp_group: GARP/NA pacing for interfaces that share a switch.</summary>
public sealed record GarpGroup
{
    public TimeSpan? GarpInterval { get; init; }

    public TimeSpan? GnaInterval { get; init; }

    public EquatableArray<string> Interfaces { get; init; }
}

/// <summary>A track_group: instances that track the static addresses, routes and rules naming it.</summary>
public sealed record TrackGroup(string Name, EquatableArray<string> Instances);

/// <summary>A vrrp_sync_group: member instances change state together.</summary>
public sealed record VrrpSyncGroup
{
    public required string Name { get; init; }

    public EquatableArray<string> Members { get; init; }

    public EquatableArray<TrackedInterface> TrackInterfaces { get; init; }

    public EquatableArray<TrackedObject> TrackScripts { get; init; }

    public EquatableArray<TrackedObject> TrackFiles { get; init; }

    public EquatableArray<TrackedObject> TrackProcesses { get; init; }

    public EquatableArray<TrackedObject> TrackBfds { get; init; }

    public ScriptSpec? NotifyMaster { get; init; }

    public ScriptSpec? NotifyBackup { get; init; }

    public ScriptSpec? NotifyFault { get; init; }

    public ScriptSpec? NotifyStop { get; init; }

    /// <summary>The generic notify script (called with GROUP name state priority appended).</summary>
    public ScriptSpec? Notify { get; init; }

    public bool SmtpAlert { get; init; }

    /// <summary>sync_group_tracking_weight (or the deprecated global_tracking): members keep their tracking weights.</summary>
    public bool TrackingWeight { get; init; }

    public bool NotifyPriorityChanges { get; init; }
}

/// <summary>A vrrp_instance, with keepalived's defaults and corrections applied.</summary>
public sealed record VrrpInstance
{
    public required string Name { get; init; }

    /// <summary>The initial state (derived from the priority when not configured: 255 is MASTER).</summary>
    public VrrpState State { get; init; }

    public string? Interface { get; init; }

    public string? Vrf { get; init; }

    public VmacSettings? UseVmac { get; init; }

    public bool UseVmacAddr { get; init; }

    public bool VmacXmitBase { get; init; }

    public IpvlanSettings? UseIpvlan { get; init; }

    public bool NativeIpv6 { get; init; }

    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>2 or 3 (IPv6 instances always use 3).</summary>
    public int Version { get; init; } = 2;

    public int VirtualRouterId { get; init; }

    /// <summary>1..255; 255 is the address owner.</summary>
    public int Priority { get; init; } = 100;

    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);

    public VrrpAuthentication? Authentication { get; init; }

    public bool DontTrackPrimary { get; init; }

    public EquatableArray<TrackedInterface> TrackInterfaces { get; init; }

    public EquatableArray<TrackedObject> TrackScripts { get; init; }

    public EquatableArray<TrackedObject> TrackFiles { get; init; }

    public EquatableArray<TrackedObject> TrackProcesses { get; init; }

    public EquatableArray<TrackedObject> TrackBfds { get; init; }

    /// <summary>mcast_src_ip / unicast_src_ip; null: the interface's primary address.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>track_src_ip: go FAULT if the configured source address disappears.</summary>
    public bool TrackSourceAddress { get; init; }

    /// <summary>The multicast destination (null when the instance uses unicast).</summary>
    public IPAddress? MulticastGroup { get; init; }

    public EquatableArray<UnicastPeer> UnicastPeers { get; init; }

    /// <summary>True when adverts go to unicast peers.</summary>
    public bool Unicast => !UnicastPeers.IsEmpty;

    /// <summary>TTL/hop limit of unicast adverts (null: the kernel default, for IPv6).</summary>
    public int? UnicastTtl { get; init; }

    public bool UnicastFaultNoPeer { get; init; }

    public bool CheckUnicastSource { get; init; }

    public OldUnicastChecksum OldUnicastChecksum { get; init; }

    /// <summary>v3_checksum_as_v2 (later keepalived): VRRPv3 IPv4 checksum without the pseudo-header.</summary>
    public bool V3ChecksumAsV2 { get; init; }

    public EquatableArray<VirtualIpAddress> VirtualIpAddresses { get; init; }

    public EquatableArray<VirtualIpAddress> ExcludedVirtualIpAddresses { get; init; }

    public EquatableArray<IpRoute> VirtualRoutes { get; init; }

    public EquatableArray<IpRule> VirtualRules { get; init; }

    public bool PromoteSecondaries { get; init; }

    /// <summary>Accept packets to the VIPs when not the address owner (default: not in strict mode).</summary>
    public bool Accept { get; init; } = true;

    public bool Nopreempt { get; init; }

    public TimeSpan PreemptDelay { get; init; }

    public bool SkipCheckAdvAddr { get; init; }

    public bool StrictMode { get; init; }

    public int Debug { get; init; }

    public ScriptSpec? NotifyMaster { get; init; }

    public ScriptSpec? NotifyBackup { get; init; }

    public ScriptSpec? NotifyFault { get; init; }

    public ScriptSpec? NotifyStop { get; init; }

    /// <summary>notify_deleted: notifies say DELETED (not FAULT) when a reload removes the instance.</summary>
    public bool NotifyDeleted { get; init; }

    public ScriptSpec? NotifyDeletedScript { get; init; }

    /// <summary>The generic notify script (called with INSTANCE name state priority appended).</summary>
    public ScriptSpec? Notify { get; init; }

    public ScriptSpec? NotifyMasterRxLowerPri { get; init; }

    public bool SmtpAlert { get; init; }

    public bool NotifyPriorityChanges { get; init; }

    public TimeSpan GarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);

    public int GarpMasterRepeat { get; init; } = 5;

    public TimeSpan GarpMasterRefresh { get; init; }

    public int GarpMasterRefreshRepeat { get; init; } = 1;

    public TimeSpan GarpLowerPrioDelay { get; init; } = TimeSpan.FromSeconds(5);

    public int GarpLowerPrioRepeat { get; init; } = 5;

    /// <summary>Periodic GARP/NA on VIP interfaces other than the instance's (0: off).</summary>
    public TimeSpan GarpExtraIf { get; init; }

    public bool GarpExtraIfAll { get; init; }

    /// <summary>Master_Down_Interval = DownTimerAdverts x advert interval + skew (RFC: 3).</summary>
    public int DownTimerAdverts { get; init; } = 3;

    public bool LowerPrioNoAdvert { get; init; }

    public bool HigherPrioSendAdvert { get; init; }

    public uint? KernelRxBufSize { get; init; }
}
