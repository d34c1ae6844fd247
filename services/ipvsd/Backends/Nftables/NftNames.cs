using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>
/// Names in the table. Everything lives in <c>table inet vigil_lvs</c>: the base chains, the
/// dispatch maps (a service's key to a jump into its chain) and, per service, a chain and a
/// counter "vs-ID" plus, per destination, a chain and a counter "rs-ID/ENDPOINT". Names are
/// derived from the service and destination keys (nft 1.0 takes no quoted chain names, so an
/// IPv6 address's colons become dots), and so are found again without any state of our own.
/// </summary>
internal static class NftNames
{
    public const string Family = "inet";
    public const string Table = "vigil_lvs";
    public const string Prerouting = "prerouting";
    public const string Output = "output";
    /// <summary>The chain both hooks jump to: the service lookups, in IPVS's order (fwmark, address:port, address:0).</summary>
    public const string Services = "services";

    public const string Mark4 = "mark4";
    public const string Mark6 = "mark6";
    public const string Addr4 = "addr4";
    public const string Addr6 = "addr6";
    public const string AnyPort4 = "anyport4";
    public const string AnyPort6 = "anyport6";

    public static readonly IReadOnlyList<string> Maps = [Mark4, Mark6, Addr4, Addr6, AnyPort4, AnyPort6];

    public const string ServicePrefix = "vs-";
    public const string DestinationPrefix = "rs-";

    /// <summary>"vs-tcp-10.0.0.1-80", "vs-udp6-2001.db8..1-53", "vs-fwm-5", "vs-fwm6-5".</summary>
    public static string Service(IpvsService s) => ServicePrefix + ServiceId(s);

    /// <summary>"rs-tcp-10.0.0.1-80/10.0.1.2-80": the service's id, a slash, the real server.</summary>
    public static string Destination(IpvsService s, IpvsDestination d) => DestinationsOf(s) + Endpoint(d.Address, d.Port);

    /// <summary>The prefix every destination chain of the service starts with (the slash keeps port 80 apart from 8080).</summary>
    public static string DestinationsOf(IpvsService s) => DestinationPrefix + ServiceId(s) + "/";

    /// <summary>The service prefix of a destination chain or counter ("rs-tcp-10.0.0.1-80/"); null for other names.</summary>
    public static string? GroupOf(string name)
    {
        if (!name.StartsWith(DestinationPrefix, StringComparison.Ordinal)) return null;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? null : name[..(slash + 1)];
    }

    public static bool IsV6(IpvsService s) => s.Family == AddressFamily.InterNetworkV6;

    /// <summary>The map the service's key is an element of.</summary>
    public static string Map(IpvsService s) =>
        s.IsFirewallMark ? (IsV6(s) ? Mark6 : Mark4)
        : s.Port == 0 ? (IsV6(s) ? AnyPort6 : AnyPort4)
        : IsV6(s) ? Addr6 : Addr4;

    /// <summary>The service's key as an element of <see cref="Map"/>: "5", "10.0.0.1 . tcp", "10.0.0.1 . tcp . 80".</summary>
    public static string ElementKey(IpvsService s) =>
        s.IsFirewallMark ? s.FirewallMark.ToString(CultureInfo.InvariantCulture)
        : s.Port == 0 ? $"{Bare(s.Address!)} . {NftComments.ProtocolName(s.Protocol)}"
        : $"{Bare(s.Address!)} . {NftComments.ProtocolName(s.Protocol)} . {s.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The address without an IPv6 scope (nft has no syntax for one).</summary>
    public static string Bare(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()).ToString() : a.ToString();

    private static string ServiceId(IpvsService s)
    {
        var v6 = IsV6(s) ? "6" : "";
        return s.IsFirewallMark
            ? $"fwm{v6}-{s.FirewallMark.ToString(CultureInfo.InvariantCulture)}"
            : $"{NftComments.ProtocolName(s.Protocol)}{v6}-{Endpoint(s.Address!, s.Port)}";
    }

    private static string Endpoint(IPAddress a, ushort port) =>
        Bare(a).Replace(':', '.') + "-" + port.ToString(CultureInfo.InvariantCulture);
}
