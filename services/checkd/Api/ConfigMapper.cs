using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Vigil.Checkd.Model;
using Vigil.Hosting;
using Vigil.Scripts;
using Model = Vigil.Checkd.Model;
using Proto = Vigil.Check.V1;

namespace Vigil.Checkd.Api;

/// <summary>
/// vigil.check.v1 -> the engine's model (<see cref="CheckdConfig"/>, keys). Every value is checked
/// at this edge and every problem is collected with its field path, named by virtual server and
/// real server (<c>virtual_servers[[10.0.0.1]:tcp:80].real_servers[10.0.0.2:80].checkers[0].http.urls[0].path</c>),
/// so one INVALID_ARGUMENT lists them all and nothing half-valid reaches the engine. The engine's
/// own validation (timings, scripts, regexes, digests) follows when it applies the result.
/// </summary>
internal sealed class ConfigMapper
{
    // Longer than any sane delay_loop and far inside TimeSpan's range.
    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);
    private readonly List<(string Field, string Message)> _problems = [];

    public static CheckdConfig ToModel(Proto.CheckConfig? config)
    {
        var mapper = new ConfigMapper();
        if (config is null) throw new InvalidArgumentException("config", "missing (send an empty CheckConfig to remove every virtual server)");
        var result = new CheckdConfig
        {
            Globals = mapper.Globals(config.Globals ?? new Proto.CheckGlobals(), "config.globals"),
            VirtualServers = config.VirtualServers.Select((vs, i) => mapper.VirtualServer(vs, i)).OfType<VirtualServerConfig>().ToEquatableArray(),
        };
        mapper.ThrowIfAny();
        return result;
    }

    /// <summary>A key given in a request (GetVirtualServer, SetRealServerWeight, ...).</summary>
    public static Model.VirtualServerKey ToKey(Proto.VirtualServerKey? key, string field)
    {
        var mapper = new ConfigMapper();
        var result = mapper.Key(key, field);
        mapper.ThrowIfAny();
        return result!.Value;
    }

    /// <summary>A real server named in a request.</summary>
    public static RealServerKey ToRealServerKey(Proto.Endpoint? endpoint, string field)
    {
        var mapper = new ConfigMapper();
        var result = mapper.EndpointOf(endpoint, field, allowZeroPort: true);
        mapper.ThrowIfAny();
        return new RealServerKey(result!.Value.Address, result.Value.Port);
    }

    /// <summary>A real server given in a request (AddRealServer); fields are named under <paramref name="field"/>.</summary>
    public static RealServerConfig ToRealServer(Proto.RealServerSpec? spec, string field)
    {
        if (spec is null) throw new InvalidArgumentException(field, "missing");
        var mapper = new ConfigMapper();
        var result = mapper.RealServer(spec, 0, vsPath: "", path: field);
        mapper.ThrowIfAny();
        return result!;
    }

    private void Problem(string field, string message) => _problems.Add((field, message));

    private void ThrowIfAny()
    {
        if (_problems.Count == 0) return;
        var (field, message) = _problems[0];
        if (_problems.Count > 1)
        {
            message += $" (and {_problems.Count - 1} more: " + string.Join("; ", _problems.Skip(1).Select(p => $"{p.Field}: {p.Message}")) + ")";
        }
        throw new InvalidArgumentException(field, message);
    }

    // ------------------------------------------------------------------ globals

    private CheckdGlobals Globals(Proto.CheckGlobals g, string path)
    {
        var alerts = g.Alerts ?? new Proto.AlertSettings();
        SmtpServerAddress? server = null;
        if (alerts.SmtpServer.Length > 0)
        {
            if (alerts.SmtpServer.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) Problem($"{path}.alerts.smtp_server", $"'{alerts.SmtpServer}' is not a host name or address");
            var port = Port(alerts.SmtpPort == 0 ? 25 : alerts.SmtpPort, $"{path}.alerts.smtp_port", allowZero: false);
            server = new SmtpServerAddress(alerts.SmtpServer, port);
        }
        else if (alerts.SmtpPort != 0)
        {
            Problem($"{path}.alerts.smtp_port", "set without smtp_server");
        }
        Model.TlsSettings? ssl = null;
        if (g.Ssl is { } s && (s.CaFile.Length > 0 || s.CertificateFile.Length > 0 || s.KeyFile.Length > 0 || s.Password.Length > 0))
        {
            ssl = new Model.TlsSettings(NullIfEmpty(s.CaFile), NullIfEmpty(s.CertificateFile), NullIfEmpty(s.KeyFile), NullIfEmpty(s.Password));
            if (ssl.KeyFile is not null && ssl.CertificateFile is null) Problem($"{path}.ssl.key_file", "set without certificate_file");
        }
        var result = new CheckdGlobals
        {
            LogAllFailures = g.LogAllFailures,
            RealServerInitNotifies = g.RealServerInitNotifies,
            DefaultScriptUser = User(g.ScriptUser, $"{path}.script_user"),
            Alerts = new Model.AlertSettings
            {
                Recipients = alerts.Recipients.ToEquatableArray(),
                From = NullIfEmpty(alerts.From),
                Server = server,
                HeloName = NullIfEmpty(alerts.HeloName),
                ConnectTimeout = Duration(alerts.ConnectTimeout, $"{path}.alerts.connect_timeout") ?? TimeSpan.FromSeconds(30),
                SmtpAlert = alerts.SmtpAlert,
                SmtpAlertChecker = alerts.SmtpAlertChecker,
                NoCheckerEmails = alerts.NoCheckerEmails,
            },
            Ssl = ssl,
        };
        // The record's default is the host name (keepalived's).
        return g.RouterId.Length > 0 ? result with { RouterId = g.RouterId } : result;
    }

    // ------------------------------------------------------------------ virtual servers

    private VirtualServerConfig? VirtualServer(Proto.VirtualServerSpec spec, int index)
    {
        var key = Key(spec.Key, $"config.virtual_servers[{index}].key");
        var path = $"config.virtual_servers[{(key is { } k ? k.ToString() : index.ToString(CultureInfo.InvariantCulture))}]";
        var t = spec.Timings ?? new Proto.CheckTimings();
        int? defaultWeight = spec.DefaultWeight is { } defaultWeightValue ? Weight(defaultWeightValue, $"{path}.default_weight") : null;
        SorryServerConfig? sorry = null;
        if (spec.SorryServer is { } ss)
        {
            if (EndpointOf(ss.Endpoint, $"{path}.sorry_server.endpoint", allowZeroPort: true) is { } e) sorry = new SorryServerConfig(e.Address, e.Port, ss.Inhibit);
        }
        var realServers = new List<RealServerConfig>();
        for (var i = 0; i < spec.RealServers.Count; i++)
        {
            if (RealServer(spec.RealServers[i], i, path) is { } rs) realServers.Add(rs);
        }
        if (key is null) return null;
        return new VirtualServerConfig
        {
            Key = key.Value,
            Alpha = t.Alpha == true,
            Omega = spec.Omega,
            Quorum = spec.Quorum ?? 1,
            Hysteresis = spec.Hysteresis,
            QuorumUp = Script(spec.QuorumUp, $"{path}.quorum_up"),
            QuorumDown = Script(spec.QuorumDown, $"{path}.quorum_down"),
            HaSuspend = spec.HaSuspend,
            SmtpAlert = spec.SmtpAlert,
            Virtualhost = Virtualhost(spec.Virtualhost, $"{path}.virtualhost"),
            InhibitOnFailure = spec.InhibitOnFailure,
            ConnectTimeout = Duration(t.ConnectTimeout, $"{path}.timings.connect_timeout") ?? TimeSpan.FromSeconds(5),
            DelayLoop = Duration(t.DelayLoop, $"{path}.timings.delay_loop") ?? TimeSpan.FromSeconds(60),
            Warmup = Duration(t.Warmup, $"{path}.timings.warmup"),
            Retry = Retry(t, $"{path}.timings.retry"),
            DelayBeforeRetry = Duration(t.DelayBeforeRetry, $"{path}.timings.delay_before_retry"),
            DefaultWeight = defaultWeight ?? 1,
            SorryServer = sorry,
            RealServers = realServers.ToEquatableArray(),
        };
    }

    private Model.VirtualServerKey? Key(Proto.VirtualServerKey? key, string path)
    {
        if (key is null)
        {
            Problem(path, "missing (one of endpoint, fwmark or group)");
            return null;
        }
        var protocol = key.Protocol switch
        {
            Proto.Protocol.Unspecified or Proto.Protocol.Tcp => ServiceProtocol.Tcp,
            Proto.Protocol.Udp => ServiceProtocol.Udp,
            Proto.Protocol.Sctp => ServiceProtocol.Sctp,
            _ => (ServiceProtocol?)null,
        };
        if (protocol is null)
        {
            Problem($"{path}.protocol", $"unknown protocol {(int)key.Protocol}");
            return null;
        }
        switch (key.KindCase)
        {
            case Proto.VirtualServerKey.KindOneofCase.Endpoint:
                return EndpointOf(key.Endpoint, $"{path}.endpoint", allowZeroPort: true) is { } e
                    ? Model.VirtualServerKey.ForAddress(e.Address, e.Port, protocol.Value)
                    : null;
            case Proto.VirtualServerKey.KindOneofCase.Fwmark:
                if (key.Fwmark == 0)
                {
                    Problem($"{path}.fwmark", "must not be 0");
                    return null;
                }
                return Model.VirtualServerKey.ForFwmark(key.Fwmark);
            case Proto.VirtualServerKey.KindOneofCase.Group:
                if (string.IsNullOrWhiteSpace(key.Group) || key.Group.Any(char.IsControl))
                {
                    Problem($"{path}.group", $"'{key.Group}' is not a virtual_server_group name");
                    return null;
                }
                return Model.VirtualServerKey.ForGroup(key.Group, protocol.Value);
            default:
                Problem(path, "one of endpoint, fwmark or group is required");
                return null;
        }
    }

    // ------------------------------------------------------------------ real servers

    private RealServerConfig? RealServer(Proto.RealServerSpec spec, int index, string vsPath, string? path = null)
    {
        var endpoint = EndpointOf(spec.Endpoint, path is null ? $"{vsPath}.real_servers[{index}].endpoint" : $"{path}.endpoint", allowZeroPort: true);
        path ??= $"{vsPath}.real_servers[{(endpoint is { } e ? new RealServerKey(e.Address, e.Port).ToString() : index.ToString(CultureInfo.InvariantCulture))}]";
        var t = spec.Timings ?? new Proto.CheckTimings();
        var checkers = new List<CheckerConfig>();
        for (var i = 0; i < spec.Checkers.Count; i++)
        {
            if (Checker(spec.Checkers[i], $"{path}.checkers[{i}]") is { } c) checkers.Add(c);
        }
        var result = new RealServerConfig
        {
            Address = endpoint?.Address ?? IPAddress.None,
            Port = endpoint?.Port ?? 0,
            Weight = spec.Weight is { } weightValue ? Weight(weightValue, $"{path}.weight") : null,
            InhibitOnFailure = spec.InhibitOnFailure,
            NotifyUp = Script(spec.NotifyUp, $"{path}.notify_up"),
            NotifyDown = Script(spec.NotifyDown, $"{path}.notify_down"),
            SmtpAlert = spec.SmtpAlert,
            Virtualhost = Virtualhost(spec.Virtualhost, $"{path}.virtualhost"),
            Alpha = t.Alpha,
            ConnectTimeout = Duration(t.ConnectTimeout, $"{path}.timings.connect_timeout"),
            DelayLoop = Duration(t.DelayLoop, $"{path}.timings.delay_loop"),
            Warmup = Duration(t.Warmup, $"{path}.timings.warmup"),
            Retry = Retry(t, $"{path}.timings.retry"),
            DelayBeforeRetry = Duration(t.DelayBeforeRetry, $"{path}.timings.delay_before_retry"),
            Checkers = checkers.ToEquatableArray(),
        };
        return endpoint is null ? null : result;
    }

    // ------------------------------------------------------------------ checkers

    private CheckerConfig? Checker(Proto.CheckerSpec spec, string path)
    {
        var t = spec.Timings ?? new Proto.CheckTimings();
        var connectTimeout = Duration(t.ConnectTimeout, $"{path}.timings.connect_timeout");
        Model.ConnectionOptions Connection()
        {
            var c = spec.Connection ?? new Proto.ConnectionOptions();
            var cp = $"{path}.connection";
            return new Model.ConnectionOptions
            {
                ConnectIp = c.ConnectIp.Length == 0 ? null : Address(c.ConnectIp, $"{cp}.connect_ip"),
                ConnectPort = c.ConnectPort == 0 ? null : Port(c.ConnectPort, $"{cp}.connect_port", allowZero: false),
                BindTo = c.BindTo.Length == 0 ? null : Address(c.BindTo, $"{cp}.bind_to"),
                BindPort = c.BindPort == 0 ? null : Port(c.BindPort, $"{cp}.bind_port", allowZero: false),
                BindInterface = NullIfEmpty(c.BindInterface),
                ConnectTimeout = connectTimeout,
                Fwmark = c.Fwmark,
            };
        }
        CheckerConfig? checker;
        switch (spec.CheckCase)
        {
            case Proto.CheckerSpec.CheckOneofCase.Tcp:
                checker = new TcpCheckConfig { Connection = Connection() };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Http:
                checker = Http(spec.Http, $"{path}.http") with { Connection = Connection() };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Smtp:
                checker = new SmtpCheckConfig
                {
                    Connection = Connection(),
                    HeloName = spec.Smtp.HeloName.Length == 0 ? SmtpCheckConfig.DefaultHeloName : spec.Smtp.HeloName,
                };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Dns:
                checker = Dns(spec.Dns, $"{path}.dns") with { Connection = Connection() };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Ping:
                checker = new PingCheckConfig { Connection = Connection() };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Udp:
                checker = Udp(spec.Udp, $"{path}.udp") with { Connection = Connection() };
                break;
            case Proto.CheckerSpec.CheckOneofCase.Misc:
                NoConnection(spec, path, connectTimeout, "MISC_CHECK");
                if (spec.Misc.Path.Trim().Length == 0) Problem($"{path}.misc.path", "MISC_CHECK needs a misc_path");
                checker = new MiscCheckConfig
                {
                    Path = spec.Misc.Path,
                    Timeout = Duration(spec.Misc.Timeout, $"{path}.misc.timeout"),
                    Dynamic = spec.Misc.Dynamic,
                    User = User(spec.Misc.User, $"{path}.misc.user"),
                };
                break;
            case Proto.CheckerSpec.CheckOneofCase.File:
                NoConnection(spec, path, connectTimeout, "FILE_CHECK");
                if (spec.File.Path.Length == 0) Problem($"{path}.file.path", "FILE_CHECK needs the track_file's file");
                checker = new FileCheckConfig
                {
                    TrackFileName = spec.File.TrackFile.Length == 0 ? Path.GetFileName(spec.File.Path) : spec.File.TrackFile,
                    Path = spec.File.Path,
                    Weight = spec.File.Weight ?? 1,
                    Reverse = spec.File.Reverse,
                };
                break;
            default:
                Problem($"{path}.check", "one of tcp, http, smtp, dns, misc, ping, udp or file is required");
                return null;
        }
        return checker with
        {
            Alpha = t.Alpha,
            DelayLoop = Duration(t.DelayLoop, $"{path}.timings.delay_loop"),
            Warmup = Duration(t.Warmup, $"{path}.timings.warmup"),
            Retry = Retry(t, $"{path}.timings.retry"),
            DelayBeforeRetry = Duration(t.DelayBeforeRetry, $"{path}.timings.delay_before_retry"),
            LogAllFailures = spec.LogAllFailures,
        };
    }

    // Connection options on a checker that opens no socket would be silently unused.
    private void NoConnection(Proto.CheckerSpec spec, string path, TimeSpan? connectTimeout, string keyword)
    {
        if (spec.Connection is { } c && !c.Equals(new Proto.ConnectionOptions())) Problem($"{path}.connection", $"{keyword} opens no connection");
        if (connectTimeout is not null) Problem($"{path}.timings.connect_timeout", $"{keyword} opens no connection");
    }

    private HttpCheckConfig Http(Proto.HttpCheck h, string path)
    {
        var urls = new List<Model.UrlCheck>();
        for (var i = 0; i < h.Urls.Count; i++)
        {
            var u = h.Urls[i];
            var up = $"{path}.urls[{i}]";
            var ranges = new List<Model.StatusCodeRange>();
            for (var r = 0; r < u.StatusCodes.Count; r++)
            {
                var range = u.StatusCodes[r];
                var max = range.Max == 0 ? range.Min : range.Max;
                if (range.Min is < 100 or > 599 || max is < 100 or > 599 || range.Min > max)
                {
                    Problem($"{up}.status_codes[{r}]", $"{range.Min}-{max} is not a range within 100-599");
                    continue;
                }
                ranges.Add(new Model.StatusCodeRange((int)range.Min, (int)max));
            }
            urls.Add(new Model.UrlCheck
            {
                Path = u.Path,
                Digest = NullIfEmpty(u.Digest),
                StatusCodes = ranges.ToEquatableArray(),
                Virtualhost = Virtualhost(u.Virtualhost, $"{up}.virtualhost"),
                Regex = NullIfEmpty(u.Regex),
                RegexNoMatch = u.RegexNoMatch,
                RegexOptions = u.RegexOptions.ToEquatableArray(),
                RegexMinOffset = u.RegexMinOffset is { } minOffset ? NonNegative(minOffset, $"{up}.regex_min_offset") : null,
                RegexMaxOffset = u.RegexMaxOffset is { } maxOffset ? NonNegative(maxOffset, $"{up}.regex_max_offset") : null,
                TlsCompliant = u.TlsCompliant,
            });
        }
        var protocol = h.Protocol switch
        {
            Proto.HttpProtocol.Unspecified or Proto.HttpProtocol.Http10 => HttpProtocolVersion.Http10,
            Proto.HttpProtocol.Http10Close => HttpProtocolVersion.Http10Close,
            Proto.HttpProtocol.Http11 => HttpProtocolVersion.Http11,
            _ => Unknown($"{path}.protocol", (int)h.Protocol, HttpProtocolVersion.Http10),
        };
        if (h.SniName.Length > 0 && !h.EnableSni) Problem($"{path}.sni_name", "set without enable_sni");
        return new HttpCheckConfig
        {
            UseSsl = h.Ssl,
            Urls = urls.ToEquatableArray(),
            Protocol = protocol,
            Virtualhost = Virtualhost(h.Virtualhost, $"{path}.virtualhost"),
            EnableSni = h.EnableSni,
            SniName = NullIfEmpty(h.SniName),
            FastRecovery = h.FastRecovery,
            TlsCompliant = h.TlsCompliant,
        };
    }

    private DnsCheckConfig Dns(Proto.DnsCheck d, string path)
    {
        var type = d.Type switch
        {
            Proto.DnsQueryType.Unspecified or Proto.DnsQueryType.Soa => Model.DnsQueryType.SOA,
            Proto.DnsQueryType.A => Model.DnsQueryType.A,
            Proto.DnsQueryType.Ns => Model.DnsQueryType.NS,
            Proto.DnsQueryType.Cname => Model.DnsQueryType.CNAME,
            Proto.DnsQueryType.Mx => Model.DnsQueryType.MX,
            Proto.DnsQueryType.Txt => Model.DnsQueryType.TXT,
            Proto.DnsQueryType.Aaaa => Model.DnsQueryType.AAAA,
            Proto.DnsQueryType.Rrsig => Model.DnsQueryType.RRSIG,
            Proto.DnsQueryType.Dnskey => Model.DnsQueryType.DNSKEY,
            _ => Unknown($"{path}.type", (int)d.Type, Model.DnsQueryType.SOA),
        };
        return new DnsCheckConfig { QueryType = type, Name = d.Name };
    }

    private UdpCheckConfig Udp(Proto.UdpCheck u, string path)
    {
        if (u.ReplyMask.Length > 0 && u.ReplyData.Length == 0) Problem($"{path}.reply_mask", "set without reply_data");
        if (u.ReplyData.Length > 0 && !u.RequireReply) Problem($"{path}.reply_data", "set without require_reply");
        return new UdpCheckConfig
        {
            Payload = Bytes(u.Payload),
            RequireReply = u.RequireReply,
            ReplyData = Bytes(u.ReplyData),
            ReplyMask = Bytes(u.ReplyMask),
            MinReplyLength = Length(u.MinReplyLength, $"{path}.min_reply_length"),
            MaxReplyLength = u.MaxReplyLength is { } maxReply ? Length(maxReply, $"{path}.max_reply_length") : 255,
        };
    }

    // ------------------------------------------------------------------ values

    private T Unknown<T>(string field, int value, T fallback)
    {
        Problem(field, $"unknown value {value}");
        return fallback;
    }

    private static EquatableArray<byte> Bytes(ByteString b) => b.Length == 0 ? default : new EquatableArray<byte>(b.ToByteArray());

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private int Length(uint value, string field)
    {
        if (value > 65535) Problem(field, $"{value} is outside 0..65535");
        return (int)Math.Min(value, 65535);
    }

    private int? NonNegative(int value, string field)
    {
        if (value >= 0) return value;
        Problem(field, $"{value} must not be negative");
        return null;
    }

    private int? Weight(int value, string field)
    {
        if (value >= 0) return value;
        Problem(field, $"weight {value} is outside 0..{int.MaxValue}");
        return null;
    }

    private int? Retry(Proto.CheckTimings t, string field)
    {
        if (t.Retry is null) return null;
        if (t.Retry >= 0) return t.Retry;
        Problem(field, $"{t.Retry} must not be negative");
        return null;
    }

    private ushort Port(uint port, string field, bool allowZero)
    {
        if (port > 65535 || (port == 0 && !allowZero))
        {
            Problem(field, $"port {port} is outside {(allowZero ? 0 : 1)}..65535");
            return 0;
        }
        return (ushort)port;
    }

    private (IPAddress Address, ushort Port)? EndpointOf(Proto.Endpoint? endpoint, string field, bool allowZeroPort)
    {
        if (endpoint is null)
        {
            Problem(field, "missing (address and port)");
            return null;
        }
        var address = Address(endpoint.Address, $"{field}.address");
        var port = Port(endpoint.Port, $"{field}.port", allowZeroPort);
        return address is null || endpoint.Port > 65535 ? null : (address, port);
    }

    /// <summary>An IPv4 or IPv6 address as text; "10.1" and other short forms inet_aton would take
    /// are refused, and so are scopes ("fe80::1%eth0": a link-local target names its interface
    /// with bind_if, as in keepalived).</summary>
    private IPAddress? Address(string text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            Problem(field, "an IP address is required");
            return null;
        }
        if (!IPAddress.TryParse(text, out var address)
            || (address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3)
            || text.Contains('%', StringComparison.Ordinal))
        {
            Problem(field, $"'{text}' is not an IPv4 or IPv6 address");
            return null;
        }
        return address;
    }

    private TimeSpan? Duration(Google.Protobuf.WellKnownTypes.Duration? d, string field)
    {
        if (d is null) return null;
        if (d.Seconds < 0 || d.Nanos < 0 || d.Nanos >= 1_000_000_000)
        {
            Problem(field, $"{d} is not a non-negative duration");
            return null;
        }
        if (d.Seconds > (long)MaxDuration.TotalSeconds)
        {
            Problem(field, $"{d.Seconds} s is longer than {MaxDuration.TotalDays:0} days");
            return null;
        }
        return d.ToTimeSpan();
    }

    private string? Virtualhost(string text, string field)
    {
        if (text.Length == 0) return null;
        if (text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) Problem(field, $"'{text}' contains blanks or control characters");
        return text;
    }

    private ScriptUser? User(string text, string field)
    {
        if (text.Length == 0) return null;
        try
        {
            return ScriptUser.Parse(text);
        }
        catch (FormatException e)
        {
            Problem(field, e.Message);
            return null;
        }
    }

    private Model.NotifyScript? Script(Proto.NotifyScript? script, string field)
    {
        if (script is null || (script.Command.Length == 0 && script.User.Length == 0)) return null;
        if (script.Command.Trim().Length == 0) Problem($"{field}.command", "a script needs a command");
        return new Model.NotifyScript(script.Command, User(script.User, $"{field}.user"));
    }
}
