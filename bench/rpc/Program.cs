using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vigil.Testing.V1;

// Calls per second (unary) and messages per second (server streaming) with 1, 8 and 64 concurrent
// callers over Unix sockets, in one process and one run, for:
//   bare          Kestrel HTTP/2 doing the same work without gRPC (parse, build, serialize): the transport's limit
//   bare+trailer  the same plus the grpc-status trailer every gRPC response carries
//   grpc-dotnet   Grpc.AspNetCore server + Grpc.Net.Client (what the daemons run on)
//   grpc-server+raw-client  Grpc.AspNetCore's server behind the bare client (the server's own cost)
// (The hand-written Vigil.Rpc it replaced was measured by this program, in the same run, before it
// was deleted: bench/results/rpc.md.)
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3.0;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var output = args.Length > 2 ? args[2] : null;
const int StreamLength = 100;

var dir = Directory.CreateTempSubdirectory("vigil-bench-rpc-").FullName;
var bareSocket = Path.Combine(dir, "bare.sock");
var grpcSocket = Path.Combine(dir, "grpc.sock");

var bare = StartBare(bareSocket);
await bare.StartAsync();
var grpc = StartGrpc(grpcSocket);
await grpc.StartAsync();

using var bareClient = new HttpClient(Handler(bareSocket));
using var grpcChannel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = Handler(grpcSocket) });
var grpcClient = new EchoService.EchoServiceClient(grpcChannel);

using var rawGrpcClient = new HttpClient(Handler(grpcSocket));
var request = new EchoRequest { Message = "vrrp instance VI_1 state", Payload = ByteString.CopyFrom(new byte[64]) };
var requestBytes = request.ToByteArray();
var streamRequest = new ServerStreamRequest { Count = StreamLength, PayloadSize = 64 };
var streamRequestBytes = streamRequest.ToByteArray();

async Task BareUnaryAsync(string path)
{
    using var m = BareRequest(path, requestBytes);
    using var r = await bareClient.SendAsync(m);
    EchoResponse.Parser.ParseFrom(await r.Content.ReadAsByteArrayAsync());
    if (path == "/echo-trailer") _ = r.TrailingHeaders.NonValidated.Count;
}

// Grpc.AspNetCore's server alone: the bare client's HttpClient posting one gRPC-framed message and
// reading the framed answer and the grpc-status trailer (no Grpc.Net.Client on the calling side).
var framedRequest = new byte[5 + requestBytes.Length];
BinaryPrimitives.WriteInt32BigEndian(framedRequest.AsSpan(1), requestBytes.Length);
requestBytes.CopyTo(framedRequest, 5);
async Task RawGrpcUnaryAsync()
{
    using var m = BareRequest("/vigil.testing.v1.EchoService/Echo", framedRequest);
    m.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
    m.Headers.TE.ParseAdd("trailers");
    using var r = await rawGrpcClient.SendAsync(m);
    var body = await r.Content.ReadAsByteArrayAsync();
    EchoResponse.Parser.ParseFrom(body, 5, body.Length - 5);
    if (r.TrailingHeaders.NonValidated.TryGetValues("grpc-status", out var status) && status.ToString() != "0") throw new InvalidOperationException("grpc-status " + status);
}

async Task BareStreamAsync()
{
    using var m = BareRequest("/stream", streamRequestBytes);
    using var r = await bareClient.SendAsync(m, HttpCompletionOption.ResponseHeadersRead);
    await using var body = await r.Content.ReadAsStreamAsync();
    var header = new byte[4];
    var buffer = new byte[256];
    for (var i = 0; i < StreamLength; i++)
    {
        await body.ReadExactlyAsync(header);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        await body.ReadExactlyAsync(buffer.AsMemory(0, length));
        ServerStreamResponse.Parser.ParseFrom(buffer, 0, length);
    }
}

async Task GrpcStreamAsync()
{
    using var call = grpcClient.ServerStream(streamRequest);
    var n = 0;
    while (await call.ResponseStream.MoveNext(CancellationToken.None)) n++;
    if (n != StreamLength) throw new InvalidOperationException($"stream ended after {n}");
}

var unary = new (string Name, Func<Task> Call)[]
{
    ("bare", () => BareUnaryAsync("/echo")),
    ("bare+trailer", () => BareUnaryAsync("/echo-trailer")),
    ("grpc-dotnet", async () => await grpcClient.EchoAsync(request)),
    ("grpc-server+raw-client", RawGrpcUnaryAsync),
};
var streaming = new (string Name, Func<Task> Call)[]
{
    ("bare", BareStreamAsync),
    ("grpc-dotnet", GrpcStreamAsync),
};

// Profiling aid: `VIGIL_BENCH_ONLY=unary|stream:NAME:CALLERS:SECONDS` runs one variant alone.
if (Environment.GetEnvironmentVariable("VIGIL_BENCH_ONLY") is { Length: > 0 } only)
{
    var p = only.Split(':');
    var call = (p[0] == "stream" ? streaming : unary).Single(v => v.Name == p[1]).Call;
    var callers = int.Parse(p[2], CultureInfo.InvariantCulture);
    await Run(call, callers, 10);
    Console.WriteLine(await Run(call, callers, double.Parse(p[3], CultureInfo.InvariantCulture)));
    return 0;
}

var results = new List<(string Kind, string Name, int Callers, Measurement M)>();
// Steady state first: tiered compilation with PGO keeps recompiling hot methods for seconds.
foreach (var (_, call) in unary.Concat(streaming)) await Run(call, 64, 8);
foreach (var (kind, variants) in new[] { ("unary", unary), ("stream", streaming) })
{
    foreach (var callers in new[] { 1, 8, 64 })
    {
        foreach (var (_, call) in variants) await Run(call, callers, 2);
        for (var round = 0; round < rounds; round++)
        {
            // Taking turns within each round, so drift on this shared machine hits all alike.
            foreach (var (name, call) in variants) results.Add((kind, name, callers, await Run(call, callers, seconds)));
        }
    }
}

var report = new StringBuilder();
report.AppendLine("## Unary: calls/s (ratio to bare), CPU µs per call, p50 / p99 µs");
report.AppendLine();
Table("unary", unary.Select(v => v.Name).ToArray(), 1);
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"## Server streaming: messages/s (ratio to bare), {StreamLength} messages of 64 bytes per call");
report.AppendLine();
Table("stream", streaming.Select(v => v.Name).ToArray(), StreamLength);
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Medians of {rounds} rounds of {seconds:0.#} s per cell, variants taking turns within each round, after 8 s of warm-up per");
report.AppendLine("variant at 64 callers and 2 s per variant at each level; one process holds clients and servers;");
report.AppendLine(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores; .NET {Environment.Version}; load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
report.AppendLine("CPU is the whole process's user+system time per call (client and server together).");
Console.WriteLine(report);
if (output is not null) await File.WriteAllTextAsync(output, report.ToString());

await bare.StopAsync();
await grpc.StopAsync();
Directory.Delete(dir, true);
return 0;

void Table(string kind, string[] names, int perCall)
{
    report.Append("| callers |");
    foreach (var n in names) report.Append(CultureInfo.InvariantCulture, $" {n} |");
    report.AppendLine();
    report.Append("|---:|");
    foreach (var _ in names) report.Append("---:|");
    report.AppendLine();
    foreach (var callers in new[] { 1, 8, 64 })
    {
        var baseline = Median(results.Where(r => r.Kind == kind && r.Name == "bare" && r.Callers == callers).Select(r => r.M));
        report.Append(CultureInfo.InvariantCulture, $"| {callers} |");
        foreach (var n in names)
        {
            var m = Median(results.Where(r => r.Kind == kind && r.Name == n && r.Callers == callers).Select(r => r.M));
            report.Append(CultureInfo.InvariantCulture, $" {m.Rate * perCall:0} ({m.Rate / baseline.Rate:0.00}); {m.CpuPerCall:0.0} µs; {m.P50:0} / {m.P99:0} |");
        }
        report.AppendLine();
    }
}

static HttpRequestMessage BareRequest(string path, byte[] body)
{
    var m = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + path)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = new ByteArrayContent(body),
    };
    m.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    return m;
}

static async Task<Measurement> Run(Func<Task> call, int concurrency, double seconds)
{
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var stop = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    var latencies = new List<long>[concurrency];
    var workers = Enumerable.Range(0, concurrency).Select(async i =>
    {
        var mine = latencies[i] = new List<long>(100_000);
        while (stop.Elapsed < until)
        {
            var t = Stopwatch.GetTimestamp();
            await call();
            mine.Add(Stopwatch.GetTimestamp() - t);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    var elapsed = stop.Elapsed.TotalSeconds;
    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
    var all = latencies.SelectMany(l => l).OrderBy(x => x).ToArray();
    double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
    return new Measurement(all.Length / elapsed, Us(all[all.Length / 2]), Us(all[(int)(all.Length * 0.99)]), cpu / all.Length);
}

static Measurement Median(IEnumerable<Measurement> ms)
{
    var list = ms.ToList();
    double Med(IEnumerable<double> xs) => xs.OrderBy(x => x).ElementAt(list.Count / 2);
    return new Measurement(Med(list.Select(m => m.Rate)), Med(list.Select(m => m.P50)), Med(list.Select(m => m.P99)), Med(list.Select(m => m.CpuPerCall)));
}

static void Http2Only(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions k, string socket)
{
    k.Limits.Http2.MaxStreamsPerConnection = 1000;
    k.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
    k.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
    k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http2);
}

static WebApplication StartBare(string socket)
{
    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.WebHost.UseKestrelCore().ConfigureKestrel(k => Http2Only(k, socket));
    var app = builder.Build();
    app.Run(async http =>
    {
        using var ms = new MemoryStream();
        await http.Request.Body.CopyToAsync(ms);
        http.Response.ContentType = "application/octet-stream";
        if (http.Request.Path == "/stream")
        {
            var req = ServerStreamRequest.Parser.ParseFrom(ms.ToArray());
            var payload = ByteString.CopyFrom(new byte[req.PayloadSize]);
            var frame = new byte[4 + 256];
            for (var i = 0; i < req.Count; i++)
            {
                var msg = new ServerStreamResponse { Index = i, Payload = payload };
                var size = msg.CalculateSize();
                BinaryPrimitives.WriteInt32BigEndian(frame, size);
                msg.WriteTo(frame.AsSpan(4, size));
                await http.Response.Body.WriteAsync(frame.AsMemory(0, 4 + size));
                await http.Response.Body.FlushAsync();
            }
            return;
        }
        var echo = EchoRequest.Parser.ParseFrom(ms.ToArray());
        var resp = new EchoResponse { Message = echo.Message, Payload = echo.Payload, ContentType = "application/grpc", RequestEncoding = "identity" };
        await http.Response.Body.WriteAsync(resp.ToByteArray());
        if (http.Request.Path == "/echo-trailer") http.Response.AppendTrailer("grpc-status", "0");
    });
    return app;
}

static WebApplication StartGrpc(string socket)
{
    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.UseKestrelCore().ConfigureKestrel(k => Http2Only(k, socket));
    builder.Services.AddGrpc();
    var app = builder.Build();
    app.MapGrpcService<GrpcEchoService>();
    return app;
}

static SocketsHttpHandler Handler(string socket) => new()
{
    ConnectCallback = async (_, ct) =>
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
        return new NetworkStream(s, true);
    },
    EnableMultipleHttp2Connections = true,
    InitialHttp2StreamWindowSize = 2 * 1024 * 1024,
    UseProxy = false,
};

/// <summary>Calls per second, latency percentiles (µs), and CPU time of the whole process per call (µs).</summary>
internal readonly record struct Measurement(double Rate, double P50, double P99, double CpuPerCall);

/// <summary>The Echo service on Grpc.AspNetCore, doing exactly the bare endpoint's work.</summary>
internal sealed class GrpcEchoService : EchoService.EchoServiceBase
{
    public override Task<EchoResponse> Echo(EchoRequest req, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Message = req.Message, Payload = req.Payload, ContentType = "application/grpc", RequestEncoding = "identity" });

    public override async Task ServerStream(ServerStreamRequest request, IServerStreamWriter<ServerStreamResponse> responses, ServerCallContext context)
    {
        var payload = ByteString.CopyFrom(new byte[request.PayloadSize]);
        for (var i = 0; i < request.Count; i++) await responses.WriteAsync(new ServerStreamResponse { Index = i, Payload = payload });
    }
}
