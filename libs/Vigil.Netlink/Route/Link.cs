using System.Net.NetworkInformation;

namespace Vigil.Netlink.Route;

/// <summary>An interface as the kernel reports it (RTM_NEWLINK): what <c>ip -d link show</c> prints.</summary>
public sealed record Link
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public LinkFlags Flags { get; init; }
    public OperationalState OperationalState { get; init; }
    /// <summary>The MAC (IFLA_ADDRESS); null for interfaces without one.</summary>
    public PhysicalAddress? Address { get; init; }
    public PhysicalAddress? BroadcastAddress { get; init; }
    public int Mtu { get; init; }
    /// <summary>ARPHRD_* (1 = Ethernet, 772 = loopback).</summary>
    public ushort DeviceType { get; init; }
    /// <summary>The driver kind from IFLA_LINKINFO ("veth", "macvlan", "bridge"); null for physical NICs and lo.</summary>
    public string? Kind { get; init; }
    /// <summary>IFLA_LINK: the lower device of a macvlan/ipvlan/vlan (or a veth's peer, which may be in another namespace).</summary>
    public int? ParentIndex { get; init; }
    /// <summary>IFLA_MASTER: the bridge or bond this interface is enslaved to.</summary>
    public int? MasterIndex { get; init; }
    public uint? TxQueueLength { get; init; }
    /// <summary>IFLA_CARRIER, when the kernel reports it.</summary>
    public bool? Carrier { get; init; }
    public uint? CarrierChanges { get; init; }
    public MacvlanMode? MacvlanMode { get; init; }
    public IpvlanMode? IpvlanMode { get; init; }
    public IpvlanIsolation? IpvlanIsolation { get; init; }

    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsUp => (Flags & LinkFlags.Up) != 0;

    /// <summary>Carrier present (IFF_LOWER_UP).</summary>
    public bool HasCarrier => (Flags & LinkFlags.LowerUp) != 0;

    /// <summary>Up and running (IFF_UP and IFF_RUNNING): able to pass traffic.</summary>
    public bool IsRunning => (Flags & (LinkFlags.Up | LinkFlags.Running)) == (LinkFlags.Up | LinkFlags.Running);

    public override string ToString() =>
        $"{Index}: {Name}{(Kind is null ? "" : $" ({Kind})")} <{Flags}> mtu {Mtu} state {OperationalState}" +
        (Address is null ? "" : $" link/ether {MacText(Address)}");

    /// <summary>"00:00:5e:00:01:07" (PhysicalAddress.ToString has no colons).</summary>
    public static string MacText(PhysicalAddress mac) => string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2")));
}

/// <summary>A macvlan interface to create: keepalived's <c>use_vmac</c> makes one per VRRP
/// instance with MAC 00:00:5e:00:01:VRID (see <see cref="VrrpMac"/>).</summary>
public sealed record MacvlanLink
{
    public required string Name { get; init; }
    public required InterfaceRef Parent { get; init; }
    public MacvlanMode Mode { get; init; } = MacvlanMode.Private;
    /// <summary>The MAC; null lets the kernel pick a random one.</summary>
    public PhysicalAddress? Address { get; init; }

    /// <summary>The VRRP virtual router MAC of RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4),
    /// 00-00-5E-00-02-{VRID} (IPv6).</summary>
    public static PhysicalAddress VrrpMac(byte vrid, bool ipv6 = false) => new([0x00, 0x00, 0x5e, 0x00, (byte)(ipv6 ? 2 : 1), vrid]);

    public override string ToString() =>
        $"{Name} link {Parent} type macvlan mode {Mode.ToString().ToLowerInvariant()}" + (Address is null ? "" : $" address {Link.MacText(Address)}");
}

/// <summary>An ipvlan interface to create.</summary>
public sealed record IpvlanLink
{
    public required string Name { get; init; }
    public required InterfaceRef Parent { get; init; }
    public IpvlanMode Mode { get; init; } = IpvlanMode.L2;
    public IpvlanIsolation Isolation { get; init; } = IpvlanIsolation.Bridge;

    public override string ToString() =>
        $"{Name} link {Parent} type ipvlan mode {Mode.ToString().ToLowerInvariant()} {Isolation.ToString().ToLowerInvariant()}";
}
