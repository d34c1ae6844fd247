using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>
/// The nft scripts: pure functions from the wanted table (and the table read) to one
/// <c>nft -f -</c> transaction. Per service: a map element (its key to a jump into its chain),
/// the service chain with one dispatch rule (counter, then numgen or jhash over weighted ranges
/// into the destination chains), and per destination a chain with one rule (counter and dnat).
/// </summary>
internal static class NftScript
{
    private const string T = NftNames.Family + " " + NftNames.Table;

    /// <summary>Largest modulus of a dispatch: weights beyond it are scaled down (IPVS weights are at most 65535 each).</summary>
    private const long MaxSlots = 1 << 24;

    /// <summary>The rules of the services chain, in IPVS's lookup order: fwmark, then address:port, then address:0.
    /// IPVS balances only TCP, UDP and SCTP; a fwmark service does the same.</summary>
    public static readonly IReadOnlyList<string> ServiceLookups =
    [
        $"meta nfproto ipv4 meta l4proto {{ tcp, udp, sctp }} meta mark vmap @{NftNames.Mark4}",
        $"meta nfproto ipv6 meta l4proto {{ tcp, udp, sctp }} meta mark vmap @{NftNames.Mark6}",
        $"ip daddr . meta l4proto . th dport vmap @{NftNames.Addr4}",
        $"ip6 daddr . meta l4proto . th dport vmap @{NftNames.Addr6}",
        $"ip daddr . meta l4proto vmap @{NftNames.AnyPort4}",
        $"ip6 daddr . meta l4proto vmap @{NftNames.AnyPort6}",
    ];

    /// <summary>
    /// The transaction for the changes: each service with a change is rewritten from the target
    /// (or deleted when the target no longer has it); no other service's chains or counters are
    /// touched. <paramref name="current"/> says what exists (nft 1.0 has no "delete if present":
    /// a delete of something missing fails the whole transaction). Returns the script (empty when
    /// there is nothing to do) and the table as it will be once the script has run.
    /// </summary>
    public static (string Script, NftTable After) Apply(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, NftTable current)
    {
        var wanted = new Dictionary<IpvsService, LvsEntry>();
        foreach (var e in target) wanted.TryAdd(e.Service.Key, e);
        var keys = changes.Select(c => ServiceOf(c).Key).Distinct().ToList();
        var state = new State(current);
        if (!current.HasBase && keys.Any(wanted.ContainsKey)) Base(state);
        foreach (var key in keys)
        {
            if (wanted.TryGetValue(key, out var entry)) Service(state, entry);
            else if (state.Exists) DeleteService(state, key);
        }
        return (state.Script.ToString(), state.Table());
    }

    /// <summary>Deletes the table, whether it exists or not (nft 1.0 has no "destroy").</summary>
    public static string Flush() => $"add table {T}\ndelete table {T}\n";

    /// <summary>The table, the dispatch maps and the base chains; only the base chains' rules are rewritten.</summary>
    private static void Base(State state)
    {
        state.Line($"add table {T}");
        state.Exists = true;
        foreach (var (map, type) in new[]
        {
            (NftNames.Mark4, "mark"), (NftNames.Mark6, "mark"),
            (NftNames.Addr4, "ipv4_addr . inet_proto . inet_service"), (NftNames.Addr6, "ipv6_addr . inet_proto . inet_service"),
            (NftNames.AnyPort4, "ipv4_addr . inet_proto"), (NftNames.AnyPort6, "ipv6_addr . inet_proto"),
        })
        {
            state.Line($"add map {T} {map} {{ type {type} : verdict; }}");
            state.Maps.TryAdd(map, []);
        }
        state.Line($"add chain {T} {NftNames.Services}");
        state.Line($"add chain {T} {NftNames.Prerouting} {{ type nat hook prerouting priority dstnat; policy accept; }}");
        // Locally originated connections to a virtual server; nft 1.0 takes no "dstnat" name on the output hook.
        state.Line($"add chain {T} {NftNames.Output} {{ type nat hook output priority -100; policy accept; }}");
        foreach (var chain in new[] { NftNames.Services, NftNames.Prerouting, NftNames.Output }) state.Line($"flush chain {T} {chain}");
        foreach (var lookup in ServiceLookups) state.Line($"add rule {T} {NftNames.Services} {lookup}");
        state.Line($"add rule {T} {NftNames.Prerouting} jump {NftNames.Services}");
        state.Line($"add rule {T} {NftNames.Output} jump {NftNames.Services}");
        state.SetChain(NftNames.Services, [.. ServiceLookups.Select(_ => (string?)null)]);
        state.SetChain(NftNames.Prerouting, [null]);
        state.SetChain(NftNames.Output, [null]);
    }

    /// <summary>
    /// Rewrites one service. Destination chains whose rule is already as wanted are left alone;
    /// the named counters outlive the rewritten rules, so a weight change keeps the counts.
    /// </summary>
    private static void Service(State state, LvsEntry entry)
    {
        var s = entry.Service;
        var destinations = Ordered(entry.Destinations).DistinctBy(d => NftNames.Destination(s, d)).ToList();
        foreach (var reason in destinations.Select(d => Unsupported(s, d)).Prepend(Unsupported(s, null)).OfType<string>())
        {
            throw new InvalidOperationException($"{s}: {reason}");
        }
        var vs = NftNames.Service(s);
        state.Line($"add chain {T} {vs}");
        state.Line($"add counter {T} {vs}");
        state.AddCounter(vs);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in destinations)
        {
            var rs = NftNames.Destination(s, d);
            names.Add(rs);
            var comment = NftComments.Destination(d);
            if (state.Chains.TryGetValue(rs, out var have) && have.Rules is [{ } only] && only.Comment == comment && state.Counters.ContainsKey(rs)) continue;
            state.Line($"add chain {T} {rs}");
            state.Line($"add counter {T} {rs}");
            state.Line($"flush chain {T} {rs}");
            state.Line($"add rule {T} {rs} {DestinationRule(s, d)} comment \"{comment}\"");
            state.SetChain(rs, [comment]);
            state.AddCounter(rs);
        }
        // The old dispatch rule goes first: it holds the jumps to chains deleted below.
        state.Line($"flush chain {T} {vs}");
        var prefix = NftNames.DestinationsOf(s);
        foreach (var stale in state.ChainsUnder(prefix).Where(c => !names.Contains(c)).Order(StringComparer.Ordinal).ToList())
        {
            state.Line($"flush chain {T} {stale}");
            state.Line($"delete chain {T} {stale}");
            state.Chains.Remove(stale);
        }
        foreach (var stale in state.CountersUnder(prefix).Where(c => !names.Contains(c)).Order(StringComparer.Ordinal).ToList())
        {
            state.Line($"delete counter {T} {stale}");
            state.Counters.Remove(stale);
        }
        var serviceComment = NftComments.Service(s);
        state.Line($"add rule {T} {vs} {Dispatch(s, destinations)} comment \"{serviceComment}\"");
        state.SetChain(vs, [serviceComment]);
        var map = NftNames.Map(s);
        state.Line($"add element {T} {map} {{ {NftNames.ElementKey(s)} : jump {vs} }}");
        if (state.Maps.TryGetValue(map, out var elements) && !elements.Any(e => e.Jump == vs)) elements.Add(new NftElement(NftNames.ElementKey(s), vs));
    }

    /// <summary>Deletes what the table has of a service: its map elements, chains and counters.</summary>
    private static void DeleteService(State state, IpvsService key)
    {
        var vs = NftNames.Service(key);
        var prefix = NftNames.DestinationsOf(key);
        foreach (var (map, elements) in state.Maps)
        {
            foreach (var element in elements.Where(e => e.Jump == vs)) state.Line($"delete element {T} {map} {{ {element.Key} }}");
            elements.RemoveAll(e => e.Jump == vs);
        }
        var hasChain = state.Chains.ContainsKey(vs);
        if (hasChain) state.Line($"flush chain {T} {vs}");
        foreach (var rs in state.ChainsUnder(prefix).Order(StringComparer.Ordinal).ToList())
        {
            state.Line($"flush chain {T} {rs}");
            state.Line($"delete chain {T} {rs}");
            state.Chains.Remove(rs);
        }
        if (hasChain)
        {
            state.Line($"delete chain {T} {vs}");
            state.Chains.Remove(vs);
        }
        foreach (var counter in state.CountersUnder(prefix).Append(vs).Where(state.Counters.ContainsKey).Order(StringComparer.Ordinal).ToList())
        {
            state.Line($"delete counter {T} {counter}");
            state.Counters.Remove(counter);
        }
    }

    /// <summary>
    /// The service chain's statement. New connections are spread over ranges of a counter
    /// (<c>numgen inc</c>) or of a hash of the client (<c>jhash</c>) proportional to the weights;
    /// weight 0 destinations get no range. With none left, new connections are refused: TCP with
    /// a reset, the rest with ICMP port unreachable (what IPVS sends for all of them).
    /// </summary>
    public static string Dispatch(IpvsService s, IReadOnlyList<IpvsDestination> destinations)
    {
        var slots = Slots(s, destinations);
        if (slots.Count == 0)
        {
            return !s.IsFirewallMark && s.Protocol == IpvsProtocol.Tcp ? "reject with tcp reset" : "reject with icmpx port-unreachable";
        }
        var counter = $"counter name {NftNames.Service(s)} ";
        var key = HashKey(s);
        if (slots.Count == 1 || key == "") return counter + "jump " + NftNames.Destination(s, slots[0].Destination);
        var total = slots.Sum(x => x.Slots);
        var selector = key is null
            ? string.Create(CultureInfo.InvariantCulture, $"numgen inc mod {total}")
            // An explicit seed: without one the kernel picks a random seed per rule, so every
            // rewrite of the service would move every client to another server.
            : string.Create(CultureInfo.InvariantCulture, $"jhash {key} mod {total} seed 0x0");
        var ranges = new List<string>(slots.Count);
        long start = 0;
        foreach (var (d, n) in slots)
        {
            var end = start + n - 1;
            var range = start == end ? start.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{start}-{end}");
            ranges.Add($"{range} : jump {NftNames.Destination(s, d)}");
            start = end + 1;
        }
        return $"{counter}{selector} vmap {{ {string.Join(", ", ranges)} }}";
    }

    /// <summary>
    /// The destinations that get new connections and their share. rr: equal shares; fo: all to
    /// the first of the highest weight; everything else: shares as the weights (the connection
    /// count schedulers wlc, lc, sed, nq, ovf, lblc, lblcr become weighted round robin, as nft
    /// cannot see a server's connections). Shares are reduced by their greatest common divisor.
    /// </summary>
    public static IReadOnlyList<(IpvsDestination Destination, long Slots)> Slots(IpvsService s, IEnumerable<IpvsDestination> destinations)
    {
        var live = Ordered(destinations).Where(d => d.Weight > 0).ToList();
        if (live.Count == 0) return [];
        if (s.Scheduler == "fo") return [(live.MaxBy(d => d.Weight)!, 1)];
        var weights = live.Select(d => s.Scheduler == "rr" ? 1L : d.Weight).ToList();
        var sum = weights.Sum();
        if (sum > MaxSlots) weights = weights.Select(w => Math.Max(1, w * MaxSlots / sum)).ToList();
        var gcd = weights.Aggregate(0L, Gcd);
        return live.Select((d, i) => (d, weights[i] / gcd)).ToList();
    }

    /// <summary>
    /// What a hashing dispatch hashes: null for numgen; "" when every client goes to one server
    /// (persistence granularity below 8 bits). Persistence and sh/mh hash the client address
    /// (with the sh-port/mh-port flag its port too), dh the destination address.
    /// </summary>
    public static string? HashKey(IpvsService s)
    {
        var v6 = NftNames.IsV6(s);
        var saddr = v6 ? "ip6 saddr" : "ip saddr";
        if ((s.Flags & IpvsServiceFlags.Persistent) != 0)
        {
            var full = v6 ? 128 : 32;
            var prefix = Math.Clamp(s.PersistenceNetmask ?? full, 0, full);
            if (prefix == full) return saddr;
            // nft 1.0 cannot hash "ip saddr & MASK" ("Value exceeds valid range"), but it hashes a
            // raw payload of whole bytes: the leading bytes of the source address. A prefix not on
            // a byte boundary is rounded down, so clients of one such network still share a server.
            var bits = prefix / 8 * 8;
            return bits == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"@nh,{(v6 ? 64 : 96)},{bits}");
        }
        return s.Scheduler switch
        {
            "sh" or "mh" => (s.Flags & IpvsServiceFlags.ShPort) != 0 ? saddr + " . th sport" : saddr,
            "dh" => v6 ? "ip6 daddr" : "ip daddr",
            _ => null,
        };
    }

    /// <summary>A destination chain's statement: count, then DNAT (a port 0 service or destination keeps the client's port).</summary>
    public static string DestinationRule(IpvsService s, IpvsDestination d)
    {
        var v6 = d.Address.AddressFamily == AddressFamily.InterNetworkV6;
        var port = s.IsFirewallMark || s.Port != 0 ? d.Port : (ushort)0;
        var address = NftNames.Bare(d.Address);
        var to = port == 0 ? address : v6 ? $"[{address}]:{port.ToString(CultureInfo.InvariantCulture)}" : $"{address}:{port.ToString(CultureInfo.InvariantCulture)}";
        // nft maps a port only after a transport protocol match; this chain has none of its own.
        var protocol = port == 0 ? "" : s.IsFirewallMark ? "meta l4proto { tcp, udp, sctp } " : $"meta l4proto {NftComments.ProtocolName(s.Protocol)} ";
        return $"{protocol}counter name {NftNames.Destination(s, d)} dnat {(v6 ? "ip6" : "ip")} to {to}";
    }

    /// <summary>Why nftables NAT cannot do what the service or destination asks; null when it can.</summary>
    public static string? Unsupported(IpvsService s, IpvsDestination? d)
    {
        if ((s.Flags & IpvsServiceFlags.OnePacket) != 0) return "ops (one-packet scheduling) needs IPVS: nftables NAT tracks every flow as a connection";
        if (!string.IsNullOrEmpty(s.PersistenceEngine)) return $"persistence_engine {s.PersistenceEngine} needs IPVS";
        if (s.Protocol is not (IpvsProtocol.Tcp or IpvsProtocol.Udp or IpvsProtocol.Sctp)) return $"protocol {(ushort)s.Protocol} cannot be balanced (TCP, UDP and SCTP only)";
        if (s.Family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) return $"address family {s.Family} cannot be balanced";
        if (!s.IsFirewallMark && (s.Address is null || s.Address.AddressFamily != s.Family)) return "a virtual server needs an address of its family or a firewall mark";
        if (d is null) return null;
        return d.ForwardingMethod switch
        {
            IpvsForwardingMethod.DirectRoute => "lb_kind DR needs IPVS: nftables can only do NAT",
            IpvsForwardingMethod.Tunnel => "lb_kind TUN needs IPVS: nftables can only do NAT",
            IpvsForwardingMethod.Bypass => "bypass forwarding needs IPVS: nftables can only do NAT",
            _ when d.Address.AddressFamily != s.Family || (d.Family is { } f && f != s.Family) =>
                "a real server of another address family needs IPVS (tunnelling): NAT keeps the family",
            _ => null,
        };
    }

    private static IEnumerable<IpvsDestination> Ordered(IEnumerable<IpvsDestination> destinations) =>
        // By address, not as listed: the same servers listed in another order must not move hashed clients.
        destinations.OrderBy(d => d.Address.AddressFamily).ThenBy(d => d.Address.GetAddressBytes(), AddressOrder).ThenBy(d => d.Port);

    private static readonly Comparer<byte[]> AddressOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>The script being written and the table it leaves: what exists as each line runs.</summary>
    private sealed class State(NftTable current)
    {
        // Destination chains and counters created by this script, by service prefix (the rest are indexed by the table read).
        private readonly Dictionary<string, List<string>> _added = new(StringComparer.Ordinal);

        public StringBuilder Script { get; } = new();
        public bool Exists { get; set; } = current.Exists;
        public Dictionary<string, NftChain> Chains { get; } = new(current.Chains, StringComparer.Ordinal);
        public Dictionary<string, ulong> Counters { get; } = new(current.Counters, StringComparer.Ordinal);
        public Dictionary<string, List<NftElement>> Maps { get; } = current.Maps.ToDictionary(m => m.Key, m => m.Value.ToList(), StringComparer.Ordinal);

        public void Line(string line) => Script.Append(line).Append('\n');

        /// <summary>A chain (re)written with rules carrying these comments; handles are the kernel's to give.</summary>
        public void SetChain(string name, string?[] comments)
        {
            Chains[name] = new NftChain(name, Chains.TryGetValue(name, out var c) ? c.Handle : 0, comments.Select(x => new NftRule(0, x)).ToList());
            Added(name);
        }

        public void AddCounter(string name)
        {
            if (Counters.TryAdd(name, 0)) Added(name);
        }

        public IEnumerable<string> ChainsUnder(string prefix) => Under(current.ChainsUnder(prefix), prefix).Where(Chains.ContainsKey);

        public IEnumerable<string> CountersUnder(string prefix) => Under(current.CountersUnder(prefix), prefix).Where(Counters.ContainsKey);

        public NftTable Table() => new(Exists, Chains, Maps.ToDictionary(m => m.Key, m => (IReadOnlyList<NftElement>)m.Value, StringComparer.Ordinal), Counters);

        private IEnumerable<string> Under(IEnumerable<string> read, string prefix) =>
            read.Concat(_added.GetValueOrDefault(prefix) ?? []).Distinct(StringComparer.Ordinal);

        private void Added(string name)
        {
            if (NftNames.GroupOf(name) is not { } group) return;
            if (!_added.TryGetValue(group, out var list)) _added[group] = list = [];
            list.Add(name);
        }
    }

    private static IpvsService ServiceOf(LvsChange change) => change switch
    {
        LvsChange.AddService c => c.Service,
        LvsChange.UpdateService c => c.Service,
        LvsChange.DeleteService c => c.Service,
        LvsChange.AddDestination c => c.Service,
        LvsChange.UpdateDestination c => c.Service,
        LvsChange.DeleteDestination c => c.Service,
        _ => throw new ArgumentOutOfRangeException(nameof(change), change, "unknown change"),
    };
}
