using System.Globalization;

namespace Vigil.Config.Model;

/// <summary>
/// What of an <see cref="IpRoute"/> or <see cref="IpRule"/> of virtual_routes / virtual_rules
/// vigil-vrrpd installs, and the table numbers it installs them in. The parts listed by
/// <see cref="UnsupportedParts(IpRoute)"/> are left out of what controld sends (the rest of the
/// route is installed); <c>-t</c> warns about each at its line.
/// </summary>
public static class RoutingParts
{
    // The route types vigil-vrrpd can install (vrrp.v1 VirtualRoute.type).
    private static readonly HashSet<string> InstallableRouteTypes = ["unicast", "blackhole", "unreachable", "prohibit", "throw"];

    /// <summary>
    /// The number of a routing table written as a number or a name: iproute2's reserved names,
    /// then /etc/iproute2/rt_tables (and its Debian default under /usr/share), as ip(8) and
    /// keepalived read them. Null when the name is unknown.
    /// </summary>
    public static uint? TableNumber(string table, Func<string, IEnumerable<string>?>? readLines = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (uint.TryParse(table, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        if (table.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(table.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out n)) return n;
        switch (table)
        {
            case "local": return 255;
            case "main": return 254;
            case "default": return 253;
            case "unspec": return 0;
        }
        readLines ??= ReadIfPresent;
        foreach (var file in (string[])["/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables"])
        {
            foreach (var line in readLines(file) ?? [])
            {
                var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && !fields[0].StartsWith('#') && fields[1] == table
                    && uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out n)) return n;
            }
        }
        return null;
    }

    private static IEnumerable<string>? ReadIfPresent(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether vigil-vrrpd installs this route at all (its type is one it knows).</summary>
    public static bool IsInstallable(IpRoute route) => InstallableRouteTypes.Contains(route.Type);

    /// <summary>The parts of a virtual route vigil-vrrpd does not install, as the config spells them.</summary>
    public static IReadOnlyList<string> UnsupportedParts(IpRoute r, Func<string, IEnumerable<string>?>? readLines = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        var parts = new List<string>();
        if (!IsInstallable(r)) parts.Add($"route type {r.Type} (the whole route)");
        if (r.From is not null) parts.Add("from");
        if (r.Tos is not null) parts.Add("tos");
        if (r.OrVia is not null) parts.Add("or");
        if (r.Nexthops.Count > 0) parts.Add("nexthop");
        if (r.Vrf is not null) parts.Add("vrf");
        if (r.TrackGroup is not null) parts.Add("track_group");
        if (r.Protocol is not null && r.Protocol is not ("keepalived" or "18")) parts.Add("protocol (always keepalived)");
        if (r.Table is { } t && TableNumber(t, readLines) is null) parts.Add($"table {t} (unknown name: the main table is used)");
        parts.AddRange(r.Options.Select(o => o.Split(' ')[0]));
        return parts;
    }

    /// <summary>The parts of a virtual rule vigil-vrrpd does not install.</summary>
    public static IReadOnlyList<string> UnsupportedParts(IpRule r, Func<string, IEnumerable<string>?>? readLines = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        var parts = new List<string>();
        if (r.Action == "l3mdev") parts.Add("l3mdev (the whole rule)");
        if (r.Tos is not null) parts.Add("tos");
        if (r.TrackGroup is not null) parts.Add("track_group");
        if (r.Protocol is not null && r.Protocol is not ("keepalived" or "18")) parts.Add("protocol (always keepalived)");
        if (r.Table is { } t && TableNumber(t, readLines) is null) parts.Add($"table {t} (unknown name: the main table is used)");
        parts.AddRange(r.Options.Select(o => o.Split(' ')[0]));
        return parts;
    }
}
