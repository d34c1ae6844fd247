using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vigil.Testing.Otlp.Proto;

namespace Vigil.Testing.Otlp;

/// <summary>
/// A test OTLP receiver (no collector can be installed here): OTLP/HTTP with binary protobuf
/// bodies (POST /v1/metrics and /v1/traces, HTTP/1.1) and OTLP/gRPC (the two Export methods,
/// HTTP/2 cleartext with gRPC's length-prefixed framing), as the OTLP specification describes
/// them, on unix sockets (a lab namespace reaches one through tcp_to_unix.py). It keeps every
/// request it decoded; the messages are in otlp.proto.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string MetricsExport = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string TracesExport = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    private readonly Lock _gate = new();
    private readonly List<ResourceMetrics> _metrics = [];
    private readonly List<ResourceSpans> _spans = [];
    private readonly List<string> _requests = [];
    private WebApplication? _app;

    /// <summary>OTLP/HTTP (http/protobuf) listens here.</summary>
    public required string HttpSocketPath { get; init; }

    /// <summary>OTLP/gRPC listens here; null: not served.</summary>
    public string? GrpcSocketPath { get; init; }

    /// <summary>"POST /v1/metrics 200 (application/x-protobuf)" for each request, for failure messages.</summary>
    public IReadOnlyList<string> Requests { get { lock (_gate) return [.. _requests]; } }

    public IReadOnlyList<ResourceMetrics> Metrics { get { lock (_gate) return [.. _metrics]; } }

    public IReadOnlyList<ResourceSpans> Spans { get { lock (_gate) return [.. _spans]; } }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<ILoggerFactory>(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            File.Delete(HttpSocketPath);
            k.ListenUnixSocket(HttpSocketPath, l => l.Protocols = HttpProtocols.Http1);
            if (GrpcSocketPath is { } grpc)
            {
                File.Delete(grpc);
                k.ListenUnixSocket(grpc, l => l.Protocols = HttpProtocols.Http2);
            }
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        var grpc = request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
        int status;
        try
        {
            status = grpc ? await GrpcAsync(context, request.Path, bytes) : await HttpAsync(context, request.Path, request.ContentType, bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            status = 400;
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("bad protobuf: " + e.Message);
        }
        lock (_gate) _requests.Add($"{request.Method} {request.Path} {status} ({request.ContentType}, {bytes.Length} bytes)");
    }

    private async Task<int> HttpAsync(HttpContext context, string? path, string? contentType, byte[] body)
    {
        if (context.Request.Method != "POST" || contentType != "application/x-protobuf")
        {
            context.Response.StatusCode = 415;
            return 415;
        }
        IMessage reply;
        switch (path)
        {
            case "/v1/metrics":
                Add(ExportMetricsServiceRequest.Parser.ParseFrom(body));
                reply = new ExportMetricsServiceResponse();
                break;
            case "/v1/traces":
                Add(ExportTraceServiceRequest.Parser.ParseFrom(body));
                reply = new ExportTraceServiceResponse();
                break;
            default:
                context.Response.StatusCode = 404;
                return 404;
        }
        context.Response.ContentType = "application/x-protobuf";
        await context.Response.Body.WriteAsync(reply.ToByteArray());
        return 200;
    }

    /// <summary>One unary gRPC call: a 5-byte prefix (compressed flag, big-endian length) before the message, grpc-status in the trailers.</summary>
    private async Task<int> GrpcAsync(HttpContext context, string? path, byte[] body)
    {
        context.Response.ContentType = "application/grpc";
        if (body.Length < 5 || body[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)) != body.Length - 5)
        {
            context.Response.AppendTrailer("grpc-status", "13");
            context.Response.AppendTrailer("grpc-message", "expected one uncompressed message");
            return 13;
        }
        var message = body.AsMemory(5);
        IMessage reply;
        switch (path)
        {
            case MetricsExport:
                Add(ExportMetricsServiceRequest.Parser.ParseFrom(message.Span));
                reply = new ExportMetricsServiceResponse();
                break;
            case TracesExport:
                Add(ExportTraceServiceRequest.Parser.ParseFrom(message.Span));
                reply = new ExportTraceServiceResponse();
                break;
            default:
                context.Response.AppendTrailer("grpc-status", "12");
                return 12;
        }
        var bytes = reply.ToByteArray();
        var frame = new byte[5 + bytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)bytes.Length);
        bytes.CopyTo(frame, 5);
        await context.Response.Body.WriteAsync(frame);
        context.Response.AppendTrailer("grpc-status", "0");
        return 0;
    }

    private void Add(ExportMetricsServiceRequest r)
    {
        lock (_gate) _metrics.AddRange(r.ResourceMetrics);
    }

    private void Add(ExportTraceServiceRequest r)
    {
        lock (_gate) _spans.AddRange(r.ResourceSpans);
    }

    /// <summary>Every data point of metric <paramref name="name"/> received, with its resource.</summary>
    public IReadOnlyList<(Resource Resource, NumberDataPoint Point)> Points(string name) =>
        [.. from rm in Metrics
            from sm in rm.ScopeMetrics
            from m in sm.Metrics
            where m.Name == name
            from p in m.DataCase switch { Metric.DataOneofCase.Gauge => m.Gauge.DataPoints, Metric.DataOneofCase.Sum => m.Sum.DataPoints, _ => [] }
            select (rm.Resource, p)];

    /// <summary>Every span received, with its resource and scope.</summary>
    public IReadOnlyList<(Resource Resource, string Scope, Span Span)> AllSpans() =>
        [.. from rs in Spans from ss in rs.ScopeSpans from s in ss.Spans select (rs.Resource, ss.Scope?.Name ?? "", s)];

    /// <summary>The string value of an attribute (null when absent).</summary>
    public static string? Attribute(IEnumerable<KeyValue> attributes, string key) =>
        attributes.FirstOrDefault(a => a.Key == key)?.Value is { } v
            ? v.ValueCase switch
            {
                AnyValue.ValueOneofCase.StringValue => v.StringValue,
                AnyValue.ValueOneofCase.IntValue => v.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                AnyValue.ValueOneofCase.BoolValue => v.BoolValue ? "true" : "false",
                AnyValue.ValueOneofCase.DoubleValue => v.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => v.ToString(),
            }
            : null;

    public async ValueTask DisposeAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await app.StopAsync(grace.Token);
        await app.DisposeAsync();
        File.Delete(HttpSocketPath);
        if (GrpcSocketPath is not null) File.Delete(GrpcSocketPath);
    }
}
