using System.Net;
using System.Text;

namespace Vigil.Netlink.Route;

/// <summary>
/// An address on an interface: what <c>ip addr add</c> takes and what <c>ip addr show</c> lists.
/// The same record is a request (add/delete) and a result (list, events); a listed address can be
/// passed back to <see cref="Rtnetlink.DeleteAddressAsync"/>.
/// </summary>
public sealed record InterfaceAddress
{
    /// <summary>The interface; results carry its index.</summary>
    public required InterfaceRef Interface { get; init; }

    /// <summary>The local address and its prefix length ("10.0.0.5/24"). With a
    /// <see cref="Peer"/>, the prefix length is the peer's.</summary>
    public required IPPrefix Address { get; init; }

    /// <summary>The other end of a point-to-point address (<c>peer</c>): IFA_ADDRESS when it differs from IFA_LOCAL.</summary>
    public IPAddress? Peer { get; init; }

    /// <summary>IPv4 broadcast address (<c>brd X</c>).</summary>
    public IPAddress? Broadcast { get; init; }

    /// <summary>Request only: set the broadcast from the prefix, as <c>brd +</c> does (none for /31, /32).</summary>
    public bool AutoBroadcast { get; init; }

    /// <summary>Scope; on add, null means iproute2's choice: host for 127.0.0.0/8, else global.</summary>
    public AddressScope? Scope { get; init; }

    /// <summary>IPv4 label (IFA_LABEL), e.g. "eth0:vip"; iproute2 insists it starts with the interface name.</summary>
    public string? Label { get; init; }

    public AddressFlags Flags { get; init; }

    /// <summary>Valid lifetime; null = forever.</summary>
    public TimeSpan? ValidLifetime { get; init; }

    /// <summary>Preferred lifetime; null = forever (as iproute2, even when a valid lifetime is set).</summary>
    public TimeSpan? PreferredLifetime { get; init; }

    /// <summary>In <c>ip addr</c> syntax: "10.0.0.5/24 brd 10.0.0.255 scope global dev eth0 label eth0:vip".</summary>
    public override string ToString()
    {
        var s = new StringBuilder(Address.ToString());
        if (Peer is not null) s.Append(" peer ").Append(Peer);
        if (Broadcast is not null) s.Append(" brd ").Append(Broadcast);
        else if (AutoBroadcast) s.Append(" brd +");
        if (Scope is AddressScope scope) s.Append(" scope ").Append(ScopeName(scope));
        s.Append(" dev ").Append(Interface);
        if (Label is not null) s.Append(" label ").Append(Label);
        if ((Flags & AddressFlags.NoDad) != 0) s.Append(" nodad");
        if ((Flags & AddressFlags.NoPrefixRoute) != 0) s.Append(" noprefixroute");
        if ((Flags & AddressFlags.HomeAddress) != 0) s.Append(" home");
        if (ValidLifetime is TimeSpan v) s.Append(" valid_lft ").Append((long)v.TotalSeconds);
        if (PreferredLifetime is TimeSpan p) s.Append(" preferred_lft ").Append((long)p.TotalSeconds);
        return s.ToString();
    }

    internal static string ScopeName(AddressScope scope) => scope switch
    {
        AddressScope.Global => "global",
        AddressScope.Site => "site",
        AddressScope.Link => "link",
        AddressScope.Host => "host",
        AddressScope.Nowhere => "nowhere",
        _ => ((byte)scope).ToString(),
    };
}
