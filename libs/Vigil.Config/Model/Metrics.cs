using System.Net;

namespace Vigil.Config.Model;

/// <summary>OTLP's two transports (OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", "http/protobuf").</summary>
public enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}

/// <summary>
/// The top-level <c>metrics { }</c> block (a Vigil extension): where the daemons' OpenTelemetry
/// goes. Read by vigil-controld at start; it runs with it and starts its children with it.
/// <para>One Prometheus scrape address serves the node: vigil-controld listens on its port and
/// the daemons on the ports after it (<see cref="PrometheusAddressOf"/>), on the same address.
/// Port 0 gives each daemon a free port of its own (logged at start).</para>
/// </summary>
public sealed record MetricsSettings
{
    /// <summary>The daemons' order on the scrape ports: vigil-controld on the port given, vigil-vrrpd +1, vigil-checkd +2, vigil-ipvsd +3.</summary>
    public static readonly System.Collections.Immutable.ImmutableArray<string> PortOrder = ["vigil-controld", "vigil-vrrpd", "vigil-checkd", "vigil-ipvsd"];

    /// <summary>prometheus_address: GET /metrics served there (and on the next ports); null: no scrape endpoint.</summary>
    public IPEndPoint? PrometheusAddress { get; init; }

    /// <summary>otlp_endpoint: export metrics and traces by OTLP to this URL; null: as OTEL_EXPORTER_OTLP_ENDPOINT says (or not at all).</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>otlp_protocol; null: OTEL_EXPORTER_OTLP_PROTOCOL, else OpenTelemetry's default (grpc).</summary>
    public OtlpProtocol? OtlpProtocol { get; init; }

    /// <summary>otlp_headers "k=v,k2=v2" (OTEL_EXPORTER_OTLP_HEADERS' format); null: none given.</summary>
    public string? OtlpHeaders { get; init; }

    /// <summary>otlp_interval: how often metrics are exported by OTLP; null: OTEL_METRIC_EXPORT_INTERVAL, else 60 s.</summary>
    public TimeSpan? OtlpInterval { get; init; }

    /// <summary>Where <paramref name="daemon"/> ("vigil-vrrpd") serves /metrics: the address, at the port after controld's by its place in <see cref="PortOrder"/>.</summary>
    public IPEndPoint? PrometheusAddressOf(string daemon)
    {
        if (PrometheusAddress is not { } a) return null;
        var offset = PortOrder.IndexOf(daemon);
        if (offset < 0) throw new ArgumentException($"no scrape port for {daemon}", nameof(daemon));
        return new IPEndPoint(a.Address, a.Port == 0 ? 0 : a.Port + offset);
    }

    /// <summary>"grpc" or "http/protobuf", as OTEL_EXPORTER_OTLP_PROTOCOL spells them.</summary>
    public static string ProtocolName(OtlpProtocol p) => p == Model.OtlpProtocol.Grpc ? "grpc" : "http/protobuf";
}
