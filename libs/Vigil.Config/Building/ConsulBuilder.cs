using System.Globalization;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

/// <summary>The consul { } block (Vigil's own; see <see cref="ConsulSettings"/>). Bad values are errors at their line and are ignored.</summary>
internal sealed partial class ConfigBuilder
{
    private ConsulSettings? _consul;

    private void ConsulBlock(ConfigNode node)
    {
        if (_consul is not null)
        {
            _diag.Error(node.Position, "consul block given twice - ignoring this one");
            return;
        }
        var c = new ConsulSettings();
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "address":
                    if (ConsulWord(n) is { } address)
                    {
                        if (ConsulAddressError(address) is { } error) _diag.Error(n.ArgPosition(0), $"consul address '{address}': {error} - ignoring");
                        else c = c with { Address = address };
                    }
                    break;
                case "token":
                    if (ConsulWord(n) is { } token) c = c with { Token = token };
                    break;
                case "datacenter":
                    if (ConsulWord(n) is { } dc) c = c with { Datacenter = dc };
                    break;
                case "service_name":
                    if (ConsulWord(n) is { } name)
                    {
                        if (name.Length > 0 && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-')) c = c with { ServiceName = name };
                        else _diag.Error(n.ArgPosition(0), $"consul service_name '{name}' must be letters, digits and '-' (a DNS name) - ignoring");
                    }
                    break;
                case "tags":
                    if (n.ArgCount == 0) _diag.Error(n.Position, "consul tags requires at least one tag - ignoring");
                    else c = c with { Tags = [.. c.Tags, .. n.Args.Select(a => a.Text)] };
                    break;
                case "ttl":
                    if (ConsulDuration(n) is { } ttl)
                    {
                        if (ttl < TimeSpan.FromSeconds(1) || ttl > TimeSpan.FromHours(1)) _diag.Error(n.ArgPosition(0), $"consul ttl '{n.Arg(0)}' must be between 1s and 1h - ignoring");
                        else c = c with { Ttl = ttl };
                    }
                    break;
                case "deregister_critical_after":
                    if (ConsulDuration(n) is { } after)
                    {
                        if (after < TimeSpan.FromMinutes(1)) _diag.Note(n.ArgPosition(0), $"consul deregister_critical_after '{n.Arg(0)}' is below Consul's minimum of 1m; the agent uses 1m");
                        c = c with { DeregisterCriticalAfter = after };
                    }
                    break;
                case "virtual_servers":
                    if (OptionalBool(n, "Invalid value '{0}' for consul virtual_servers specified") is bool vs) c = c with { RegisterVirtualServers = vs };
                    break;
                case "tls":
                    c = c with { Tls = true };
                    foreach (var t in n.Children)
                    {
                        var value = ConsulWord(t);
                        if (value is null) continue;
                        c = t.Keyword switch
                        {
                            "ca_file" => c with { CaFile = value },
                            "cert_file" => c with { CertFile = value },
                            "key_file" => c with { KeyFile = value },
                            "server_name" => c with { TlsServerName = value },
                            _ => c,
                        };
                    }
                    if ((c.CertFile is null) != (c.KeyFile is null)) _diag.Error(n.End, "consul tls needs both cert_file and key_file for a client certificate - ignoring them");
                    if ((c.CertFile is null) != (c.KeyFile is null)) c = c with { CertFile = null, KeyFile = null };
                    break;
            }
        }
        _consul = c;
    }

    /// <summary>The one word a consul keyword takes; null (reported) when missing or more than one.</summary>
    private string? ConsulWord(ConfigNode n)
    {
        if (n.ArgCount == 0)
        {
            _diag.Error(n.Position, $"consul {n.Keyword} requires a value - ignoring");
            return null;
        }
        if (n.ArgCount > 1) _diag.Error(n.ArgPosition(1), $"consul {n.Keyword} takes one value - ignoring '{n.Arg(1)}' and after");
        return n.Arg(0);
    }

    /// <summary>A duration: Consul's "15s", "1m30s", "500ms", or a number of seconds as elsewhere in keepalived.conf.</summary>
    private TimeSpan? ConsulDuration(ConfigNode n)
    {
        if (ConsulWord(n) is not { } text) return null;
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)) return TimeSpan.FromSeconds(seconds);
        if (TryGoDuration(text, out var value)) return value;
        _diag.Error(n.ArgPosition(0), $"consul {n.Keyword} '{text}' is not a duration (seconds, or like 15s, 1m30s, 500ms) - ignoring");
        return null;
    }

    private static bool TryGoDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            double? scale = text[unitStart..i] switch { "ms" => 1, "s" => 1e3, "m" => 6e4, "h" => 3.6e6, _ => null };
            if (scale is not { } f) return false;
            total += n * f;
        }
        value = TimeSpan.FromMilliseconds(total);
        return text.Length > 0;
    }

    /// <summary>Why an address is not one of the consul CLI's forms ("host:port", "host", "http(s)://host:port"); null when it is.</summary>
    internal static string? ConsulAddressError(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Host.Length == 0) return "not host:port or http(s)://host:port";
        if (uri.Scheme is not ("http" or "https")) return $"scheme '{uri.Scheme}' is not http or https";
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0) return "only a scheme, host and port are allowed";
        return null;
    }
}
