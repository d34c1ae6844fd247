using System.Text.Json.Nodes;
using Google.Protobuf;
using Vigil.Config.Model;

namespace Vigil.Controld.Dispatch;

/// <summary>
/// What a new configuration changes against the running one, as each daemon will be told it
/// (the mapped configurations, so a change the daemons never see is not reported): one line
/// per thing, "vrrp_instance VI_1: changed: priority 100 -> 150". ReloadConfig returns it
/// (a dry run only that), and the reload event carries it.
/// </summary>
public static class ReloadChanges
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>Longest value quoted in a change; longer ones are only named.</summary>
    private const int QuotedLength = 60;

    public static List<string> Describe(KeepalivedConfig? running, KeepalivedConfig next)
    {
        var changes = new List<string>();
        var oldVrrp = running is null ? new Vrrp.V1.VrrpConfig() : VrrpConfigMapper.ToProto(running);
        var newVrrp = VrrpConfigMapper.ToProto(next);
        Items(changes, "vrrp_instance", oldVrrp.Instances, newVrrp.Instances, i => i.Name);
        Items(changes, "vrrp_sync_group", oldVrrp.SyncGroups, newVrrp.SyncGroups, g => g.Name);
        Items(changes, "vrrp_script", oldVrrp.Scripts, newVrrp.Scripts, s => s.Name);
        Items(changes, "vrrp_track_file", oldVrrp.TrackFiles, newVrrp.TrackFiles, f => f.Name);
        One(changes, "global_defs (VRRP)", oldVrrp.Globals, newVrrp.Globals);

        var oldIpvs = running is null ? new Ipvs.V1.IpvsConfig() : IpvsConfigMapper.ToProto(running);
        var newIpvs = IpvsConfigMapper.ToProto(next);
        Items(changes, "virtual_server", oldIpvs.VirtualServers, newIpvs.VirtualServers, v => v.Name);
        One(changes, "global_defs (LVS)", oldIpvs.Globals, newIpvs.Globals);

        // The checks of a virtual server: its real servers and checkers, named as the LVS part names it.
        var oldCheck = running is null ? new Check.V1.CheckConfig() : CheckConfigMapper.ToProto(running);
        var newCheck = CheckConfigMapper.ToProto(next);
        var names = newIpvs.VirtualServers.Concat(oldIpvs.VirtualServers)
            .GroupBy(v => v.Key).ToDictionary(g => g.Key, g => g.First().Name);
        Items(changes, "virtual_server", oldCheck.VirtualServers, newCheck.VirtualServers,
            v => (names.TryGetValue(v.Key, out var n) ? n : v.Key.ToString()) + " checks");
        One(changes, "global_defs (checkers)", oldCheck.Globals, newCheck.Globals);
        // Telemetry is built into each running daemon: a reload does not swap it (that would mean restarting vrrpd).
        if (running is not null && running.Metrics != next.Metrics) changes.Add("metrics: changed: not applied by a reload; takes effect when vigil-controld restarts");
        return changes;
    }

    private static void Items<T>(List<string> changes, string kind, IEnumerable<T> before, IEnumerable<T> after, Func<T, string> name)
        where T : IMessage
    {
        var old = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in before) old.TryAdd(name(item), item);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in after)
        {
            var n = name(item);
            if (!seen.Add(n)) continue;
            if (!old.TryGetValue(n, out var was)) changes.Add($"{kind} {n}: added");
            else if (!was.Equals(item)) changes.Add($"{kind} {n}: changed: {Fields(was, item)}");
        }
        changes.AddRange(old.Keys.Where(n => !seen.Contains(n)).Select(n => $"{kind} {n}: removed"));
    }

    private static void One<T>(List<string> changes, string what, T? before, T? after) where T : class, IMessage
    {
        if (before is null && after is null) return;
        if (before is not null && after is not null && before.Equals(after)) return;
        if (before is null || after is null) changes.Add($"{what}: changed");
        else changes.Add($"{what}: changed: {Fields(before, after)}");
    }

    /// <summary>The top-level fields that differ: "priority 100 -> 150, virtual_addresses".</summary>
    private static string Fields(IMessage before, IMessage after)
    {
        var a = JsonNode.Parse(Json.Format(before))!.AsObject();
        var b = JsonNode.Parse(Json.Format(after))!.AsObject();
        var parts = new List<string>();
        foreach (var (key, value) in b)
        {
            var was = a[key];
            if (JsonNode.DeepEquals(was, value)) continue;
            var from = Quote(was);
            var to = Quote(value);
            parts.Add(from is null || to is null ? Snake(key) : $"{Snake(key)} {from} -> {to}");
        }
        return parts.Count == 0 ? "(details)" : string.Join(", ", parts);
    }

    private static string? Quote(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "none";
        return text.Length <= QuotedLength ? text.Trim('"') : null;
    }

    /// <summary>The JSON name (lowerCamel) back to the proto field's name.</summary>
    private static string Snake(string camel)
    {
        var b = new System.Text.StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsUpper(c)) b.Append('_').Append(char.ToLowerInvariant(c));
            else b.Append(c);
        }
        return b.ToString();
    }
}
