using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>
/// The structured comments that make the table self-describing: the rule of a service chain
/// carries its service ("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr"), the
/// rule of a destination chain its real server ("vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=3").
/// Reading the table back decodes these, so what is read is what the kernel holds, never a cache.
/// Defaults are left out: a rule comment holds at most 256 bytes.
/// </summary>
internal static class NftComments
{
    public const string ServiceTag = "vigil-vs";
    public const string DestinationTag = "vigil-rs";

    public static string Service(IpvsService s)
    {
        var b = new StringBuilder(ServiceTag);
        b.Append(" family=").Append(s.Family == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
        b.Append(" proto=").Append(ProtocolName(s.Protocol));
        if (s.IsFirewallMark) b.Append(" fwmark=").Append(s.FirewallMark.ToString(CultureInfo.InvariantCulture));
        else b.Append(" addr=").Append(NftNames.Bare(s.Address!)).Append(" port=").Append(s.Port.ToString(CultureInfo.InvariantCulture));
        b.Append(" sched=").Append(s.Scheduler);
        var flags = s.Flags & ~IpvsServiceFlags.Hashed;
        if (flags != 0) b.Append(" flags=0x").Append(((uint)flags).ToString("x", CultureInfo.InvariantCulture));
        if (s.PersistenceTimeout != 0) b.Append(" timeout=").Append(s.PersistenceTimeout.ToString(CultureInfo.InvariantCulture));
        if (s.PersistenceNetmask is int m) b.Append(" netmask=").Append(m.ToString(CultureInfo.InvariantCulture));
        return b.ToString();
    }

    public static string Destination(IpvsDestination d)
    {
        var b = new StringBuilder(DestinationTag);
        b.Append(" addr=").Append(NftNames.Bare(d.Address)).Append(" port=").Append(d.Port.ToString(CultureInfo.InvariantCulture));
        b.Append(" fwd=").Append(d.ForwardingMethod == IpvsForwardingMethod.Local ? "local" : "masq");
        b.Append(" weight=").Append(Math.Max(0, d.Weight).ToString(CultureInfo.InvariantCulture));
        if (d.UpperThreshold != 0) b.Append(" uthreshold=").Append(d.UpperThreshold.ToString(CultureInfo.InvariantCulture));
        if (d.LowerThreshold != 0) b.Append(" lthreshold=").Append(d.LowerThreshold.ToString(CultureInfo.InvariantCulture));
        return b.ToString();
    }

    /// <summary>The service a comment describes; null when it is not one of ours or is damaged.</summary>
    public static IpvsService? ParseService(string? comment)
    {
        if (Fields(comment, ServiceTag) is not { } f) return null;
        if (!f.TryGetValue("family", out var family) || family is not ("ipv4" or "ipv6")) return null;
        if (!f.TryGetValue("proto", out var proto) || ParseProtocol(proto) is not IpvsProtocol protocol) return null;
        if (!f.TryGetValue("sched", out var sched)) return null;
        var af = family == "ipv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var service = new IpvsService { Family = af, Protocol = protocol, Scheduler = sched };
        if (f.TryGetValue("fwmark", out var mark))
        {
            if (!uint.TryParse(mark, NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m == 0) return null;
            service = service with { FirewallMark = m };
        }
        else
        {
            if (!f.TryGetValue("addr", out var a) || !IPAddress.TryParse(a, out var address) || address.AddressFamily != af) return null;
            if (!f.TryGetValue("port", out var p) || !ushort.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port)) return null;
            service = service with { Address = address, Port = port };
        }
        if (f.TryGetValue("flags", out var flags))
        {
            if (!flags.StartsWith("0x", StringComparison.Ordinal)
                || !uint.TryParse(flags.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var fl)) return null;
            service = service with { Flags = (IpvsServiceFlags)fl };
        }
        if (f.TryGetValue("timeout", out var t))
        {
            if (!uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var timeout)) return null;
            service = service with { PersistenceTimeout = timeout };
        }
        if (f.TryGetValue("netmask", out var n))
        {
            if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var netmask)) return null;
            service = service with { PersistenceNetmask = netmask };
        }
        return service;
    }

    /// <summary>The real server a comment describes; null when it is not one of ours or is damaged.</summary>
    public static IpvsDestination? ParseDestination(string? comment)
    {
        if (Fields(comment, DestinationTag) is not { } f) return null;
        if (!f.TryGetValue("addr", out var a) || !IPAddress.TryParse(a, out var address)) return null;
        if (!f.TryGetValue("port", out var p) || !ushort.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port)) return null;
        if (!f.TryGetValue("weight", out var w) || !int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var weight)) return null;
        var fwd = f.GetValueOrDefault("fwd") switch
        {
            "masq" => IpvsForwardingMethod.Masquerade,
            "local" => IpvsForwardingMethod.Local,
            _ => (IpvsForwardingMethod?)null,
        };
        if (fwd is null) return null;
        uint upper = 0, lower = 0;
        if (f.TryGetValue("uthreshold", out var u) && !uint.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out upper)) return null;
        if (f.TryGetValue("lthreshold", out var l) && !uint.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out lower)) return null;
        return new IpvsDestination
        {
            Address = address,
            Port = port,
            Family = address.AddressFamily,
            ForwardingMethod = fwd.Value,
            Weight = weight,
            UpperThreshold = upper,
            LowerThreshold = lower,
        };
    }

    public static string ProtocolName(IpvsProtocol p) => p switch
    {
        IpvsProtocol.Tcp => "tcp",
        IpvsProtocol.Udp => "udp",
        IpvsProtocol.Sctp => "sctp",
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "not a protocol nftables can balance"),
    };

    private static IpvsProtocol? ParseProtocol(string name) => name switch
    {
        "tcp" => IpvsProtocol.Tcp,
        "udp" => IpvsProtocol.Udp,
        "sctp" => IpvsProtocol.Sctp,
        _ => null,
    };

    private static Dictionary<string, string>? Fields(string? comment, string tag)
    {
        if (comment is null) return null;
        var words = comment.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] != tag) return null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var word in words.AsSpan(1))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !fields.TryAdd(word[..eq], word[(eq + 1)..])) return null;
        }
        return fields;
    }
}
