using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Vigil.Rpc.Client;
using Vigil.Rpc.Server;
using Vigil.Testing.V1;

// Unary calls per second and p50/p99 latency with 1, 8 and 64 concurrent callers, for Vigil.Rpc
// and, in the same run and process, a bare Kestrel HTTP/2 endpoint on a Unix socket that does the
// same work (parse the request message, build and serialize the answer) without gRPC framing,
// status trailers or call state. The ratio of the two is Vigil.Rpc's cost over the transport.
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5.0;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var output = args.Length > 2 ? args[2] : null;

var dir = Directory.CreateTempSubdirectory("vigil-bench-rpc-").FullName;
var vigilSocket = Path.Combine(dir, "vigil.sock");
var bareSocket = Path.Combine(dir, "bare.sock");

await using var vigil = new RpcServer(new RpcServerOptions { SocketPath = vigilSocket });
vigil.AddService(EchoReflection.Descriptor.Services[0], new BenchEchoService());
await vigil.StartAsync();

var bare = StartBare(bareSocket);
await bare.StartAsync();

using var channel = RpcChannel.ForUnixSocket(vigilSocket);
var echo = Method<EchoRequest, EchoResponse>.Create(EchoReflection.Descriptor.Services[0].FindMethodByName("Echo"));
using var bareClient = BareClient(bareSocket);
var request = new EchoRequest { Message = "vrrp instance VI_1 state", Payload = ByteString.CopyFrom(new byte[64]) };
var requestBytes = request.ToByteArray();

Func<Task> vigilCall = async () => await channel.UnaryAsync(echo, request);
Func<Task> bareCall = () => BareCallAsync("/echo");
Func<Task> bareTrailerCall = () => BareCallAsync("/echo-trailer");
async Task BareCallAsync(string path)
{
    using var m = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + path)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = new ByteArrayContent(requestBytes),
    };
    m.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    using var r = await bareClient.SendAsync(m);
    EchoResponse.Parser.ParseFrom(await r.Content.ReadAsByteArrayAsync());
    if (path == "/echo-trailer") _ = r.TrailingHeaders.NonValidated.Count;
}

// Profiling aid: `VIGIL_BENCH_ONLY=vigil|bare|trailer:CALLERS:SECONDS` runs one variant alone (e.g.
// under `perf record` with DOTNET_PerfMapEnabled=1) and prints its measurement.
if (Environment.GetEnvironmentVariable("VIGIL_BENCH_ONLY") is { Length: > 0 } only)
{
    var parts = only.Split(':');
    var call = parts[0] switch { "vigil" => vigilCall, "bare" => bareCall, _ => bareTrailerCall };
    await Run(call, int.Parse(parts[1], CultureInfo.InvariantCulture), 10); // past tiered compilation
    Console.WriteLine(await Run(call, int.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture)));
    return 0;
}

var results = new List<(string Name, int Concurrency, Measurement M)>();
// Steady state first: .NET's tiered compilation (with PGO) keeps recompiling hot methods for several
// seconds, and the side with more code (Vigil's) pays for it longer; 1.5 s of warm-up understated
// Vigil by up to 15% at 64 callers. Then each level is warmed again (connections, pool sizes).
foreach (var call in new[] { vigilCall, bareCall, bareTrailerCall }) await Run(call, 64, 10);
foreach (var concurrency in new[] { 1, 8, 64 })
{
    // Warm all up, then alternate so drift hits them equally.
    await Run(vigilCall, concurrency, 3);
    await Run(bareCall, concurrency, 3);
    await Run(bareTrailerCall, concurrency, 3);
    for (var round = 0; round < rounds; round++)
    {
        results.Add(("bare-kestrel", concurrency, await Run(bareCall, concurrency, seconds)));
        results.Add(("vigil-rpc", concurrency, await Run(vigilCall, concurrency, seconds)));
        results.Add(("bare-trailer", concurrency, await Run(bareTrailerCall, concurrency, seconds)));
    }
}

var report = new StringBuilder();
report.AppendLine("# Unary RPC over a Unix socket: Vigil.Rpc against bare Kestrel HTTP/2");
report.AppendLine();
report.AppendLine("Each call sends an EchoRequest (a short string and 64 bytes) and gets the answer back. `bare` is a");
report.AppendLine("Kestrel HTTP/2 endpoint on a Unix socket doing the same work (parse the request, build and serialize");
report.AppendLine("the answer) called by HttpClient over the same kind of connection: the transport's limit. `bare+trailer`");
report.AppendLine("adds the one trailer every gRPC response must carry (grpc-status), so the difference between it and");
report.AppendLine("Vigil.Rpc is Vigil's own cost (framing, call state, status handling).");
report.AppendLine();
report.AppendLine("| callers | bare calls/s | bare+trailer calls/s | Vigil.Rpc calls/s | Vigil / bare | Vigil / bare+trailer | p50 / p99 µs bare | p50 / p99 µs Vigil | CPU µs/call bare / +trailer / Vigil | bytes/call bare / +trailer / Vigil |");
report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var concurrency in new[] { 1, 8, 64 })
{
    var b = Median(results.Where(r => r.Name == "bare-kestrel" && r.Concurrency == concurrency).Select(r => r.M));
    var t = Median(results.Where(r => r.Name == "bare-trailer" && r.Concurrency == concurrency).Select(r => r.M));
    var v = Median(results.Where(r => r.Name == "vigil-rpc" && r.Concurrency == concurrency).Select(r => r.M));
    report.AppendLine(CultureInfo.InvariantCulture, $"| {concurrency} | {b.Rate:0} | {t.Rate:0} | {v.Rate:0} | {v.Rate / b.Rate:0.00} | {v.Rate / t.Rate:0.00} | {b.P50:0} / {b.P99:0} | {v.P50:0} / {v.P99:0} | {b.CpuPerCall:0.0} / {t.CpuPerCall:0.0} / {v.CpuPerCall:0.0} | {b.BytesPerCall:0} / {t.BytesPerCall:0} / {v.BytesPerCall:0} |");
}
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Medians of {rounds} rounds of {seconds:0.#} s per cell, the three servers taking turns within each round, after 10 s of");
report.AppendLine("warm-up per server at 64 callers (tiered compilation settles) and 3 s per server at each level; one process holds");
report.AppendLine(CultureInfo.InvariantCulture, $"clients and servers; {Environment.ProcessorCount} cores; .NET {Environment.Version}; load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
report.AppendLine("CPU is the whole process's user+system time per call (client and server together); bytes are managed allocations per call.");
Console.WriteLine(report);
if (output is not null) await File.WriteAllTextAsync(output, report.ToString());

await bare.StopAsync();
Directory.Delete(dir, true);
return 0;

static async Task<Measurement> Run(Func<Task> call, int concurrency, double seconds)
{
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var allocBefore = GC.GetTotalAllocatedBytes(precise: false);
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
    var alloc = GC.GetTotalAllocatedBytes(precise: false) - allocBefore;
    var all = latencies.SelectMany(l => l).OrderBy(x => x).ToArray();
    double Us(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
    return new Measurement(all.Length / elapsed, Us(all[all.Length / 2]), Us(all[(int)(all.Length * 0.99)]), cpu / all.Length, (double)alloc / all.Length);
}

static Measurement Median(IEnumerable<Measurement> ms)
{
    var list = ms.ToList();
    double Med(IEnumerable<double> xs) => xs.OrderBy(x => x).ElementAt(list.Count / 2);
    return new Measurement(Med(list.Select(m => m.Rate)), Med(list.Select(m => m.P50)), Med(list.Select(m => m.P99)), Med(list.Select(m => m.CpuPerCall)), Med(list.Select(m => m.BytesPerCall)));
}

static WebApplication StartBare(string socket)
{
    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
    {
        k.Limits.Http2.MaxStreamsPerConnection = 1000;
        k.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
        k.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
        k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http2);
    });
    var app = builder.Build();
    app.Run(async http =>
    {
        using var ms = new MemoryStream();
        await http.Request.Body.CopyToAsync(ms);
        var req = EchoRequest.Parser.ParseFrom(ms.ToArray());
        var resp = new EchoResponse { Message = req.Message, Payload = req.Payload, ContentType = "application/grpc", RequestEncoding = "identity" };
        http.Response.ContentType = "application/octet-stream";
        await http.Response.Body.WriteAsync(resp.ToByteArray());
        // The second baseline: the same plus the one trailer every gRPC response carries.
        if (http.Request.Path == "/echo-trailer") http.Response.AppendTrailer("grpc-status", "0");
    });
    return app;
}

static HttpClient BareClient(string socket) => new(new SocketsHttpHandler
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
});

/// <summary>Calls per second, latency percentiles (µs), and CPU time of the whole process per call (µs,
/// client and server together): the last is steadier than throughput when other work shares the machine.</summary>
internal readonly record struct Measurement(double Rate, double P50, double P99, double CpuPerCall, double BytesPerCall);

/// <summary>The Echo service doing exactly the bare endpoint's work; streaming methods unused here.</summary>
internal sealed class BenchEchoService
{
    public Task<EchoResponse> Echo(EchoRequest req, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Message = req.Message, Payload = req.Payload, ContentType = "application/grpc", RequestEncoding = "identity" });

    public Task ServerStream(ServerStreamRequest request, IServerStreamWriter<ServerStreamResponse> responses, ServerCallContext context) => Task.CompletedTask;

    public Task<ClientStreamResponse> ClientStream(IAsyncEnumerable<ClientStreamRequest> requests, ServerCallContext context) => Task.FromResult(new ClientStreamResponse());

    public Task Bidi(IAsyncEnumerable<BidiRequest> requests, IServerStreamWriter<BidiResponse> responses, ServerCallContext context) => Task.CompletedTask;

    public Task<GetStatsResponse> GetStats(GetStatsRequest request, ServerCallContext context) => Task.FromResult(new GetStatsResponse());
}
