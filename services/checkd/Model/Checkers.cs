using System.Net;
using Vigil.Scripts;

namespace Vigil.Checkd.Model;

/// <summary>The checker types keepalived has (BFD_CHECK belongs to a later issue).</summary>
public enum CheckType
{
    Tcp,
    Http,
    Ssl,
    Smtp,
    Dns,
    Misc,
    Ping,
    Udp,
    File,
}

/// <summary>
/// Options common to all checkers. Null timings inherit the real server's, then the virtual
/// server's, then the type's default (keepalived's validate_check_config).
/// </summary>
public abstract record CheckerConfig
{
    public abstract CheckType Type { get; }

    /// <summary>keepalived's keyword for the type (HTTP_GET, TCP_CHECK, ...).</summary>
    public string Keyword => Type switch
    {
        CheckType.Tcp => "TCP_CHECK",
        CheckType.Http => "HTTP_GET",
        CheckType.Ssl => "SSL_GET",
        CheckType.Smtp => "SMTP_CHECK",
        CheckType.Dns => "DNS_CHECK",
        CheckType.Misc => "MISC_CHECK",
        CheckType.Ping => "PING_CHECK",
        CheckType.Udp => "UDP_CHECK",
        _ => "FILE_CHECK",
    };

    public bool? Alpha { get; init; }

    public TimeSpan? DelayLoop { get; init; }

    public TimeSpan? Warmup { get; init; }

    /// <summary><c>retry</c> (alias <c>nb_get_retry</c>).</summary>
    public int? Retry { get; init; }

    public TimeSpan? DelayBeforeRetry { get; init; }

    /// <summary><c>log_all_failures</c>.</summary>
    public bool LogAllFailures { get; init; }
}

/// <summary>Connection options of the network checkers.</summary>
public sealed record ConnectionOptions
{
    /// <summary><c>connect_ip</c>; null: the real server's address.</summary>
    public IPAddress? ConnectIp { get; init; }

    /// <summary><c>connect_port</c>; null: the real server's port.</summary>
    public ushort? ConnectPort { get; init; }

    /// <summary><c>bindto</c>: source address.</summary>
    public IPAddress? BindTo { get; init; }

    /// <summary><c>bind_port</c>: source port.</summary>
    public ushort? BindPort { get; init; }

    /// <summary><c>bind_if</c>: source interface (SO_BINDTODEVICE; needed for IPv6 link-local).</summary>
    public string? BindInterface { get; init; }

    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary><c>fwmark</c>: SO_MARK on the checker's packets.</summary>
    public uint? Fwmark { get; init; }
}

/// <summary>A checker that opens sockets.</summary>
public abstract record NetworkCheckerConfig : CheckerConfig
{
    public ConnectionOptions Connection { get; init; } = new();
}

/// <summary><c>TCP_CHECK</c>: the connection is accepted within connect_timeout.</summary>
public sealed record TcpCheckConfig : NetworkCheckerConfig
{
    public override CheckType Type => CheckType.Tcp;
}

/// <summary>An inclusive range of HTTP status codes (<c>status_code 200-299 404</c>).</summary>
public readonly record struct StatusCodeRange(int Min, int Max)
{
    public bool Contains(int code) => code >= Min && code <= Max;

    public override string ToString() => Min == Max ? Min.ToString() : $"{Min}-{Max}";
}

/// <summary>A <c>url { }</c> block.</summary>
public sealed record UrlCheck
{
    public required string Path { get; init; }

    /// <summary><c>digest</c>: MD5 of the body, 32 hex digits (as genhash prints it).</summary>
    public string? Digest { get; init; }

    /// <summary><c>status_code</c>; empty: 200-299.</summary>
    public EquatableArray<StatusCodeRange> StatusCodes { get; init; }

    public string? Virtualhost { get; init; }

    /// <summary><c>regex</c>: the body must match (or must not, with <see cref="RegexNoMatch"/>).</summary>
    public string? Regex { get; init; }

    public bool RegexNoMatch { get; init; }

    /// <summary><c>regex_options</c> (caseless, multiline, dotall, extended, ...).</summary>
    public EquatableArray<string> RegexOptions { get; init; }

    /// <summary><c>regex_min_offset</c> / <c>regex_max_offset</c>: where a match may start.</summary>
    public int? RegexMinOffset { get; init; }

    public int? RegexMaxOffset { get; init; }

    public bool TlsCompliant { get; init; }
}

/// <summary><c>HTTP_GET</c> and <c>SSL_GET</c>.</summary>
public sealed record HttpCheckConfig : NetworkCheckerConfig
{
    public bool UseSsl { get; init; }

    public override CheckType Type => UseSsl ? CheckType.Ssl : CheckType.Http;

    public EquatableArray<UrlCheck> Urls { get; init; }

    public HttpProtocolVersion Protocol { get; init; } = HttpProtocolVersion.Http10;

    public string? Virtualhost { get; init; }

    /// <summary><c>enable_sni</c>: send SNI (the <c>sni_name</c>, else the virtualhost).</summary>
    public bool EnableSni { get; init; }

    public string? SniName { get; init; }

    /// <summary><c>fast_recovery</c>: no delay_loop between URLs while recovering.</summary>
    public bool FastRecovery { get; init; }

    public bool TlsCompliant { get; init; }
}

/// <summary><c>SMTP_CHECK</c>: 220 banner, HELO, 250, QUIT.</summary>
public sealed record SmtpCheckConfig : NetworkCheckerConfig
{
    public const string DefaultHeloName = "smtpchecker.keepalived.org";

    public override CheckType Type => CheckType.Smtp;

    public string HeloName { get; init; } = DefaultHeloName;
}

/// <summary>DNS query types DNS_CHECK accepts.</summary>
public enum DnsQueryType : ushort
{
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    MX = 15,
    TXT = 16,
    AAAA = 28,
    RRSIG = 46,
    DNSKEY = 48,
}

/// <summary><c>DNS_CHECK</c>: an answer with RCODE 0 to a UDP query.</summary>
public sealed record DnsCheckConfig : NetworkCheckerConfig
{
    public override CheckType Type => CheckType.Dns;

    public DnsQueryType QueryType { get; init; } = DnsQueryType.SOA;

    /// <summary>The name queried; "" or "." is the root.</summary>
    public string Name { get; init; } = "";
}

/// <summary><c>MISC_CHECK</c>: a program's exit status.</summary>
public sealed record MiscCheckConfig : CheckerConfig
{
    public override CheckType Type => CheckType.Misc;

    /// <summary><c>misc_path</c>: the command line.</summary>
    public required string Path { get; init; }

    /// <summary><c>misc_timeout</c>; null: the virtual server's delay_loop.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>misc_dynamic</c>: exit 0 up, 1 down, 2..255 up with weight (status - 2).</summary>
    public bool Dynamic { get; init; }

    public ScriptUser? User { get; init; }
}

/// <summary><c>PING_CHECK</c>: an ICMP echo reply within connect_timeout.</summary>
public sealed record PingCheckConfig : NetworkCheckerConfig
{
    public override CheckType Type => CheckType.Ping;
}

/// <summary><c>UDP_CHECK</c>.</summary>
public sealed record UdpCheckConfig : NetworkCheckerConfig
{
    public override CheckType Type => CheckType.Udp;

    /// <summary><c>payload</c>; empty: 32 arbitrary bytes.</summary>
    public EquatableArray<byte> Payload { get; init; }

    /// <summary><c>require_reply</c>: no reply within connect_timeout is a failure.</summary>
    public bool RequireReply { get; init; }

    /// <summary>The <c>require_reply HEX</c> data, compared over min(received, data) octets.</summary>
    public EquatableArray<byte> ReplyData { get; init; }

    /// <summary>Bits of <see cref="ReplyData"/> to ignore (the x nibbles); empty: none.</summary>
    public EquatableArray<byte> ReplyMask { get; init; }

    public int MinReplyLength { get; init; }

    public int MaxReplyLength { get; init; } = 255;
}

/// <summary><c>FILE_CHECK { track_file NAME; weight W [reverse] }</c>.</summary>
public sealed record FileCheckConfig : CheckerConfig
{
    public override CheckType Type => CheckType.File;

    /// <summary>The track_file block's name (for display).</summary>
    public required string TrackFileName { get; init; }

    /// <summary>The track_file block's <c>file</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Multiplier of the value read (track_file's weight, default 1); 0: a non-zero
    /// value means failure.</summary>
    public int Weight { get; init; } = 1;

    public bool Reverse { get; init; }
}
