using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    private static readonly HashSet<string> Schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"];

    private SslContext? _ssl;
    private readonly List<VsGroupDraft> _vsGroups = [];
    private readonly List<VsDraft> _virtualServers = [];

    private sealed class VsGroupDraft(VirtualServerGroup model, SourcePosition at)
    {
        public VirtualServerGroup Model { get; } = model;
        public SourcePosition At { get; } = at;
    }

    private sealed class VsDraft
    {
        public required SourcePosition At { get; init; }
        public VirtualServerKind Kind { get; set; }
        public IPAddress? Address { get; set; }
        public int Port { get; set; }
        public uint? Fwmark { get; set; }
        public string? Group { get; set; }
        public AddressFamily? Family { get; set; }
        public string? Scheduler { get; set; }
        public SchedulerFlags Flags { get; set; }
        public Forwarding? Forwarding { get; set; }
        /// <summary>The lb_kind / lvs_method line that set <see cref="Forwarding"/> (for the nftables backend's warning).</summary>
        public ConfigNode? ForwardingNode { get; set; }
        /// <summary>The ops line, while ops is set.</summary>
        public SourcePosition? OpsAt { get; set; }
        public uint PersistenceTimeout { get; set; }
        public string? Granularity { get; set; }
        public string? Engine { get; set; }
        public IpvsProtocol? Protocol { get; set; }
        public bool HaSuspend { get; set; }
        public bool? SmtpAlert { get; set; }
        public string? VirtualHost { get; set; }
        public bool Alpha { get; set; }
        public bool Omega { get; set; }
        public uint Quorum { get; set; } = 1;
        public uint Hysteresis { get; set; }
        public ScriptSpec? QuorumUp { get; set; }
        public ScriptSpec? QuorumDown { get; set; }
        public int Weight { get; set; } = 1;
        public SorryDraft? Sorry { get; set; }
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
        public TimeSpan DelayLoop { get; set; } = TimeSpan.FromSeconds(60);
        public TimeSpan? Warmup { get; set; }
        public int? Retry { get; set; }
        public TimeSpan? DelayBeforeRetry { get; set; }
        public bool Inhibit { get; set; }
        public List<RsDraft> RealServers { get; } = [];
    }

    private sealed class SorryDraft
    {
        public required IPAddress Address { get; init; }
        public int Port { get; set; }
        public bool Inhibit { get; set; }
        public Forwarding? Forwarding { get; set; }
        /// <summary>The line that set <see cref="Forwarding"/>: sorry_server_lvs_method, or the virtual server's lb_kind it took.</summary>
        public ConfigNode? ForwardingNode { get; set; }
    }

    private sealed class RsDraft
    {
        public required SourcePosition At { get; init; }
        public required IPAddress Address { get; init; }
        public int Port { get; set; }
        public int? Weight { get; set; }
        public Forwarding? Forwarding { get; set; }
        /// <summary>The line that set <see cref="Forwarding"/>: the real server's lvs_method, or the virtual server's lb_kind it took.</summary>
        public ConfigNode? ForwardingNode { get; set; }
        public uint? UpperThreshold { get; set; }
        public uint? LowerThreshold { get; set; }
        public bool? Inhibit { get; set; }
        public ScriptSpec? NotifyUp { get; set; }
        public ScriptSpec? NotifyDown { get; set; }
        public bool? Alpha { get; set; }
        public int? Retry { get; set; }
        public TimeSpan? ConnectTimeout { get; set; }
        public TimeSpan? DelayLoop { get; set; }
        public TimeSpan? Warmup { get; set; }
        public TimeSpan? DelayBeforeRetry { get; set; }
        public bool? SmtpAlert { get; set; }
        public string? VirtualHost { get; set; }
        public List<CheckerDraft> Checkers { get; } = [];
    }

    // ------------------------------------------------------------------ SSL

    private void SslBlock(ConfigNode node)
    {
        ReportChildren(node);
        if (_ssl is not null) _diag.Error(node.Position, "SSL context already specified - replacing");
        var ssl = new SslContext();
        foreach (var n in node.Children)
        {
            var (name, value) = (n.Keyword, n.Arg(0));
            var what = name switch { "password" => "password", "ca" => "cafile", "certificate" => "certfile", _ => "keyfile" };
            if (value is null)
            {
                _diag.Error(n.Position, $"SSL {what} missing");
                continue;
            }
            var existing = name switch { "password" => ssl.Password, "ca" => ssl.CaFile, "certificate" => ssl.CertificateFile, _ => ssl.KeyFile };
            if (existing is not null) _diag.Error(n.Position, $"SSL {what} already specified - replacing");
            ssl = name switch
            {
                "password" => ssl with { Password = value },
                "ca" => ssl with { CaFile = value },
                "certificate" => ssl with { CertificateFile = value },
                _ => ssl with { KeyFile = value },
            };
        }
        _ssl = ssl;
    }

    // ------------------------------------------------------------------ virtual_server_group

    private void VirtualServerGroupBlock(ConfigNode node)
    {
        var name = _values.Required(node, 0);
        if (name is null) return;
        var entries = new List<VirtualServerGroupEntry>();
        bool haveV4 = false, haveV6 = false, fwmarkNoFamily = false;
        foreach (var line in node.Children)
        {
            var t = line.Tokens;
            var first = t[0].Text;
            if (first == "fwmark")
            {
                if (t.Count < 2 || !_values.TryUnsigned(t[1].Text, t[1].Position, 0, uint.MaxValue, out var fw))
                {
                    if (t.Count < 2) _values.Required(line, 0);
                    else _diag.Error(t[1].Position, $"({name}): fwmark '{t[1].Text}' must be in [0, {uint.MaxValue}] - ignoring");
                    continue;
                }
                AddressFamily? fam = null;
                if (t.Count > 2)
                {
                    if (t[2].Text == "inet") { fam = AddressFamily.InterNetwork; haveV4 = true; }
                    else if (t[2].Text == "inet6") { fam = AddressFamily.InterNetworkV6; haveV6 = true; }
                    else
                    {
                        _diag.Error(t[2].Position, $"({name}): fwmark '{fw}' family {t[2].Text} unknown - ignoring");
                        continue;
                    }
                }
                else
                {
                    fwmarkNoFamily = true;
                }
                entries.Add(new VirtualServerGroupEntry { Fwmark = (uint)fw, FwmarkFamily = fam });
                continue;
            }
            var portText = t.Count >= 2 ? t[1].Text : null;
            if (portText is not null && portText.TrimStart('0').Length == 0) portText = null;
            var start = _values.ParseSocketAddress(first, portText, t.Count >= 2 ? t[1].Position : line.Position, out var port);
            if (start is null)
            {
                _diag.Error(line.Position, $"Invalid virtual server group IP address {first} {(portText is null ? "" : "/port/" + portText)} - skipping");
                continue;
            }
            var end = start;
            var slash = first.IndexOf('/');
            if (slash >= 0)
            {
                var maskText = first[(slash + 1)..];
                var max = start.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                if (!int.TryParse(maskText, NumberStyles.None, CultureInfo.InvariantCulture, out var mask) || mask == 0 || mask > max)
                {
                    _diag.Error(line.Position, $"Invalid netmask - {first} - skipping");
                    continue;
                }
                var bytes = start.GetAddressBytes();
                var endBytes = (byte[])bytes.Clone();
                var bad = false;
                for (var bit = mask; bit < max; bit++)
                {
                    var b = bit / 8;
                    var m = (byte)(0x80 >> (bit % 8));
                    if ((bytes[b] & m) != 0) bad = true;
                    endBytes[b] |= m;
                }
                if (bad)
                {
                    _diag.Error(line.Position, $"Address mask bits not empty - {first} - skipping");
                    continue;
                }
                end = new IPAddress(endBytes);
            }
            else if (first.IndexOf('-') is var dash and >= 0)
            {
                var rest = first[(dash + 1)..];
                if ((start.AddressFamily == AddressFamily.InterNetwork && rest.Contains('.')) || (start.AddressFamily == AddressFamily.InterNetworkV6 && rest.Contains(':')))
                {
                    var e = Values.ParseAddress(rest);
                    if (e is null)
                    {
                        _diag.Error(line.Position, $"Invalid range end {first} - skipping");
                        continue;
                    }
                    if (e.AddressFamily != start.AddressFamily)
                    {
                        _diag.Error(line.Position, $"Range address families do not match {first} - skipping");
                        continue;
                    }
                    if (CompareAddresses(e, start) < 0)
                    {
                        _diag.Error(line.Position, $"Address range end is less than address range start - {first} - skipping");
                        continue;
                    }
                    end = e;
                }
                else
                {
                    var v4 = start.AddressFamily == AddressFamily.InterNetwork;
                    if (!uint.TryParse(rest, v4 ? NumberStyles.None : NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var range) || range > (v4 ? 255u : 0xffffu))
                    {
                        _diag.Error(line.Position, $"Invalid address range {first} - skipping");
                        continue;
                    }
                    var bytes = start.GetAddressBytes();
                    var startLow = v4 ? bytes[3] : (bytes[14] << 8) | bytes[15];
                    if (startLow >= range)
                    {
                        _diag.Error(line.Position, $"Address range end is not greater than address range start - {first} - skipping");
                        continue;
                    }
                    if (v4) bytes[3] = (byte)range;
                    else
                    {
                        bytes[14] = (byte)(range >> 8);
                        bytes[15] = (byte)range;
                    }
                    end = new IPAddress(bytes);
                }
            }
            if (start.AddressFamily == AddressFamily.InterNetwork) haveV4 = true; else haveV6 = true;
            entries.Add(new VirtualServerGroupEntry { Start = start, End = end, Port = port });
        }
        if (entries.Count == 0)
        {
            _diag.Error(node.Position, $"virtual server group {name} has no entries - removing");
            return;
        }
        if (haveV4 && haveV6 && fwmarkNoFamily)
        {
            _diag.Error(node.Position, $"virtual server group {name} cannot have IPv4, IPv6 and fwmark without family - removing");
            return;
        }
        _vsGroups.Add(new VsGroupDraft(new VirtualServerGroup(name, [.. entries]), node.Position));
    }

    private static int CompareAddresses(IPAddress a, IPAddress b)
    {
        var x = a.GetAddressBytes();
        var y = b.GetAddressBytes();
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] != y[i]) return x[i].CompareTo(y[i]);
        }
        return 0;
    }

    // ------------------------------------------------------------------ virtual_server

    private void VirtualServerBlock(ConfigNode node)
    {
        ReportChildren(node);
        var p1 = _values.Required(node, 0);
        if (p1 is null) return;
        var vs = new VsDraft { At = node.Position };
        if (p1 == "group")
        {
            if (_values.Required(node, 1) is not { } group) return;
            vs.Kind = VirtualServerKind.Group;
            vs.Group = group;
        }
        else if (p1 == "fwmark")
        {
            if (_values.Required(node, 1) is not { } fwText) return;
            if (!_values.TryUnsigned(fwText, node.ArgPosition(1), 0, uint.MaxValue, out var fw))
            {
                _diag.Error(node.ArgPosition(1), $"virtual server fwmark '{fwText}' must be in [0, {uint.MaxValue}] - ignoring");
                return;
            }
            vs.Kind = VirtualServerKind.Fwmark;
            vs.Fwmark = (uint)fw;
        }
        else
        {
            var portText = node.Arg(1);
            if (portText is not null && portText.TrimStart('0').Length == 0) portText = null;
            var addr = _values.ParseSocketAddress(p1, portText, node.ArgPosition(1), out var port);
            if (addr is null)
            {
                _diag.Error(node.ArgPosition(0), $"Invalid virtual server IP address{(portText is null ? "" : "/port")} {p1}{(portText is null ? "" : "/" + portText)} - skipping");
                return;
            }
            vs.Kind = VirtualServerKind.Address;
            vs.Address = addr;
            vs.Port = port;
            vs.Family = addr.AddressFamily;
        }

        foreach (var n in node.Children) VirtualServerKeyword(vs, n);
        VirtualServerEnd(vs);
        _virtualServers.Add(vs);
    }

    private string VsName(VsDraft vs) => vs.Kind switch
    {
        VirtualServerKind.Group => $"[{vs.Group}]:0",
        VirtualServerKind.Fwmark => $"FWM {vs.Fwmark}",
        _ => Trio(vs.Address!, vs.Protocol, vs.Port),
    };

    private static string Trio(IPAddress address, IpvsProtocol? protocol, int port) =>
        $"[{address}]:{protocol switch { IpvsProtocol.Tcp => "tcp", IpvsProtocol.Udp => "udp", IpvsProtocol.Sctp => "sctp", _ => "none" }}:{port}";

    private void VirtualServerKeyword(VsDraft vs, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "ip_family":
                if (_values.Required(n, 0) is not { } fam) break;
                AddressFamily af;
                if (fam == "inet") af = AddressFamily.InterNetwork;
                else if (fam == "inet6") af = AddressFamily.InterNetworkV6;
                else
                {
                    _diag.Error(n.ArgPosition(0), $"unknown address family {fam}");
                    break;
                }
                if (vs.Family is not null && vs.Family != af)
                {
                    _diag.Error(n.ArgPosition(0), $"Virtual server specified family {fam} conflicts with server family");
                    break;
                }
                vs.Family = af;
                break;
            case "retry":
                if (_values.TryUnsigned(n, 0, 1, uint.MaxValue, out var retry)) vs.Retry = (int)Math.Min(retry, int.MaxValue);
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"retry value invalid - {n.Arg(0)}");
                break;
            case "delay_before_retry":
                if (_values.TryTimer(n, 0, 0, 0, out var dbr)) vs.DelayBeforeRetry = dbr;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"virtual server delay before retry '{n.Arg(0)}' invalid - ignoring");
                break;
            case "warmup":
                if (_values.TryTimer(n, 0, 0, 0, out var warmup)) vs.Warmup = warmup;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"virtual server warmup '{n.Arg(0)}' invalid - ignoring");
                break;
            case "connect_timeout":
                if (_values.TryTimer(n, 0, 1, uint.MaxValue, out var ct)) vs.ConnectTimeout = ct;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"virtual server connect_timeout {n.Arg(0)} invalid - ignoring");
                break;
            case "delay_loop":
                if (_values.TryTimer(n, 0, 1, 0, out var dl)) vs.DelayLoop = dl;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"virtual server delay loop '{n.Arg(0)}' invalid - ignoring");
                break;
            case "inhibit_on_failure":
                vs.Inhibit = true;
                break;
            case "lb_algo":
            case "lvs_sched":
                if (_values.Required(n, 0) is not { } sched) break;
                if (!Schedulers.Contains(sched)) _diag.Error(n.ArgPosition(0), $"Invalid lvs_scheduler '{sched}' - ignoring");
                else vs.Scheduler = sched;
                break;
            case "hashed":
            case "ops":
            case "flag-1":
            case "flag-2":
            case "flag-3":
            case "sh-port":
            case "sh-fallback":
            case "mh-port":
            case "mh-fallback":
                var flag = n.Keyword switch
                {
                    "ops" => SchedulerFlags.Ops,
                    "flag-1" => SchedulerFlags.Flag1,
                    "flag-2" => SchedulerFlags.Flag2,
                    "flag-3" => SchedulerFlags.Flag3,
                    // The scheduler-specific names only count after "lb_algo sh" / "lb_algo mh".
                    "sh-port" when vs.Scheduler == "sh" => SchedulerFlags.Flag2,
                    "sh-fallback" when vs.Scheduler == "sh" => SchedulerFlags.Flag1,
                    "mh-port" when vs.Scheduler == "mh" => SchedulerFlags.Flag2,
                    "mh-fallback" when vs.Scheduler == "mh" => SchedulerFlags.Flag1,
                    _ => SchedulerFlags.None,
                };
                if (flag == SchedulerFlags.None)
                {
                    if (vs.Scheduler is not ("sh" or "mh")) _diag.Error(n.Position, $"{n.Keyword} only applies to sh scheduler - ignoring");
                }
                else
                {
                    vs.Flags |= flag;
                    if (flag == SchedulerFlags.Ops) vs.OpsAt = n.Position;
                }
                break;
            case "lb_kind":
            case "lvs_method":
                if (ForwardingKeyword(n, vs.Forwarding, "virtual") is { } f)
                {
                    vs.Forwarding = f;
                    vs.ForwardingNode = n;
                }
                break;
            case "persistence_engine":
                if (_values.Required(n, 0) is not { } pe) break;
                if (pe.Length > 15)
                {
                    _diag.Error(n.ArgPosition(0), $"persistence_name too long, truncating - {pe}");
                    pe = pe[..15];
                }
                vs.Engine = pe;
                break;
            case "persistence_timeout":
                if (n.ArgCount < 1)
                {
                    vs.PersistenceTimeout = 360;
                    break;
                }
                if (_values.TryUnsigned(n, 0, 1, 86400 * 31, out var pt)) vs.PersistenceTimeout = (uint)pt;
                else _diag.Error(n.ArgPosition(0), "persistence_timeout invalid");
                break;
            case "persistence_granularity":
                if (_values.Required(n, 0) is not { } gran) break;
                var v6 = vs.Family == AddressFamily.InterNetworkV6 || (vs.Family is null && !gran.Contains('.'));
                if (v6)
                {
                    if (!_values.TryUnsigned(gran, n.ArgPosition(0), 1, 128, out _))
                    {
                        _diag.Error(n.ArgPosition(0), $"Invalid IPv6 persistence_granularity specified - {gran}");
                        break;
                    }
                }
                else if (Values.ParseIPv4(gran) is null)
                {
                    _diag.Error(n.ArgPosition(0), $"Invalid IPv4 persistence_granularity specified - {gran}");
                    break;
                }
                vs.Granularity = gran;
                vs.Family ??= v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                if (vs.PersistenceTimeout == 0) vs.PersistenceTimeout = 360;
                break;
            case "protocol":
                if (_values.Required(n, 0) is not { } proto) break;
                switch (proto.ToUpperInvariant())
                {
                    case "TCP": vs.Protocol = IpvsProtocol.Tcp; break;
                    case "UDP": vs.Protocol = IpvsProtocol.Udp; break;
                    case "SCTP": vs.Protocol = IpvsProtocol.Sctp; break;
                    default: _diag.Error(n.ArgPosition(0), $"Unknown protocol {proto} - ignoring"); break;
                }
                break;
            case "ha_suspend":
                vs.HaSuspend = true;
                break;
            case "smtp_alert":
                if (OptionalBool(n, "Invalid virtual_server smtp_alert parameter {0}") is bool sa) vs.SmtpAlert = sa;
                break;
            case "virtualhost":
                if (n.ArgCount < 1) _diag.Error(n.Position, "virtual server virtualhost missing");
                else vs.VirtualHost = n.Arg(0);
                break;
            case "alpha":
                vs.Alpha = true;
                break;
            case "omega":
                vs.Omega = true;
                break;
            case "quorum_up":
            case "quorum_down":
                var existing = n.Keyword == "quorum_up" ? vs.QuorumUp : vs.QuorumDown;
                if (existing is not null)
                {
                    _diag.Error(n.Position, $"({vs.Group}) {n.Keyword} script already specified - ignoring {n.Arg(0)}");
                    break;
                }
                var q = NotifyScript(n);
                if (n.Keyword == "quorum_up") vs.QuorumUp = q; else vs.QuorumDown = q;
                break;
            case "quorum":
                if (!_values.TryUnsigned(n, 0, 1, uint.MaxValue, out var quorum))
                {
                    if (n.ArgCount == 0) break;
                    _diag.Error(n.ArgPosition(0), $"Quorum {n.Arg(0)} must be in [1, {uint.MaxValue}]. Setting to 1.");
                    quorum = 1;
                }
                vs.Quorum = (uint)quorum;
                break;
            case "hysteresis":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var hyst)) vs.Hysteresis = (uint)hyst;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Hysteresis {n.Arg(0)} must be in [0, {uint.MaxValue}] - ignoring");
                break;
            case "weight":
                if (_values.TryUnsigned(n, 0, 1, int.MaxValue, out var vw)) vs.Weight = (int)vw;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Virtual server weight {n.Arg(0)} is outside range 1-{int.MaxValue}");
                break;
            case "sorry_server":
                if (_values.Required(n, 0) is not { } ssText) break;
                var ssPort = n.Arg(1);
                if (ssPort is not null && ssPort.TrimStart('0').Length == 0) ssPort = null;
                var ss = _values.ParseSocketAddress(ssText, ssPort, n.ArgPosition(1), out var ssPortNumber);
                if (ss is null)
                {
                    _diag.Error(n.ArgPosition(0), $"Invalid sorry server IP address {ssText} - skipping");
                    break;
                }
                vs.Sorry = new SorryDraft { Address = ss, Port = ssPortNumber, Forwarding = vs.Forwarding, ForwardingNode = vs.ForwardingNode };
                break;
            case "sorry_server_inhibit":
                if (vs.Sorry is not null) vs.Sorry.Inhibit = true;
                else _diag.Error(n.Position, "Ignoring sorry_server inhibit used before or without sorry_server");
                break;
            case "sorry_server_lvs_method":
                if (vs.Sorry is null)
                {
                    _diag.Error(n.Position, "sorry_server forwarding used without sorry_server");
                    break;
                }
                if (ForwardingKeyword(n, vs.Sorry.Forwarding, "sorry") is { } sf)
                {
                    vs.Sorry.Forwarding = sf;
                    vs.Sorry.ForwardingNode = n;
                }
                break;
            case "real_server":
                RealServerBlock(vs, n);
                break;
        }
    }

    /// <summary>"NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]" (keepalived's svr_forwarding_handler()).</summary>
    private Forwarding? ForwardingKeyword(ConfigNode n, Forwarding? current, string serverType)
    {
        if (_values.Required(n, 0) is not { } method) return null;
        ForwardingMethod m;
        switch (method)
        {
            case "NAT": m = ForwardingMethod.Nat; break;
            case "DR": m = ForwardingMethod.Dr; break;
            case "TUN": m = ForwardingMethod.Tun; break;
            default:
                _diag.Error(n.ArgPosition(0), $"PARSER : unknown [{method}] routing method for {serverType} server.");
                return null;
        }
        var f = (current ?? Forwarding.Nat) with { Method = m };
        var type = TunnelType.Ipip;
        int? port = null;
        var csum = TunnelChecksum.NoChecksum;
        for (var i = 1; i < n.ArgCount; i++)
        {
            var word = n.Arg(i)!;
            switch (word)
            {
                case "type":
                    if (i + 1 >= n.ArgCount)
                    {
                        _diag.Error(n.ArgPosition(i), $"Missing tunnel type for {serverType} server.");
                        return f;
                    }
                    var tt = n.Arg(++i);
                    if (tt == "ipip") type = TunnelType.Ipip;
                    else if (tt == "gue") type = TunnelType.Gue;
                    else if (tt == "gre") type = TunnelType.Gre;
                    else
                    {
                        _diag.Error(n.ArgPosition(i), $"Unknown tunnel type {tt} for {serverType} server.");
                        return f;
                    }
                    continue;
                case "port":
                    if (i + 1 >= n.ArgCount)
                    {
                        _diag.Error(n.ArgPosition(i), $"Missing port for {serverType} server gue tunnel.");
                        return f;
                    }
                    if (!_values.TryUnsigned(n.Arg(i + 1)!, n.ArgPosition(i + 1), 1, 65535, out var p))
                    {
                        _diag.Error(n.ArgPosition(i + 1), $"Invalid gue tunnel port {n.Arg(i + 1)} for {serverType} server.");
                        return f;
                    }
                    port = (int)p;
                    i++;
                    continue;
                case "nocsum": csum = TunnelChecksum.NoChecksum; continue;
                case "csum": csum = TunnelChecksum.Checksum; continue;
                case "remcsum": csum = TunnelChecksum.RemoteChecksum; continue;
            }
            _diag.Error(n.ArgPosition(i), $"Invalid tunnel option {word} for {serverType} server.");
            return f;
        }
        if ((type == TunnelType.Gue) != (port is not null))
        {
            _diag.Error(n.Position, "gue tunnels require port, otherwise cannot have port.");
            return f;
        }
        if (type == TunnelType.Ipip && csum != TunnelChecksum.NoChecksum)
        {
            _diag.Error(n.Position, "ipip tunnels do not support checksum option.");
            return f;
        }
        if (type == TunnelType.Gre && csum == TunnelChecksum.RemoteChecksum)
        {
            _diag.Error(n.Position, "gre tunnels do not support remote checksum option.");
            return f;
        }
        return new Forwarding(m, type, port, csum);
    }

    /// <summary>keepalived's vs_end_handler(): sorry server family, and the family of a fwmark service.</summary>
    private void VirtualServerEnd(VsDraft vs)
    {
        if (vs.Sorry is { } ss && ss.Forwarding?.Method != ForwardingMethod.Tun)
        {
            if (vs.Family is null) vs.Family = ss.Address.AddressFamily;
            else if (vs.Family != ss.Address.AddressFamily)
            {
                _diag.Error(vs.At, $"Address family of virtual server and sorry server {ss.Address} don't match - skipping sorry server.");
                vs.Sorry = null;
            }
        }
        if (vs.Family is null && vs.Kind != VirtualServerKind.Group)
        {
            var families = vs.RealServers.Select(r => r.Address.AddressFamily).Concat(vs.Sorry is null ? [] : [vs.Sorry.Address.AddressFamily]).Distinct().ToList();
            vs.Family = families.Count == 1 ? families[0] : AddressFamily.InterNetwork;
        }
    }

    // ------------------------------------------------------------------ real_server

    private void RealServerBlock(VsDraft vs, ConfigNode node)
    {
        if (_values.Required(node, 0) is not { } ip) return;
        var portText = node.Arg(1);
        if (portText is not null && portText.TrimStart('0').Length == 0) portText = null;
        var addr = _values.ParseSocketAddress(ip, portText, node.ArgPosition(1), out var port);
        if (addr is null)
        {
            _diag.Error(node.ArgPosition(0), $"Invalid real server ip address/port {ip}/{node.Arg(1) ?? "(null)"} - skipping");
            return;
        }
        var rs = new RsDraft { At = node.Position, Address = addr, Port = port, Forwarding = vs.Forwarding, ForwardingNode = vs.ForwardingNode };
        foreach (var n in node.Children)
        {
            ReportSupport(n);
            switch (n.Keyword)
            {
                case "weight":
                    if (_values.TryUnsigned(n, 0, 0, int.MaxValue, out var w)) rs.Weight = (int)w;
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Real server weight {n.Arg(0)} is outside range 0-{int.MaxValue}");
                    break;
                case "lvs_method":
                    if (ForwardingKeyword(n, rs.Forwarding, "real") is { } f)
                    {
                        rs.Forwarding = f;
                        rs.ForwardingNode = n;
                    }
                    break;
                case "uthreshold":
                case "lthreshold":
                    if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var th))
                    {
                        if (n.Keyword == "uthreshold") rs.UpperThreshold = (uint)th; else rs.LowerThreshold = (uint)th;
                    }
                    else if (n.ArgCount > 0)
                    {
                        _diag.Error(n.ArgPosition(0), $"Invalid real_server {n.Keyword} '{n.Arg(0)}' - ignoring");
                    }
                    break;
                case "inhibit_on_failure":
                    if (OptionalBool(n, "Invalid inhibit_on_failure parameter {0}") is bool inh) rs.Inhibit = inh;
                    break;
                case "notify_up":
                case "notify_down":
                    var existing = n.Keyword == "notify_up" ? rs.NotifyUp : rs.NotifyDown;
                    if (existing is not null)
                    {
                        _diag.Error(n.Position, $"({vs.Group}) {n.Keyword} script already specified - ignoring {n.Arg(0)}");
                        break;
                    }
                    var s = NotifyScript(n);
                    if (n.Keyword == "notify_up") rs.NotifyUp = s; else rs.NotifyDown = s;
                    break;
                case "alpha":
                    if (OptionalBool(n, "Invalid alpha parameter {0}") is bool a) rs.Alpha = a;
                    break;
                case "retry":
                    if (_values.TryUnsigned(n, 0, 1, uint.MaxValue, out var r)) rs.Retry = (int)Math.Min(r, int.MaxValue);
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"retry value invalid - {n.Arg(0)}");
                    break;
                case "delay_before_retry":
                    if (_values.TryTimer(n, 0, 0, 0, out var dbr)) rs.DelayBeforeRetry = dbr;
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"real server delay_before_retry '{n.Arg(0)}' invalid - ignoring");
                    break;
                case "warmup":
                    if (_values.TryTimer(n, 0, 0, 0, out var wu)) rs.Warmup = wu;
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"real server warmup '{n.Arg(0)}' invalid - ignoring");
                    break;
                case "connect_timeout":
                    if (_values.TryTimer(n, 0, 1, uint.MaxValue, out var ct)) rs.ConnectTimeout = ct;
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"real server connect_timeout {n.Arg(0)} invalid - ignoring");
                    break;
                case "delay_loop":
                    if (_values.TryTimer(n, 0, 1, 0, out var dl)) rs.DelayLoop = dl;
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"real server delay_loop '{n.Arg(0)}' invalid - ignoring");
                    break;
                case "smtp_alert":
                    if (OptionalBool(n, "Invalid real_server smtp_alert parameter {0}") is bool sa) rs.SmtpAlert = sa;
                    break;
                case "virtualhost":
                    if (n.ArgCount < 1) _diag.Error(n.Position, "real server virtualhost missing");
                    else rs.VirtualHost = n.Arg(0);
                    break;
                default:
                    if (n.Info?.Child is { } ctx && n.Info.Shape == KeywordShape.Block) CheckerBlock(rs, n, ctx);
                    break;
            }
        }
        // keepalived's rs_end_handler(): the family must match the virtual server's unless tunnelled.
        if (rs.Forwarding?.Method != ForwardingMethod.Tun)
        {
            if (vs.Family is null) vs.Family = addr.AddressFamily;
            else if (vs.Family != addr.AddressFamily)
            {
                _diag.Error(node.Position, $"Address family of virtual server and real server {addr} don't match - skipping real server.");
                return;
            }
        }
        vs.RealServers.Add(rs);
    }
}
