using System.Net;
using System.Net.Sockets;

namespace Vigil.Checkd.Model;

/// <summary>The layer-4 protocol of a virtual service (keepalived's <c>protocol</c>).</summary>
public enum ServiceProtocol
{
    None = 0,
    Tcp,
    Udp,
    Sctp,
}

/// <summary>How a virtual server is identified: an address and port, a firewall mark, or a
/// <c>virtual_server_group</c>.</summary>
public enum VirtualServerKind
{
    Address,
    Fwmark,
    Group,
}

/// <summary>
/// The identity of a virtual server, as keepalived compares them across a reload: address, port
/// and protocol; or fwmark; or group name and protocol. <see cref="ToString"/> prints keepalived's
/// form (<c>[10.0.0.1]:tcp:80</c>, <c>FWM 5</c>, <c>[web]:tcp</c>), which is also what alerts and
/// logs show.
/// </summary>
public readonly record struct VirtualServerKey
{
    public VirtualServerKind Kind { get; init; }
    public IPAddress? Address { get; init; }
    public ushort Port { get; init; }
    public ServiceProtocol Protocol { get; init; }
    public uint Fwmark { get; init; }
    public string? GroupName { get; init; }

    public static VirtualServerKey ForAddress(IPAddress address, ushort port, ServiceProtocol protocol = ServiceProtocol.Tcp) =>
        new() { Kind = VirtualServerKind.Address, Address = address, Port = port, Protocol = protocol };

    public static VirtualServerKey ForFwmark(uint fwmark) => new() { Kind = VirtualServerKind.Fwmark, Fwmark = fwmark };

    public static VirtualServerKey ForGroup(string name, ServiceProtocol protocol = ServiceProtocol.Tcp) =>
        new() { Kind = VirtualServerKind.Group, GroupName = name, Protocol = protocol };

    /// <summary>The address family of the virtual address, when it has one.</summary>
    public AddressFamily? Family => Address?.AddressFamily;

    public override string ToString() => Kind switch
    {
        VirtualServerKind.Fwmark => $"FWM {Fwmark}",
        VirtualServerKind.Group => $"[{GroupName}]:{ProtocolName(Protocol)}",
        _ => $"[{Address}]:{ProtocolName(Protocol)}:{Port}",
    };

    public static string ProtocolName(ServiceProtocol protocol) => protocol switch
    {
        ServiceProtocol.Tcp => "tcp",
        ServiceProtocol.Udp => "udp",
        ServiceProtocol.Sctp => "sctp",
        _ => "none",
    };
}

/// <summary>A real server's identity inside its virtual server: address and port (keepalived's
/// rs_iseq).</summary>
public readonly record struct RealServerKey(IPAddress Address, ushort Port)
{
    /// <summary>keepalived's FMT_RS: <c>[10.0.0.2]:tcp:80</c>.</summary>
    public string Format(ServiceProtocol protocol) => $"[{Address}]:{VirtualServerKey.ProtocolName(protocol)}:{Port}";

    public override string ToString() => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
