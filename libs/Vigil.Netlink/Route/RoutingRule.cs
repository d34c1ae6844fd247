using System.Net.Sockets;
using System.Text;

namespace Vigil.Netlink.Route;

/// <summary>
/// A policy routing rule: what <c>ip rule add</c> takes and <c>ip rule show</c> lists. As a
/// request, a null <see cref="Action"/> means "lookup" (or "goto" with <see cref="GotoPriority"/>)
/// on add and "any" on delete; a null <see cref="Table"/> with a lookup means main, as in iproute2.
/// </summary>
public sealed record RoutingRule
{
    /// <summary>IPv4 or IPv6 rule set; taken from <see cref="From"/>/<see cref="To"/> when they are set.</summary>
    public AddressFamily Family { get; init; } = AddressFamily.InterNetwork;
    /// <summary><c>priority</c>; null lets the kernel choose (one below the last rule's).</summary>
    public uint? Priority { get; init; }
    public IPPrefix? From { get; init; }
    public IPPrefix? To { get; init; }
    /// <summary><c>iif NAME</c> (FRA_IIFNAME): interfaces are matched by name, and may not exist yet.</summary>
    public string? InputInterface { get; init; }
    /// <summary><c>oif NAME</c> (FRA_OIFNAME).</summary>
    public string? OutputInterface { get; init; }
    public uint? FirewallMark { get; init; }
    public uint? FirewallMask { get; init; }
    public uint? Table { get; init; }
    public RuleAction? Action { get; init; }
    /// <summary>Target priority of <c>goto</c> (FRA_GOTO).</summary>
    public uint? GotoPriority { get; init; }
    /// <summary><c>not</c>: match what the selectors do not (FIB_RULE_INVERT).</summary>
    public bool Invert { get; init; }
    /// <summary><c>l3mdev</c>: look up the table of the VRF device the packet is on.</summary>
    public bool L3mdev { get; init; }
    public byte Tos { get; init; }
    public RouteProtocol? Protocol { get; init; }
    /// <summary><c>suppress_prefixlength N</c>: ignore routes with a prefix this short or shorter.</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary>The family the rule really belongs to: the selectors' when given.</summary>
    public AddressFamily EffectiveFamily => From?.AddressFamily ?? To?.AddressFamily ?? Family;

    /// <summary>In <c>ip rule</c> syntax.</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        if (Priority is uint p) s.Append(p).Append(": ");
        if (Invert) s.Append("not ");
        s.Append("from ").Append(From is IPPrefix f ? Short(f) : "all");
        if (To is IPPrefix t) s.Append(" to ").Append(Short(t));
        if (Tos != 0) s.Append(" tos 0x").Append(Tos.ToString("x"));
        if (FirewallMark is uint mark) s.Append(" fwmark 0x").Append(mark.ToString("x")).Append(FirewallMask is uint m ? $"/0x{m:x}" : "");
        if (InputInterface is not null) s.Append(" iif ").Append(InputInterface);
        if (OutputInterface is not null) s.Append(" oif ").Append(OutputInterface);
        if (L3mdev) s.Append(" lookup [l3mdev-table]");
        switch (Action ?? (GotoPriority is null ? RuleAction.ToTable : RuleAction.Goto))
        {
            case RuleAction.ToTable or RuleAction.Unspecified:
                if (Table is uint table) s.Append(" lookup ").Append(RouteTable.Name(table));
                break;
            case RuleAction.Goto:
                s.Append(" goto ").Append(GotoPriority);
                break;
            case var other:
                s.Append(' ').Append(other.ToString().ToLowerInvariant());
                break;
        }
        if (SuppressPrefixLength is int spl) s.Append(" suppress_prefixlength ").Append(spl);
        if (Protocol is RouteProtocol proto) s.Append(" proto ").Append(proto.ToString().ToLowerInvariant());
        return s.ToString();
    }

    private static string Short(IPPrefix p) => p.PrefixLength == p.MaxPrefixLength ? p.Address.ToString() : p.ToString();
}
