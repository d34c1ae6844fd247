using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Consul;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl cluster`: who is MASTER of every VIP across the nodes, read from Consul (where each
/// node's vigil-controld registers the VIPs of its MASTER instances), and any split brain (one
/// VIP registered as MASTER by two or more nodes). The agent is found as controld finds it:
/// --consul-addr, else the consul block of the configuration, else the consul CLI's
/// CONSUL_HTTP_ADDR (127.0.0.1:8500); the token is the block's, else CONSUL_HTTP_TOKEN(_FILE);
/// TLS from the block's tls { } or CONSUL_CACERT / CONSUL_CLIENT_CERT / CONSUL_CLIENT_KEY /
/// CONSUL_TLS_SERVER_NAME. Registrations come from /v1/health/service (the catalog with each
/// entry's checks), so a node that died with its registration still in the catalog is shown
/// as stale, not as a second master.
/// </summary>
internal static class ClusterCommand
{
    /// <summary>Exit status when every VIP has exactly one live master.</summary>
    public const string ExitHelp = """
        Exit codes: 0 every VIP has exactly one MASTER; 1 a split (two or more MASTERs for a VIP) or a VIP
        with no live MASTER, or the configuration cannot be read; 2 bad usage (a bad --consul-addr or
        CONSUL_HTTP_ADDR); 4 the Consul agent is not reachable (refused, timed out, TLS refused, no
        cluster leader); 6 the agent refused the ACL token (403), or filtered the answer by ACLs.
        """;

    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var config = new Option<string?>("--config", "-f")
        {
            Description = $"the configuration whose consul {{ }} block names the agent (default {ConfigLoader.DefaultPath}, when it exists)",
        };
        var address = new Option<string?>("--consul-addr", "--http-addr")
        {
            Description = "the Consul agent: host:port or http(s)://host:port (over the consul block and CONSUL_HTTP_ADDR)",
        };
        var datacenter = new Option<string?>("--datacenter") { Description = "the datacenter to read (default: the block's, else the agent's)" };
        var command = new Command("cluster", "show, for every VIP registered in Consul, which node is MASTER, and any split brain\n" + ExitHelp)
        {
            json, config, address, datacenter,
        };
        command.SetAction(async (r, token) =>
        {
            var options = ResolveOptions(r.GetValue(config), r.GetValue(address), r.GetValue(datacenter), Environment.GetEnvironmentVariable, out var error, out var exit);
            if (options is null)
            {
                Console.Error.WriteLine("vigilctl: " + error);
                return exit;
            }
            options = options with { RequestTimeout = TimeSpan.FromSeconds(r.GetValue(GlobalOptions.Timeout)) };
            return await RunAsync(options, r.GetValue(json), Console.Out, Console.Error, token);
        });
        return command;
    }

    /// <summary>
    /// The client options: --consul-addr over the configuration's consul block over the
    /// environment (as controld reads the block). Null with the error and exit code when the
    /// address is bad or a configuration named with --config cannot be read.
    /// </summary>
    public static ConsulClientOptions? ResolveOptions(string? configPath, string? address, string? datacenter, Func<string, string?> environment,
        out string? error, out int exit)
    {
        error = null;
        exit = ExitCodes.Ok;
        ConsulSettings? block = null;
        var path = configPath ?? ConfigLoader.DefaultPath;
        if (configPath is not null || File.Exists(path))
        {
            // Only the consul block is wanted: a file keepalived would refuse for other reasons still names the agent.
            var loaded = ConfigLoader.Load(path, new ConfigLoadOptions());
            if (loaded.ReadModel is null)
            {
                error = $"cannot read {path}: {string.Join("; ", loaded.Errors.Select(e => e.ToString()))}";
                exit = ExitCodes.Failed;
                return null;
            }
            block = loaded.ReadModel.Consul;
        }
        ConsulClientOptions options;
        try
        {
            // As controld reads the block (ConsulRegistration.ClientOptionsFor).
            options = block is null
                ? ConsulClientOptions.FromEnvironment(environment)
                : ConsulClientOptions.FromEnvironment(environment, block.Address, block.Token, block.Datacenter, block.CaFile, block.CertFile, block.KeyFile, block.Tls, block.TlsServerName);
        }
        catch (FormatException e)
        {
            error = (block?.Address is not null ? "the consul block's address: " : "CONSUL_HTTP_ADDR: ") + e.Message;
            exit = ExitCodes.Usage;
            return null;
        }
        if (address is not null)
        {
            var https = options.Address.Scheme == Uri.UriSchemeHttps || options.CaFile is not null;
            if (!ConsulClientOptions.TryParseAddress(address, https, out var uri, out var why))
            {
                error = $"--consul-addr '{address}': {why}";
                exit = ExitCodes.Usage;
                return null;
            }
            options = options with { Address = uri };
        }
        if (datacenter is { Length: > 0 }) options = options with { Datacenter = datacenter };
        return options;
    }

    /// <summary>One node's registration of a VIP: the VIP's service and any virtual servers on it.</summary>
    public sealed record Holder(string Node, string NodeAddress, string RouterId, string Instance, string Vrid, bool Live, string Checks, IReadOnlyList<string> ServiceIds);

    /// <summary>A VIP and the nodes that registered it as MASTER.</summary>
    public sealed record VipView(string Vip, IReadOnlyList<Holder> Masters, IReadOnlyList<Holder> Stale)
    {
        public string Status => Masters.Count switch { 1 => "ok", 0 => "no_master", _ => "split" };
    }

    /// <summary>Reads the registrations, prints them, and returns the exit code.</summary>
    public static async Task<int> RunAsync(ConsulClientOptions options, bool json, TextWriter output, TextWriter errors, CancellationToken token)
    {
        IReadOnlyList<VipView> vips;
        bool filtered;
        try
        {
            using var client = new ConsulClient(options);
            (vips, filtered) = await ReadAsync(client, token);
        }
        catch (ConsulAclException e)
        {
            errors.WriteLine($"vigilctl: the Consul agent {options.Address} refused the ACL token ({e.Message}); set CONSUL_HTTP_TOKEN or the consul block's token to one that may read services and nodes");
            return ExitCodes.PermissionDenied;
        }
        catch (ConsulException e) when (e.IsTransient)
        {
            errors.WriteLine($"vigilctl: the Consul agent is not reachable: {e.Message}");
            return ExitCodes.Unavailable;
        }
        catch (ConsulException e)
        {
            errors.WriteLine($"vigilctl: cannot read the catalog from {options.Address}: {e.Message}");
            return ExitCodes.Failed;
        }
        output.Write(json ? FormatJson(options, vips, filtered) : FormatTable(vips));
        if (filtered)
        {
            // Some nodes' registrations may be hidden: "one master each" cannot be claimed.
            errors.WriteLine($"vigilctl: the Consul agent {options.Address} left part of the answer out (X-Consul-Results-Filtered-By-ACLs): the token may not read every vigil service and node (it needs service:read and node:read)");
            return ExitCodes.PermissionDenied;
        }
        return vips.All(v => v.Status == "ok") ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>Every service tagged "vigil", each node's registrations of it, grouped by VIP.</summary>
    /// <returns>The VIPs, and whether the agent left anything out for the token's ACLs.</returns>
    public static async Task<(IReadOnlyList<VipView> Vips, bool FilteredByAcls)> ReadAsync(ConsulClient client, CancellationToken token)
    {
        var services = await client.GetCatalogServicesAsync(cancellationToken: token);
        var filtered = services.FilteredByAcls;
        var entries = new List<ServiceHealthEntry>();
        foreach (var (name, tags) in services.Value.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!tags.Contains("vigil")) continue;
            var health = await client.GetServiceHealthAsync(name, tag: "vigil", cancellationToken: token);
            filtered |= health.FilteredByAcls;
            entries.AddRange(health.Value);
        }
        return (Group(entries), filtered);
    }

    /// <summary>
    /// Vigil's registrations (Meta managed_by=vigil with a vip) grouped by VIP; per VIP one holder
    /// per node and instance. A holder is live when none of its checks (its TTL checks and the
    /// node's serfHealth) is critical: only live holders count as MASTER.
    /// </summary>
    public static IReadOnlyList<VipView> Group(IEnumerable<ServiceHealthEntry> entries)
    {
        static string Meta(ServiceHealthEntry e, string key) => e.Service.Meta?.GetValueOrDefault(key) ?? "";
        var ours = entries
            .Where(e => Meta(e, "managed_by") == "vigil")
            .Select(e => (Vip: Meta(e, "vip") is { Length: > 0 } v ? v : e.Service.Address, Entry: e))
            .Where(x => x.Vip.Length > 0)
            // The same service can come under two names' lists only if it were renamed; count it once.
            .DistinctBy(x => (x.Entry.Node.Node, x.Entry.Service.Id));
        var result = new List<VipView>();
        foreach (var vip in ours.GroupBy(x => x.Vip, StringComparer.Ordinal).OrderBy(g => g.Key, VipOrder.Instance))
        {
            var holders = vip
                .GroupBy(x => (x.Entry.Node.Node, RouterId: Meta(x.Entry, "router_id"), Instance: Meta(x.Entry, "instance")))
                .Select(h =>
                {
                    var checks = h.SelectMany(x => x.Entry.Checks ?? []).DistinctBy(c => c.CheckId).ToList();
                    var worst = checks.Any(c => c.Status == "critical") ? "critical" : checks.Any(c => c.Status == "warning") ? "warning" : "passing";
                    var first = h.First().Entry;
                    return new Holder(h.Key.Node, first.Node.Address, h.Key.RouterId, h.Key.Instance, Meta(first, "vrid"), worst != "critical",
                        worst == "critical" ? string.Join(",", checks.Where(c => c.Status == "critical").Select(c => c.CheckId)) + " critical" : worst,
                        [.. h.Select(x => x.Entry.Service.Id).Order(StringComparer.Ordinal)]);
                })
                .OrderBy(h => h.Node, StringComparer.Ordinal).ThenBy(h => h.Instance, StringComparer.Ordinal)
                .ToList();
            result.Add(new VipView(vip.Key, [.. holders.Where(h => h.Live)], [.. holders.Where(h => !h.Live)]));
        }
        return result;
    }

    public static string FormatTable(IReadOnlyList<VipView> vips)
    {
        if (vips.Count == 0) return "no VIPs registered in Consul (no service tagged vigil with managed_by=vigil)\n";
        var table = new Table("VIP", "STATUS", "NODE", "ROUTER_ID", "INSTANCE", "VRID", "SERVICES", "CHECKS");
        foreach (var v in vips)
        {
            var status = v.Status switch { "ok" => "MASTER", "split" => "SPLIT", _ => "NO MASTER" };
            foreach (var h in v.Masters) table.Add(v.Vip, status, h.Node, h.RouterId, h.Instance, h.Vrid, h.ServiceIds.Count.ToString(CultureInfo.InvariantCulture), h.Checks);
            foreach (var h in v.Stale) table.Add(v.Vip, "stale", h.Node, h.RouterId, h.Instance, h.Vrid, h.ServiceIds.Count.ToString(CultureInfo.InvariantCulture), h.Checks);
        }
        var s = new StringBuilder(table.ToString());
        var splits = vips.Where(v => v.Status == "split").ToList();
        var none = vips.Where(v => v.Status == "no_master").ToList();
        s.Append('\n').Append(vips.Count).Append(" VIP(s): ").Append(vips.Count - splits.Count - none.Count).Append(" with one MASTER");
        if (splits.Count > 0) s.Append(", ").Append(splits.Count).Append(" split (").Append(string.Join("; ", splits.Select(v => $"{v.Vip}: {string.Join(", ", v.Masters.Select(m => m.Node))}"))).Append(')');
        if (none.Count > 0) s.Append(", ").Append(none.Count).Append(" without a live MASTER (").Append(string.Join(", ", none.Select(v => v.Vip))).Append(')');
        return s.Append('\n').ToString();
    }

    public static string FormatJson(ConsulClientOptions options, IReadOnlyList<VipView> vips, bool filteredByAcls = false)
    {
        static JsonObject HolderJson(Holder h) => new()
        {
            ["node"] = h.Node,
            ["node_address"] = h.NodeAddress,
            ["router_id"] = h.RouterId,
            ["instance"] = h.Instance,
            ["vrid"] = uint.TryParse(h.Vrid, NumberStyles.None, CultureInfo.InvariantCulture, out var vrid) ? vrid : null,
            ["checks"] = h.Checks,
            ["services"] = new JsonArray([.. h.ServiceIds.Select(id => (JsonNode?)id)]),
        };
        var o = new JsonObject
        {
            ["agent"] = options.Address.ToString(),
            ["datacenter"] = options.Datacenter,
            ["vips"] = new JsonArray([.. vips.Select(v => (JsonNode?)new JsonObject
            {
                ["vip"] = v.Vip,
                ["status"] = v.Status,
                ["masters"] = new JsonArray([.. v.Masters.Select(h => (JsonNode?)HolderJson(h))]),
                ["stale"] = new JsonArray([.. v.Stale.Select(h => (JsonNode?)HolderJson(h))]),
            })]),
            ["splits"] = vips.Count(v => v.Status == "split"),
            ["filtered_by_acls"] = filteredByAcls,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>VIPs in address order (IPv4 before IPv6, numerically), anything unparsable last.</summary>
    private sealed class VipOrder : IComparer<string>
    {
        public static readonly VipOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = System.Net.IPAddress.TryParse(x, out var ax) ? ax.GetAddressBytes() : null;
            var b = System.Net.IPAddress.TryParse(y, out var bx) ? bx.GetAddressBytes() : null;
            if (a is null || b is null) return a is null == (b is null) ? string.CompareOrdinal(x, y) : a is null ? 1 : -1;
            return a.Length != b.Length ? a.Length.CompareTo(b.Length) : ((ReadOnlySpan<byte>)a).SequenceCompareTo(b);
        }
    }
}
