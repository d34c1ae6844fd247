using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Health.V1;
using Vigil.Client;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>Vigil's client against Debian's python3-grpcio server (the gRPC C core).</summary>
[Trait("Category", "Conformance")]
public sealed class PythonServerConformanceTests : IAsyncLifetime
{
    private string _dir = "";
    private LabProcess? _server;
    private RpcChannel? _channel;

    private RpcChannel Channel => _channel!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("vigil-pysrv-").FullName;
        var socket = Path.Combine(_dir, "py.sock");
        _server = await PythonPeer.StartServerAsync(socket);
        _channel = RpcChannel.ForUnixSocket(socket);
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
        var r = await Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Message = "hi", Payload = ByteString.CopyFrom(1, 2, 3) });
        Assert.Equal("hi", r.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, r.Payload.ToByteArray());
    }

    [Fact]
    public async Task Unary_Error_StatusAndUnicodeMessage()
    {
        const string message = "interface 'eth9': not found ✗ 50%";
        var e = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { FailCode = 5, FailMessage = message }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(message, e.Status.Message);
    }

    [Fact]
    public async Task ServerStreaming_AllInOrder_ThenError()
    {
        var got = new List<int>();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var m in Channel.ServerStreamingAsync(EchoMethods.ServerStream, new ServerStreamRequest { Count = 10, FailCode = 10, FailMessage = "aborted" })) got.Add(m.Index);
        });
        Assert.Equal(Enumerable.Range(0, 10), got);
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_CountsMessages()
    {
        await using var call = Channel.Start(EchoMethods.ClientStream);
        for (var i = 0; i < 10; i++) await call.WriteAsync(new ClientStreamRequest { Message = i.ToString() });
        await call.CompleteRequestAsync();
        var r = await call.ResponseAsync;
        Assert.Equal(10, r.Count);
        Assert.Equal("0,1,2,3,4,5,6,7,8,9", r.Joined);
    }

    [Fact]
    public async Task Bidi_PingPong()
    {
        await using var call = Channel.Start(EchoMethods.Bidi);
        var responses = call.ReadAllAsync().GetAsyncEnumerator();
        for (var i = 0; i < 5; i++)
        {
            await call.WriteAsync(new BidiRequest { Message = $"p{i}" });
            Assert.True(await responses.MoveNextAsync());
            Assert.Equal($"p{i}", responses.Current.Message);
        }
        await call.CompleteRequestAsync();
        Assert.False(await responses.MoveNextAsync());
    }

    [Fact]
    public async Task Deadline_ServerSeesItToo()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(EchoMethods.Echo,
            new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(1000))));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        // Vigil resets the stream at its deadline, just before the server's own deadline (counted
        // from arrival) fires, so the handler may see either; it must see the call end.
        await Poll.UntilAsync(async () =>
        {
            var stats = await Channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest());
            return stats.DeadlineExceededCalls + stats.CancelledCalls >= 1;
        }, TimeSpan.FromSeconds(5), "the Python handler to see the call end");
    }

    [Fact]
    public async Task GrpcTimeoutHeader_ServerSeesTheDeadline()
    {
        var r = await Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest(), CallOptions.WithTimeout(TimeSpan.FromSeconds(5)));
        Assert.NotNull(r.TimeRemaining);
        Assert.InRange(r.TimeRemaining.ToTimeSpan().TotalSeconds, 3.0, 5.0);
    }

    [Fact]
    public async Task Cancellation_ServerSeesIt()
    {
        using var cts = new CancellationTokenSource();
        var started = (await Channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest())).StartedCalls;
        var call = Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, new CallOptions { CancellationToken = cts.Token });
        await Poll.UntilAsync(async () => (await Channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest())).StartedCalls == started + 1, TimeSpan.FromSeconds(10), "the Python handler to start");
        cts.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Poll.UntilAsync(async () => (await Channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest())).CancelledCalls >= 1,
            TimeSpan.FromSeconds(5), "the Python handler to see the cancellation (RST_STREAM)");
    }

    [Fact]
    public async Task Metadata_TextAndBinary_RoundTrip()
    {
        var bin = new byte[] { 0xff, 0x00, 0x7f, 0x80 };
        await using var call = Channel.Start(EchoMethods.Echo,
            new CallOptions { Headers = new Metadata().Add("x-echo-a", "text value").Add("x-echo-b-bin", bin).Add("x-trailer-c-bin", bin) },
            new EchoRequest());
        var headers = await call.ResponseHeadersAsync;
        await call.ResponseAsync;
        Assert.Equal("text value", headers.Get("x-echo-a"));
        Assert.Equal(bin, headers.GetBytes("x-echo-b-bin"));
        Assert.Equal(bin, call.GetTrailers().GetBytes("x-trailer-c-bin"));
    }

    [Fact]
    public async Task Oversize_RequestRejectedByServer_ResponseRejectedByClient()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) }));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { ResponseSize = 5 * 1024 * 1024 }));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal("ok", (await Channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Message = "ok" })).Message);
    }

    [Fact]
    public async Task Gzip_RequestAndResponse()
    {
        var payload = ByteString.CopyFrom(new byte[60_000]);
        // The C core hides grpc-encoding from handlers, so the server cannot report it; a compressed
        // request it could not decode would fail the call, and the response must arrive gzip-encoded.
        await using var call = Channel.Start(EchoMethods.Echo,
            new CallOptions { CompressRequests = true, Headers = new Metadata().Add("x-response-encoding", "gzip") },
            new EchoRequest { Payload = payload });
        var r = await call.ResponseAsync;
        Assert.Equal(payload, r.Payload);
        Assert.Equal("gzip", call.ResponseEncoding);
    }

    [Fact]
    public async Task Health_Check_Serving()
    {
        var r = await new HealthClient(Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, r.Status);
    }

    [Fact]
    public async Task UnknownMethod_Unimplemented()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => new VrrpClient(Channel).GetDaemonInfoAsync(new()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
    }
}
