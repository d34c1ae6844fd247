namespace Vigil.Netlink.Route;

/// <summary>Address and route scope (rt_scope_t). Other numbers are valid too (<c>scope 77</c>):
/// cast them, <c>(AddressScope)77</c>.</summary>
public enum AddressScope : byte
{
    /// <summary>RT_SCOPE_UNIVERSE, "global".</summary>
    Global = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

/// <summary>IFA_F_* address flags (linux/if_addr.h). Flags above 0xff travel in IFA_FLAGS.</summary>
[Flags]
public enum AddressFlags : uint
{
    None = 0,
    Secondary = 0x01,
    NoDad = 0x02,
    Optimistic = 0x04,
    DadFailed = 0x08,
    HomeAddress = 0x10,
    Deprecated = 0x20,
    Tentative = 0x40,
    Permanent = 0x80,
    ManageTempAddress = 0x100,
    NoPrefixRoute = 0x200,
    McAutoJoin = 0x400,
    StablePrivacy = 0x800,
}

/// <summary>Who installed a route (rtm_protocol, /etc/iproute2/rt_protos). Other numbers are valid: cast them.</summary>
public enum RouteProtocol : byte
{
    Unspecified = 0,
    Redirect = 1,
    Kernel = 2,
    Boot = 3,
    Static = 4,
    Gated = 8,
    Ra = 9,
    Mrt = 10,
    Zebra = 11,
    Bird = 12,
    DnRouted = 13,
    Xorp = 14,
    Ntk = 15,
    Dhcp = 16,
    Mrouted = 17,
    Keepalived = 18,
    Babel = 42,
    OpenR = 99,
    Bgp = 186,
    Isis = 187,
    Ospf = 188,
    Rip = 189,
    Eigrp = 192,
}

/// <summary>rtm_type (RTN_*).</summary>
public enum RouteType : byte
{
    Unspecified = 0,
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
    Nat = 10,
}

/// <summary>Routing table ids with names (RT_TABLE_*); any other number up to 2^32-1 is a table too.</summary>
public static class RouteTable
{
    public const uint Unspecified = 0;
    public const uint Compat = 252;
    public const uint Default = 253;
    public const uint Main = 254;
    public const uint Local = 255;

    /// <summary>"main", "local", "default" or a number, as iproute2 accepts them.</summary>
    public static uint Parse(string text) => text switch
    {
        "main" => Main,
        "local" => Local,
        "default" => Default,
        "unspec" => Unspecified,
        _ => uint.TryParse(text, out var n) ? n : throw new FormatException($"'{text}' is not a routing table (main, local, default or a number)"),
    };

    public static string Name(uint table) => table switch
    {
        Main => "main",
        Local => "local",
        Default => "default",
        _ => table.ToString(),
    };
}

/// <summary>fib_rule_hdr.action (FR_ACT_*).</summary>
public enum RuleAction : byte
{
    Unspecified = 0,
    /// <summary>Look up the rule's table ("lookup N").</summary>
    ToTable = 1,
    /// <summary>Jump to the rule with the given priority ("goto N").</summary>
    Goto = 2,
    Nop = 3,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
}

/// <summary>Interface flags (IFF_*, linux/if.h), as in ifinfomsg.ifi_flags.</summary>
[Flags]
public enum LinkFlags : uint
{
    None = 0,
    Up = 0x1,
    Broadcast = 0x2,
    Debug = 0x4,
    Loopback = 0x8,
    PointToPoint = 0x10,
    NoTrailers = 0x20,
    Running = 0x40,
    NoArp = 0x80,
    Promisc = 0x100,
    AllMulti = 0x200,
    Master = 0x400,
    Slave = 0x800,
    Multicast = 0x1000,
    PortSel = 0x2000,
    AutoMedia = 0x4000,
    Dynamic = 0x8000,
    /// <summary>The driver signals L1 up: carrier.</summary>
    LowerUp = 0x10000,
    Dormant = 0x20000,
    Echo = 0x40000,
}

/// <summary>RFC 2863 operational state (IFLA_OPERSTATE).</summary>
public enum OperationalState : byte
{
    Unknown = 0,
    NotPresent = 1,
    Down = 2,
    LowerLayerDown = 3,
    Testing = 4,
    Dormant = 5,
    Up = 6,
}

/// <summary>MACVLAN_MODE_* (linux/if_link.h).</summary>
public enum MacvlanMode : uint
{
    Private = 1,
    Vepa = 2,
    Bridge = 4,
    Passthru = 8,
    Source = 16,
}

/// <summary>IPVLAN_MODE_* (linux/if_link.h).</summary>
public enum IpvlanMode : ushort
{
    L2 = 0,
    L3 = 1,
    L3S = 2,
}

/// <summary>How ipvlan slaves of one parent reach each other (IFLA_IPVLAN_FLAGS: bridge, private, vepa).</summary>
public enum IpvlanIsolation : ushort
{
    Bridge = 0,
    Private = 1,
    Vepa = 2,
}
