using System.Globalization;
using System.Text;
using System.Text.Json;
using Vigil.Check.V1;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Dumps;

/// <summary>
/// keepalived's state dumps, written from what the planes report: the data dump (SIGUSR1,
/// keepalived.data: the VRRP topology, then the virtual servers), the stats dump (SIGUSR2,
/// keepalived.stats: each instance's counters) and the JSON dump (SIGJSON, keepalived.json: an
/// array of {"data": {...}, "stats": {...}}, one per instance). Section titles, labels and JSON
/// names are keepalived 2.2.7's (vrrp_print.c, vrrp_json.c), so its users and their scripts find
/// what they look for; fields Vigil has no value for are left out, and Vigil's runtime priority
/// override is added where keepalived has nothing like it.
/// </summary>
public static class StateDump
{
    public const string DataFile = "keepalived.data";
    public const string StatsFile = "keepalived.stats";
    public const string JsonFile = "keepalived.json";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>keepalived's state numbers (vrrp.h VRRP_STATE_*), as its JSON dump gives them.</summary>
    public static int KeepalivedStateNumber(InstanceState s) => s switch
    {
        InstanceState.Init => 0,
        InstanceState.Backup => 1,
        InstanceState.Master => 2,
        InstanceState.Fault => 3,
        InstanceState.Stop => 98,
        _ => 0,
    };

    private static string StateName(InstanceState s) => s switch
    {
        InstanceState.Init => "INIT",
        InstanceState.Backup => "BACKUP",
        InstanceState.Master => "MASTER",
        InstanceState.Fault => "FAULT",
        InstanceState.Stop => "STOP",
        _ => "UNKNOWN",
    };

    /// <summary>keepalived.data. <paramref name="unavailable"/> names the planes that did not answer.</summary>
    public static string Data(IEnumerable<Instance> instances, IEnumerable<VirtualServer>? virtualServers, IEnumerable<string> unavailable, string? configFile = null)
    {
        var b = new StringBuilder();
        b.Append("------< Global definitions >------\n");
        if (configFile is not null) b.Append(Inv, $" Configuration file = {configFile}\n");
        foreach (var u in unavailable) b.Append(Inv, $" Not answering = {u}\n");
        var list = instances.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        b.Append("------< VRRP Topology >------\n");
        foreach (var i in list)
        {
            b.Append(Inv, $" VRRP Instance = {i.Name}\n");
            b.Append(Inv, $"   VRRP Version = {i.Version}\n");
            if (i.Family == Vrrp.V1.AddressFamily.Ipv6) b.Append("   Using Native IPv6\n");
            b.Append(Inv, $"   State = {StateName(i.State)}\n");
            if (i.State == InstanceState.Backup && i.MasterAddress != "")
            {
                b.Append(Inv, $"   Master router = {i.MasterAddress}\n");
                b.Append(Inv, $"   Master priority = {i.MasterPriority}\n");
            }
            foreach (var f in i.Faults) b.Append(Inv, $"   Fault = {f}\n");
            if (i.LastTransition is { } t)
            {
                var at = t.ToDateTime();
                b.Append(Inv, $"   Last transition = {t.Seconds} ({at.ToLocalTime().ToString("ddd MMM d HH:mm:ss yyyy", Inv)})\n");
            }
            b.Append(Inv, $"   Interface = {i.Interface}\n");
            if (i.SourceAddress != "") b.Append(Inv, $"   Using src_ip = {i.SourceAddress}\n");
            b.Append(Inv, $"   Virtual Router ID = {i.VirtualRouterId}\n");
            b.Append(Inv, $"   Priority = {i.BasePriority}\n");
            if (i.PriorityOverride is { } o) b.Append(Inv, $"   Runtime priority = {o} (vigilctl priority set; cleared by a reload)\n");
            b.Append(Inv, $"   Effective priority = {i.EffectivePriority}\n");
            b.Append(Inv, $"   Advert interval = {Interval(i.Version, i.AdvertInterval)}\n");
            if (i.MasterAdvertInterval is { } m && !m.Equals(i.AdvertInterval)) b.Append(Inv, $"   Master advert interval = {Interval(i.Version, m)}\n");
            if (i.SyncGroup != "") b.Append(Inv, $"   Sync group = {i.SyncGroup}\n");
            b.Append(Inv, $"   Virtual IP ({i.VirtualAddresses.Count}):\n");
            foreach (var a in i.VirtualAddresses) b.Append(Inv, $"     {a} dev {i.Interface}{(i.VipsSet ? " set" : "")}\n");
        }
        var groups = list.Where(i => i.SyncGroup != "").GroupBy(i => i.SyncGroup).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (groups.Count > 0)
        {
            b.Append("------< VRRP Sync groups >------\n");
            foreach (var g in groups)
            {
                b.Append(Inv, $" VRRP Sync Group = {g.Key}\n");
                foreach (var m in g) b.Append(Inv, $"   monitor = {m.Name}\n");
            }
        }
        if (virtualServers is not null)
        {
            b.Append("------< LVS Topology >------\n");
            foreach (var vs in virtualServers)
            {
                b.Append(Inv, $" VS = {vs.Name}\n");
                b.Append(Inv, $"   Quorum = {vs.Quorum}, {(vs.QuorumUp ? "up" : "down")}, live weight {vs.LiveWeight}\n");
                foreach (var rs in vs.RealServers)
                {
                    b.Append(Inv, $"   RS = {rs.Name}\n");
                    b.Append(Inv, $"     Alive = {(rs.InPool ? "yes" : "no")}, weight = {rs.DesiredWeight} (configured {rs.ConfiguredWeight})\n");
                    foreach (var c in rs.Checkers) b.Append(Inv, $"     Checker = {c.Keyword} {c.Target}, {(c.Up ? "up" : "down")}\n");
                }
            }
        }
        return b.ToString();
    }

    private static string Interval(uint version, Google.Protobuf.WellKnownTypes.Duration? d)
    {
        var t = d?.ToTimeSpan() ?? TimeSpan.Zero;
        // keepalived prints VRRPv2's interval in seconds, VRRPv3's in milliseconds.
        return version == 3 ? $"{(long)t.TotalMilliseconds} milli-sec" : $"{t.TotalSeconds.ToString("0.##", Inv)} sec";
    }

    private static ulong Counter(Instance i, string name) => i.Counters.TryGetValue(name, out var v) ? v : 0;

    /// <summary>keepalived.stats.</summary>
    public static string Stats(IEnumerable<Instance> instances)
    {
        var b = new StringBuilder();
        foreach (var i in instances.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            b.Append(Inv, $"VRRP Instance: {i.Name}\n");
            b.Append("  Advertisements:\n");
            b.Append(Inv, $"    Received: {Counter(i, "advert_rcvd")}\n");
            b.Append(Inv, $"    Sent: {Counter(i, "advert_sent")}\n");
            b.Append(Inv, $"  Became master: {Counter(i, "become_master")}\n");
            b.Append(Inv, $"  Released master: {Counter(i, "release_master")}\n");
            b.Append("  Packet Errors:\n");
            b.Append(Inv, $"    Length: {Counter(i, "packet_len_err")}\n");
            b.Append(Inv, $"    TTL: {Counter(i, "ip_ttl_err")}\n");
            b.Append(Inv, $"    Invalid Type: {Counter(i, "invalid_type_rcvd")}\n");
            b.Append(Inv, $"    Advertisement Interval: {Counter(i, "advert_interval_err")}\n");
            b.Append(Inv, $"    Address List: {Counter(i, "addr_list_err")}\n");
            b.Append("  Authentication Errors:\n");
            b.Append(Inv, $"    Invalid Type: {Counter(i, "invalid_authtype")}\n");
            b.Append(Inv, $"    Type Mismatch: {Counter(i, "authtype_mismatch")}\n");
            b.Append(Inv, $"    Failure: {Counter(i, "auth_failure")}\n");
            b.Append("  Priority Zero:\n");
            b.Append(Inv, $"    Received: {Counter(i, "pri_zero_rcvd")}\n");
            b.Append(Inv, $"    Sent: {Counter(i, "pri_zero_sent")}\n");
        }
        return b.ToString();
    }

    private static readonly string[] StatsNames =
    [
        "advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err", "advert_interval_err",
        "ip_ttl_err", "invalid_type_rcvd", "addr_list_err", "invalid_authtype", "authtype_mismatch", "auth_failure",
        "pri_zero_rcvd", "pri_zero_sent",
    ];

    /// <summary>keepalived.json (keepalived's json_version 1: a bare array).</summary>
    public static string Json(IEnumerable<Instance> instances)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var i in instances.OrderBy(i => i.Name, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteStartObject("data");
                w.WriteString("iname", i.Name);
                w.WriteString("ifp_ifname", i.Interface);
                w.WriteNumber("master_priority", i.MasterPriority);
                w.WriteNumber("last_transition", i.LastTransition is { } t ? t.Seconds + t.Nanos / 1e9 : 0);
                w.WriteNumber("vrid", i.VirtualRouterId);
                w.WriteNumber("base_priority", i.BasePriority);
                w.WriteNumber("effective_priority", i.EffectivePriority);
                if (i.PriorityOverride is { } o) w.WriteNumber("priority_override", o);
                w.WriteBoolean("vipset", i.VipsSet);
                w.WriteNumber("adver_int", i.AdvertInterval?.ToTimeSpan().TotalSeconds ?? 0);
                w.WriteNumber("master_adver_int", i.MasterAdvertInterval?.ToTimeSpan().TotalSeconds ?? 0);
                w.WriteNumber("state", KeepalivedStateNumber(i.State));
                w.WriteNumber("version", i.Version);
                if (i.VirtualAddresses.Count > 0)
                {
                    w.WriteStartArray("vips");
                    foreach (var a in i.VirtualAddresses) w.WriteStringValue($"{a} dev {i.Interface}");
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteStartObject("stats");
                foreach (var name in StatsNames) w.WriteNumber(name, Counter(i, name));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
