using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Vigil.Rpc.Server;

namespace Vigil.Hosting.Telemetry;

/// <summary>Where a daemon's telemetry goes (--prometheus-address, and OpenTelemetry's standard OTEL_* variables).</summary>
public sealed record TelemetryOptions
{
    /// <summary>Serve a Prometheus scrape endpoint (/metrics) here; null: none (the default).</summary>
    public IPEndPoint? PrometheusAddress { get; init; }

    /// <summary>
    /// Export metrics and traces by OTLP: on when OTEL_EXPORTER_OTLP_ENDPOINT (or the
    /// _METRICS_/_TRACES_ one) is set; the exporter reads the rest of OTEL_EXPORTER_OTLP_* itself.
    /// </summary>
    public bool Otlp { get; init; } = new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" }
        .Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));

    public bool Enabled => PrometheusAddress is not null || Otlp;
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
    public TelemetryOptions Options { get; }

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
        if (!Options.Enabled) return;
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Daemon, serviceVersion: DaemonHost.Version, serviceInstanceId: $"{Environment.MachineName}/{Daemon}"))
            .WithMetrics(m =>
            {
                m.AddMeter(Name, RpcTelemetry.Name);
                if (Options.PrometheusAddress is not null) m.AddPrometheusExporter();
                if (Options.Otlp) m.AddOtlpExporter();
            });
        // Microsoft.AspNetCore: the server's request span, which continues the caller's traceparent;
        // System.Net.Http: the client's (controld's pushes to the daemons), which sends it.
        if (Options.Otlp) otel.WithTracing(t => t.AddSource(Name, RpcTelemetry.Name, "Microsoft.AspNetCore", "System.Net.Http").AddOtlpExporter());
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
