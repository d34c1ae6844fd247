using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vigil.Netlink.Ipvs;

/// <summary>IPVS generic netlink commands (enum in linux/ip_vs.h).</summary>
public enum IpvsCommand : byte
{
    NewService = 1,
    SetService = 2,
    DelService = 3,
    GetService = 4,
    NewDest = 5,
    SetDest = 6,
    DelDest = 7,
    GetDest = 8,
    NewDaemon = 9,
    DelDaemon = 10,
    GetDaemon = 11,
    SetConfig = 12,
    GetConfig = 13,
    SetInfo = 14,
    GetInfo = 15,
    Zero = 16,
    Flush = 17,
}

/// <summary>Virtual service protocol (IPPROTO_*).</summary>
public enum IpvsProtocol : ushort
{
    Tcp = 6,
    Udp = 17,
    Sctp = 132,
}

/// <summary>IP_VS_SVC_F_* service flags.</summary>
[Flags]
public enum IpvsServiceFlags : uint
{
    None = 0,
    /// <summary>Persistent service (<c>-p</c>).</summary>
    Persistent = 0x1,
    /// <summary>Set by the kernel on services in its table; ignored on input.</summary>
    Hashed = 0x2,
    /// <summary>One-packet scheduling (<c>-o</c>), UDP only.</summary>
    OnePacket = 0x4,
    Scheduler1 = 0x8,
    Scheduler2 = 0x10,
    Scheduler3 = 0x20,
    /// <summary>sh scheduler: fall back to another server when the chosen one is unavailable.</summary>
    ShFallback = Scheduler1,
    /// <summary>sh scheduler: hash the source port too.</summary>
    ShPort = Scheduler2,
    /// <summary>mh scheduler flags share the bits.</summary>
    MhFallback = Scheduler1,
    MhPort = Scheduler2,
}

/// <summary>How packets reach a real server (IP_VS_CONN_F_FWD_MASK values).</summary>
public enum IpvsForwardingMethod : uint
{
    /// <summary>NAT (<c>-m</c>).</summary>
    Masquerade = 0,
    Local = 1,
    /// <summary>IP-in-IP / GUE / GRE tunnel (<c>-i</c>).</summary>
    Tunnel = 2,
    /// <summary>Direct routing, "gatewaying" (<c>-g</c>).</summary>
    DirectRoute = 3,
    Bypass = 4,
}

/// <summary>IP_VS_CONN_F_TUNNEL_TYPE_*.</summary>
public enum IpvsTunnelType : byte
{
    IpIp = 0,
    Gue = 1,
    Gre = 2,
}

/// <summary>IP_VS_TUNNEL_ENCAP_FLAG_*.</summary>
[Flags]
public enum IpvsTunnelFlags : ushort
{
    NoChecksum = 0,
    Checksum = 1,
    RemoteChecksum = 2,
}

/// <summary>Sync daemon role (IP_VS_STATE_*).</summary>
public enum IpvsDaemonState : uint
{
    None = 0,
    Master = 1,
    Backup = 2,
}

/// <summary>Counters of a service or real server (IPVS_SVC_ATTR_STATS64 / STATS).</summary>
public sealed record IpvsStats(
    ulong Connections, ulong InPackets, ulong OutPackets, ulong InBytes, ulong OutBytes,
    ulong ConnectionRate, ulong InPacketRate, ulong OutPacketRate, ulong InByteRate, ulong OutByteRate);

/// <summary>
/// A virtual service: <c>ipvsadm -A</c> takes it and <c>ipvsadm -Ln</c> lists it. A service is
/// identified either by a firewall mark (<see cref="FirewallMark"/> &gt; 0) or by protocol,
/// address and port.
/// </summary>
public sealed record IpvsService
{
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;
    public IpvsProtocol Protocol { get; init; } = IpvsProtocol.Tcp;
    /// <summary>The virtual IP; null for firewall-mark services.</summary>
    public IPAddress? Address { get; init; }
    public ushort Port { get; init; }
    /// <summary>Firewall mark (<c>-f</c>); 0 for address/port services.</summary>
    public uint FirewallMark { get; init; }
    /// <summary>Scheduler name (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh).</summary>
    public string Scheduler { get; init; } = "wlc";
    public IpvsServiceFlags Flags { get; init; }
    /// <summary>Persistence timeout in seconds (<c>-p</c>), with <see cref="IpvsServiceFlags.Persistent"/>.</summary>
    public uint PersistenceTimeout { get; init; }
    /// <summary>Persistence granularity as a prefix length (<c>-M</c>): 0..32 for IPv4 (sent as a
    /// netmask), 1..128 for IPv6. Null means a single client address (/32 or /128).</summary>
    public int? PersistenceNetmask { get; init; }
    /// <summary>Persistence engine (<c>--pe sip</c>).</summary>
    public string? PersistenceEngine { get; init; }
    /// <summary>Counters, when read from the kernel.</summary>
    public IpvsStats? Stats { get; init; }

    public bool IsFirewallMark => FirewallMark != 0;

    /// <summary>The same service reduced to what identifies it (for delete and destination commands).</summary>
    public IpvsService Key => new()
    {
        Family = Family,
        // A fwmark service is (family, mark): the kernel reports whatever protocol it stored for it.
        Protocol = IsFirewallMark ? IpvsProtocol.Tcp : Protocol,
        Address = IsFirewallMark ? null : Address,
        Port = IsFirewallMark ? (ushort)0 : Port,
        FirewallMark = FirewallMark,
        Scheduler = "",
    };

    /// <summary>As <c>ipvsadm -Ln</c> heads a service: "TCP  10.0.0.1:80 rr", "FWM  5 wlc".</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append(IsFirewallMark ? $"FWM  {FirewallMark}" : $"{Protocol.ToString().ToUpperInvariant()}  {Endpoint(Address, Port)}");
        if (Scheduler.Length > 0) s.Append(' ').Append(Scheduler);
        if ((Flags & IpvsServiceFlags.Persistent) != 0) s.Append(" persistent ").Append(PersistenceTimeout);
        if ((Flags & IpvsServiceFlags.OnePacket) != 0) s.Append(" ops");
        if (PersistenceEngine is not null) s.Append(" pe ").Append(PersistenceEngine);
        return s.ToString();
    }

    internal static string Endpoint(IPAddress? address, ushort port) =>
        address is null ? $"*:{port}" : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}

/// <summary>A real server of a virtual service: <c>ipvsadm -a</c> takes it and <c>ipvsadm -Ln</c> lists it.</summary>
public sealed record IpvsDestination
{
    public required IPAddress Address { get; init; }
    public ushort Port { get; init; }
    /// <summary>The destination's own family (IPVS_DEST_ATTR_ADDR_FAMILY); null = the service's.</summary>
    public AddressFamily? Family { get; init; }
    public IpvsForwardingMethod ForwardingMethod { get; init; } = IpvsForwardingMethod.DirectRoute;
    public int Weight { get; init; } = 1;
    /// <summary>Upper connection threshold (<c>-x</c>); 0 = none.</summary>
    public uint UpperThreshold { get; init; }
    /// <summary>Lower connection threshold (<c>-y</c>); 0 = none.</summary>
    public uint LowerThreshold { get; init; }
    public IpvsTunnelType TunnelType { get; init; }
    /// <summary>GUE tunnel destination port.</summary>
    public ushort TunnelPort { get; init; }
    public IpvsTunnelFlags TunnelFlags { get; init; }
    public uint ActiveConnections { get; init; }
    public uint InactiveConnections { get; init; }
    public uint PersistentConnections { get; init; }
    public IpvsStats? Stats { get; init; }

    /// <summary>As <c>ipvsadm -Ln</c> lists it: "-> 10.0.0.2:80 Route 3".</summary>
    public override string ToString() =>
        $"-> {IpvsService.Endpoint(Address, Port)} {MethodName(ForwardingMethod)} {Weight}";

    /// <summary>The forwarding column of <c>ipvsadm -Ln</c>: Masq, Route, Tunnel, Local, Bypass.</summary>
    public static string MethodName(IpvsForwardingMethod m) => m switch
    {
        IpvsForwardingMethod.Masquerade => "Masq",
        IpvsForwardingMethod.Local => "Local",
        IpvsForwardingMethod.Tunnel => "Tunnel",
        IpvsForwardingMethod.DirectRoute => "Route",
        IpvsForwardingMethod.Bypass => "Bypass",
        _ => ((uint)m).ToString(),
    };
}

/// <summary>Connection timeouts (<c>ipvsadm --set tcp tcpfin udp</c>); zero leaves one unchanged.</summary>
public sealed record IpvsTimeouts(TimeSpan Tcp, TimeSpan TcpFin, TimeSpan Udp);

/// <summary>A connection synchronization daemon (<c>ipvsadm --start-daemon</c>).</summary>
public sealed record IpvsDaemon
{
    public IpvsDaemonState State { get; init; } = IpvsDaemonState.Master;
    /// <summary>Multicast interface (<c>--mcast-interface</c>).</summary>
    public string Interface { get; init; } = "";
    public uint SyncId { get; init; }
    /// <summary>UDP payload size (<c>--sync-maxlen</c>).</summary>
    public ushort? MaxSyncLength { get; init; }
    /// <summary>Multicast group (<c>--mcast-group</c>), IPv4 or IPv6.</summary>
    public IPAddress? MulticastGroup { get; init; }
    public ushort? MulticastPort { get; init; }
    public byte? MulticastTtl { get; init; }

    public override string ToString() =>
        $"{State.ToString().ToLowerInvariant()} sync daemon (mcast={Interface}, syncid={SyncId}" +
        (MaxSyncLength is ushort l ? $", maxlen={l}" : "") + (MulticastGroup is null ? "" : $", group={MulticastGroup}") +
        (MulticastPort is ushort p ? $", port={p}" : "") + (MulticastTtl is byte t ? $", ttl={t}" : "") + ")";
}

/// <summary>IPVS version and connection table size (<c>IP Virtual Server version 1.2.1 (size=4096)</c>).</summary>
public sealed record IpvsInfo(uint Version, uint ConnectionTableSize)
{
    public string VersionText => $"{(Version >> 16) & 0xff}.{(Version >> 8) & 0xff}.{Version & 0xff}";

    public override string ToString() => $"IP Virtual Server version {VersionText} (size={ConnectionTableSize})";
}
