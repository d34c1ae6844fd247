using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config.Building;

/// <summary>Address and prefix text as keepalived's parse_ipaddress() reads it.</summary>
internal static class AddressParser
{
    /// <summary>"ADDR" or "ADDR/LEN" (if allowed); null if the address is invalid. A bad length is reported by the caller.</summary>
    public static IpPrefix? ParsePrefix(string text, bool allowPrefix)
    {
        var slash = allowPrefix ? text.IndexOf('/') : -1;
        var address = Values.ParseAddress(slash < 0 ? text : text[..slash]);
        if (address is null) return null;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (slash < 0) return new IpPrefix(address, max);
        return int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var len) && len <= max
            ? new IpPrefix(address, len)
            : new IpPrefix(address, max);
    }
}

internal sealed partial class ConfigBuilder
{
    private static readonly HashSet<string> Scopes = ["global", "universe", "site", "link", "host", "nowhere"];
    private uint _nextRulePriority4 = 16384;
    private uint _nextRulePriority6 = 16384;

    /// <summary>keepalived's parse_ipaddress() with the prefix-length message; null if invalid (reported).</summary>
    private IpPrefix? ParsePrefixReported(ConfigToken token, bool allowPrefix)
    {
        var text = token.Text;
        var slash = allowPrefix ? text.IndexOf('/') : -1;
        var address = Values.ParseAddress(slash < 0 ? text : text[..slash]);
        var max = text.Contains(':') ? 128 : 32;
        var len = max;
        if (slash >= 0)
        {
            if (_values.TryUnsigned(text[(slash + 1)..], token.Position, 0, (ulong)max, out var l)) len = (int)l;
            else _diag.Error(token.Position, $"Invalid address prefix len {text[(slash + 1)..]} for address {text} - using {max}");
        }
        if (address is null)
        {
            _diag.Error(token.Position, $"VRRP parsed invalid IP {text}. skipping IP...");
            return null;
        }
        return new IpPrefix(address, len);
    }

    /// <summary>One line of virtual_ipaddress, virtual_ipaddress_excluded or static_ipaddress (keepalived's alloc_ipaddress()).</summary>
    private void ParseAddress(ConfigNode line, List<VirtualIpAddress> list, bool isStatic, string? vrrpName)
    {
        var t = line.Tokens;
        if (ParsePrefixReported(t[0], allowPrefix: true) is not { } prefix) return;
        var a = new VirtualIpAddress { Address = prefix };
        var addrText = t[0].Text;
        var brdMode = 0;
        var haveBroadcast = false;
        var preferredSet = false;
        var i = 1;
        string? missing = null;
        while (i < t.Count)
        {
            var word = t[i].Text;
            var paramAvailable = t.Count >= i + 2;
            switch (word)
            {
                case "dev":
                    if (!paramAvailable) { missing = word; goto done; }
                    if (a.Device is not null)
                    {
                        _diag.Error(t[i].Position, $"Cannot specify ipaddress device more than once for {addrText}");
                        return;
                    }
                    i++;
                    if (!CheckInterfaceExists(t[i], fatal: false, what: "ip address"))
                    {
                        _diag.Warning(t[i].Position, $"WARNING - interface {t[i].Text} for ip address {addrText} doesn't exist");
                        return;
                    }
                    a = a with { Device = t[i].Text };
                    break;
                case "scope":
                    if (!paramAvailable) { missing = word; goto done; }
                    i++;
                    if (!Scopes.Contains(t[i].Text) && !byte.TryParse(t[i].Text, out _))
                    {
                        _diag.Error(t[i].Position, $"Invalid scope '{t[i].Text}' specified for {addrText} - ignoring");
                    }
                    else
                    {
                        a = a with { Scope = t[i].Text == "universe" ? "global" : t[i].Text };
                    }
                    break;
                case "broadcast":
                case "brd":
                    if (!paramAvailable) { missing = word; goto done; }
                    if (prefix.Family == AddressFamily.InterNetworkV6)
                    {
                        _diag.Error(t[i].Position, $"VRRP is trying to assign a broadcast {word} to the IPv6 address {addrText} !!?? WTF... skipping VIP...");
                        return;
                    }
                    haveBroadcast = true;
                    i++;
                    if (t[i].Text == "-") brdMode = -2;
                    else if (t[i].Text == "+") brdMode = -1;
                    else if (Values.ParseIPv4(t[i].Text) is { } brd) a = a with { Broadcast = brd };
                    else
                    {
                        _diag.Error(t[i].Position, $"VRRP is trying to assign invalid broadcast {t[i].Text}. skipping VIP...");
                        return;
                    }
                    break;
                case "label":
                    if (!paramAvailable) { missing = word; goto done; }
                    i++;
                    if (t[i].Text.Length >= 16)
                    {
                        _diag.Error(t[i].Position, $"Address label {t[i].Text} is longer than maximum length 15 - removing address");
                        return;
                    }
                    a = a with { Label = t[i].Text };
                    break;
                case "peer":
                    if (!paramAvailable) { missing = word; goto done; }
                    i++;
                    if (a.Peer is not null)
                    {
                        _diag.Error(t[i].Position, $"Peer {t[i].Text} - another peer has already been specified");
                        break;
                    }
                    var peer = AddressParser.ParsePrefix(t[i].Text, allowPrefix: false);
                    if (peer is null) _diag.Error(t[i].Position, $"Invalid peer address {t[i].Text}");
                    else if (peer.Value.Family != prefix.Family) _diag.Error(t[i].Position, $"Peer address {t[i].Text} does not match address family");
                    else
                    {
                        if (!prefix.IsHost) _diag.Error(t[i].Position, "Cannot specify address prefix when specifying peer address - ignoring");
                        a = a with { Peer = peer, Address = prefix with { PrefixLength = peer.Value.PrefixLength } };
                    }
                    break;
                case "home":
                    a = a with { Home = true };
                    break;
                case "-nodad":
                    a = a with { NoDad = true };
                    break;
                case "mngtmpaddr":
                    a = a with { ManageTempAddr = true };
                    break;
                case "noprefixroute":
                    a = a with { NoPrefixRoute = true };
                    break;
                case "autojoin":
                    a = a with { AutoJoin = true };
                    break;
                case "no_track":
                    a = a with { NoTrack = true };
                    break;
                case "preferred_lft":
                    if (!paramAvailable) { missing = word; goto done; }
                    i++;
                    if (t[i].Text == "forever")
                    {
                        a = a with { PreferredLifetime = uint.MaxValue };
                        preferredSet = true;
                    }
                    else if (_values.TryUnsigned(t[i].Text, t[i].Position, 0, uint.MaxValue, out var lft))
                    {
                        a = a with { PreferredLifetime = (uint)lft };
                        preferredSet = true;
                    }
                    else
                    {
                        _diag.Error(t[i].Position, $"preferred_lft {t[i].Text} is invalid");
                    }
                    break;
                case "track_group" when isStatic:
                    if (!paramAvailable) { missing = word; goto done; }
                    i++;
                    if (a.TrackGroup is not null)
                    {
                        _diag.Error(t[i].Position, $"track_group {t[i].Text} is a duplicate");
                        goto done;
                    }
                    if (_trackGroups.Any(g => g.Name == t[i].Text)) a = a with { TrackGroup = t[i].Text };
                    else _diag.Error(t[i].Position, $"track_group {t[i].Text} not found");
                    break;
                case "use_vmac" when !isStatic:
                    a = a with { UseVmac = true };
                    break;
                default:
                    _diag.Error(t[i].Position, $"Unknown configuration entry '{word}' for ip address - ignoring");
                    break;
            }
            i++;
        }
    done:
        if (missing is not null)
        {
            _diag.Error(line.Position, $"No {missing} parameter specified for {addrText}");
            return;
        }
        if (haveBroadcast && a.Peer is not null)
        {
            _diag.Error(line.Position, "Cannot specify broadcast and peer addresses - ignoring broadcast address");
            a = a with { Broadcast = null };
        }
        else if (brdMode < 0 && a.Address.PrefixLength <= 30)
        {
            var basis = (a.Peer?.Address ?? a.Address.Address).GetAddressBytes();
            var hostBits = a.Address.PrefixLength == 0 ? uint.MaxValue : uint.MaxValue >> a.Address.PrefixLength;
            var value = (uint)(basis[0] << 24 | basis[1] << 16 | basis[2] << 8 | basis[3]);
            value = brdMode == -1 ? value | hostBits : value & ~hostBits;
            a = a with { Broadcast = new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]) };
        }
        else if (brdMode < 0)
        {
            _diag.Error(line.Position, $"Address prefix length {a.Address.PrefixLength} too long for broadcast");
        }
        if (isStatic && a.Device is null)
        {
            var dflt = new ConfigToken(_global.DefaultInterface, line.Position);
            if (!CheckInterfaceExists(dflt, fatal: false, what: "static address"))
            {
                _diag.Fatal(line.Position, $"Static address {addrText} requires either an interface or default interface must exist");
                return;
            }
        }
        if (prefix.Family == AddressFamily.InterNetworkV6)
        {
            if (a.Scope is not null)
            {
                _diag.Error(line.Position, $"Cannot specify scope for IPv6 addresses ({addrText}) - ignoring scope");
                a = a with { Scope = null };
            }
            if (a.Label is not null)
            {
                _diag.Error(line.Position, $"Cannot specify label for IPv6 addresses ({addrText}) - ignoring label");
                a = a with { Label = null };
            }
            if (!preferredSet && a.Address.PrefixLength == 128) a = a with { PreferredLifetime = 0 };
        }
        list.Add(a);
    }

    // ------------------------------------------------------------------ routes

    private static readonly HashSet<string> RouteTypes = ["unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast"];

    /// <summary>Route metrics and other "keyword value" options kept as written (with an optional "lock").</summary>
    private static readonly HashSet<string> RouteValueOptions =
    [
        "expires", "mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "ssthresh",
        "realms", "rto_min", "initcwnd", "initrwnd", "features", "quickack", "congctl", "pref", "ttl-propagate",
        "fastopen_no_cookie", "as",
    ];

    private static readonly HashSet<string> RouteKeywords =
    [
        "inet", "inet6", "src", "via", "gw", "from", "tos", "dsfield", "table", "protocol", "scope", "metric", "priority",
        "preference", "dev", "oif", "onlink", "encap", "add", "prepend", "append", "or", "nexthop", "no_track", "track_group",
        "vrf", "to",
    ];

    private void ParseRoute(ConfigNode line, List<IpRoute> list, bool isStatic)
    {
        var t = line.Tokens;
        var r = new IpRoute();
        AddressFamily? family = null;
        var options = new List<string>();
        string? dest = null;
        var haveDest = false;
        for (var i = 0; i < t.Count; i++)
        {
            var word = t[i].Text;
            string? Next()
            {
                if (i + 1 < t.Count) return t[++i].Text;
                _diag.Error(t[i].Position, $"route {word} is missing a value");
                return null;
            }
            bool SetFamily(AddressFamily f, string message)
            {
                if (family is null || family == f)
                {
                    family = f;
                    return true;
                }
                _diag.Error(t[i].Position, message);
                return false;
            }
            switch (word)
            {
                case "inet6":
                    if (!SetFamily(AddressFamily.InterNetworkV6, "inet6 specified for IPv4 route")) return;
                    continue;
                case "inet":
                    if (!SetFamily(AddressFamily.InterNetwork, "inet specified for IPv6 route")) return;
                    continue;
                case "src":
                    if (Next() is not { } src) return;
                    var srcAddr = Values.ParseAddress(src);
                    if (srcAddr is null)
                    {
                        _diag.Error(t[i].Position, $"invalid route src address {src}");
                        return;
                    }
                    if (!SetFamily(srcAddr.AddressFamily, "Cannot mix IPv4 and IPv6 addresses for route")) return;
                    r = r with { PreferredSource = srcAddr };
                    continue;
                case "via":
                case "gw":
                    if (word == "gw") _diag.Error(t[i].Position, "\"gw\" for routes is deprecated. Please use \"via\"");
                    if (Next() is not { } via) return;
                    if (via is "inet" or "inet6")
                    {
                        if (!SetFamily(via == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, "Cannot mix IPv4 and IPv6 addresses for route")) return;
                        if (Next() is not { } v2) return;
                        via = v2;
                    }
                    var viaAddr = Values.ParseAddress(via);
                    if (viaAddr is null)
                    {
                        _diag.Error(t[i].Position, $"invalid route via address {via}");
                        return;
                    }
                    if (!SetFamily(viaAddr.AddressFamily, "Cannot mix IPv4 and IPv6 addresses for route")) return;
                    r = r with { Via = viaAddr };
                    continue;
                case "from":
                    if (Next() is not { } from) return;
                    var fromPrefix = AddressParser.ParsePrefix(from, allowPrefix: true);
                    if (fromPrefix is null)
                    {
                        _diag.Error(t[i].Position, $"invalid route from address {from}");
                        return;
                    }
                    if (fromPrefix.Value.Family != AddressFamily.InterNetworkV6)
                    {
                        _diag.Error(t[i].Position, $"route from address only supported with IPv6 ({from})");
                        return;
                    }
                    if (!SetFamily(fromPrefix.Value.Family, "Cannot mix IPv4 and IPv6 addresses for route")) return;
                    r = r with { From = fromPrefix };
                    continue;
                case "tos":
                case "dsfield":
                    if (Next() is not { } tos) return;
                    r = r with { Tos = tos };
                    continue;
                case "table":
                    if (Next() is not { } table) return;
                    r = r with { Table = table };
                    continue;
                case "protocol":
                    if (Next() is not { } proto) return;
                    r = r with { Protocol = proto };
                    continue;
                case "scope":
                    if (Next() is not { } scope) return;
                    if (!Scopes.Contains(scope) && !byte.TryParse(scope, out _))
                    {
                        _diag.Error(t[i].Position, $"Scope {scope} not found or invalid for route");
                        return;
                    }
                    r = r with { Scope = scope };
                    continue;
                case "metric":
                case "priority":
                case "preference":
                    if (Next() is not { } metric) return;
                    if (!uint.TryParse(metric, NumberStyles.None, CultureInfo.InvariantCulture, out var m))
                    {
                        _diag.Error(t[i].Position, $"Invalid metric {metric} specified for route");
                        return;
                    }
                    r = r with { Metric = m };
                    continue;
                case "dev":
                case "oif":
                    if (Next() is not { } dev) return;
                    if (!CheckInterfaceExists(t[i], fatal: false, what: "route"))
                    {
                        _diag.Warning(t[i].Position, $"WARNING - interface {dev} for VROUTE nexthop doesn't exist");
                        return;
                    }
                    r = r with { Device = dev };
                    continue;
                case "onlink":
                    r = r with { OnLink = true };
                    continue;
                case "add":
                    r = r with { Install = RouteInstall.Add };
                    continue;
                case "prepend":
                    r = r with { Install = RouteInstall.Prepend };
                    continue;
                case "append":
                    r = r with { Install = RouteInstall.Append };
                    continue;
                case "or":
                    _diag.Error(t[i].Position, "\"or\" for routes is deprecated. Please use \"nexthop\"");
                    if (Next() is not { } or) return;
                    if (r.OrVia is not null)
                    {
                        _diag.Error(t[i].Position, "\"or\" route already specified - ignoring subsequent");
                        continue;
                    }
                    var orAddr = Values.ParseAddress(or);
                    if (orAddr is null)
                    {
                        _diag.Error(t[i].Position, $"Invalid \"or\" address {or}");
                        return;
                    }
                    r = r with { OrVia = orAddr };
                    continue;
                case "nexthop":
                    if (r.OrVia is not null)
                    {
                        _diag.Error(t[i].Position, "Cannot specify nexthops with \"or\" route");
                        return;
                    }
                    var hops = new List<string>();
                    var current = new List<string>();
                    for (i++; i < t.Count; i++)
                    {
                        if (t[i].Text == "nexthop")
                        {
                            if (current.Count > 0) hops.Add(string.Join(' ', current));
                            current.Clear();
                            continue;
                        }
                        current.Add(t[i].Text);
                    }
                    if (current.Count > 0) hops.Add(string.Join(' ', current));
                    r = r with { Nexthops = [.. hops] };
                    continue;
                case "no_track":
                    r = r with { NoTrack = true };
                    continue;
                case "track_group" when isStatic:
                    if (Next() is not { } tg) return;
                    if (r.TrackGroup is not null) _diag.Error(t[i].Position, $"track_group {tg} is a duplicate");
                    else if (_trackGroups.Any(g => g.Name == tg)) r = r with { TrackGroup = tg };
                    else _diag.Error(t[i].Position, $"track_group {tg} not found");
                    continue;
                case "vrf":
                    if (Next() is not { } vrf) return;
                    r = r with { Vrf = vrf };
                    continue;
                case "encap":
                    // "encap TYPE ..." runs up to the next route keyword.
                    var encap = new List<string> { word };
                    while (i + 1 < t.Count && !RouteKeywords.Contains(t[i + 1].Text) && !RouteValueOptions.Contains(t[i + 1].Text)) encap.Add(t[++i].Text);
                    options.Add(string.Join(' ', encap));
                    continue;
                case "to":
                    continue;
            }
            if (RouteValueOptions.Contains(word))
            {
                var option = word;
                if (i + 1 < t.Count && t[i + 1].Text == "lock") option += " " + t[++i].Text;
                if (Next() is not { } value) return;
                options.Add(option + " " + value);
                continue;
            }
            if (RouteTypes.Contains(word))
            {
                r = r with { Type = word };
                continue;
            }
            // A second destination replaces the first, as in keepalived.
            dest = word;
            haveDest = true;
            if (word is "default" or "any" or "all") continue;
            if (word == "default6")
            {
                _diag.Note(t[i].Position, "'default6' is deprecated - please replace with 'inet6 default'");
                if (!SetFamily(AddressFamily.InterNetworkV6, "Cannot mix IPv4 and IPv6 addresses for route")) return;
                continue;
            }
            var prefix = AddressParser.ParsePrefix(word, allowPrefix: true);
            if (prefix is null)
            {
                _diag.Error(t[i].Position, $"unknown route keyword {word}");
                return;
            }
            if (!SetFamily(prefix.Value.Family, $"Cannot mix IPv4 and IPv6 addresses for route ({word})")) return;
            r = r with { Destination = prefix };
        }
        if (!haveDest)
        {
            _diag.Error(line.Position, "Route must have a destination");
            return;
        }
        if (!r.NoTrack && r.Protocol is not null && r.Protocol != "keepalived" && r.Protocol != "18")
        {
            _diag.Error(line.Position, "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol");
            r = r with { Protocol = null };
        }
        if (!r.NoTrack && r.Device is null)
        {
            _diag.Error(line.Position, $"Warning - cannot track route {dest} with no interface specified, not tracking");
            r = r with { NoTrack = true };
        }
        if (isStatic && r.TrackGroup is not null && r.Device is null)
        {
            _diag.Error(line.Position, "Static route cannot have track group if no oif specified");
            r = r with { TrackGroup = null };
        }
        r = r with { Family = family ?? AddressFamily.InterNetwork, Options = [.. options] };
        if (!isStatic && RoutingParts.UnsupportedParts(r) is { Count: > 0 } unsupported)
            _diag.Note(line.Position, Unimplemented.PartsMessage(Unimplemented.VirtualRouteParts, unsupported));
        list.Add(r);
    }

    // ------------------------------------------------------------------ rules

    private static readonly HashSet<string> RuleActions = ["blackhole", "prohibit", "unreachable", "nop"];

    private void ParseRule(ConfigNode line, List<IpRule> list, bool isStatic)
    {
        var t = line.Tokens;
        var r = new IpRule();
        AddressFamily? family = null;
        string? action = null;
        var options = new List<string>();
        var tableOption = false;
        uint? preference = null;
        for (var i = 0; i < t.Count; i++)
        {
            var word = t[i].Text;
            string? Next()
            {
                if (i + 1 < t.Count) return t[++i].Text;
                _diag.Error(t[i].Position, $"rule {word} is missing a value");
                return null;
            }
            bool SetAction(string a)
            {
                if (action is null)
                {
                    action = a;
                    return true;
                }
                _diag.Error(t[i].Position, "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule");
                return false;
            }
            switch (word)
            {
                case "inet6":
                case "inet":
                    var f = word == "inet" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                    if (family is not null && family != f)
                    {
                        _diag.Error(t[i].Position, $"{word} specified for IPv{(f == AddressFamily.InterNetwork ? 6 : 4)} rule");
                        return;
                    }
                    family = f;
                    break;
                case "from":
                case "to":
                    if (Next() is not { } addrText) return;
                    var prefix = addrText is "all" or "any" or "default" ? (IpPrefix?)null : AddressParser.ParsePrefix(addrText, allowPrefix: true);
                    if (prefix is null && addrText is not ("all" or "any" or "default"))
                    {
                        _diag.Error(t[i].Position, $"Invalid rule {word} address {addrText}");
                        return;
                    }
                    if (prefix is { } p)
                    {
                        if (family is not null && family != p.Family)
                        {
                            _diag.Error(t[i].Position, "rule specification has mixed IPv4 and IPv6");
                            return;
                        }
                        family = p.Family;
                    }
                    r = word == "from" ? r with { From = prefix } : r with { To = prefix };
                    break;
                case "table":
                case "lookup":
                    if (Next() is not { } table) return;
                    if (table == "0")
                    {
                        _diag.Error(t[i].Position, "Table 0 is not valid");
                        return;
                    }
                    if (!SetAction("table")) return;
                    r = r with { Table = table };
                    break;
                case "not":
                    r = r with { Not = true };
                    break;
                case "preference":
                case "order":
                case "priority":
                    if (Next() is not { } pref) return;
                    if (!uint.TryParse(pref, NumberStyles.None, CultureInfo.InvariantCulture, out var pv))
                    {
                        _diag.Error(t[i].Position, $"Invalid rule preference {pref} specified");
                        return;
                    }
                    preference = pv;
                    break;
                case "tos":
                case "dsfield":
                    if (Next() is not { } tos) return;
                    r = r with { Tos = tos };
                    break;
                case "fwmark":
                    if (Next() is not { } mark) return;
                    var parts = mark.Split('/');
                    if (!TryCUInt(parts[0], out var fw) || (parts.Length > 1 && !TryCUInt(parts[1], out _)) || parts.Length > 2)
                    {
                        _diag.Error(t[i].Position, $"Invalid rule fwmark {mark} specified");
                        return;
                    }
                    r = r with { Fwmark = fw, FwmarkMask = parts.Length > 1 && TryCUInt(parts[1], out var fm) ? fm : null };
                    break;
                case "realms":
                case "suppress_prefixlength":
                case "sup_pl":
                case "suppress_ifgroup":
                case "sup_group":
                    tableOption = true;
                    if (Next() is not { } tv) return;
                    options.Add(word + " " + tv);
                    break;
                case "dev":
                case "iif":
                case "oif":
                    if (Next() is not { } dev) return;
                    if (!CheckInterfaceExists(t[i], fatal: false, what: "rule"))
                    {
                        _diag.Warning(t[i].Position, $"WARNING - interface {dev} for rule doesn't exist");
                        return;
                    }
                    r = word == "oif" ? r with { OutputInterface = dev } : r with { InputInterface = dev };
                    break;
                case "tunnel-id":
                case "uidrange":
                case "ipproto":
                case "sport":
                case "dport":
                    if (Next() is not { } ov) return;
                    options.Add(word + " " + ov);
                    break;
                case "l3mdev":
                    if (!SetAction("l3mdev")) return;
                    break;
                case "protocol":
                    if (Next() is not { } proto) return;
                    r = r with { Protocol = proto };
                    break;
                case "no_track":
                    r = r with { NoTrack = true };
                    break;
                case "track_group" when isStatic:
                    if (Next() is not { } tg) return;
                    if (r.TrackGroup is not null) _diag.Error(t[i].Position, $"track_group {tg} is a duplicate");
                    else if (_trackGroups.Any(g => g.Name == tg)) r = r with { TrackGroup = tg };
                    else _diag.Error(t[i].Position, $"track_group {tg} not found");
                    break;
                default:
                    var w = word;
                    if (w == "type")
                    {
                        if (Next() is not { } ty) return;
                        w = ty;
                    }
                    if (w == "goto")
                    {
                        if (Next() is not { } target) return;
                        if (!uint.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var gt))
                        {
                            _diag.Error(t[i].Position, $"Invalid target {target} specified");
                            return;
                        }
                        if (!SetAction("goto")) return;
                        r = r with { GotoTarget = gt };
                    }
                    else if (RuleActions.Contains(w))
                    {
                        if (!SetAction(w)) return;
                    }
                    else if (w is "unicast" or "local" or "broadcast" or "multicast" or "throw" or "nat" or "anycast")
                    {
                        _diag.Error(t[i].Position, $"Invalid rule action {w}");
                        return;
                    }
                    else
                    {
                        _diag.Error(t[i].Position, $"Unknown rule option {w}");
                        return;
                    }
                    break;
            }
        }
        if (action == "goto")
        {
            if (preference is not { } gp)
            {
                _diag.Error(line.Position, $"Invalid rule - goto target {r.GotoTarget} specified without preference");
                return;
            }
            if (gp >= r.GotoTarget)
            {
                _diag.Error(line.Position, $"Invalid rule - preference {gp} >= goto target {r.GotoTarget}");
                return;
            }
        }
        if (action is null)
        {
            _diag.Error(line.Position, "No action specified for rule - ignoring");
            return;
        }
        if (action != "table" && tableOption)
        {
            _diag.Error(line.Position, "suppressor/realm specified for non table action - skipping");
            return;
        }
        if (!r.NoTrack && r.Protocol is not null && r.Protocol != "keepalived" && r.Protocol != "18")
        {
            _diag.Error(line.Position, "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol");
            r = r with { Protocol = null };
        }
        if (isStatic && r.TrackGroup is not null && r.InputInterface is null)
        {
            _diag.Error(line.Position, "Static rule cannot have track_group if dev/iif not specified");
            r = r with { TrackGroup = null };
        }
        var fam = family ?? AddressFamily.InterNetwork;
        if (preference is null)
        {
            preference = fam == AddressFamily.InterNetwork ? _nextRulePriority4-- : _nextRulePriority6--;
            _diag.Error(line.Position, $"Rule has no preference specified - setting to {preference}. This is probably not what you want.");
        }
        r = r with { Family = fam, Action = action, Preference = preference.Value, Options = [.. options] };
        if (!isStatic && RoutingParts.UnsupportedParts(r) is { Count: > 0 } unsupported)
            _diag.Note(line.Position, Unimplemented.PartsMessage(Unimplemented.VirtualRuleParts, unsupported));
        list.Add(r);
    }

    /// <summary>A C-style unsigned number (decimal, 0x hex or 0 octal).</summary>
    private static bool TryCUInt(string s, out uint value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return uint.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
        if (s.Length > 1 && s[0] == '0')
        {
            value = 0;
            foreach (var c in s)
            {
                if (c is < '0' or > '7') return false;
                value = value * 8 + (uint)(c - '0');
            }
            return true;
        }
        return uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
