namespace Vigil.Netlink.Route;

// Attribute numbers from the uapi headers (linux/if_addr.h, if_link.h, rtnetlink.h, fib_rules.h).
// Names follow the kernel's so they can be grepped for there.

internal static class Ifa
{
    public const ushort Address = 1;
    public const ushort Local = 2;
    public const ushort Label = 3;
    public const ushort Broadcast = 4;
    public const ushort Anycast = 5;
    public const ushort CacheInfo = 6;
    public const ushort Multicast = 7;
    public const ushort Flags = 8;
    public const ushort RtPriority = 9;
}

internal static class Ifla
{
    public const ushort Address = 1;
    public const ushort Broadcast = 2;
    public const ushort IfName = 3;
    public const ushort Mtu = 4;
    public const ushort Link = 5;
    public const ushort Master = 10;
    public const ushort TxQLen = 13;
    public const ushort OperState = 16;
    public const ushort LinkMode = 17;
    public const ushort LinkInfo = 18;
    public const ushort ExtMask = 29;
    public const ushort Carrier = 33;
    public const ushort CarrierChanges = 35;

    public const ushort InfoKind = 1;
    public const ushort InfoData = 2;

    public const ushort MacvlanMode = 1;
    public const ushort IpvlanMode = 1;
    public const ushort IpvlanFlags = 2;

    /// <summary>RTEXT_FILTER_VF.</summary>
    public const uint FilterVf = 1;
    /// <summary>RTEXT_FILTER_SKIP_STATS.</summary>
    public const uint FilterSkipStats = 8;
}

internal static class Rta
{
    public const ushort Dst = 1;
    public const ushort Src = 2;
    public const ushort Iif = 3;
    public const ushort Oif = 4;
    public const ushort Gateway = 5;
    public const ushort Priority = 6;
    public const ushort PrefSrc = 7;
    public const ushort Metrics = 8;
    public const ushort Multipath = 9;
    public const ushort Table = 15;

    /// <summary>RTNH_F_ONLINK, in rtm_flags and rtnh_flags.</summary>
    public const byte FlagOnLink = 4;
}

internal static class Fra
{
    public const ushort Dst = 1;
    public const ushort Src = 2;
    public const ushort IifName = 3;
    public const ushort Goto = 4;
    public const ushort Priority = 6;
    public const ushort FwMark = 10;
    public const ushort SuppressIfGroup = 13;
    public const ushort SuppressPrefixLen = 14;
    public const ushort Table = 15;
    public const ushort FwMask = 16;
    public const ushort OifName = 17;
    public const ushort L3mdev = 19;
    public const ushort Protocol = 21;

    /// <summary>FIB_RULE_INVERT.</summary>
    public const uint FlagInvert = 2;
}

/// <summary>rtnetlink multicast groups (enum rtnetlink_groups) a monitor can join.</summary>
public static class RtnlGroup
{
    public const uint Link = 1;
    public const uint IPv4Address = 5;
    public const uint IPv4Route = 7;
    public const uint IPv4Rule = 8;
    public const uint IPv6Address = 9;
    public const uint IPv6Route = 11;
    public const uint IPv6Rule = 19;
}
