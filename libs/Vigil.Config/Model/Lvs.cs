using System.Net;
using System.Net.Sockets;
using System.Text.Json.Serialization;

namespace Vigil.Config.Model;

public enum IpvsProtocol
{
    Tcp,
    Udp,
    Sctp,
}

/// <summary>IPVS forwarding method (lb_kind / lvs_method).</summary>
public enum ForwardingMethod
{
    /// <summary>Masquerading (the default).</summary>
    Nat,
    /// <summary>Direct routing.</summary>
    Dr,
    /// <summary>IP-in-IP (or GUE / GRE) tunnelling.</summary>
    Tun,
}

public enum TunnelType
{
    Ipip,
    Gue,
    Gre,
}

public enum TunnelChecksum
{
    NoChecksum,
    Checksum,
    RemoteChecksum,
}

/// <summary>How a server is reached, with the tunnel details for TUN.</summary>
public sealed record Forwarding(ForwardingMethod Method, TunnelType TunnelType = TunnelType.Ipip, int? TunnelPort = null, TunnelChecksum TunnelChecksum = TunnelChecksum.NoChecksum)
{
    public static Forwarding Nat { get; } = new(ForwardingMethod.Nat);
}

/// <summary>
/// IPVS service flags as the kernel takes them (IP_VS_SVC_F_*). The scheduler flags are
/// generic bits whose meaning depends on the scheduler: keepalived's sh-fallback / mh-fallback
/// set <see cref="Flag1"/>, sh-port / mh-port set <see cref="Flag2"/>.
/// </summary>
[Flags]
[JsonConverter(typeof(JsonStringEnumConverter<SchedulerFlags>))]
public enum SchedulerFlags
{
    None = 0,

    /// <summary>ops: one-packet scheduling (UDP), IP_VS_SVC_F_ONEPACKET.</summary>
    Ops = 0x04,

    /// <summary>flag-1, sh-fallback, mh-fallback: IP_VS_SVC_F_SCHED1.</summary>
    Flag1 = 0x08,

    /// <summary>flag-2, sh-port, mh-port: IP_VS_SVC_F_SCHED2.</summary>
    Flag2 = 0x10,

    /// <summary>flag-3: IP_VS_SVC_F_SCHED3.</summary>
    Flag3 = 0x20,
}

public enum VirtualServerKind
{
    /// <summary>virtual_server IP PORT</summary>
    Address,
    /// <summary>virtual_server fwmark N</summary>
    Fwmark,
    /// <summary>virtual_server group NAME</summary>
    Group,
}

/// <summary>An entry of a virtual_server_group: an address range with a port, or a fwmark.</summary>
public sealed record VirtualServerGroupEntry
{
    /// <summary>First address of the range (null for a fwmark entry).</summary>
    public IPAddress? Start { get; init; }

    /// <summary>Last address of the range (equal to Start for a single address).</summary>
    public IPAddress? End { get; init; }

    /// <summary>0: no port (only valid for persistent services).</summary>
    public int Port { get; init; }

    public uint? Fwmark { get; init; }

    /// <summary>The family of a fwmark entry ("inet"/"inet6"), when given.</summary>
    public AddressFamily? FwmarkFamily { get; init; }
}

public sealed record VirtualServerGroup(string Name, EquatableArray<VirtualServerGroupEntry> Entries);

/// <summary>The sorry server of a virtual server, used when the quorum is lost.</summary>
public sealed record SorryServer
{
    public required IPAddress Address { get; init; }

    public int Port { get; init; }

    public bool Inhibit { get; init; }

    public Forwarding Forwarding { get; init; } = Forwarding.Nat;
}

/// <summary>A real_server of a virtual server, with the virtual server's defaults applied.</summary>
public sealed record RealServer
{
    public required IPAddress Address { get; init; }

    public int Port { get; init; }

    public int Weight { get; init; } = 1;

    public Forwarding Forwarding { get; init; } = Forwarding.Nat;

    public uint? UpperThreshold { get; init; }

    public uint? LowerThreshold { get; init; }

    public bool InhibitOnFailure { get; init; }

    public ScriptSpec? NotifyUp { get; init; }

    public ScriptSpec? NotifyDown { get; init; }

    public bool Alpha { get; init; }

    public bool SmtpAlert { get; init; } = true;

    public string? VirtualHost { get; init; }

    public EquatableArray<Checker> Checkers { get; init; }
}

/// <summary>A virtual_server, with keepalived's defaults and corrections applied.</summary>
public sealed record VirtualServer
{
    public VirtualServerKind Kind { get; init; }

    public IPAddress? Address { get; init; }

    public int Port { get; init; }

    public uint? Fwmark { get; init; }

    public string? Group { get; init; }

    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;

    /// <summary>The IPVS scheduler (rr, wrr, lc, wlc, ...; keepalived's default is wlc).</summary>
    public string Scheduler { get; init; } = "wlc";

    public SchedulerFlags SchedulerFlags { get; init; }

    public Forwarding Forwarding { get; init; } = Forwarding.Nat;

    /// <summary>Persistence timeout; null: not persistent.</summary>
    public TimeSpan? PersistenceTimeout { get; init; }

    /// <summary>Persistence granularity: an IPv4 netmask or an IPv6 prefix length.</summary>
    public string? PersistenceGranularity { get; init; }

    public string? PersistenceEngine { get; init; }

    /// <summary>The protocol (null for fwmark services, where it is ignored).</summary>
    public IpvsProtocol? Protocol { get; init; }

    public bool HaSuspend { get; init; }

    public bool SmtpAlert { get; init; }

    public string? VirtualHost { get; init; }

    public bool Alpha { get; init; }

    public bool Omega { get; init; }

    public uint Quorum { get; init; } = 1;

    public uint Hysteresis { get; init; }

    public ScriptSpec? QuorumUp { get; init; }

    public ScriptSpec? QuorumDown { get; init; }

    /// <summary>The default weight of real servers without one.</summary>
    public int Weight { get; init; } = 1;

    public SorryServer? SorryServer { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan DelayLoop { get; init; } = TimeSpan.FromSeconds(60);

    public bool InhibitOnFailure { get; init; }

    public EquatableArray<RealServer> RealServers { get; init; }

    /// <summary>A stable identity for diffs: "10.0.0.1:80/tcp", "fwmark 5", "group NAME".</summary>
    [JsonIgnore]
    public string Key => Kind switch
    {
        VirtualServerKind.Fwmark => $"fwmark {Fwmark}" + (Family == AddressFamily.InterNetworkV6 ? "/inet6" : ""),
        VirtualServerKind.Group => $"group {Group}/{Protocol?.ToString().ToLowerInvariant() ?? "-"}",
        _ => $"{(Address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address?.ToString())}:{Port}/{Protocol?.ToString().ToLowerInvariant() ?? "-"}",
    };
}

/// <summary>The root SSL block: the client context of SSL_GET checkers.</summary>
public sealed record SslContext
{
    public string? Password { get; init; }

    public string? CaFile { get; init; }

    public string? CertificateFile { get; init; }

    public string? KeyFile { get; init; }
}
