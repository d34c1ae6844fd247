using System.Net.NetworkInformation;
using System.Net.Sockets;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Route;

/// <summary>
/// rtnetlink operations on one network namespace: addresses, links (including macvlan VMACs and
/// ipvlan), routes and rules. Requests are encoded as iproute2 encodes the equivalent <c>ip</c>
/// command (<see cref="RouteMessages"/>); interfaces given by name are resolved with RTM_GETLINK
/// first. Failures throw <see cref="NetlinkException"/> naming the request and the kernel's
/// reason, e.g. <c>RTM_NEWADDR 10.0.0.5/24 dev eth0: File exists (EEXIST)</c>. Calls on one
/// instance are serialized; it is safe to share.
/// </summary>
public sealed class Rtnetlink : IDisposable
{
    private readonly NetlinkSocket _socket;

    private Rtnetlink(NetlinkSocket socket)
    {
        _socket = socket;
    }

    /// <summary>Opens an rtnetlink socket in the given namespace (the caller's by default).</summary>
    public static Rtnetlink Open(NetworkNamespace? ns = null) =>
        Open(new NetlinkSocketOptions { Namespace = ns ?? NetworkNamespace.Current });

    public static Rtnetlink Open(NetlinkSocketOptions options) => new(NetlinkSocket.Open(NetlinkProtocol.Route, options));

    public NetworkNamespace Namespace => _socket.Namespace;

    // ---------------------------------------------------------------- addresses

    /// <summary>Adds an address (<c>ip addr add</c>); EEXIST if it is there already.</summary>
    public async Task AddAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWADDR {address}";
        var resolved = address with { Interface = await ResolveAsync(address.Interface, op, cancellationToken).ConfigureAwait(false) };
        await RunAsync(RouteMessages.EncodeAddress(resolved, delete: false), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes an address (<c>ip addr del</c>); EADDRNOTAVAIL if it is not there.</summary>
    public async Task DeleteAddressAsync(InterfaceAddress address, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_DELADDR {address.Address}{(address.Peer is null ? "" : $" peer {address.Peer}")} dev {address.Interface}";
        var resolved = address with { Interface = await ResolveAsync(address.Interface, op, cancellationToken).ConfigureAwait(false) };
        await RunAsync(RouteMessages.EncodeAddress(resolved, delete: true), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists addresses (<c>ip addr show</c>), optionally of one family and one interface.</summary>
    public async Task<IReadOnlyList<InterfaceAddress>> ListAddressesAsync(AddressFamily family = AddressFamily.Unspecified, InterfaceRef? device = null, CancellationToken cancellationToken = default)
    {
        var op = "RTM_GETADDR dump" + (device is InterfaceRef d ? $" dev {d}" : "");
        var index = device is InterfaceRef dev ? (await ResolveAsync(dev, op, cancellationToken).ConfigureAwait(false)).Index : 0;
        var messages = await RunAsync(RouteMessages.EncodeAddressDump(family, index), op, cancellationToken).ConfigureAwait(false);
        var result = new List<InterfaceAddress>();
        foreach (var m in messages)
        {
            if (m.Type != NetlinkMessageType.NewAddr) continue;
            var a = m.Decode(op, RouteMessages.DecodeAddress);
            // The kernel filters with strict checking; this keeps the promise on kernels without it.
            if ((index == 0 || a.Interface.Index == index) && (family == AddressFamily.Unspecified || a.Address.AddressFamily == family))
            {
                result.Add(a);
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- links

    /// <summary>All interfaces (<c>ip link show</c>).</summary>
    public async Task<IReadOnlyList<Link>> ListLinksAsync(CancellationToken cancellationToken = default)
    {
        const string op = "RTM_GETLINK dump";
        var messages = await RunAsync(RouteMessages.EncodeLinkDump(), op, cancellationToken).ConfigureAwait(false);
        return messages.Where(m => m.Type == NetlinkMessageType.NewLink).Select(m => m.Decode(op, RouteMessages.DecodeLink)).ToList();
    }

    /// <summary>One interface by name or index, or null when there is none.</summary>
    public async Task<Link?> GetLinkAsync(InterfaceRef device, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_GETLINK {device}";
        var request = device.HasIndex ? RouteMessages.EncodeGetLink(device.Index) : RouteMessages.EncodeGetLink(device.Name!);
        try
        {
            var messages = await _socket.RequestAsync(request, op, cancellationToken).ConfigureAwait(false);
            var reply = messages.FirstOrDefault(m => m.Type == NetlinkMessageType.NewLink);
            return reply.Payload.IsEmpty ? null : reply.Decode(op, RouteMessages.DecodeLink);
        }
        catch (NetlinkException e) when (e.ErrorCode == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>The index of the named interface; ENODEV when there is none.</summary>
    public async Task<int> GetIndexAsync(string name, CancellationToken cancellationToken = default) =>
        (await ResolveAsync(InterfaceRef.FromName(name), $"RTM_GETLINK {name}", cancellationToken).ConfigureAwait(false)).Index;

    /// <summary>Sets an interface administratively up or down (<c>ip link set dev D up|down</c>).</summary>
    public async Task SetLinkUpAsync(InterfaceRef device, bool up, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWLINK dev {device} {(up ? "up" : "down")}";
        var index = (await ResolveAsync(device, op, cancellationToken).ConfigureAwait(false)).Index;
        await RunAsync(RouteMessages.EncodeSetLinkUp(index, up), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets an interface's MAC (<c>ip link set dev D address MAC</c>).</summary>
    public async Task SetLinkAddressAsync(InterfaceRef device, PhysicalAddress mac, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWLINK dev {device} address {Link.MacText(mac)}";
        var index = (await ResolveAsync(device, op, cancellationToken).ConfigureAwait(false)).Index;
        await RunAsync(RouteMessages.EncodeSetLinkAddress(index, mac), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a macvlan (keepalived's VMAC) and returns it as the kernel made it (down).</summary>
    public async Task<Link> CreateMacvlanAsync(MacvlanLink link, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWLINK {link}";
        var resolved = link with { Parent = await ResolveAsync(link.Parent, op, cancellationToken).ConfigureAwait(false) };
        await RunAsync(RouteMessages.EncodeNewMacvlan(resolved), op, cancellationToken).ConfigureAwait(false);
        return await GetLinkAsync(link.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new NetlinkException(op, Errno.ENODEV, hint: "created, but gone before it could be read back");
    }

    /// <summary>Creates an ipvlan and returns it as the kernel made it (down).</summary>
    public async Task<Link> CreateIpvlanAsync(IpvlanLink link, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWLINK {link}";
        var resolved = link with { Parent = await ResolveAsync(link.Parent, op, cancellationToken).ConfigureAwait(false) };
        await RunAsync(RouteMessages.EncodeNewIpvlan(resolved), op, cancellationToken).ConfigureAwait(false);
        return await GetLinkAsync(link.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new NetlinkException(op, Errno.ENODEV, hint: "created, but gone before it could be read back");
    }

    /// <summary>Deletes an interface (<c>ip link del dev D</c>).</summary>
    public async Task DeleteLinkAsync(InterfaceRef device, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_DELLINK dev {device}";
        var index = (await ResolveAsync(device, op, cancellationToken).ConfigureAwait(false)).Index;
        await RunAsync(RouteMessages.EncodeDeleteLink(index), op, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- routes

    /// <summary>Adds a route (<c>ip route add</c>); EEXIST if an equal one is there.</summary>
    public async Task AddRouteAsync(Route route, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_NEWROUTE {route}";
        await RunAsync(RouteMessages.EncodeRoute(await ResolveAsync(route, op, cancellationToken).ConfigureAwait(false), delete: false), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a route (<c>ip route del</c>); fields left null match any value.</summary>
    public async Task DeleteRouteAsync(Route route, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_DELROUTE {route}";
        await RunAsync(RouteMessages.EncodeRoute(await ResolveAsync(route, op, cancellationToken).ConfigureAwait(false), delete: true), op, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Routes of one family (<c>ip -4|-6 route show table N|all</c>); all tables when
    /// <paramref name="table"/> is null. A table that does not exist has no routes.</summary>
    public async Task<IReadOnlyList<Route>> ListRoutesAsync(AddressFamily family, uint? table = null, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_GETROUTE dump {(family == AddressFamily.InterNetworkV6 ? "-6" : "-4")} table {(table is uint t ? RouteTable.Name(t) : "all")}";
        IReadOnlyList<NetlinkMessage> messages;
        try
        {
            messages = await RunAsync(RouteMessages.EncodeRouteDump(family, table), op, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (table is not null && e.ErrorCode == Errno.ENOENT)
        {
            return [];
        }
        var result = new List<Route>();
        foreach (var m in messages)
        {
            if (m.Type != NetlinkMessageType.NewRoute) continue;
            var r = m.Decode(op, RouteMessages.DecodeRoute);
            if (table is null || r.Table == table)
            {
                result.Add(r);
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- rules

    /// <summary>Adds a rule (<c>ip rule add</c>); EEXIST if an equal rule is there.</summary>
    public Task AddRuleAsync(RoutingRule rule, CancellationToken cancellationToken = default) =>
        RunAsync(RouteMessages.EncodeRule(rule, delete: false), $"RTM_NEWRULE {rule}", cancellationToken);

    /// <summary>Deletes the first rule matching the given fields (<c>ip rule del</c>); ENOENT if none does.</summary>
    public Task DeleteRuleAsync(RoutingRule rule, CancellationToken cancellationToken = default) =>
        RunAsync(RouteMessages.EncodeRule(rule, delete: true), $"RTM_DELRULE {rule}", cancellationToken);

    /// <summary>The rules of one family (<c>ip [-6] rule show</c>).</summary>
    public async Task<IReadOnlyList<RoutingRule>> ListRulesAsync(AddressFamily family = AddressFamily.InterNetwork, CancellationToken cancellationToken = default)
    {
        var op = $"RTM_GETRULE dump {(family == AddressFamily.InterNetworkV6 ? "-6" : "-4")}";
        var messages = await RunAsync(RouteMessages.EncodeRuleDump(family), op, cancellationToken).ConfigureAwait(false);
        return messages.Where(m => m.Type == NetlinkMessageType.NewRule).Select(m => m.Decode(op, RouteMessages.DecodeRule)).ToList();
    }

    public void Dispose() => _socket.Dispose();

    // ---------------------------------------------------------------- plumbing

    private async Task<IReadOnlyList<NetlinkMessage>> RunAsync(NetlinkMessageBuilder request, string op, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.RequestAsync(request, op, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Hint is null && Hint(request.Type, e.ErrorCode) is string hint)
        {
            throw e.WithHint(hint);
        }
    }

    /// <summary>What an errno usually means for a request type; the errno alone is often cryptic
    /// (deleting a missing IPv4 address says "Cannot assign requested address").</summary>
    private static string? Hint(ushort type, int errno) => (type, errno) switch
    {
        (NetlinkMessageType.DelAddr, Errno.EADDRNOTAVAIL or Errno.ENOENT) => "the address is not on this interface",
        (NetlinkMessageType.NewAddr, Errno.EEXIST) => "the address is already on this interface",
        (NetlinkMessageType.DelRoute, Errno.ESRCH or Errno.ENOENT) => "no such route",
        (NetlinkMessageType.NewRoute, Errno.EEXIST) => "the route exists already",
        (NetlinkMessageType.NewRoute, Errno.ENETUNREACH) => "the gateway is not reachable through a directly connected network (onlink?)",
        (NetlinkMessageType.DelRule, Errno.ENOENT) => "no such rule",
        (NetlinkMessageType.NewRule, Errno.EEXIST) => "an equal rule exists already",
        (NetlinkMessageType.NewLink, Errno.EEXIST) => "an interface with this name exists already",
        (NetlinkMessageType.NewLink, Errno.EOPNOTSUPP) => "the kernel does not support this link type (module not loaded?)",
        (_, Errno.ENODEV) => "no such interface",
        (_, Errno.EPERM) => "needs CAP_NET_ADMIN",
        _ => null,
    };

    private async Task<InterfaceRef> ResolveAsync(InterfaceRef device, string op, CancellationToken cancellationToken)
    {
        if (device.HasIndex)
        {
            return device;
        }
        var name = device.Name!;
        try
        {
            var messages = await _socket.RequestAsync(RouteMessages.EncodeGetLink(name), $"RTM_GETLINK {name}", cancellationToken).ConfigureAwait(false);
            foreach (var m in messages)
            {
                if (m.Type == NetlinkMessageType.NewLink)
                {
                    return device.WithIndex(m.Decode(op, RouteMessages.DecodeLink).Index);
                }
            }
        }
        catch (NetlinkException e) when (e.ErrorCode == Errno.ENODEV)
        {
            // Fall through to the error that names the request the caller made.
        }
        var where = _socket.Namespace.IsCurrent ? "" : $" in network namespace {_socket.Namespace}";
        throw new NetlinkException(op, Errno.ENODEV, hint: $"no interface named {name}{where}");
    }

    private async Task<Route> ResolveAsync(Route route, string op, CancellationToken cancellationToken)
    {
        var resolved = route;
        if (route.Interface is InterfaceRef dev)
        {
            resolved = resolved with { Interface = await ResolveAsync(dev, op, cancellationToken).ConfigureAwait(false) };
        }
        if (route.NextHops.Count > 0)
        {
            var hops = new List<NextHop>(route.NextHops.Count);
            foreach (var hop in route.NextHops)
            {
                hops.Add(hop.Interface is InterfaceRef hd ? hop with { Interface = await ResolveAsync(hd, op, cancellationToken).ConfigureAwait(false) } : hop);
            }
            resolved = resolved with { NextHops = hops };
        }
        return resolved;
    }

}
