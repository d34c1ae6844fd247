using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Health.V1;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>Vigil's client (Grpc.Net.Client through <see cref="UnixChannel"/>) against Debian's python3-grpcio server (the gRPC C core).</summary>
[Trait("Category", "Conformance")]
public sealed class PythonServerConformanceTests : IAsyncLifetime
{
    private string _dir = "";
    private LabProcess? _server;
    private UnixChannel? _channel;

    private EchoService.EchoServiceClient Echo => new(_channel!.Invoker);

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("vigil-pysrv-").FullName;
        var socket = Path.Combine(_dir, "py.sock");
        _server = await PythonPeer.StartServerAsync(socket);
        _channel = UnixChannel.Open(socket);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task Unary_Echo_ReturnsMessage()
    {
        var r = await Echo.EchoAsync(new EchoRequest { Message = "hi", Payload = ByteString.CopyFrom(1, 2, 3) });
        Assert.Equal("hi", r.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, r.Payload.ToByteArray());
    }

    [Fact]
    public async Task Unary_Error_StatusAndUnicodeMessage()
    {
        const string message = "interface 'eth9': not found ✗ 50%";
        var e = await Assert.ThrowsAsync<RpcException>(() => Echo.EchoAsync(new EchoRequest { FailCode = 5, FailMessage = message }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(message, e.Status.Detail);
    }

    [Fact]
    public async Task ServerStreaming_AllInOrder_ThenError()
    {
        var got = new List<int>();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = Echo.ServerStream(new ServerStreamRequest { Count = 10, FailCode = 10, FailMessage = "aborted" });
            await foreach (var m in call.ResponseStream.ReadAllAsync()) got.Add(m.Index);
        });
        Assert.Equal(Enumerable.Range(0, 10), got);
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_CountsMessages()
    {
        using var call = Echo.ClientStream();
        for (var i = 0; i < 10; i++) await call.RequestStream.WriteAsync(new ClientStreamRequest { Message = i.ToString() });
        await call.RequestStream.CompleteAsync();
        var r = await call.ResponseAsync;
        Assert.Equal(10, r.Count);
        Assert.Equal("0,1,2,3,4,5,6,7,8,9", r.Joined);
    }

    [Fact]
    public async Task Bidi_PingPong()
    {
        using var call = Echo.Bidi();
        for (var i = 0; i < 5; i++)
        {
            await call.RequestStream.WriteAsync(new BidiRequest { Message = $"p{i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal($"p{i}", call.ResponseStream.Current.Message);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task Deadline_ServerSeesItToo()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Echo.EchoAsync(
            new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) }, Deadline.In(TimeSpan.FromMilliseconds(1000))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        // Vigil resets the stream at its deadline, just before the server's own deadline (counted
        // from arrival) fires, so the handler may see either; it must see the call end.
        await Poll.UntilAsync(async () =>
        {
            var stats = await Echo.GetStatsAsync(new GetStatsRequest());
            return stats.DeadlineExceededCalls + stats.CancelledCalls >= 1;
        }, TimeSpan.FromSeconds(5), "the Python handler to see the call end");
    }

    [Fact]
    public async Task GrpcTimeoutHeader_ServerSeesTheDeadline()
    {
        var r = await Echo.EchoAsync(new EchoRequest(), Deadline.In(TimeSpan.FromSeconds(5)));
        Assert.NotNull(r.TimeRemaining);
        Assert.InRange(r.TimeRemaining.ToTimeSpan().TotalSeconds, 3.0, 5.0);
    }

    [Fact]
    public async Task Cancellation_ServerSeesIt()
    {
        using var cts = new CancellationTokenSource();
        var started = (await Echo.GetStatsAsync(new GetStatsRequest())).StartedCalls;
        using var call = Echo.EchoAsync(new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, cancellationToken: cts.Token);
        await Poll.UntilAsync(async () => (await Echo.GetStatsAsync(new GetStatsRequest())).StartedCalls == started + 1, TimeSpan.FromSeconds(10), "the Python handler to start");
        cts.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Poll.UntilAsync(async () => (await Echo.GetStatsAsync(new GetStatsRequest())).CancelledCalls >= 1,
            TimeSpan.FromSeconds(5), "the Python handler to see the cancellation (RST_STREAM)");
    }

    [Fact]
    public async Task Metadata_TextAndBinary_RoundTrip()
    {
        var bin = new byte[] { 0xff, 0x00, 0x7f, 0x80 };
        using var call = Echo.EchoAsync(new EchoRequest(), new Metadata { { "x-echo-a", "text value" }, { "x-echo-b-bin", bin }, { "x-trailer-c-bin", bin } });
        var headers = await call.ResponseHeadersAsync;
        await call.ResponseAsync;
        Assert.Equal("text value", headers.GetValue("x-echo-a"));
        Assert.Equal(bin, headers.GetValueBytes("x-echo-b-bin"));
        Assert.Equal(bin, call.GetTrailers().GetValueBytes("x-trailer-c-bin"));
    }

    [Fact]
    public async Task Oversize_RequestRejectedByServer_ResponseRejectedByClient()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Echo.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => Echo.EchoAsync(new EchoRequest { ResponseSize = 5 * 1024 * 1024 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal("ok", (await Echo.EchoAsync(new EchoRequest { Message = "ok" })).Message);
    }

    [Fact]
    public async Task Gzip_RequestAndResponse()
    {
        var payload = ByteString.CopyFrom(new byte[60_000]);
        var responses = new System.Collections.Concurrent.ConcurrentQueue<HttpResponseMessage>();
        using var channel = TestServer.RecordingChannel(_channel!.SocketPath, responses);
        // The C core hides grpc-encoding from handlers, so the server cannot report it; a compressed
        // request it could not decode would fail the call, and the response must arrive gzip-encoded.
        using var call = new EchoService.EchoServiceClient(channel.Invoker).EchoAsync(new EchoRequest { Payload = payload },
            new Metadata { { "grpc-internal-encoding-request", "gzip" }, { "x-response-encoding", "gzip" } });
        var r = await call.ResponseAsync;
        Assert.Equal(payload, r.Payload);
        Assert.Equal("gzip", TestServer.ResponseEncoding(responses));
    }

    [Fact]
    public async Task Health_Check_Serving()
    {
        var r = await new Health.HealthClient(_channel!.Invoker).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, r.Status);
    }

    [Fact]
    public async Task UnknownMethod_Unimplemented()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => new Vigil.Vrrp.V1.VrrpService.VrrpServiceClient(_channel!.Invoker).GetDaemonInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
    }
}
