using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Route;

/// <summary>
/// Encoders and decoders of rtnetlink messages. Requests come out as iproute2 6.1 builds them for
/// the equivalent <c>ip</c> command (same header fields, same attributes in the same order), which
/// the tests check byte for byte against strace captures. Interfaces in requests must carry their
/// index (<see cref="InterfaceRef.WithIndex"/>); <see cref="Rtnetlink"/> resolves names first.
/// Decoders take the payload after nlmsghdr and throw only <see cref="NetlinkDecodeException"/>.
/// </summary>
public static class RouteMessages
{
    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;
    public const byte AF_PACKET = 17;

    private const NetlinkMessageFlags NewFlags = NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack | NetlinkMessageFlags.Excl | NetlinkMessageFlags.Create;
    private const NetlinkMessageFlags AckFlags = NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack;
    private const NetlinkMessageFlags DumpFlags = NetlinkMessageFlags.Request | NetlinkMessageFlags.Dump;

    public static byte ToKernel(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => AF_INET,
        AddressFamily.InterNetworkV6 => AF_INET6,
        AddressFamily.Unspecified => AF_UNSPEC,
        _ => throw new ArgumentException($"address family {family} is not IPv4 or IPv6"),
    };

    // ---------------------------------------------------------------- addresses

    /// <summary>RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELADDR, as <c>ip addr add|del</c>.</summary>
    public static NetlinkMessageBuilder EncodeAddress(InterfaceAddress address, bool delete)
    {
        var index = address.Interface.RequireIndex();
        var local = address.Address;
        ValidateAddress(address);
        var m = new NetlinkMessageBuilder(delete ? NetlinkMessageType.DelAddr : NetlinkMessageType.NewAddr, delete ? AckFlags : NewFlags);
        var flags = (uint)address.Flags;
        byte scope = delete ? (byte)(address.Scope ?? 0) : (byte)(address.Scope ?? DefaultScope(local.Address));
        new IfAddrMsg(ToKernel(local.AddressFamily), (byte)local.PrefixLength, flags <= 0xff ? (byte)flags : (byte)0, scope, (uint)index)
            .Write(m.Append(IfAddrMsg.Size));
        m.AddAddress(Ifa.Local, local.Address);
        if (address.Broadcast is not null && !delete)
        {
            m.AddAddress(Ifa.Broadcast, address.Broadcast);
        }
        if (address.Peer is not null)
        {
            m.AddAddress(Ifa.Address, address.Peer);
        }
        if (address.Label is not null)
        {
            m.AddString(Ifa.Label, address.Label);
        }
        if (flags > 0xff)
        {
            m.AddU32(Ifa.Flags, flags);
        }
        if (address.Peer is null)
        {
            m.AddAddress(Ifa.Address, local.Address);
        }
        if (!delete && address.AutoBroadcast && address.Broadcast is null
            && new IPPrefix(address.Peer ?? local.Address, local.PrefixLength).Broadcast is IPAddress brd)
        {
            m.AddAddress(Ifa.Broadcast, brd);
        }
        if (!delete && (address.ValidLifetime is not null || address.PreferredLifetime is not null))
        {
            var valid = Seconds(address.ValidLifetime);
            var preferred = address.PreferredLifetime is null ? valid : Seconds(address.PreferredLifetime);
            Span<byte> info = stackalloc byte[IfaCacheInfo.Size];
            new IfaCacheInfo(preferred, valid, 0, 0).Write(info);
            m.AddAttribute(Ifa.CacheInfo, info);
        }
        return m;
    }

    private static void ValidateAddress(InterfaceAddress a)
    {
        var family = a.Address.AddressFamily;
        if (a.Peer is not null && a.Peer.AddressFamily != family)
        {
            throw new ArgumentException($"{a}: peer {a.Peer} is not the same family as {a.Address.Address}");
        }
        if (a.Broadcast is not null && (family != AddressFamily.InterNetwork || a.Broadcast.AddressFamily != family))
        {
            throw new ArgumentException($"{a}: a broadcast address is only for IPv4 addresses");
        }
        if (a.Label is not null)
        {
            if (a.Label.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(a.Label) > InterfaceRef.MaxNameLength)
            {
                throw new ArgumentException($"{a}: label '{a.Label}' must be 1..{InterfaceRef.MaxNameLength} bytes");
            }
        }
        if (a.ValidLifetime is TimeSpan v && a.PreferredLifetime is TimeSpan p && p > v)
        {
            throw new ArgumentException($"{a}: preferred lifetime is longer than the valid lifetime");
        }
        if (a.ValidLifetime is TimeSpan { TotalSeconds: < 1 })
        {
            throw new ArgumentException($"{a}: valid lifetime must be at least 1 s");
        }
    }

    private static uint Seconds(TimeSpan? t) => t is TimeSpan s
        ? (uint)Math.Clamp(Math.Round(s.TotalSeconds), 0, IfaCacheInfo.Infinity)
        : IfaCacheInfo.Infinity;

    /// <summary>iproute2's default_scope(): host for 127.0.0.0/8, otherwise global.</summary>
    private static AddressScope DefaultScope(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetwork && a.GetAddressBytes()[0] == 127 ? AddressScope.Host : AddressScope.Global;

    /// <summary>RTM_GETADDR dump, as <c>ip [-4|-6] addr show [dev D]</c>: the family and, with
    /// strict checking, the interface filter the dump in the kernel.</summary>
    public static NetlinkMessageBuilder EncodeAddressDump(AddressFamily family = AddressFamily.Unspecified, int interfaceIndex = 0)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetAddr, DumpFlags);
        new IfAddrMsg(ToKernel(family), 0, 0, 0, (uint)interfaceIndex).Write(m.Append(IfAddrMsg.Size));
        return m;
    }

    public static InterfaceAddress DecodeAddress(ReadOnlySpan<byte> payload)
    {
        var hdr = IfAddrMsg.Read(payload);
        var size = AddressSize(hdr.Family, "ifaddrmsg");
        if (hdr.PrefixLength > size * 8)
        {
            throw new NetlinkDecodeException($"ifaddrmsg: prefix length {hdr.PrefixLength} is too long for a {size * 8}-bit address");
        }
        if (hdr.Index == 0 || hdr.Index > int.MaxValue)
        {
            throw new NetlinkDecodeException($"ifaddrmsg: interface index {hdr.Index} is invalid");
        }
        IPAddress? local = null, address = null, broadcast = null;
        string? label = null;
        var flags = (uint)hdr.Flags;
        IfaCacheInfo? cache = null;
        foreach (var a in new AttributeReader(payload[IfAddrMsg.Size..], "RTM_NEWADDR"))
        {
            switch (a.Type)
            {
                case Ifa.Local:
                    local = Address(a, "IFA_LOCAL", size);
                    break;
                case Ifa.Address:
                    address = Address(a, "IFA_ADDRESS", size);
                    break;
                case Ifa.Broadcast:
                    broadcast = Address(a, "IFA_BROADCAST", size);
                    break;
                case Ifa.Label:
                    label = a.GetString();
                    break;
                case Ifa.Flags:
                    flags = a.GetU32("IFA_FLAGS");
                    break;
                case Ifa.CacheInfo:
                    cache = IfaCacheInfo.Read(a.Value);
                    break;
            }
        }
        var mine = local ?? address ?? throw new NetlinkDecodeException("RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS");
        return new InterfaceAddress
        {
            Interface = InterfaceRef.FromIndex((int)hdr.Index),
            Address = new IPPrefix(mine, hdr.PrefixLength),
            Peer = local is not null && address is not null && !address.Equals(local) ? address : null,
            Broadcast = broadcast,
            Scope = (AddressScope)hdr.Scope,
            Label = label,
            Flags = (AddressFlags)flags,
            ValidLifetime = cache is { Valid: not IfaCacheInfo.Infinity } c ? TimeSpan.FromSeconds(c.Valid) : null,
            PreferredLifetime = cache is { Preferred: not IfaCacheInfo.Infinity } c2 ? TimeSpan.FromSeconds(c2.Preferred) : null,
        };
    }

    /// <summary>Bytes of an address of the header's family; only IPv4 and IPv6 are Vigil's business.</summary>
    private static int AddressSize(byte family, string header) => family switch
    {
        AF_INET => 4,
        AF_INET6 => 16,
        _ => throw new NetlinkDecodeException($"{header}: address family {family} is neither AF_INET nor AF_INET6"),
    };

    private static IPAddress Address(NetlinkAttribute a, string name, int size)
    {
        if (a.Value.Length != size)
        {
            throw new NetlinkDecodeException($"{name}: address of {a.Value.Length} bytes, expected {size}");
        }
        return new IPAddress(a.Value);
    }

    // ---------------------------------------------------------------- links

    /// <summary>RTM_GETLINK for one interface by name, as iproute2 resolves a name to an index.</summary>
    public static NetlinkMessageBuilder EncodeGetLink(string name)
    {
        InterfaceRef.ValidateName(name);
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetLink, NetlinkMessageFlags.Request);
        new IfInfoMsg(AF_UNSPEC, 0, 0, 0, 0).Write(m.Append(IfInfoMsg.Size));
        m.AddU32(Ifla.ExtMask, Ifla.FilterVf | Ifla.FilterSkipStats);
        m.AddString(Ifla.IfName, name);
        return m;
    }

    /// <summary>RTM_GETLINK for one interface by index, as iproute2 looks an index up.</summary>
    public static NetlinkMessageBuilder EncodeGetLink(int index)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetLink, NetlinkMessageFlags.Request);
        new IfInfoMsg(AF_UNSPEC, 0, index, 0, 0).Write(m.Append(IfInfoMsg.Size));
        m.AddU32(Ifla.ExtMask, Ifla.FilterVf | Ifla.FilterSkipStats);
        return m;
    }

    /// <summary>RTM_GETLINK dump, as <c>ip link show</c>.</summary>
    public static NetlinkMessageBuilder EncodeLinkDump()
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetLink, DumpFlags);
        new IfInfoMsg(AF_PACKET, 0, 0, 0, 0).Write(m.Append(IfInfoMsg.Size));
        m.AddU32(Ifla.ExtMask, Ifla.FilterVf);
        return m;
    }

    /// <summary>RTM_NEWLINK changing IFF_UP only, as <c>ip link set dev D up|down</c>.</summary>
    public static NetlinkMessageBuilder EncodeSetLinkUp(int index, bool up)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.NewLink, AckFlags);
        new IfInfoMsg(AF_UNSPEC, 0, index, up ? (uint)LinkFlags.Up : 0, (uint)LinkFlags.Up).Write(m.Append(IfInfoMsg.Size));
        return m;
    }

    /// <summary>RTM_NEWLINK with IFLA_ADDRESS, as <c>ip link set dev D address MAC</c>.</summary>
    public static NetlinkMessageBuilder EncodeSetLinkAddress(int index, PhysicalAddress mac)
    {
        var bytes = mac.GetAddressBytes();
        if (bytes.Length == 0)
        {
            throw new ArgumentException("empty MAC address");
        }
        var m = new NetlinkMessageBuilder(NetlinkMessageType.NewLink, AckFlags);
        new IfInfoMsg(AF_UNSPEC, 0, index, 0, 0).Write(m.Append(IfInfoMsg.Size));
        m.AddAttribute(Ifla.Address, bytes);
        return m;
    }

    /// <summary>RTM_NEWLINK creating a macvlan, as
    /// <c>ip link add link P name N [address MAC] type macvlan mode M</c>.</summary>
    public static NetlinkMessageBuilder EncodeNewMacvlan(MacvlanLink link)
    {
        InterfaceRef.ValidateName(link.Name, "macvlan name");
        var parent = link.Parent.RequireIndex();
        var m = new NetlinkMessageBuilder(NetlinkMessageType.NewLink, NewFlags);
        new IfInfoMsg(AF_UNSPEC, 0, 0, 0, 0).Write(m.Append(IfInfoMsg.Size));
        if (link.Address is not null)
        {
            var mac = link.Address.GetAddressBytes();
            if (mac.Length != 6)
            {
                throw new ArgumentException($"{link}: a macvlan MAC has 6 bytes, not {mac.Length}");
            }
            m.AddAttribute(Ifla.Address, mac);
        }
        m.AddU32(Ifla.Link, (uint)parent);
        m.AddString(Ifla.IfName, link.Name);
        var info = m.BeginNested(Ifla.LinkInfo);
        m.AddStringWithoutNul(Ifla.InfoKind, "macvlan");
        var data = m.BeginNested(Ifla.InfoData);
        m.AddU32(Ifla.MacvlanMode, (uint)link.Mode);
        m.EndNested(data);
        m.EndNested(info);
        return m;
    }

    /// <summary>RTM_NEWLINK creating an ipvlan, as <c>ip link add link P name N type ipvlan mode M [bridge|private|vepa]</c>.</summary>
    public static NetlinkMessageBuilder EncodeNewIpvlan(IpvlanLink link)
    {
        InterfaceRef.ValidateName(link.Name, "ipvlan name");
        var parent = link.Parent.RequireIndex();
        var m = new NetlinkMessageBuilder(NetlinkMessageType.NewLink, NewFlags);
        new IfInfoMsg(AF_UNSPEC, 0, 0, 0, 0).Write(m.Append(IfInfoMsg.Size));
        m.AddU32(Ifla.Link, (uint)parent);
        m.AddString(Ifla.IfName, link.Name);
        var info = m.BeginNested(Ifla.LinkInfo);
        m.AddStringWithoutNul(Ifla.InfoKind, "ipvlan");
        var data = m.BeginNested(Ifla.InfoData);
        m.AddU16(Ifla.IpvlanMode, (ushort)link.Mode);
        m.AddU16(Ifla.IpvlanFlags, (ushort)link.Isolation);
        m.EndNested(data);
        m.EndNested(info);
        return m;
    }

    /// <summary>RTM_DELLINK, as <c>ip link del dev D</c>.</summary>
    public static NetlinkMessageBuilder EncodeDeleteLink(int index)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.DelLink, AckFlags);
        new IfInfoMsg(AF_UNSPEC, 0, index, 0, 0).Write(m.Append(IfInfoMsg.Size));
        return m;
    }

    public static Link DecodeLink(ReadOnlySpan<byte> payload)
    {
        var hdr = IfInfoMsg.Read(payload);
        if (hdr.Index <= 0)
        {
            throw new NetlinkDecodeException($"ifinfomsg: interface index {hdr.Index} is invalid");
        }
        string? name = null, kind = null;
        PhysicalAddress? address = null, broadcast = null;
        int mtu = 0;
        int? parent = null, master = null;
        uint? txq = null, carrierChanges = null;
        bool? carrier = null;
        var oper = OperationalState.Unknown;
        MacvlanMode? macvlan = null;
        IpvlanMode? ipvlan = null;
        IpvlanIsolation? isolation = null;
        foreach (var a in new AttributeReader(payload[IfInfoMsg.Size..], "RTM_NEWLINK"))
        {
            switch (a.Type)
            {
                case Ifla.IfName:
                    name = a.GetString();
                    break;
                case Ifla.Address:
                    address = new PhysicalAddress(a.Value.ToArray());
                    break;
                case Ifla.Broadcast:
                    broadcast = new PhysicalAddress(a.Value.ToArray());
                    break;
                case Ifla.Mtu:
                    mtu = (int)Math.Min(a.GetU32("IFLA_MTU"), int.MaxValue);
                    break;
                case Ifla.Link:
                    parent = a.GetS32("IFLA_LINK");
                    break;
                case Ifla.Master:
                    master = a.GetS32("IFLA_MASTER");
                    break;
                case Ifla.TxQLen:
                    txq = a.GetU32("IFLA_TXQLEN");
                    break;
                case Ifla.OperState:
                    oper = (OperationalState)a.GetU8("IFLA_OPERSTATE");
                    break;
                case Ifla.Carrier:
                    carrier = a.GetU8("IFLA_CARRIER") != 0;
                    break;
                case Ifla.CarrierChanges:
                    carrierChanges = a.GetU32("IFLA_CARRIER_CHANGES");
                    break;
                case Ifla.LinkInfo:
                    DecodeLinkInfo(a.Nested("IFLA_LINKINFO"), ref kind, ref macvlan, ref ipvlan, ref isolation);
                    break;
            }
        }
        return new Link
        {
            Index = hdr.Index,
            Name = name ?? throw new NetlinkDecodeException($"RTM_NEWLINK for index {hdr.Index} without IFLA_IFNAME"),
            Flags = (LinkFlags)hdr.Flags,
            DeviceType = hdr.DeviceType,
            OperationalState = oper,
            Address = address,
            BroadcastAddress = broadcast,
            Mtu = mtu,
            Kind = kind,
            ParentIndex = parent,
            MasterIndex = master,
            TxQueueLength = txq,
            Carrier = carrier,
            CarrierChanges = carrierChanges,
            MacvlanMode = macvlan,
            IpvlanMode = ipvlan,
            IpvlanIsolation = isolation,
        };
    }

    private static void DecodeLinkInfo(AttributeReader info, ref string? kind, ref MacvlanMode? macvlan, ref IpvlanMode? ipvlan, ref IpvlanIsolation? isolation)
    {
        // IFLA_INFO_DATA's layout depends on the kind, which comes first in practice; keep the
        // data and read it once both are known.
        ReadOnlySpan<byte> data = default;
        foreach (var a in info)
        {
            if (a.Type == Ifla.InfoKind) kind = a.GetString();
            else if (a.Type == Ifla.InfoData) data = a.Value;
        }
        if (data.IsEmpty)
        {
            return;
        }
        foreach (var a in new AttributeReader(data, "IFLA_INFO_DATA"))
        {
            switch (kind)
            {
                case "macvlan" or "macvtap" when a.Type == Ifla.MacvlanMode:
                    macvlan = (MacvlanMode)a.GetU32("IFLA_MACVLAN_MODE");
                    break;
                case "ipvlan" or "ipvtap" when a.Type == Ifla.IpvlanMode:
                    ipvlan = (IpvlanMode)a.GetU16("IFLA_IPVLAN_MODE");
                    break;
                case "ipvlan" or "ipvtap" when a.Type == Ifla.IpvlanFlags:
                    isolation = (IpvlanIsolation)a.GetU16("IFLA_IPVLAN_FLAGS");
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- routes

    /// <summary>RTM_NEWROUTE or RTM_DELROUTE, as <c>ip route add|del</c> with the arguments in the
    /// order DEST [tos T] [via G] [src S] [table T] [metric M] [dev D] (or nexthop ...).</summary>
    public static NetlinkMessageBuilder EncodeRoute(Route route, bool delete)
    {
        var family = route.Family;
        ValidateRoute(route);
        var type = route.Type ?? (delete ? RouteType.Unspecified : RouteType.Unicast);
        var table = route.Table ?? (type is RouteType.Local or RouteType.Broadcast or RouteType.Nat or RouteType.Anycast ? RouteTable.Local : RouteTable.Main);
        var scope = route.Scope ?? DefaultRouteScope(route, type, delete);
        var protocol = route.Protocol ?? (delete ? RouteProtocol.Unspecified : RouteProtocol.Boot);
        var m = new NetlinkMessageBuilder(delete ? NetlinkMessageType.DelRoute : NetlinkMessageType.NewRoute, delete ? AckFlags : NewFlags);
        new RtMsg(ToKernel(family), (byte)route.Destination.PrefixLength, 0, route.Tos, table < 256 ? (byte)table : (byte)0,
            (byte)protocol, (byte)scope, (byte)type, route.OnLink ? Rta.FlagOnLink : 0u).Write(m.Append(RtMsg.Size));
        if (route.Destination.PrefixLength > 0)
        {
            m.AddAddress(Rta.Dst, route.Destination.Address);
        }
        if (route.Gateway is not null)
        {
            m.AddAddress(Rta.Gateway, route.Gateway);
        }
        if (route.PreferredSource is not null)
        {
            m.AddAddress(Rta.PrefSrc, route.PreferredSource);
        }
        if (table >= 256)
        {
            m.AddU32(Rta.Table, table);
        }
        if (route.Metric is uint metric)
        {
            m.AddU32(Rta.Priority, metric);
        }
        if (route.NextHops.Count > 0)
        {
            var mp = m.BeginNested(Rta.Multipath);
            foreach (var hop in route.NextHops)
            {
                var start = m.Length;
                var header = m.Append(RtNextHop.Size);
                if (hop.Gateway is not null)
                {
                    m.AddAddress(Rta.Gateway, hop.Gateway);
                }
                new RtNextHop((ushort)(m.Length - start), hop.OnLink ? Rta.FlagOnLink : (byte)0, (byte)(hop.Weight - 1),
                    hop.Interface?.RequireIndex() ?? 0).Write(header);
            }
            m.EndNested(mp);
        }
        if (route.Interface is InterfaceRef dev)
        {
            m.AddU32(Rta.Oif, (uint)dev.RequireIndex());
        }
        return m;
    }

    private static void ValidateRoute(Route r)
    {
        var family = r.Family;
        foreach (var (a, what) in new[] { (r.Gateway, "gateway"), (r.PreferredSource, "src") })
        {
            if (a is not null && a.AddressFamily != family)
            {
                throw new ArgumentException($"route {r}: {what} {a} is not the same family as {r.Destination}");
            }
        }
        foreach (var hop in r.NextHops)
        {
            if (hop.Weight is < 1 or > 256)
            {
                throw new ArgumentException($"route {r}: next hop weight {hop.Weight} is outside 1..256");
            }
            if (hop.Gateway is not null && hop.Gateway.AddressFamily != family)
            {
                throw new ArgumentException($"route {r}: next hop {hop.Gateway} is not the same family as {r.Destination}");
            }
        }
    }

    /// <summary>iproute2's choice when no scope is given.</summary>
    private static AddressScope DefaultRouteScope(Route r, RouteType type, bool delete)
    {
        if (r.Family == AddressFamily.InterNetworkV6)
        {
            return AddressScope.Global;
        }
        return type switch
        {
            RouteType.Local or RouteType.Nat => AddressScope.Host,
            RouteType.Broadcast or RouteType.Multicast or RouteType.Anycast => AddressScope.Link,
            RouteType.Unicast or RouteType.Unspecified when delete => AddressScope.Nowhere,
            RouteType.Unicast or RouteType.Unspecified when r.Gateway is null && r.NextHops.Count == 0 => AddressScope.Link,
            _ => AddressScope.Global,
        };
    }

    /// <summary>RTM_GETROUTE dump, as <c>ip [-4|-6] route show table N|all</c>; with a table, the
    /// kernel filters (strict checking). IPv4 and IPv6 are dumped separately.</summary>
    public static NetlinkMessageBuilder EncodeRouteDump(AddressFamily family, uint? table = null)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetRoute, DumpFlags);
        new RtMsg(ToKernel(family), 0, 0, 0, 0, 0, 0, 0, 0).Write(m.Append(RtMsg.Size));
        if (table is uint t)
        {
            m.AddU32(Rta.Table, t);
        }
        return m;
    }

    public static Route DecodeRoute(ReadOnlySpan<byte> payload)
    {
        var hdr = RtMsg.Read(payload);
        var size = AddressSize(hdr.Family, "rtmsg");
        if (hdr.DestinationLength > size * 8)
        {
            throw new NetlinkDecodeException($"rtmsg: destination length {hdr.DestinationLength} is too long for a {size * 8}-bit address");
        }
        IPAddress? dst = null, gateway = null, prefsrc = null;
        uint table = hdr.Table;
        uint? metric = null;
        int? oif = null;
        var hops = new List<NextHop>();
        foreach (var a in new AttributeReader(payload[RtMsg.Size..], "RTM_NEWROUTE"))
        {
            switch (a.Type)
            {
                case Rta.Dst:
                    dst = Address(a, "RTA_DST", size);
                    break;
                case Rta.Gateway:
                    gateway = Address(a, "RTA_GATEWAY", size);
                    break;
                case Rta.PrefSrc:
                    prefsrc = Address(a, "RTA_PREFSRC", size);
                    break;
                case Rta.Table:
                    table = a.GetU32("RTA_TABLE");
                    break;
                case Rta.Priority:
                    metric = a.GetU32("RTA_PRIORITY");
                    break;
                case Rta.Oif:
                    oif = a.GetS32("RTA_OIF");
                    break;
                case Rta.Multipath:
                    DecodeNextHops(a.Value, size, hops);
                    break;
            }
        }
        var any = size == 4 ? IPAddress.Any : IPAddress.IPv6Any;
        return new Route
        {
            Destination = new IPPrefix(dst ?? any, hdr.DestinationLength),
            Gateway = gateway,
            Interface = oif is > 0 ? InterfaceRef.FromIndex(oif.Value) : (InterfaceRef?)null,
            PreferredSource = prefsrc,
            Table = table,
            Metric = metric,
            Scope = (AddressScope)hdr.Scope,
            Protocol = (RouteProtocol)hdr.Protocol,
            Type = (RouteType)hdr.Type,
            OnLink = (hdr.Flags & Rta.FlagOnLink) != 0,
            Tos = hdr.Tos,
            NextHops = hops,
        };
    }

    private static void DecodeNextHops(ReadOnlySpan<byte> data, int size, List<NextHop> hops)
    {
        var offset = 0;
        while (data.Length - offset >= RtNextHop.Size)
        {
            var nh = RtNextHop.Read(data[offset..]);
            if (nh.Length < RtNextHop.Size || nh.Length > data.Length - offset)
            {
                throw new NetlinkDecodeException($"RTA_MULTIPATH: next hop at offset {offset} has length {nh.Length}, outside {RtNextHop.Size}..{data.Length - offset}");
            }
            IPAddress? gateway = null;
            foreach (var a in new AttributeReader(data.Slice(offset + RtNextHop.Size, nh.Length - RtNextHop.Size), "RTA_MULTIPATH"))
            {
                if (a.Type == Rta.Gateway)
                {
                    gateway = Address(a, "RTA_GATEWAY", size);
                }
            }
            hops.Add(new NextHop
            {
                Gateway = gateway,
                Interface = nh.InterfaceIndex > 0 ? InterfaceRef.FromIndex(nh.InterfaceIndex) : (InterfaceRef?)null,
                Weight = nh.Hops + 1,
                OnLink = (nh.Flags & Rta.FlagOnLink) != 0,
            });
            offset += NetlinkAttribute.Align(nh.Length);
        }
    }

    // ---------------------------------------------------------------- rules

    /// <summary>RTM_NEWRULE or RTM_DELRULE, as <c>ip rule add|del</c> with the arguments in the order
    /// [not] [from F] [to T] [tos T] [iif I] [oif O] [fwmark M/K] [table T] [suppress_prefixlength N]
    /// [priority P] [goto G | blackhole | ...] [l3mdev] [protocol P].</summary>
    public static NetlinkMessageBuilder EncodeRule(RoutingRule rule, bool delete)
    {
        var family = rule.EffectiveFamily;
        if (rule.From is IPPrefix f && rule.To is IPPrefix t && f.AddressFamily != t.AddressFamily)
        {
            throw new ArgumentException($"rule {rule}: from and to are of different families");
        }
        if (rule.InputInterface is not null) InterfaceRef.ValidateName(rule.InputInterface, "iif");
        if (rule.OutputInterface is not null) InterfaceRef.ValidateName(rule.OutputInterface, "oif");
        var action = rule.Action ?? (delete ? RuleAction.Unspecified : rule.GotoPriority is not null ? RuleAction.Goto : RuleAction.ToTable);
        var table = rule.Table ?? (!delete && action == RuleAction.ToTable && !rule.L3mdev ? RouteTable.Main : RouteTable.Unspecified);
        var m = new NetlinkMessageBuilder(delete ? NetlinkMessageType.DelRule : NetlinkMessageType.NewRule, delete ? AckFlags : NewFlags);
        new FibRuleHdr(ToKernel(family), (byte)(rule.To?.PrefixLength ?? 0), (byte)(rule.From?.PrefixLength ?? 0), rule.Tos,
            table < 256 ? (byte)table : (byte)0, (byte)action, rule.Invert ? Fra.FlagInvert : 0).Write(m.Append(FibRuleHdr.Size));
        if (rule.From is IPPrefix from)
        {
            m.AddAddress(Fra.Src, from.Address);
        }
        if (rule.To is IPPrefix to)
        {
            m.AddAddress(Fra.Dst, to.Address);
        }
        if (rule.InputInterface is not null)
        {
            m.AddString(Fra.IifName, rule.InputInterface);
        }
        if (rule.OutputInterface is not null)
        {
            m.AddString(Fra.OifName, rule.OutputInterface);
        }
        if (rule.FirewallMark is uint mark)
        {
            m.AddU32(Fra.FwMark, mark);
        }
        if (rule.FirewallMask is uint mask)
        {
            m.AddU32(Fra.FwMask, mask);
        }
        if (table >= 256)
        {
            m.AddU32(Fra.Table, table);
        }
        if (rule.SuppressPrefixLength is int spl)
        {
            m.AddS32(Fra.SuppressPrefixLen, spl);
        }
        if (rule.Priority is uint priority)
        {
            m.AddU32(Fra.Priority, priority);
        }
        if (rule.GotoPriority is uint target)
        {
            m.AddU32(Fra.Goto, target);
        }
        if (rule.L3mdev)
        {
            m.AddU8(Fra.L3mdev, 1);
        }
        if (rule.Protocol is RouteProtocol proto)
        {
            m.AddU8(Fra.Protocol, (byte)proto);
        }
        return m;
    }

    /// <summary>RTM_GETRULE dump, as <c>ip [-6] rule show</c>.</summary>
    public static NetlinkMessageBuilder EncodeRuleDump(AddressFamily family)
    {
        var m = new NetlinkMessageBuilder(NetlinkMessageType.GetRule, DumpFlags);
        new FibRuleHdr(ToKernel(family), 0, 0, 0, 0, 0, 0).Write(m.Append(FibRuleHdr.Size));
        return m;
    }

    public static RoutingRule DecodeRule(ReadOnlySpan<byte> payload)
    {
        var hdr = FibRuleHdr.Read(payload);
        var size = AddressSize(hdr.Family, "fib_rule_hdr");
        if (hdr.SourceLength > size * 8 || hdr.DestinationLength > size * 8)
        {
            throw new NetlinkDecodeException($"fib_rule_hdr: prefix length {Math.Max(hdr.SourceLength, hdr.DestinationLength)} is too long for a {size * 8}-bit address");
        }
        IPAddress? src = null, dst = null;
        string? iif = null, oif = null;
        uint? mark = null, mask = null, priority = null, gotoTarget = null;
        uint table = hdr.Table;
        var l3mdev = false;
        RouteProtocol? protocol = null;
        int? suppress = null;
        foreach (var a in new AttributeReader(payload[FibRuleHdr.Size..], "RTM_NEWRULE"))
        {
            switch (a.Type)
            {
                case Fra.Src:
                    src = Address(a, "FRA_SRC", size);
                    break;
                case Fra.Dst:
                    dst = Address(a, "FRA_DST", size);
                    break;
                case Fra.IifName:
                    iif = a.GetString();
                    break;
                case Fra.OifName:
                    oif = a.GetString();
                    break;
                case Fra.FwMark:
                    mark = a.GetU32("FRA_FWMARK");
                    break;
                case Fra.FwMask:
                    mask = a.GetU32("FRA_FWMASK");
                    break;
                case Fra.Table:
                    table = a.GetU32("FRA_TABLE");
                    break;
                case Fra.Priority:
                    priority = a.GetU32("FRA_PRIORITY");
                    break;
                case Fra.Goto:
                    gotoTarget = a.GetU32("FRA_GOTO");
                    break;
                case Fra.L3mdev:
                    l3mdev = a.GetU8("FRA_L3MDEV") != 0;
                    break;
                case Fra.Protocol:
                    protocol = (RouteProtocol)a.GetU8("FRA_PROTOCOL");
                    break;
                case Fra.SuppressPrefixLen:
                    var spl = a.GetS32("FRA_SUPPRESS_PREFIXLEN");
                    suppress = spl >= 0 ? spl : null;
                    break;
            }
        }
        return new RoutingRule
        {
            Family = size == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6,
            // The kernel leaves FRA_PRIORITY out for priority 0 (the "local" rule).
            Priority = priority ?? 0,
            From = src is null ? null : new IPPrefix(src, hdr.SourceLength),
            To = dst is null ? null : new IPPrefix(dst, hdr.DestinationLength),
            InputInterface = iif,
            OutputInterface = oif,
            FirewallMark = mark,
            FirewallMask = mask,
            Table = table == 0 ? null : table,
            Action = (RuleAction)hdr.Action,
            GotoPriority = gotoTarget,
            Invert = (hdr.Flags & Fra.FlagInvert) != 0,
            L3mdev = l3mdev,
            Tos = hdr.Tos,
            Protocol = protocol,
            SuppressPrefixLength = suppress,
        };
    }
}
