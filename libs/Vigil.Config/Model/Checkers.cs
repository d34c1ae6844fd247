using System.Net;
using System.Text.Json.Serialization;

namespace Vigil.Config.Model;

/// <summary>
/// A health checker of a real server. Timing values are resolved the way keepalived resolves
/// them: the checker's own setting, else the real server's, else the virtual server's, else the
/// checker type's default.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TcpCheck), "TCP_CHECK")]
[JsonDerivedType(typeof(HttpCheck), "HTTP_GET")]
[JsonDerivedType(typeof(SmtpCheck), "SMTP_CHECK")]
[JsonDerivedType(typeof(DnsCheck), "DNS_CHECK")]
[JsonDerivedType(typeof(MiscCheck), "MISC_CHECK")]
[JsonDerivedType(typeof(PingCheck), "PING_CHECK")]
[JsonDerivedType(typeof(UdpCheck), "UDP_CHECK")]
[JsonDerivedType(typeof(FileCheck), "FILE_CHECK")]
[JsonDerivedType(typeof(BfdCheck), "BFD_CHECK")]
public abstract record Checker
{
    /// <summary>The keyword that declared it (HTTP_GET, SSL_GET, TCP_CHECK, ...).</summary>
    [JsonIgnore]
    public string Keyword => this switch
    {
        TcpCheck => "TCP_CHECK",
        HttpCheck h => h.Ssl ? "SSL_GET" : "HTTP_GET",
        SmtpCheck => "SMTP_CHECK",
        DnsCheck => "DNS_CHECK",
        MiscCheck => "MISC_CHECK",
        PingCheck => "PING_CHECK",
        UdpCheck => "UDP_CHECK",
        FileCheck => "FILE_CHECK",
        _ => "BFD_CHECK",
    };

    /// <summary>Start in the failed state until the first success.</summary>
    public bool Alpha { get; init; }

    /// <summary>Extra attempts after a failure before the server is considered down.</summary>
    public int Retry { get; init; } = 1;

    public TimeSpan DelayBeforeRetry { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Random delay of the first check, up to this value.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan DelayLoop { get; init; } = TimeSpan.FromSeconds(60);

    public bool LogAllFailures { get; init; }
}

/// <summary>Where a network checker connects and from where.</summary>
public sealed record ConnectionOptions
{
    /// <summary>connect_ip; defaults to the real server's address.</summary>
    public required IPAddress ConnectIp { get; init; }

    /// <summary>connect_port; defaults to the real server's port.</summary>
    public int ConnectPort { get; init; }

    public IPAddress? BindTo { get; init; }

    public int? BindPort { get; init; }

    public string? BindInterface { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>SO_MARK for the checker's packets.</summary>
    public uint? Fwmark { get; init; }
}

public sealed record TcpCheck : Checker
{
    public required ConnectionOptions Connection { get; init; }
}

public enum HttpProtocol
{
    /// <summary>HTTP/1.0 (keepalived's default).</summary>
    Http10,
    /// <summary>HTTP/1.0 with "Connection: close".</summary>
    Http10Close,
    Http11,
}

/// <summary>An inclusive range of HTTP status codes.</summary>
public sealed record StatusCodeRange(int Min, int Max);

public sealed record HttpUrl
{
    public required string Path { get; init; }

    /// <summary>MD5 digest of the body (32 hex digits, lower case).</summary>
    public string? Digest { get; init; }

    /// <summary>Accepted status codes (default 200-299).</summary>
    public EquatableArray<StatusCodeRange> StatusCodes { get; init; }

    public string? VirtualHost { get; init; }

    public string? Regex { get; init; }

    public bool RegexNoMatch { get; init; }

    public EquatableArray<string> RegexOptions { get; init; }

    public int? RegexMinOffset { get; init; }

    public int? RegexMaxOffset { get; init; }
}

/// <summary>HTTP_GET, or SSL_GET when <see cref="Ssl"/> is set.</summary>
public sealed record HttpCheck : Checker
{
    public bool Ssl { get; init; }

    public required ConnectionOptions Connection { get; init; }

    public HttpProtocol Protocol { get; init; }

    /// <summary>Host header; defaults to the real server's or virtual server's virtualhost.</summary>
    public string? VirtualHost { get; init; }

    public bool EnableSni { get; init; }

    public bool FastRecovery { get; init; }

    public EquatableArray<HttpUrl> Urls { get; init; }
}

public sealed record SmtpCheck : Checker
{
    public required ConnectionOptions Connection { get; init; }

    public string HeloName { get; init; } = "smtpchecker.keepalived.org";
}

public sealed record DnsCheck : Checker
{
    public required ConnectionOptions Connection { get; init; }

    /// <summary>Query type: A, NS, CNAME, SOA (default), MX, TXT, AAAA.</summary>
    public string QueryType { get; init; } = "SOA";

    /// <summary>The name queried (default ".").</summary>
    public string Name { get; init; } = ".";
}

public sealed record MiscCheck : Checker
{
    public required ScriptSpec Script { get; init; }

    /// <summary>null: the delay loop.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The exit status (minus 2) sets the weight.</summary>
    public bool Dynamic { get; init; }
}

public sealed record PingCheck : Checker
{
    public required ConnectionOptions Connection { get; init; }
}

public sealed record UdpCheck : Checker
{
    public required ConnectionOptions Connection { get; init; }

    /// <summary>Data sent (null: random).</summary>
    [JsonConverter(typeof(HexBytesJsonConverter))]
    public EquatableArray<byte>? Payload { get; init; }

    public bool RequireReply { get; init; }

    /// <summary>Expected reply prefix; "x" nibbles of the configuration are wildcards (see <see cref="ReplyMask"/>).</summary>
    [JsonConverter(typeof(HexBytesJsonConverter))]
    public EquatableArray<byte>? ReplyData { get; init; }

    /// <summary>Bits set are ignored when comparing the reply.</summary>
    [JsonConverter(typeof(HexBytesJsonConverter))]
    public EquatableArray<byte>? ReplyMask { get; init; }

    public int MinReplyLength { get; init; }

    public int MaxReplyLength { get; init; } = 255;
}

public sealed record FileCheck : Checker
{
    /// <summary>The name of the track_file block.</summary>
    public required string TrackFile { get; init; }

    public int Weight { get; init; }

    public bool WeightReverse { get; init; }
}

public sealed record BfdCheck : Checker
{
    public required string Name { get; init; }
}
