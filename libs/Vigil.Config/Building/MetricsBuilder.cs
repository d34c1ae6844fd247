using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

/// <summary>The metrics { } block (Vigil's own; see <see cref="MetricsSettings"/>). Bad values are errors at their line and are ignored.</summary>
internal sealed partial class ConfigBuilder
{
    private MetricsSettings? _metrics;

    private void MetricsBlock(ConfigNode node)
    {
        if (_metrics is not null)
        {
            _diag.Error(node.Position, "metrics block given twice - ignoring this one");
            return;
        }
        var m = new MetricsSettings();
        foreach (var n in node.Children)
        {
            if (MetricsWord(n) is not { } value) continue;
            var at = n.ArgPosition(0);
            switch (n.Keyword)
            {
                case "prometheus_address":
                    if (PrometheusAddressError(value, out var endpoint) is { } error) _diag.Error(at, $"metrics prometheus_address '{value}': {error} - ignoring");
                    else m = m with { PrometheusAddress = endpoint };
                    break;
                case "otlp_endpoint":
                    if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0 || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
                        _diag.Error(at, $"metrics otlp_endpoint '{value}' is not an http:// or https:// URL (for example http://127.0.0.1:4317) - ignoring");
                    else m = m with { OtlpEndpoint = uri };
                    break;
                case "otlp_protocol":
                    OtlpProtocol? protocol = value switch { "grpc" => OtlpProtocol.Grpc, "http/protobuf" => OtlpProtocol.HttpProtobuf, _ => null };
                    if (protocol is null) _diag.Error(at, $"metrics otlp_protocol '{value}' is neither grpc nor http/protobuf - ignoring");
                    else m = m with { OtlpProtocol = protocol };
                    break;
                case "otlp_headers":
                    if (OtlpHeadersError(value) is { } headersError) _diag.Error(at, $"metrics otlp_headers: {headersError} (the form is key=value,key2=value2) - ignoring");
                    else m = m with { OtlpHeaders = value };
                    break;
                case "otlp_interval":
                    TimeSpan interval;
                    bool ok;
                    if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)) (interval, ok) = (TimeSpan.FromSeconds(seconds), true);
                    else ok = TryGoDuration(value, out interval);
                    if (!ok) _diag.Error(at, $"metrics otlp_interval '{value}' is not a duration (seconds, or like 15s, 1m30s, 500ms) - ignoring");
                    else if (interval < TimeSpan.FromMilliseconds(100) || interval > TimeSpan.FromHours(1)) _diag.Error(at, $"metrics otlp_interval '{value}' must be between 100ms and 1h - ignoring");
                    else m = m with { OtlpInterval = interval };
                    break;
            }
        }
        if (m.OtlpEndpoint is null && (m.OtlpProtocol is not null || m.OtlpHeaders is not null || m.OtlpInterval is not null))
            _diag.Note(node.Position, "metrics: otlp_protocol, otlp_headers and otlp_interval apply only with otlp_endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT in the environment)");
        if (m.PrometheusAddress is { } scrape)
        {
            var ports = string.Join(", ", MetricsSettings.PortOrder.Select(d => $"{d} {m.PrometheusAddressOf(d)}"));
            _diag.Note(node.Position, scrape.Port == 0
                ? $"metrics: Prometheus scrape endpoints (GET /metrics) on {scrape.Address}, a free port for each daemon (logged at its start)"
                : $"metrics: Prometheus scrape endpoints (GET /metrics): {ports} (each daemon that runs)");
        }
        _metrics = m;
    }

    /// <summary>The one word a metrics keyword takes; null (reported) when missing.</summary>
    private string? MetricsWord(ConfigNode n)
    {
        if (n.ArgCount == 0)
        {
            _diag.Error(n.Position, $"metrics {n.Keyword} requires a value - ignoring");
            return null;
        }
        if (n.ArgCount > 1) _diag.Error(n.ArgPosition(1), $"metrics {n.Keyword} takes one value - ignoring '{n.Arg(1)}' and after");
        return n.Arg(0);
    }

    /// <summary>Why a scrape address is not ADDRESS:PORT with room for the four daemons' ports; null when it is.</summary>
    internal static string? PrometheusAddressError(string text, out IPEndPoint? endpoint)
    {
        endpoint = null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon <= text.LastIndexOf(']') || !IPEndPoint.TryParse(text, out var e)
            || (e.Address.AddressFamily == AddressFamily.InterNetworkV6 && !text.StartsWith('[')))
            return "not ADDRESS:PORT (for example 127.0.0.1:9650 or [::1]:9650)";
        var last = IPEndPoint.MaxPort - (MetricsSettings.PortOrder.Length - 1);
        if (e.Port > last) return $"port {e.Port} leaves no room for the daemons' ports after it (at most {last}, or 0 for free ports)";
        endpoint = e;
        return null;
    }

    /// <summary>Why headers are not OTEL_EXPORTER_OTLP_HEADERS' "key=value,..." form; null when they are.</summary>
    internal static string? OtlpHeadersError(string text)
    {
        foreach (var pair in text.Split(','))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || pair[..eq].Trim().Length == 0) return $"'{pair}' is not key=value";
            if (pair[..eq].Trim().Any(c => c <= ' ' || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c))) return $"'{pair[..eq].Trim()}' is not a header name";
        }
        return null;
    }
}
