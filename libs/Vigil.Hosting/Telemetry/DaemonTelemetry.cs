using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Vigil.Rpc.Server;

namespace Vigil.Hosting.Telemetry;

/// <summary>
/// Where a daemon's telemetry goes: --prometheus-address, and OTLP as OpenTelemetry's standard
/// variables say (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS, OTEL_METRIC_EXPORT_INTERVAL),
/// which vigil-controld sets for its children from the metrics { } block.
/// </summary>
public sealed record TelemetryOptions
{
    /// <summary>Serve a Prometheus scrape endpoint (/metrics) here; null: none (the default).</summary>
    public IPEndPoint? PrometheusAddress { get; init; }

    /// <summary>Export metrics and traces by OTLP to this base URL (OTEL_EXPORTER_OTLP_ENDPOINT's meaning); null: no OTLP.</summary>
    public Uri? OtlpEndpoint { get; init; }

    public OtlpExportProtocol OtlpProtocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>"key=value,key2=value2" sent with every export; null: none.</summary>
    public string? OtlpHeaders { get; init; }

    /// <summary>How often metrics are exported by OTLP; null: OpenTelemetry's default (60 s).</summary>
    public TimeSpan? OtlpInterval { get; init; }

    public bool Otlp => OtlpEndpoint is not null;

    public bool Enabled => PrometheusAddress is not null || Otlp;

    /// <summary>
    /// The OTLP settings of OpenTelemetry's standard variables. They are read here, not by the
    /// exporter: the daemons' hosts have no configuration bound to the environment. Throws
    /// <see cref="ArgumentException"/> naming the variable whose value is wrong.
    /// </summary>
    public static TelemetryOptions FromEnvironment(Func<string, string?> environment)
    {
        var o = new TelemetryOptions();
        if (environment("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 } endpoint)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"OTEL_EXPORTER_OTLP_ENDPOINT: '{endpoint}' is not an http:// or https:// URL");
            o = o with { OtlpEndpoint = uri };
        }
        o = environment("OTEL_EXPORTER_OTLP_PROTOCOL") switch
        {
            null or "" or "grpc" => o,
            "http/protobuf" => o with { OtlpProtocol = OtlpExportProtocol.HttpProtobuf },
            var p => throw new ArgumentException($"OTEL_EXPORTER_OTLP_PROTOCOL: '{p}' is neither grpc nor http/protobuf"),
        };
        if (environment("OTEL_EXPORTER_OTLP_HEADERS") is { Length: > 0 } headers) o = o with { OtlpHeaders = headers };
        if (environment("OTEL_METRIC_EXPORT_INTERVAL") is { Length: > 0 } interval)
        {
            if (!int.TryParse(interval, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) || ms <= 0)
                throw new ArgumentException($"OTEL_METRIC_EXPORT_INTERVAL: '{interval}' is not a number of milliseconds");
            o = o with { OtlpInterval = TimeSpan.FromMilliseconds(ms) };
        }
        return o;
    }

    /// <summary>One signal's URL: the endpoint itself for grpc; for http/protobuf the endpoint with v1/metrics or v1/traces appended, as the OTLP exporter specification says of OTEL_EXPORTER_OTLP_ENDPOINT.</summary>
    public Uri SignalUrl(string signal)
    {
        var endpoint = OtlpEndpoint ?? throw new InvalidOperationException("no OTLP endpoint");
        if (OtlpProtocol == OtlpExportProtocol.Grpc) return endpoint;
        var text = endpoint.OriginalString;
        return new Uri(text + (text.EndsWith('/') ? "" : "/") + "v1/" + signal);
    }

    /// <summary>Sets an exporter's options from these (the SDK's own environment reading is not relied on).</summary>
    internal void ConfigureExporter(OtlpExporterOptions exporter, string signal)
    {
        exporter.Endpoint = SignalUrl(signal);
        exporter.Protocol = OtlpProtocol;
        if (OtlpHeaders is not null) exporter.Headers = OtlpHeaders;
    }
}

/// <summary>
/// A daemon's telemetry, set up once for all of them: its own <see cref="Meter"/> and
/// <see cref="ActivitySource"/> (named "Vigil.Vrrpd", "Vigil.Checkd", ...), the RPC instruments
/// of every gRPC server (<see cref="RpcTelemetry"/>), and OpenTelemetry
/// (OpenTelemetry.Extensions.Hosting on the daemon's gRPC host) exporting them by OTLP and/or to
/// a Prometheus scrape endpoint, when asked. Without either, no OpenTelemetry is set up at all
/// and the instruments cost nothing (no listener).
/// </summary>
public sealed partial class DaemonTelemetry : IAsyncDisposable
{
    private readonly ILogger _logger;
    private WebApplication? _scrape;
    private bool _registered;

    public DaemonTelemetry(string daemon, TelemetryOptions options, ILoggerFactory loggers)
    {
        Daemon = daemon;
        Options = options;
        _logger = loggers.CreateLogger(daemon + ".telemetry");
        Name = SourceName(daemon);
        Meter = new Meter(Name, DaemonHost.Version);
        Activities = new ActivitySource(Name, DaemonHost.Version);
    }

    public string Daemon { get; }
    public TelemetryOptions Options { get; private set; }

    /// <summary>
    /// Replaces the options read from the command line and environment (vigil-controld: with its
    /// configuration's metrics block); only before the daemon runs, since OpenTelemetry is
    /// built with its gRPC host.
    /// </summary>
    public void Configure(TelemetryOptions options)
    {
        if (_registered) throw new InvalidOperationException("telemetry is already set up");
        Options = options;
    }

    /// <summary>The Meter's and ActivitySource's name: "Vigil.Vrrpd" for vigil-vrrpd.</summary>
    public string Name { get; }

    /// <summary>The daemon's instruments (VRRP states, checker results, IPVS counters) are created on this.</summary>
    public Meter Meter { get; }

    /// <summary>The daemon's spans (failovers, reloads); RPC spans come from <see cref="RpcTelemetry"/>.</summary>
    public ActivitySource Activities { get; }

    /// <summary>Where the scrape endpoint listens once started (the port chosen when 0 was asked for).</summary>
    public Uri? PrometheusUrl { get; private set; }

    public static string SourceName(string daemon)
    {
        var s = daemon.StartsWith("vigil-", StringComparison.Ordinal) ? daemon["vigil-".Length..] : daemon;
        return "Vigil." + (s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..]);
    }

    /// <summary>Adds OpenTelemetry to the gRPC host's services (before it is built), when anything is to be exported.</summary>
    internal void Register(IServiceCollection services)
    {
        _registered = true;
        if (!Options.Enabled) return;
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Daemon, serviceVersion: DaemonHost.Version, serviceInstanceId: $"{Environment.MachineName}/{Daemon}"))
            .WithMetrics(m =>
            {
                m.AddMeter(Name, RpcTelemetry.Name);
                if (Options.PrometheusAddress is not null) m.AddPrometheusExporter();
                if (Options.Otlp)
                {
                    m.AddOtlpExporter((exporter, reader) =>
                    {
                        Options.ConfigureExporter(exporter, "metrics");
                        if (Options.OtlpInterval is { } every) reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)every.TotalMilliseconds;
                    });
                }
            });
        // Microsoft.AspNetCore: the server's request span, which continues the caller's traceparent;
        // System.Net.Http: the client's (controld's pushes to the daemons), which sends it.
        if (Options.Otlp) otel.WithTracing(t => t.AddSource(Name, RpcTelemetry.Name, "Microsoft.AspNetCore", "System.Net.Http").AddOtlpExporter(e => Options.ConfigureExporter(e, "traces")));
    }

    /// <summary>Starts the scrape endpoint (HTTP/1.1, GET /metrics) once the gRPC host runs; its MeterProvider is the host's.</summary>
    internal async Task StartAsync(IServiceProvider grpcHost, CancellationToken cancellationToken)
    {
        if (Options.PrometheusAddress is not { } address) return;
        var provider = grpcHost.GetRequiredService<MeterProvider>();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRouting();
        builder.Services.AddSingleton(grpcHost.GetRequiredService<ILoggerFactory>());
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(address, l => l.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics", provider, configureBranchedPipeline: null, optionsName: null);
        await app.StartAsync(cancellationToken);
        _scrape = app;
        var bound = app.Urls.FirstOrDefault() ?? $"http://{address}";
        PrometheusUrl = new Uri(new Uri(bound), "/metrics");
        LogScrapeEndpoint(PrometheusUrl);
    }

    internal async Task StopAsync()
    {
        if (_scrape is { } app)
        {
            _scrape = null;
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await app.StopAsync(grace.Token);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Meter.Dispose();
        Activities.Dispose();
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Prometheus metrics on {Url}")]
    private partial void LogScrapeEndpoint(Uri url);
}
