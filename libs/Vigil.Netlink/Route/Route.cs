using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Vigil.Netlink.Route;

/// <summary>
/// A route: what <c>ip route add</c> takes and <c>ip route show</c> lists. As a request, null
/// fields get iproute2's defaults (table main, or local for local/broadcast routes; protocol boot
/// and type unicast on add, "any" on delete; scope link for an IPv4 unicast route without a
/// gateway, else global; nowhere, meaning any, on IPv4 delete).
/// </summary>
public sealed record Route
{
    /// <summary>The destination; /0 is the default route.</summary>
    public required IPPrefix Destination { get; init; }
    public IPAddress? Gateway { get; init; }
    public InterfaceRef? Interface { get; init; }
    /// <summary>Source address to prefer for traffic on this route (<c>src</c>, RTA_PREFSRC).</summary>
    public IPAddress? PreferredSource { get; init; }
    public uint? Table { get; init; }
    /// <summary><c>metric</c> (RTA_PRIORITY).</summary>
    public uint? Metric { get; init; }
    public AddressScope? Scope { get; init; }
    public RouteProtocol? Protocol { get; init; }
    public RouteType? Type { get; init; }
    /// <summary>Pretend the gateway is directly attached (RTNH_F_ONLINK).</summary>
    public bool OnLink { get; init; }
    public byte Tos { get; init; }
    /// <summary>Multipath next hops (RTA_MULTIPATH); use instead of <see cref="Gateway"/>/<see cref="Interface"/>.</summary>
    public IReadOnlyList<NextHop> NextHops { get; init; } = [];

    public AddressFamily Family => Destination.AddressFamily;

    /// <summary>In <c>ip route</c> syntax.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        if (Type is RouteType t && t != RouteType.Unicast) s.Append(t.ToString().ToLowerInvariant()).Append(' ');
        s.Append(Destination.PrefixLength == 0 ? "default" : Destination.ToString());
        if (Tos != 0) s.Append(" tos 0x").Append(Tos.ToString("x"));
        if (Gateway is not null) s.Append(" via ").Append(Gateway);
        if (Interface is InterfaceRef dev) s.Append(" dev ").Append(dev);
        if (PreferredSource is not null) s.Append(" src ").Append(PreferredSource);
        if (Table is uint table) s.Append(" table ").Append(RouteTable.Name(table));
        if (Metric is uint metric) s.Append(" metric ").Append(metric);
        if (Protocol is RouteProtocol p) s.Append(" proto ").Append(p.ToString().ToLowerInvariant());
        if (Scope is AddressScope scope) s.Append(" scope ").Append(InterfaceAddress.ScopeName(scope));
        if (OnLink) s.Append(" onlink");
        foreach (var hop in NextHops) s.Append(" nexthop ").Append(hop);
        return s.ToString();
    }
}

/// <summary>One next hop of a multipath route.</summary>
public sealed record NextHop
{
    public IPAddress? Gateway { get; init; }
    public InterfaceRef? Interface { get; init; }
    /// <summary>1..256 (rtnh_hops + 1).</summary>
    public int Weight { get; init; } = 1;
    public bool OnLink { get; init; }

    public override string ToString() =>
        (Gateway is null ? "" : $"via {Gateway} ") + (Interface is InterfaceRef dev ? $"dev {dev} " : "") + $"weight {Weight}" + (OnLink ? " onlink" : "");
}
