using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    private static readonly HashSet<string> DnsTypes = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

    /// <summary>A checker as read; null fields take the real server's value, then the type's default.</summary>
    private sealed class CheckerDraft
    {
        public required string Keyword { get; init; }
        public required SourcePosition At { get; init; }
        public bool? Alpha { get; set; }
        public int? Retry { get; set; }
        public TimeSpan? DelayBeforeRetry { get; set; }
        public TimeSpan? Warmup { get; set; }
        public TimeSpan? DelayLoop { get; set; }
        public bool LogAllFailures { get; set; }
        public int DefaultRetry { get; set; } = 1;
        public TimeSpan? DefaultDelayBeforeRetry { get; set; } = TimeSpan.FromSeconds(1);
        public bool HasConnection { get; set; } = true;
        public IPAddress? ConnectIp { get; set; }
        public int? ConnectPort { get; set; }
        public IPAddress? BindTo { get; set; }
        public int? BindPort { get; set; }
        public string? BindInterface { get; set; }
        public TimeSpan? ConnectTimeout { get; set; }
        public uint? Fwmark { get; set; }
        public Checker? Specific { get; set; }
        public List<HttpUrl> Urls { get; } = [];
        public bool Removed { get; set; }
    }

    private void CheckerBlock(RsDraft rs, ConfigNode node, BlockContext ctx)
    {
        ReportChildren(node);
        _fileCheckWeightSet = false;
        var c = new CheckerDraft { Keyword = node.Keyword, At = node.Position };
        switch (ctx)
        {
            case BlockContext.TcpCheck:
                c.Specific = new TcpCheck { Connection = Placeholder };
                break;
            case BlockContext.PingCheck:
                c.Specific = new PingCheck { Connection = Placeholder };
                break;
            case BlockContext.HttpCheck:
                c.Specific = new HttpCheck { Connection = Placeholder, Ssl = node.Keyword == "SSL_GET" };
                c.DefaultDelayBeforeRetry = TimeSpan.FromSeconds(3);
                break;
            case BlockContext.SmtpCheck:
                c.Specific = new SmtpCheck { Connection = Placeholder };
                break;
            case BlockContext.DnsCheck:
                c.Specific = new DnsCheck { Connection = Placeholder };
                c.DefaultRetry = 3;
                c.DefaultDelayBeforeRetry = null;
                break;
            case BlockContext.UdpCheck:
                c.Specific = new UdpCheck { Connection = Placeholder };
                break;
            case BlockContext.MiscCheck:
                c.Specific = new MiscCheck { Script = new ScriptSpec { CommandLine = "" } };
                c.HasConnection = false;
                c.DefaultRetry = 0;
                break;
            case BlockContext.FileCheck:
                c.Specific = new FileCheck { TrackFile = "" };
                c.HasConnection = false;
                break;
            case BlockContext.BfdCheck:
                c.Specific = new BfdCheck { Name = "" };
                c.HasConnection = false;
                break;
            default:
                return;
        }
        var smtpHosts = new List<CheckerDraft>();
        foreach (var n in node.Children)
        {
            if (CommonCheckerKeyword(c, n)) continue;
            switch (c.Specific)
            {
                case HttpCheck http:
                    c.Specific = HttpKeyword(c, http, n);
                    break;
                case SmtpCheck smtp:
                    if (n.Keyword == "helo_name")
                    {
                        if (n.ArgCount < 1) _diag.Error(n.Position, "SMTP_CHECK helo name missing");
                        else c.Specific = smtp with { HeloName = n.Arg(0)! };
                    }
                    else if (n.Keyword == "host")
                    {
                        // Deprecated: each host block is another SMTP checker with the same HELO name.
                        ReportChildren(n);
                        var host = new CheckerDraft { Keyword = "SMTP_CHECK", At = n.Position };
                        foreach (var h in n.Children) CommonCheckerKeyword(host, h);
                        if (CheckLinkLocal(host)) smtpHosts.Add(host);
                    }
                    break;
                case DnsCheck dns:
                    if (n.Keyword == "type")
                    {
                        if (_values.Required(n, 0) is not { } type) break;
                        if (!DnsTypes.Contains(type.ToUpperInvariant())) _diag.Error(n.ArgPosition(0), $"Unknown DNS check type {type} - ignoring");
                        else c.Specific = dns with { QueryType = type.ToUpperInvariant() };
                    }
                    else if (n.Keyword == "name")
                    {
                        if (_values.Required(n, 0) is not { } dname) break;
                        if (dns.Name != ".") _diag.Error(n.Position, "DNS_CHECK name already specified - ignoring");
                        else if ((dname.StartsWith('.') && dname.Length > 1) || dname.Contains(".."))
                        {
                            _diag.Error(n.ArgPosition(0), $"DNS_CHECK name '{dname}' has empty label - ignoring");
                        }
                        else c.Specific = dns with { Name = dname };
                    }
                    break;
                case UdpCheck udp:
                    c.Specific = UdpKeyword(udp, n);
                    break;
                case MiscCheck misc:
                    c.Specific = MiscKeyword(c, misc, n);
                    break;
                case FileCheck file:
                    c.Specific = FileCheckKeyword(file, n);
                    break;
                case BfdCheck bfd:
                    if (n.Keyword == "name")
                    {
                        if (n.ArgCount != 1)
                        {
                            _diag.Error(n.Position, $"({Trio(rs.Address, null, rs.Port)}) BFD_CHECK - No or too many names specified - skipping checker");
                            c.Removed = true;
                        }
                        else if (!_bfds.Any(b => b.Name == n.Arg(0)))
                        {
                            _diag.Error(n.ArgPosition(0), $"({Trio(rs.Address, null, rs.Port)}) BFD_CHECK - BFD {n.Arg(0)} not configured");
                            c.Removed = true;
                        }
                        else if (bfd.Name.Length > 0)
                        {
                            _diag.Error(n.ArgPosition(0), $"({Trio(rs.Address, null, rs.Port)}) BFD_CHECK - BFD {n.Arg(0)} already specified as {bfd.Name}");
                            c.Removed = true;
                        }
                        else c.Specific = bfd with { Name = n.Arg(0)! };
                    }
                    break;
            }
        }
        if (c.Removed) return;

        // keepalived's end-of-block checks per checker type.
        switch (c.Specific)
        {
            case HttpCheck http:
                c.Specific = http with { Urls = [.. c.Urls] };
                if (c.Urls.Count == 0)
                {
                    _diag.Error(node.End, "HTTP/SSL_GET checker has no urls specified - ignoring");
                    return;
                }
                break;
            case MiscCheck misc when misc.Script.CommandLine.Length == 0:
                _diag.Error(node.End, "No script path has been specified for MISC_CHECKER - skipping");
                return;
            case MiscCheck misc when misc.Script.User is null && DefaultScriptUserFails(node.End):
                _diag.Error(node.End, $"Unable to set default user for misc script {string.Join(' ', misc.Script.Args)} - removing");
                ForgetScriptUse(misc.Script);
                return;
            case FileCheck file when file.TrackFile.Length == 0:
                _diag.Error(node.End, "FILE_CHECK has no track_file specified - ignoring");
                return;
            case FileCheck file when !_fileCheckWeightSet:
                var tf = _trackFiles.First(f => f.Model.Name == file.TrackFile).Model;
                c.Specific = file with { Weight = tf.Weight, WeightReverse = tf.WeightReverse };
                break;
            case BfdCheck bfd when bfd.Name.Length == 0:
                _diag.Error(node.End, $"({Trio(rs.Address, null, rs.Port)}) No name has been specified for BFD_CHECKER - skipping");
                return;
            case BfdCheck bfd when rs.Checkers.Any(o => o.Specific is BfdCheck b && b.Name == bfd.Name):
                _diag.Error(node.End, $"({Trio(rs.Address, null, rs.Port)}) BFD_CHECK - RS already monitoring {bfd.Name}");
                return;
            case UdpCheck udp when udp.MinReplyLength > udp.MaxReplyLength:
                _diag.Error(node.End, $"UDP_CHECK min_reply length {udp.MinReplyLength} > max_reply_length {udp.MaxReplyLength} - will always fail");
                break;
        }
        if (c.HasConnection && !CheckLinkLocal(c)) return;
        rs.Checkers.Add(c);
        foreach (var host in smtpHosts)
        {
            host.Specific = c.Specific;
            host.Alpha ??= c.Alpha;
            host.Retry ??= c.Retry;
            host.DelayBeforeRetry ??= c.DelayBeforeRetry;
            host.Warmup ??= c.Warmup;
            host.DelayLoop ??= c.DelayLoop;
            host.ConnectTimeout ??= c.ConnectTimeout;
            rs.Checkers.Add(host);
        }
    }

    private bool _fileCheckWeightSet;

    private static readonly ConnectionOptions Placeholder = new() { ConnectIp = IPAddress.None };

    private bool CheckLinkLocal(CheckerDraft c)
    {
        if (c.ConnectIp is { AddressFamily: AddressFamily.InterNetworkV6, IsIPv6LinkLocal: true } && c.BindInterface is null)
        {
            _diag.Error(c.At, $"Checker link local address {c.ConnectIp} requires a bind_if");
            return false;
        }
        return true;
    }

    /// <summary>The keywords every checker has (connection ones only for network checkers).</summary>
    private bool CommonCheckerKeyword(CheckerDraft c, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "connect_ip" when c.HasConnection:
                if (_values.Required(n, 0) is not { } ip) return true;
                var addr = Values.ParseAddress(ip);
                if (addr is null) _diag.Error(n.ArgPosition(0), $"Invalid connect_ip address {ip} - ignoring");
                else if (c.BindTo is not null && c.BindTo.AddressFamily != addr.AddressFamily)
                {
                    _diag.Error(n.ArgPosition(0), $"connect_ip address {ip} does not match address family of bindto - skipping");
                }
                else c.ConnectIp = addr;
                return true;
            case "connect_port" when c.HasConnection:
                if (_values.TryUnsigned(n, 0, 1, 65535, out var port)) c.ConnectPort = (int)port;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid checker connect_port '{n.Arg(0)}'");
                return true;
            case "bindto" when c.HasConnection:
                if (_values.Required(n, 0) is not { } bt) return true;
                var bind = Values.ParseAddress(bt);
                if (bind is null) _diag.Error(n.ArgPosition(0), $"Invalid bindto address {bt} - ignoring");
                else if (c.ConnectIp is not null && c.ConnectIp.AddressFamily != bind.AddressFamily)
                {
                    _diag.Error(n.ArgPosition(0), $"bindto address {bt} does not match address family of connect_ip - skipping");
                }
                else c.BindTo = bind;
                return true;
            case "bind_port" when c.HasConnection:
                if (_values.TryUnsigned(n, 0, 1, 65535, out var bp)) c.BindPort = (int)bp;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid checker bind_port '{n.Arg(0)}'");
                return true;
            case "bind_if" when c.HasConnection:
                if (_values.Required(n, 0) is not { } bif) return true;
                if (bif.Length > 15) _diag.Error(n.ArgPosition(0), $"Interface name {bif} is too long - ignoring");
                else c.BindInterface = bif;
                return true;
            case "connect_timeout" when c.HasConnection:
                if (_values.TryTimer(n, 0, 1, uint.MaxValue, out var ct)) c.ConnectTimeout = ct;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"connect_timeout {n.Arg(0)} invalid - ignoring");
                return true;
            case "fwmark" when c.HasConnection:
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var fw)) c.Fwmark = (uint)fw;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid fwmark connection value '{n.Arg(0)}'");
                return true;
            case "retry" when c.Specific is not (FileCheck or BfdCheck):
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var retry)) c.Retry = (int)Math.Min(retry, int.MaxValue);
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid retry connection value '{n.Arg(0)}'");
                return true;
            case "nb_get_retry" when c.Specific is HttpCheck:
                _diag.Warning(n.Position, "nb_get_retry is deprecated - please use 'retry'");
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var nb)) c.Retry = (int)Math.Min(nb, int.MaxValue);
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid nb_get_retry value '{n.Arg(0)}'");
                return true;
            case "delay_before_retry" when c.Specific is not (FileCheck or BfdCheck):
                if (_values.TryTimer(n, 0, 0, 0, out var dbr)) c.DelayBeforeRetry = dbr;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid delay_before_retry connection value '{n.Arg(0)}'");
                return true;
            case "warmup" when c.Specific is not (FileCheck or BfdCheck):
                if (_values.TryTimer(n, 0, 0, 0, out var wu)) c.Warmup = wu;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid warmup connection value '{n.Arg(0)}'");
                return true;
            case "delay_loop" when c.Specific is not (FileCheck or BfdCheck):
                if (_values.TryTimer(n, 0, 1, 0, out var dl)) c.DelayLoop = dl;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"delay_loop '{n.Arg(0)}' is invalid - ignoring");
                return true;
            case "alpha" when c.Specific is not FileCheck:
                if (OptionalBool(n, "Invalid alpha parameter {0}") is bool a) c.Alpha = a;
                return true;
            case "log_all_failures" when c.Specific is not (FileCheck or BfdCheck):
                if (OptionalBool(n, "Invalid log_all_failures parameter {0}") is bool laf) c.LogAllFailures = laf;
                return true;
        }
        return false;
    }

    private HttpCheck HttpKeyword(CheckerDraft c, HttpCheck http, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "virtualhost":
                if (n.ArgCount < 1) _diag.Error(n.Position, "HTTP_GET virtualhost name missing");
                else return http with { VirtualHost = n.Arg(0) };
                break;
            case "http_protocol":
                if (n.ArgCount < 1) _diag.Error(n.Position, "Missing http_protocol version");
                else if (n.Arg(0) == "1.0") return http with { Protocol = HttpProtocol.Http10 };
                else if (n.Arg(0) == "1.1") return http with { Protocol = HttpProtocol.Http11 };
                else if (n.Arg(0) is "1.0C" or "1.0c") return http with { Protocol = HttpProtocol.Http10Close };
                else _diag.Error(n.ArgPosition(0), $"Invalid http_protocol version {n.Arg(0)}");
                break;
            case "enable_sni":
                if (OptionalBool(n, "Invalid enable_sni parameter {0}") is bool sni) return http with { EnableSni = sni };
                break;
            case "fast_recovery":
                if (OptionalBool(n, "Invalid fast_recovery parameter {0}") is bool fr) return http with { FastRecovery = fr };
                break;
            case "url":
                ReportChildren(n);
                if (UrlBlock(n) is { } url) c.Urls.Add(url);
                break;
        }
        return http;
    }

    private HttpUrl? UrlBlock(ConfigNode node)
    {
        string? path = null;
        string? digest = null;
        string? vhost = null;
        string? regex = null;
        var noMatch = false;
        var options = new List<string>();
        int? minOffset = null, maxOffset = null;
        var codes = new List<StatusCodeRange>();
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "path":
                    path = _values.Required(n, 0) ?? path;
                    break;
                case "digest":
                    if (_values.Required(n, 0) is not { } d) break;
                    if (digest is not null) _diag.Error(n.ArgPosition(0), $"Digest '{d}' is a duplicate");
                    else if (d.Length != 32) _diag.Error(n.ArgPosition(0), $"digest '{d}' character length should be 32 rather than {d.Length}");
                    else if (!d.All(Uri.IsHexDigit))
                    {
                        var bad = d.Select((ch, i) => (ch, i)).Last(x => !Uri.IsHexDigit(x.ch)).i / 2 * 2;
                        _diag.Error(n.ArgPosition(0), $"Unable to interpret hex digit in '{d}' at offset {bad}/{bad + 1}");
                    }
                    else digest = d.ToLowerInvariant();
                    break;
                case "status_code":
                    for (var i = 0; i < n.ArgCount; i++)
                    {
                        var s = n.Arg(i)!;
                        var dash = s.IndexOf('-');
                        var ok = int.TryParse(dash < 0 ? s : s[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var min);
                        var max = min;
                        if (ok && dash >= 0) ok = int.TryParse(s[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out max);
                        if (!ok || min < 100 || min > 599 || max < 100 || max > 599 || min > max)
                        {
                            _diag.Error(n.ArgPosition(i), $"Invalid HTTP_GET status code '{s}'");
                            continue;
                        }
                        codes.Add(new StatusCodeRange(min, max));
                    }
                    break;
                case "virtualhost":
                    if (n.ArgCount < 1) _diag.Error(n.Position, "Missing HTTP_GET virtualhost name");
                    else vhost = n.Arg(0);
                    break;
                case "regex":
                    var words = Tokenizer.SplitQuotedEscaped(n.Line.Source, _diag);
                    if (words is null || words.Length != 2) _diag.Note(n.Position, "regex missing or too many fields");
                    else regex = words[1].Text;
                    break;
                case "regex_no_match":
                    noMatch = true;
                    break;
                case "regex_options":
                    options.AddRange(n.Args.Select(a => a.Text));
                    break;
                case "regex_min_offset":
                case "regex_max_offset":
                    if (n.ArgCount != 1 || !int.TryParse(n.Arg(0), NumberStyles.None, CultureInfo.InvariantCulture, out var off))
                    {
                        _diag.Note(n.Position, $"Invalid {n.Keyword} {n.Arg(0)} specified");
                        break;
                    }
                    if (n.Keyword == "regex_min_offset") minOffset = off; else maxOffset = off;
                    break;
                case "regex_stack":
                    break;
            }
        }
        if (path is null)
        {
            _diag.Error(node.End, "HTTP/SSL_GET checker url has no path - ignoring");
            return null;
        }
        if (codes.Count == 0) codes.Add(new StatusCodeRange(200, 299));
        if (regex is null && (options.Count > 0 || noMatch || minOffset is not null || maxOffset is not null))
        {
            _diag.Note(node.End, "regex parameters specified without regex");
            options.Clear();
            noMatch = false;
            minOffset = maxOffset = null;
        }
        if (maxOffset is not null && (minOffset ?? 0) >= maxOffset + 1)
        {
            _diag.Note(node.End, $"regex min offset {minOffset} > regex_max_offset {maxOffset} - ignoring");
            minOffset = maxOffset = null;
        }
        return new HttpUrl
        {
            Path = path,
            Digest = digest,
            StatusCodes = [.. NormalizeStatusCodes(codes)],
            VirtualHost = vhost,
            Regex = regex,
            RegexNoMatch = noMatch,
            RegexOptions = [.. options],
            RegexMinOffset = minOffset,
            RegexMaxOffset = maxOffset,
        };
    }

    /// <summary>keepalived keeps a bit per status code; merge ranges so equal sets compare equal.</summary>
    private static List<StatusCodeRange> NormalizeStatusCodes(List<StatusCodeRange> codes)
    {
        var bits = new bool[600];
        foreach (var r in codes)
        {
            for (var c = r.Min; c <= r.Max; c++) bits[c] = true;
        }
        var result = new List<StatusCodeRange>();
        for (var c = 100; c < 600; c++)
        {
            if (!bits[c]) continue;
            var start = c;
            while (c + 1 < 600 && bits[c + 1]) c++;
            result.Add(new StatusCodeRange(start, c));
        }
        return result;
    }

    private UdpCheck UdpKeyword(UdpCheck udp, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "payload":
                if (n.ArgCount == 0)
                {
                    _diag.Error(n.Position, "UDP_CHECK payload requires a payload");
                    break;
                }
                var (payload, _) = ReadHex(string.Join(' ', n.Args.Select(a => a.Text)), allowWildcard: false);
                if (payload is null) _diag.Error(n.ArgPosition(0), "Invalid hex string for UDP_CHECK payload");
                else return udp with { Payload = [.. payload] };
                break;
            case "require_reply":
                udp = udp with { RequireReply = true };
                if (n.ArgCount == 0) return udp;
                var (reply, mask) = ReadHex(string.Join(' ', n.Args.Select(a => a.Text)), allowWildcard: true);
                if (reply is null) _diag.Error(n.ArgPosition(0), "Invalid hex string for UDP_CHECK reply");
                else return udp with { ReplyData = [.. reply], ReplyMask = mask is null ? null : [.. mask] };
                break;
            case "min_reply_length":
                if (_values.TryUnsigned(n, 0, 0, ushort.MaxValue, out var min)) return udp with { MinReplyLength = (int)min };
                if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"UDP_CHECK min length {n.Arg(0)} not valid - must be between 0 & 65535");
                break;
            case "max_reply_length":
                if (_values.TryUnsigned(n, 0, 0, ushort.MaxValue, out var max)) return udp with { MaxReplyLength = (int)max };
                if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"UDP_CHECK max length {n.Arg(0)} not valid - must be between 0 & 65535");
                break;
        }
        return udp;
    }

    /// <summary>keepalived's read_hex_str(): hex pairs, spaces separating groups, "x" nibbles as wildcards.</summary>
    internal static (byte[]? Data, byte[]? Mask) ReadHex(string s, bool allowWildcard)
    {
        var data = new List<byte>();
        var mask = new List<byte>();
        var usingMask = false;
        var i = 0;
        while (true)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
            if (i >= s.Length) break;
            var (v, m) = Nibble(s[i++]);
            if (v < 0) return (null, null);
            if (i < s.Length && s[i] != ' ')
            {
                var (v2, m2) = Nibble(s[i++]);
                if (v2 < 0) return (null, null);
                v = (v << 4) | v2;
                m = (m << 4) | m2;
            }
            usingMask |= m != 0;
            data.Add((byte)v);
            mask.Add((byte)m);
        }
        return data.Count == 0 ? (null, null) : ([.. data], usingMask ? [.. mask] : null);

        (int Value, int Mask) Nibble(char c)
        {
            if (Uri.IsHexDigit(c)) return (Convert.ToInt32(c.ToString(), 16), 0);
            if (allowWildcard && (c == 'x' || c == 'X')) return (0, 0x0f);
            return (-1, 0);
        }
    }

    private MiscCheck MiscKeyword(CheckerDraft c, MiscCheck misc, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "misc_path":
                if (CommandScript(n) is { } script) return misc with { Script = script with { User = misc.Script.User, Group = misc.Script.Group } };
                break;
            case "misc_timeout":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var t)) return misc with { Timeout = TimeSpan.FromSeconds(t) };
                if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid misc_timeout value '{n.Arg(0)}'");
                break;
            case "misc_dynamic":
                return misc with { Dynamic = true };
            case "user":
                if (n.ArgCount < 1)
                {
                    _diag.Error(n.Position, $"No user specified for misc checker script {misc.Script.CommandLine}");
                    break;
                }
                if (_host is not null && (!_host.UserExists(n.Arg(0)!) || (n.Arg(1) is { } grp && !_host.GroupExists(grp))))
                {
                    _diag.Error(n.ArgPosition(0), $"Failed to set uid/gid for misc checker script {misc.Script.CommandLine} - removing");
                    c.Removed = true;
                    break;
                }
                return misc with { Script = misc.Script with { User = n.Arg(0), Group = n.Arg(1) } };
        }
        return misc;
    }

    private FileCheck FileCheckKeyword(FileCheck file, ConfigNode n)
    {
        switch (n.Keyword)
        {
            case "track_file":
                if (_values.Required(n, 0) is not { } name) break;
                if (!_trackFiles.Any(f => f.Model.Name == name)) _diag.Error(n.ArgPosition(0), $"track_file {name} not found");
                else return file with { TrackFile = name };
                break;
            case "weight":
                if (n.ArgCount < 1)
                {
                    _diag.Error(n.Position, "track file weight missing");
                    break;
                }
                if (!_values.TryInt(n, 0, -int.MaxValue, int.MaxValue, out var w))
                {
                    _diag.Error(n.ArgPosition(0), $"weight for track file must be in [{-int.MaxValue}..{int.MaxValue}] inclusive. Ignoring...");
                    break;
                }
                var reverse = false;
                if (n.ArgCount >= 2)
                {
                    if (n.Arg(1) == "reverse") reverse = true;
                    else if (n.Arg(1) != "noreverse")
                    {
                        _diag.Error(n.ArgPosition(1), $"unknown track file weight option {n.Arg(1)} - ignoring");
                        break;
                    }
                }
                _fileCheckWeightSet = true;
                return file with { Weight = (int)w, WeightReverse = reverse };
        }
        return file;
    }
}
