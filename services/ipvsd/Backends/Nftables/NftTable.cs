using System.Globalization;
using System.Text.Json;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>A rule as <c>nft -j</c> lists it: what the backend needs of it.</summary>
internal sealed record NftRule(long Handle, string? Comment);

/// <summary>A chain with its rules in order.</summary>
internal sealed record NftChain(string Name, long Handle, IReadOnlyList<NftRule> Rules);

/// <summary>An element of a verdict map: its key as nft writes it ("10.0.0.1 . tcp . 80") and the chain it jumps to.</summary>
internal sealed record NftElement(string Key, string Jump);

/// <summary>
/// <c>table inet vigil_lvs</c> as <c>nft -j list table</c> reports it: chains, rules (with their
/// comments), the dispatch maps' elements and the named counters. Decodes the services and
/// destinations from it (<see cref="Entries"/>).
/// </summary>
internal sealed class NftTable
{
    public static readonly NftTable Missing = new(false, new Dictionary<string, NftChain>(), new Dictionary<string, IReadOnlyList<NftElement>>(), new Dictionary<string, ulong>());

    private readonly ILookup<string, string> _chainGroups;
    private readonly ILookup<string, string> _counterGroups;
    private readonly ILookup<string, (string Map, NftElement Element)> _jumps;

    internal NftTable(bool exists, IReadOnlyDictionary<string, NftChain> chains, IReadOnlyDictionary<string, IReadOnlyList<NftElement>> maps, IReadOnlyDictionary<string, ulong> counters)
    {
        Exists = exists;
        Chains = chains;
        Maps = maps;
        Counters = counters;
        _chainGroups = chains.Keys.Where(k => NftNames.GroupOf(k) is not null).ToLookup(k => NftNames.GroupOf(k)!, StringComparer.Ordinal);
        _counterGroups = counters.Keys.Where(k => NftNames.GroupOf(k) is not null).ToLookup(k => NftNames.GroupOf(k)!, StringComparer.Ordinal);
        _jumps = maps.SelectMany(m => m.Value.Select(e => (m.Key, e))).ToLookup(x => x.e.Jump, StringComparer.Ordinal);
    }

    public bool Exists { get; }
    public IReadOnlyDictionary<string, NftChain> Chains { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<NftElement>> Maps { get; }
    /// <summary>Named counters: packets (with NAT, the first packet of each connection).</summary>
    public IReadOnlyDictionary<string, ulong> Counters { get; }

    /// <summary>Whether the base chains and maps are all there as <see cref="NftScript"/> creates them.</summary>
    public bool HasBase =>
        Exists
        && NftNames.Maps.All(Maps.ContainsKey)
        && Chains.TryGetValue(NftNames.Services, out var s) && s.Rules.Count == NftScript.ServiceLookups.Count
        && Chains.TryGetValue(NftNames.Prerouting, out var p) && p.Rules.Count == 1
        && Chains.TryGetValue(NftNames.Output, out var o) && o.Rules.Count == 1;

    /// <summary>The destination chains under a service's prefix (<see cref="NftNames.DestinationsOf"/>).</summary>
    public IEnumerable<string> ChainsUnder(string prefix) => _chainGroups[prefix];

    /// <summary>The destination counters under a service's prefix.</summary>
    public IEnumerable<string> CountersUnder(string prefix) => _counterGroups[prefix];

    /// <summary>The map elements jumping to the chain (a service's dispatch entries).</summary>
    public IEnumerable<(string Map, NftElement Element)> ElementsJumpingTo(string chain) => _jumps[chain];

    /// <summary>Parses <c>nft -j list table inet vigil_lvs</c> output.</summary>
    public static NftTable Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var rules = new Dictionary<string, List<NftRule>>(StringComparer.Ordinal);
        var chains = new List<(string Name, long Handle)>();
        var maps = new Dictionary<string, IReadOnlyList<NftElement>>(StringComparer.Ordinal);
        var counters = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var table = false;
        if (!doc.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            throw new FormatException("nft -j output has no \"nftables\" array");
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object) continue;
            foreach (var kind in item.EnumerateObject())
            {
                var o = kind.Value;
                if (o.ValueKind != JsonValueKind.Object) continue;
                switch (kind.Name)
                {
                    case "table":
                        table = true;
                        break;
                    case "chain":
                        chains.Add((Str(o, "name") ?? "", Long(o, "handle")));
                        break;
                    case "rule":
                        var chain = Str(o, "chain") ?? "";
                        if (!rules.TryGetValue(chain, out var list)) rules[chain] = list = [];
                        list.Add(new NftRule(Long(o, "handle"), Str(o, "comment")));
                        break;
                    case "map":
                        maps[Str(o, "name") ?? ""] = Elements(o);
                        break;
                    case "counter":
                        counters[Str(o, "name") ?? ""] = o.TryGetProperty("packets", out var packets) && packets.TryGetUInt64(out var n) ? n : 0;
                        break;
                }
            }
        }
        var byName = chains.ToDictionary(c => c.Name, c => new NftChain(c.Name, c.Handle, rules.GetValueOrDefault(c.Name) ?? []), StringComparer.Ordinal);
        return new NftTable(table, byName, maps, counters);
    }

    /// <summary>
    /// The services and destinations the table holds. A service counts only when its chain's rule
    /// carries its comment and a map element jumps to the chain (otherwise no packet reaches it);
    /// a destination only when its chain's rule carries its comment; nothing counts without the
    /// base chains. So an out-of-band <c>nft delete rule</c>/<c>delete chain</c>/<c>delete
    /// element</c> reads as a missing service or destination, which the reconciler puts back.
    /// </summary>
    public IReadOnlyList<LvsEntry> Entries()
    {
        var entries = new List<LvsEntry>();
        // Without the base chains' lookups no packet reaches any service.
        if (!HasBase) return entries;
        foreach (var chain in Chains.Values.OrderBy(c => c.Handle))
        {
            if (!chain.Name.StartsWith(NftNames.ServicePrefix, StringComparison.Ordinal) || !_jumps.Contains(chain.Name)) continue;
            var service = chain.Rules.Select(r => NftComments.ParseService(r.Comment)).OfType<IpvsService>().FirstOrDefault();
            if (service is null || NftNames.Service(service) != chain.Name) continue;
            var destinations = new List<IpvsDestination>();
            foreach (var d in ChainsUnder(NftNames.DestinationsOf(service)).Select(n => Chains[n]).OrderBy(c => c.Handle))
            {
                var destination = d.Rules.Select(r => NftComments.ParseDestination(r.Comment)).OfType<IpvsDestination>().FirstOrDefault();
                if (destination is null || NftNames.Destination(service, destination) != d.Name) continue;
                destinations.Add(destination with { Stats = Stats(Counters.GetValueOrDefault(d.Name)) });
            }
            entries.Add(new LvsEntry(service with { Stats = Stats(Counters.GetValueOrDefault(chain.Name)) }, destinations));
        }
        return entries;
    }

    /// <summary>A NAT counter sees the first packet of each connection only: connections are known, packets and bytes are not.</summary>
    private static IpvsStats Stats(ulong connections) => new(connections, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    private static List<NftElement> Elements(JsonElement map)
    {
        var list = new List<NftElement>();
        if (!map.TryGetProperty("elem", out var elems) || elems.ValueKind != JsonValueKind.Array) return list;
        foreach (var pair in elems.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2) continue;
            var key = pair[0];
            // An element with a comment (or timeout) is wrapped: {"elem": {"val": KEY, "comment": ...}}.
            if (key.ValueKind == JsonValueKind.Object && key.TryGetProperty("elem", out var wrapped) && wrapped.TryGetProperty("val", out var val)) key = val;
            if (pair[1].ValueKind == JsonValueKind.Object && pair[1].TryGetProperty("jump", out var jump) && Str(jump, "target") is { } target)
            {
                list.Add(new NftElement(KeyText(key), target));
            }
        }
        return list;
    }

    private static string KeyText(JsonElement key) => key.ValueKind switch
    {
        JsonValueKind.String => key.GetString()!,
        JsonValueKind.Number => key.GetRawText(),
        JsonValueKind.Object when key.TryGetProperty("concat", out var parts) => string.Join(" . ", parts.EnumerateArray().Select(KeyText)),
        _ => key.GetRawText(),
    };

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Long(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"table {NftNames.Family} {NftNames.Table}: {(Exists ? $"{Chains.Count} chains, {Counters.Count} counters" : "missing")}");
}
