using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Hosting;
using Vigil.Ipvs.V1;
using Vigil.Ipvsd.Api;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Engine;
using Vigil.Ipvsd.Tests.Engine;
using Vigil.Netlink.Ipvs;
using Vigil.Rpc.Client;
using Vigil.Testing;
using KernelService = Vigil.Netlink.Ipvs.IpvsService;

namespace Vigil.Ipvsd.Tests.Api;

/// <summary>
/// vigil.ipvs.v1.IpvsService/WatchStats over the daemon's Unix socket (the daemon host, its gRPC
/// server and error mapping, IpvsApi over a Reconciler on an in-memory table), plus the handler
/// called directly to see how it ends when the client leaves.
/// </summary>
public sealed class WatchStatsTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly KernelService Web = Configs.WebService;

    private readonly MemoryBackend _backend = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-ipvsd-ws-").FullName;
    private DaemonHost _host = null!;
    private Reconciler _reconciler = null!;
    private UnixChannel _channel = null!;
    private Ipvs.V1.IpvsService.IpvsServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        var (host, _) = DaemonHost.Create(VigilPaths.Ipvsd, ["--run-dir", _dir]);
        _host = host!;
        _reconciler = Configs.Reconciler(_backend);
        _host.Server.AddService(new IpvsApi(_host, _reconciler), Ipvs.V1.IpvsService.Descriptor.FullName);
        await _host.Server.StartAsync();
        _reconciler.Start();
        await _reconciler.ApplyConfigAsync(Configs.Fast(Configs.Ipvs(Configs.Web)), CancellationToken.None);
        _channel = UnixChannel.Open(_host.SocketPath);
        _client = new Ipvs.V1.IpvsService.IpvsServiceClient(_channel.Invoker);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _host.Server.StopAsync();
        await _reconciler.DisposeAsync();
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>The backend's counters change, as the kernel's would with traffic (under the table's lock).</summary>
    private async Task SetCountersAsync(ulong connections, ulong toFirst)
    {
        var table = await _backend.ReadAsync(CancellationToken.None);
        var entry = table.Single(e => e.Service.Key == Web.Key);
        var first = entry.Destinations.Single(d => d.Address.Equals(IPAddress.Parse("10.0.1.2")));
        await _backend.ApplyAsync([
            new LvsChange.UpdateService(entry.Service with { Stats = Stats(connections) }),
            new LvsChange.UpdateDestination(entry.Service, first with { Stats = Stats(toFirst), ActiveConnections = (uint)toFirst }),
        ], [], CancellationToken.None);
    }

    private static IpvsStats Stats(ulong connections) =>
        new(connections, connections * 10, connections * 8, connections * 1000, connections * 900, 1, 2, 3, 4, 5);

    private static async Task<List<WatchStatsResponse>> TakeAsync(IAsyncStreamReader<WatchStatsResponse> stream, int count, Func<WatchStatsResponse, bool>? until = null)
    {
        var got = new List<WatchStatsResponse>();
        using var timeout = new CancellationTokenSource(Patience);
        while (got.Count < count || (until is not null && !until(got[^1])))
        {
            Assert.True(await stream.MoveNext(timeout.Token), $"the stream ended after {got.Count} messages");
            got.Add(stream.Current);
        }
        return got;
    }

    private static VirtualService WebOf(WatchStatsResponse r) => r.Stats.Services.Single(s => s.Address == "10.0.0.1" && s.Port == 80);

    [Fact]
    public async Task Stream_SendsTheTableAndItsCounters_AtTheRequestedInterval()
    {
        var interval = TimeSpan.FromMilliseconds(300);
        using var cancel = new CancellationTokenSource();
        using var call = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(interval) }, cancellationToken: cancel.Token);
        var messages = await TakeAsync(call.ResponseStream, 6);

        foreach (var m in messages)
        {
            Assert.Equal("memory", m.Stats.Backend);
            Assert.Equal("memory 1", m.Stats.Version);
            var web = WebOf(m);
            Assert.NotEmpty(web.VirtualServer); // owned by the configuration applied
            Assert.Equal(["10.0.1.2:80 w3", "10.0.1.3:80 w1"], web.Destinations.Select(d => $"{d.Endpoint.Address}:{d.Endpoint.Port} w{d.Weight}").Order(StringComparer.Ordinal));
            Assert.Equal(0ul, web.Counters.Connections); // the memory table has no traffic yet
            Assert.True(m.Stats.Counters["configurations_applied"] == 1, "the daemon's counters are in every message");
        }
        // The daemon's own counters are read again each time, not once: reconciles at 100 ms move.
        // Read on until they do (CI once saw no reconcile within these 1.5 s on loaded cores); a
        // stream that resends its first counters never gets there and fails on Patience.
        var first = messages[0].Stats.Counters["reconciles"];
        var more = await TakeAsync(call.ResponseStream, 1, m => m.Stats.Counters["reconciles"] > first);
        Assert.True(more[^1].Stats.Counters["reconciles"] > first, $"reconciles {first} .. {more[^1].Stats.Counters["reconciles"]}");

        // Spaced by the interval: never sooner (the delay follows each write), and not the 1 s
        // default either (the median gap; one slow tick on a loaded machine does not decide).
        var gaps = messages.Zip(messages.Skip(1), (a, b) => b.Time.ToDateTime() - a.Time.ToDateTime()).ToList();
        Assert.All(gaps, g => Assert.True(g >= interval - TimeSpan.FromMilliseconds(20), $"gap {g.TotalMilliseconds} ms under the 300 ms interval"));
        var median = gaps.Order().ElementAt(gaps.Count / 2);
        Assert.True(median < TimeSpan.FromMilliseconds(900), $"median gap {median.TotalMilliseconds} ms: the requested 300 ms interval was not used");
    }

    [Fact]
    public async Task Stream_WithoutInterval_IsOneSecond()
    {
        using var cancel = new CancellationTokenSource();
        using var call = _client.WatchStats(new WatchStatsRequest(), cancellationToken: cancel.Token);
        var messages = await TakeAsync(call.ResponseStream, 3);
        var gaps = messages.Zip(messages.Skip(1), (a, b) => b.Time.ToDateTime() - a.Time.ToDateTime()).ToList();
        Assert.All(gaps, g => Assert.True(g >= TimeSpan.FromMilliseconds(980), $"gap {g.TotalMilliseconds} ms under the 1 s default"));
    }

    [Fact]
    public async Task Counters_FollowTheBackend_WhenTheyChange()
    {
        using var cancel = new CancellationTokenSource();
        using var call = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100)) }, cancellationToken: cancel.Token);
        var before = await TakeAsync(call.ResponseStream, 1);
        Assert.Equal(0ul, WebOf(before[0]).Counters.Connections);

        await SetCountersAsync(connections: 42, toFirst: 40);
        var after = (await TakeAsync(call.ResponseStream, 1, m => WebOf(m).Counters.Connections != 0))[^1];
        var web = WebOf(after);
        Assert.Equal((42ul, 420ul, 336ul, 42000ul, 37800ul), (web.Counters.Connections, web.Counters.InPackets, web.Counters.OutPackets, web.Counters.InBytes, web.Counters.OutBytes));
        Assert.Equal((1ul, 2ul, 3ul, 4ul, 5ul), (web.Counters.ConnectionRate, web.Counters.InPacketRate, web.Counters.OutPacketRate, web.Counters.InByteRate, web.Counters.OutByteRate));
        var first = web.Destinations.Single(d => d.Endpoint.Address == "10.0.1.2");
        var second = web.Destinations.Single(d => d.Endpoint.Address == "10.0.1.3");
        Assert.Equal((40ul, 400ul, 40000ul, 40u), (first.Counters.Connections, first.Counters.InPackets, first.Counters.InBytes, first.ActiveConnections));
        Assert.Equal(0ul, second.Counters.Connections);

        // And on again: the stream does not keep the first values it saw.
        await SetCountersAsync(connections: 50, toFirst: 47);
        var later = (await TakeAsync(call.ResponseStream, 1, m => WebOf(m).Counters.Connections != 42))[^1];
        Assert.Equal(50ul, WebOf(later).Counters.Connections);
        Assert.Equal(47ul, WebOf(later).Destinations.Single(d => d.Endpoint.Address == "10.0.1.2").Counters.Connections);
        // The counters changed, not the table: no repair was made for them.
        Assert.False(later.Stats.Counters.ContainsKey("out_of_band_repairs"));
    }

    [Theory]
    [InlineData(-1000)]
    [InlineData(0)]
    [InlineData(99)]
    public async Task IntervalUnder100ms_IsInvalidArgument_NamingTheField(int milliseconds)
    {
        using var call = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(milliseconds)) });
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("interval: ", e.Status.Detail);
        Assert.Contains("under 100 ms", e.Status.Detail);
    }

    /// <summary>A Duration that does not normalize (signs differ), and one too long for a timer.</summary>
    [Theory]
    [InlineData(1, -1)]
    [InlineData(-1, 5)]
    [InlineData(0, 1_000_000_000)]
    [InlineData(86_401, 0)]
    public async Task IntervalNotADuration_IsInvalidArgument_NamingTheField(long seconds, int nanos)
    {
        using var call = _client.WatchStats(new WatchStatsRequest { Interval = new Duration { Seconds = seconds, Nanos = nanos } });
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("interval: ", e.Status.Detail);
    }

    [Fact]
    public async Task Interval100ms_TheMinimum_IsAccepted()
    {
        using var cancel = new CancellationTokenSource();
        using var call = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100)) }, cancellationToken: cancel.Token);
        Assert.Equal(2, (await TakeAsync(call.ResponseStream, 2)).Count);
    }

    [Fact]
    public async Task ClientCancels_StreamEnds_AndTheServerServesTheNextOne()
    {
        var cancel = new CancellationTokenSource();
        var call = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, cancellationToken: cancel.Token);
        await TakeAsync(call.ResponseStream, 1);
        cancel.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        call.Dispose();
        cancel.Dispose();

        using var again = new CancellationTokenSource();
        using var next = _client.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100)) }, cancellationToken: again.Token);
        Assert.Single(await TakeAsync(next.ResponseStream, 1));
    }

    /// <summary>The handler itself: when the client leaves in the middle of a 10 s wait, it returns at once and without error.</summary>
    [Fact]
    public async Task ClientCancels_HandlerReturnsCleanly_WithoutWaitingTheInterval()
    {
        var api = new IpvsApi(_host, _reconciler);
        var context = new TestCallContext();
        var writer = new ListWriter();
        var handler = api.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, writer, context);
        await Poll.UntilAsync(() => writer.Count == 1 || handler.IsCompleted, Patience, "the first message");
        Assert.False(handler.IsFaulted, handler.Exception?.ToString());
        Assert.False(handler.IsCompleted);
        context.Cancel();
        var finished = await Task.WhenAny(handler, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.Same(handler, finished);
        await handler; // no exception: a client leaving is not an error
        Assert.Equal(1, writer.Count);
    }

    /// <summary>The daemon stopping ends a stream with UNAVAILABLE, not as if the client had left.</summary>
    [Fact]
    public async Task DaemonStops_HandlerEndsUnavailable()
    {
        var api = new IpvsApi(_host, _reconciler);
        var writer = new ListWriter();
        var handler = api.WatchStats(new WatchStatsRequest { Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, writer, new TestCallContext());
        await Poll.UntilAsync(() => writer.Count == 1 || handler.IsCompleted, Patience, "the first message");
        Assert.False(handler.IsFaulted, handler.Exception?.ToString());
        _host.RequestStop();
        await Assert.ThrowsAsync<UnavailableException>(() => handler);
    }

    private sealed class ListWriter : IServerStreamWriter<WatchStatsResponse>
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(WatchStatsResponse message) => WriteAsync(message, CancellationToken.None);

        // The handler passes its token; the interface's default for this overload throws NotSupportedException.
        public Task WriteAsync(WatchStatsResponse message, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.Increment(ref _count);
            return Task.CompletedTask;
        }
    }

    private sealed class TestCallContext : ServerCallContext
    {
        private readonly CancellationTokenSource _cancel = new();
        public void Cancel() => _cancel.Cancel();
        protected override string MethodCore => "/vigil.ipvs.v1.IpvsService/WatchStats";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "unix:test";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore { get; } = [];
        protected override CancellationToken CancellationTokenCore => _cancel.Token;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
