using System.Globalization;

namespace Vigil.Consul;

/// <summary>Where the agent is and how to talk to it.</summary>
public sealed record ConsulClientOptions
{
    public const string DefaultAddress = "127.0.0.1:8500";

    /// <summary>The agent's base address, http://127.0.0.1:8500 by default.</summary>
    public Uri Address { get; init; } = new("http://" + DefaultAddress);

    /// <summary>The ACL token, sent as X-Consul-Token; null: none (the agent's default token applies).</summary>
    public string? Token { get; init; }

    /// <summary>?dc= on catalog, KV and session requests; null: the agent's datacenter.</summary>
    public string? Datacenter { get; init; }

    /// <summary>PEM file of the CA that signed the agent's certificate (https); null: the system's trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate and key for agents that verify incoming connections.</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>The name to verify the agent's certificate against; null: the address's host.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Limit of one ordinary request (a blocking query adds its wait).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Consul's tool conventions: CONSUL_HTTP_ADDR ("host:port" or "http(s)://host:port"),
    /// CONSUL_HTTP_SSL=true for https with a bare host:port, CONSUL_HTTP_TOKEN (or the file in
    /// CONSUL_HTTP_TOKEN_FILE), CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY,
    /// CONSUL_TLS_SERVER_NAME. Explicit values (non-null) win over the environment; <paramref name="tls"/>
    /// (a tls { } block) or a CA file makes a bare host:port https, as CONSUL_HTTP_SSL does.
    /// </summary>
    public static ConsulClientOptions FromEnvironment(Func<string, string?> environment, string? address = null, string? token = null,
        string? datacenter = null, string? caFile = null, string? certFile = null, string? keyFile = null, bool tls = false, string? tlsServerName = null)
    {
        string? Env(string name) => environment(name) is { Length: > 0 } v ? v : null;
        var ssl = Env("CONSUL_HTTP_SSL") is { } s && (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1");
        var addressText = address ?? Env("CONSUL_HTTP_ADDR") ?? DefaultAddress;
        if (!TryParseAddress(addressText, ssl || tls || caFile is not null, out var uri, out var error))
            throw new FormatException($"consul address '{addressText}': {error}");
        var tokenValue = token ?? Env("CONSUL_HTTP_TOKEN");
        if (tokenValue is null && Env("CONSUL_HTTP_TOKEN_FILE") is { } tokenFile && File.Exists(tokenFile)) tokenValue = File.ReadAllText(tokenFile).Trim();
        return new ConsulClientOptions
        {
            Address = uri,
            Token = tokenValue,
            Datacenter = datacenter,
            CaFile = caFile ?? Env("CONSUL_CACERT"),
            CertFile = certFile ?? Env("CONSUL_CLIENT_CERT"),
            KeyFile = keyFile ?? Env("CONSUL_CLIENT_KEY"),
            TlsServerName = tlsServerName ?? Env("CONSUL_TLS_SERVER_NAME"),
        };
    }

    /// <summary>
    /// "host:port", "host" (port 8500), "[v6]:port", or "http://host:port" / "https://host:port"
    /// (the forms the consul CLI accepts in CONSUL_HTTP_ADDR); a bare form is http unless
    /// <paramref name="https"/>.
    /// </summary>
    public static bool TryParseAddress(string text, bool https, out Uri address, out string? error)
    {
        address = null!;
        error = null;
        text = text.Trim();
        if (text.Length == 0)
        {
            error = "empty";
            return false;
        }
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : (https ? "https://" : "http://") + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            error = "not host:port or http(s)://host:port";
            return false;
        }
        if (uri.Scheme is not ("http" or "https"))
        {
            error = $"scheme '{uri.Scheme}' is not http or https";
            return false;
        }
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
        {
            error = "only a scheme, host and port are allowed";
            return false;
        }
        var explicitPort = HasExplicitPort(withScheme);
        var b = new UriBuilder(uri.Scheme, uri.Host, explicitPort ? uri.Port : 8500);
        address = b.Uri;
        return true;
    }

    private static bool HasExplicitPort(string uriText)
    {
        var rest = uriText[(uriText.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        var close = rest.LastIndexOf(']');
        var colon = rest.LastIndexOf(':');
        return colon > close && colon < rest.Length - 1 && int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}

/// <summary>Go duration strings as Consul reads and writes them.</summary>
public static class GoDuration
{
    /// <summary>"15s", "90s", "1500ms": whole seconds when exact, else milliseconds.</summary>
    public static string Format(TimeSpan value)
    {
        var ms = (long)Math.Round(value.TotalMilliseconds);
        return ms % 1000 == 0
            ? (ms / 1000).ToString(CultureInfo.InvariantCulture) + "s"
            : ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>Go's time.ParseDuration for the units Consul uses: "300ms", "1.5s", "1m30s", "2h" (not negative).</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text.Length == 0) return false;
        if (text == "0")
        {
            return true;
        }
        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            var unit = text[unitStart..i];
            double? scale = unit switch
            {
                "ns" => 1e-6, "us" or "µs" => 1e-3, "ms" => 1, "s" => 1000, "m" => 60_000, "h" => 3_600_000, _ => null,
            };
            if (scale is not { } f) return false;
            total += n * f;
        }
        if (total > TimeSpan.MaxValue.TotalMilliseconds) return false;
        value = TimeSpan.FromMilliseconds(total);
        return true;
    }
}
