using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Vigil.Config.Model;
using Model = Vigil.Config.Model;
using Proto = Vigil.Check.V1;

namespace Vigil.Controld.Dispatch;

/// <summary>
/// The checker part of a keepalived configuration as vigil-checkd's desired state: global_defs'
/// checker settings and every virtual_server with its real servers and checkers, mapped field by
/// field to vigil.check.v1. The model has keepalived's defaults and inheritance already resolved
/// (each checker carries its own delay_loop, retry, connect_timeout, ...), so the checkers are
/// sent with explicit values; SSL_GET is an HTTP_GET with <c>Ssl</c>; a FILE_CHECK takes its
/// file from the track_file block it names. BFD_CHECK is not supported by checkd yet (the
/// configuration check reports it) and is left out.
/// </summary>
public static class CheckConfigMapper
{
    public static CheckConfig ToProto(KeepalivedConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var g = config.Global;
        var alerts = new Proto.AlertSettings
        {
            From = g.NotificationEmailFrom ?? "",
            SmtpServer = g.SmtpServer?.Host ?? "",
            SmtpPort = (uint)(g.SmtpServer?.Port ?? 0),
            HeloName = g.SmtpHeloName ?? "",
            ConnectTimeout = Duration.FromTimeSpan(g.SmtpConnectTimeout),
            NoCheckerEmails = g.NoCheckerEmails,
        };
        alerts.Recipients.AddRange(g.NotificationEmails);
        if (g.SmtpAlert is bool smtpAlert) alerts.SmtpAlert = smtpAlert;
        if (g.SmtpAlertChecker is bool smtpAlertChecker) alerts.SmtpAlertChecker = smtpAlertChecker;
        var result = new CheckConfig
        {
            Globals = new CheckGlobals
            {
                RouterId = g.RouterId ?? "",
                LogAllFailures = g.CheckerLogAllFailures,
                RealServerInitNotifies = g.RsInitNotifies,
                ScriptUser = User(g.ScriptUser, g.ScriptGroup),
                Alerts = alerts,
                Ssl = config.Ssl is { } ssl
                    ? new TlsSettings { CaFile = ssl.CaFile ?? "", CertificateFile = ssl.CertificateFile ?? "", KeyFile = ssl.KeyFile ?? "", Password = ssl.Password ?? "" }
                    : null,
            },
        };
        foreach (var vs in config.VirtualServers) result.VirtualServers.Add(VirtualServer(vs, config));
        return result;
    }

    private static VirtualServerSpec VirtualServer(Model.VirtualServer vs, KeepalivedConfig config)
    {
        var spec = new VirtualServerSpec
        {
            Key = Key(vs),
            Timings = new CheckTimings
            {
                ConnectTimeout = Duration.FromTimeSpan(vs.ConnectTimeout),
                DelayLoop = Duration.FromTimeSpan(vs.DelayLoop),
                Alpha = vs.Alpha,
            },
            Omega = vs.Omega,
            Quorum = vs.Quorum,
            Hysteresis = vs.Hysteresis,
            QuorumUp = Script(vs.QuorumUp),
            QuorumDown = Script(vs.QuorumDown),
            HaSuspend = vs.HaSuspend,
            // The model resolved smtp_alert against the global settings already.
            SmtpAlert = vs.SmtpAlert,
            Virtualhost = vs.VirtualHost ?? "",
            InhibitOnFailure = vs.InhibitOnFailure,
            DefaultWeight = vs.Weight,
            SorryServer = vs.SorryServer is { } sorry
                ? new Proto.SorryServer { Endpoint = Endpoint(sorry.Address, sorry.Port), Inhibit = sorry.Inhibit }
                : null,
        };
        foreach (var rs in vs.RealServers) spec.RealServers.Add(RealServer(rs, config));
        return spec;
    }

    internal static Proto.VirtualServerKey Key(Model.VirtualServer vs)
    {
        var key = new Proto.VirtualServerKey { Protocol = Protocol(vs.Protocol) };
        switch (vs.Kind)
        {
            case VirtualServerKind.Fwmark:
                key.Fwmark = vs.Fwmark ?? 0;
                key.Protocol = Proto.Protocol.Unspecified;
                break;
            case VirtualServerKind.Group:
                key.Group = vs.Group ?? "";
                break;
            default:
                key.Endpoint = Endpoint(vs.Address ?? IPAddress.Any, vs.Port);
                break;
        }
        return key;
    }

    private static Proto.Protocol Protocol(IpvsProtocol? protocol) => protocol switch
    {
        IpvsProtocol.Tcp => Proto.Protocol.Tcp,
        IpvsProtocol.Udp => Proto.Protocol.Udp,
        IpvsProtocol.Sctp => Proto.Protocol.Sctp,
        _ => Proto.Protocol.Unspecified,
    };

    private static RealServerSpec RealServer(Model.RealServer rs, KeepalivedConfig config)
    {
        var spec = new RealServerSpec
        {
            Endpoint = Endpoint(rs.Address, rs.Port),
            Weight = rs.Weight,
            InhibitOnFailure = rs.InhibitOnFailure,
            NotifyUp = Script(rs.NotifyUp),
            NotifyDown = Script(rs.NotifyDown),
            SmtpAlert = rs.SmtpAlert,
            Virtualhost = rs.VirtualHost ?? "",
            Timings = new CheckTimings { Alpha = rs.Alpha },
        };
        foreach (var c in rs.Checkers)
        {
            if (Checker(c, rs, config) is { } checker) spec.Checkers.Add(checker);
        }
        return spec;
    }

    private static CheckerSpec? Checker(Model.Checker c, Model.RealServer rs, KeepalivedConfig config)
    {
        var spec = new CheckerSpec
        {
            Timings = new CheckTimings
            {
                DelayLoop = Duration.FromTimeSpan(c.DelayLoop),
                Warmup = Duration.FromTimeSpan(c.Warmup),
                Retry = c.Retry,
                DelayBeforeRetry = Duration.FromTimeSpan(c.DelayBeforeRetry),
                Alpha = c.Alpha,
            },
            LogAllFailures = c.LogAllFailures,
        };
        switch (c)
        {
            case Model.TcpCheck t:
                Connect(spec, t.Connection, rs);
                spec.Tcp = new Proto.TcpCheck();
                break;
            case Model.HttpCheck h:
                Connect(spec, h.Connection, rs);
                spec.Http = Http(h);
                break;
            case Model.SmtpCheck s:
                Connect(spec, s.Connection, rs);
                spec.Smtp = new Proto.SmtpCheck { HeloName = s.HeloName };
                break;
            case Model.DnsCheck d:
                Connect(spec, d.Connection, rs);
                spec.Dns = new Proto.DnsCheck { Type = DnsType(d.QueryType), Name = d.Name };
                break;
            case Model.PingCheck p:
                Connect(spec, p.Connection, rs);
                spec.Ping = new Proto.PingCheck();
                break;
            case Model.UdpCheck u:
                Connect(spec, u.Connection, rs);
                spec.Udp = Udp(u);
                break;
            case Model.MiscCheck m:
                spec.Misc = new Proto.MiscCheck
                {
                    Path = m.Script.CommandLine,
                    Timeout = m.Timeout is { } timeout ? Duration.FromTimeSpan(timeout) : null,
                    Dynamic = m.Dynamic,
                    User = User(m.Script.User, m.Script.Group),
                };
                break;
            case Model.FileCheck f:
                var trackFile = config.TrackFiles.FirstOrDefault(t => t.Name == f.TrackFile);
                spec.File = new Proto.FileCheck { TrackFile = f.TrackFile, Path = trackFile?.Path ?? "", Weight = f.Weight, Reverse = f.WeightReverse };
                break;
            default:
                // BFD_CHECK: reported "not supported yet" by the configuration check.
                return null;
        }
        return spec;
    }

    /// <summary>Connection options, sending connect_ip/connect_port only when they differ from the
    /// real server's (the model resolves them to it).</summary>
    private static void Connect(CheckerSpec spec, Model.ConnectionOptions co, Model.RealServer rs)
    {
        spec.Timings.ConnectTimeout = Duration.FromTimeSpan(co.ConnectTimeout);
        var connection = new Proto.ConnectionOptions
        {
            ConnectIp = co.ConnectIp.Equals(rs.Address) ? "" : co.ConnectIp.ToString(),
            ConnectPort = co.ConnectPort == rs.Port ? 0u : (uint)co.ConnectPort,
            BindTo = co.BindTo?.ToString() ?? "",
            BindPort = (uint)(co.BindPort ?? 0),
            BindInterface = co.BindInterface ?? "",
        };
        if (co.Fwmark is uint mark) connection.Fwmark = mark;
        spec.Connection = connection;
    }

    private static Proto.HttpCheck Http(Model.HttpCheck h)
    {
        var http = new Proto.HttpCheck
        {
            Ssl = h.Ssl,
            Protocol = h.Protocol switch
            {
                Model.HttpProtocol.Http10Close => Proto.HttpProtocol.Http10Close,
                Model.HttpProtocol.Http11 => Proto.HttpProtocol.Http11,
                _ => Proto.HttpProtocol.Http10,
            },
            Virtualhost = h.VirtualHost ?? "",
            EnableSni = h.EnableSni,
            FastRecovery = h.FastRecovery,
        };
        foreach (var u in h.Urls)
        {
            var url = new Proto.UrlCheck
            {
                Path = u.Path,
                Digest = u.Digest ?? "",
                Virtualhost = u.VirtualHost ?? "",
                Regex = u.Regex ?? "",
                RegexNoMatch = u.RegexNoMatch,
            };
            url.StatusCodes.AddRange(u.StatusCodes.Select(r => new Proto.StatusCodeRange { Min = (uint)r.Min, Max = (uint)r.Max }));
            url.RegexOptions.AddRange(u.RegexOptions);
            if (u.RegexMinOffset is int min) url.RegexMinOffset = min;
            if (u.RegexMaxOffset is int max) url.RegexMaxOffset = max;
            http.Urls.Add(url);
        }
        return http;
    }

    private static Proto.UdpCheck Udp(Model.UdpCheck u)
    {
        var udp = new Proto.UdpCheck
        {
            RequireReply = u.RequireReply,
            MinReplyLength = (uint)Math.Max(u.MinReplyLength, 0),
            MaxReplyLength = (uint)Math.Max(u.MaxReplyLength, 0),
        };
        if (u.Payload is { } payload) udp.Payload = ByteString.CopyFrom([.. payload]);
        if (u.ReplyData is { } data) udp.ReplyData = ByteString.CopyFrom([.. data]);
        if (u.ReplyMask is { } mask) udp.ReplyMask = ByteString.CopyFrom([.. mask]);
        return udp;
    }

    private static DnsQueryType DnsType(string type) => type.ToUpperInvariant() switch
    {
        "A" => DnsQueryType.A,
        "NS" => DnsQueryType.Ns,
        "CNAME" => DnsQueryType.Cname,
        "MX" => DnsQueryType.Mx,
        "TXT" => DnsQueryType.Txt,
        "AAAA" => DnsQueryType.Aaaa,
        "RRSIG" => DnsQueryType.Rrsig,
        "DNSKEY" => DnsQueryType.Dnskey,
        _ => DnsQueryType.Soa,
    };

    internal static Endpoint Endpoint(IPAddress address, int port) => new() { Address = address.ToString(), Port = (uint)Math.Max(port, 0) };

    private static Proto.NotifyScript? Script(ScriptSpec? script) =>
        script is null ? null : new Proto.NotifyScript { Command = script.CommandLine, User = User(script.User, script.Group) };

    private static string User(string? user, string? group) => user is null ? "" : group is null ? user : $"{user}:{group}";
}
