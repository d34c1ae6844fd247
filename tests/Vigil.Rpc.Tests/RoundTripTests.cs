using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>
/// Grpc.Net.Client through <see cref="UnixChannel"/> against <see cref="Server.UnixGrpcServer"/>, in
/// process: every call kind and error path, and the parts Vigil adds (default deadline, exception
/// mapping, streams ended when the server stops, the caller check).
/// </summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task Unary_Echo_ReturnsMessage()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var r = await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "hello", Payload = ByteString.CopyFromUtf8("p") });
        Assert.Equal("hello", r.Message);
        Assert.Equal("p", r.Payload.ToStringUtf8());
        Assert.Equal("application/grpc", r.ContentType);
    }

    [Fact]
    public async Task Unary_Error_CarriesStatusAndPercentEncodedMessage()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => TestServer.Client(channel).EchoAsync(
            new EchoRequest { FailCode = (int)StatusCode.InvalidArgument, FailMessage = "field 'x': 100% wrong ✗\nline" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("field 'x': 100% wrong ✗\nline", e.Status.Detail);
    }

    [Fact]
    public async Task ServerStreaming_Count_AllMessagesInOrder()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        using var call = TestServer.Client(channel).ServerStream(new ServerStreamRequest { Count = 50, PayloadSize = 10 });
        var got = new List<int>();
        await foreach (var m in call.ResponseStream.ReadAllAsync()) got.Add(m.Index);
        Assert.Equal(Enumerable.Range(0, 50), got);
    }

    [Fact]
    public async Task ServerStreaming_FailAfterMessages_ThrowsAfterThem()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var got = 0;
        using var call = TestServer.Client(channel).ServerStream(new ServerStreamRequest { Count = 3, FailCode = 9, FailMessage = "stop" });
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var m in call.ResponseStream.ReadAllAsync()) got++;
        });
        Assert.Equal(3, got);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_Messages_CountedAndJoined()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        using var call = TestServer.Client(channel).ClientStream();
        foreach (var s in new[] { "a", "b", "c" }) await call.RequestStream.WriteAsync(new ClientStreamRequest { Message = s });
        await call.RequestStream.CompleteAsync();
        var r = await call.ResponseAsync;
        Assert.Equal(3, r.Count);
        Assert.Equal("a,b,c", r.Joined);
    }

    [Fact]
    public async Task Bidi_Interleaved_EachEchoedBeforeNextSent()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        using var call = TestServer.Client(channel).Bidi();
        for (var i = 0; i < 5; i++)
        {
            await call.RequestStream.WriteAsync(new BidiRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal($"m{i}", call.ResponseStream.Current.Message);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Deadline_SlowHandler_DeadlineExceededAndHandlerCancelled()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var client = TestServer.Client(channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(
            new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, Deadline.In(TimeSpan.FromMilliseconds(1000))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        await Poll.UntilAsync(async () =>
        {
            var stats = await client.GetStatsAsync(new GetStatsRequest());
            return stats.DeadlineExceededCalls + stats.CancelledCalls == 1;
        }, TimeSpan.FromSeconds(5), "the handler to see its call end");
    }

    [Fact]
    public async Task DefaultDeadline_CallWithoutOne_GetsTheChannelsDeadline()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel(defaultDeadline: TimeSpan.FromSeconds(3));
        var client = TestServer.Client(channel);
        var r = await client.EchoAsync(new EchoRequest { Message = "x" });
        Assert.NotNull(r.TimeRemaining);
        Assert.InRange(r.TimeRemaining.ToTimeSpan(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3));
        // A hung handler does not hang its caller.
        var e = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)) }).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        // An explicit deadline wins.
        r = await client.EchoAsync(new EchoRequest { Message = "x" }, Deadline.In(TimeSpan.FromSeconds(60)));
        Assert.InRange(r.TimeRemaining.ToTimeSpan(), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Cancellation_ClientCancels_HandlerSeesIt()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var client = TestServer.Client(channel);
        using var cts = new CancellationTokenSource();
        using var call = client.EchoAsync(new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, cancellationToken: cts.Token);
        await Poll.UntilAsync(async () => (await client.GetStatsAsync(new GetStatsRequest())).StartedCalls == 1, TimeSpan.FromSeconds(10), "the handler to start");
        cts.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Poll.UntilAsync(async () => (await client.GetStatsAsync(new GetStatsRequest())).CancelledCalls == 1,
            TimeSpan.FromSeconds(5), "the handler to see the cancellation");
    }

    [Fact]
    public async Task Metadata_TextAndBinary_RoundTripAsHeadersAndTrailers()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var bin = new byte[] { 0, 1, 2, 250, 255 };
        var headers = new Metadata { { "x-echo-text", "value 1" }, { "x-echo-data-bin", bin }, { "x-trailer-t", "tv" }, { "x-trailer-b-bin", bin } };
        using var call = TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "m" }, headers);
        var h = await call.ResponseHeadersAsync;
        await call.ResponseAsync;
        Assert.Equal("value 1", h.GetValue("x-echo-text"));
        Assert.Equal(bin, h.GetValueBytes("x-echo-data-bin"));
        Assert.Equal("tv", call.GetTrailers().GetValue("x-trailer-t"));
        Assert.Equal(bin, call.GetTrailers().GetValueBytes("x-trailer-b-bin"));
    }

    [Fact]
    public async Task MaxReceive_OversizeRequest_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(maxReceive: 1024);
        using var channel = server.Channel();
        var client = TestServer.Client(channel);
        var e = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        // The server is fine afterwards.
        Assert.Equal("ok", (await client.EchoAsync(new EchoRequest { Message = "ok" })).Message);
    }

    [Fact]
    public async Task MaxReceive_OversizeResponse_ClientResourceExhausted()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel(maxReceive: 1000);
        var e = await Assert.ThrowsAsync<RpcException>(() => TestServer.Client(channel).EchoAsync(new EchoRequest { ResponseSize = 5000 }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    [Fact]
    public async Task Gzip_BothDirections_Decoded()
    {
        await using var server = await TestServer.StartAsync();
        var responses = new System.Collections.Concurrent.ConcurrentQueue<HttpResponseMessage>();
        using var channel = TestServer.RecordingChannel(server.SocketPath, responses);
        var payload = ByteString.CopyFrom(new byte[100_000]);
        using var call = TestServer.Client(channel).EchoAsync(new EchoRequest { Payload = payload },
            new Metadata { { "grpc-internal-encoding-request", "gzip" }, { "x-response-encoding", "gzip" } });
        var r = await call.ResponseAsync;
        Assert.Equal("gzip", r.RequestEncoding);
        Assert.Equal("gzip", TestServer.ResponseEncoding(responses));
        Assert.Equal(payload, r.Payload);
    }

    [Fact]
    public async Task UnknownService_Unimplemented()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            new Vigil.Vrrp.V1.VrrpService.VrrpServiceClient(channel.Invoker).GetDaemonInfoAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
    }

    [Fact]
    public async Task Connect_NoServer_Unavailable()
    {
        using var channel = UnixChannel.Open("/tmp/vigil-no-such-socket-" + Guid.NewGuid().ToString("N")[..8]);
        var e = await Assert.ThrowsAsync<RpcException>(() => TestServer.Client(channel).EchoAsync(new EchoRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }

    [Fact]
    public async Task Authorize_Refused_PermissionDenied()
    {
        await using var server = await TestServer.StartAsync(authorize: _ => false);
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => TestServer.Client(channel).EchoAsync(new EchoRequest()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        // Health and reflection are refused too.
        var h = await Assert.ThrowsAsync<RpcException>(() => new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, h.StatusCode);
    }

    [Fact]
    public async Task MapException_TypedError_BecomesItsStatus_OthersUnknownWithTheirText()
    {
        await using var server = await TestServer.StartAsync(mapException: e => e is KeyNotFoundException ? new Status(StatusCode.NotFound, e.Message) : null);
        using var channel = server.Channel();
        var client = TestServer.Client(channel);
        server.Echo.ToThrow = new KeyNotFoundException("no instance named 'VI_9'");
        var e = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(new EchoRequest { Message = "throw" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("no instance named 'VI_9'", e.Status.Detail);
        server.Echo.ToThrow = new InvalidOperationException("broken");
        e = await Assert.ThrowsAsync<RpcException>(() => client.EchoAsync(new EchoRequest { Message = "throw" }).ResponseAsync);
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Contains("broken", e.Status.Detail);
    }

    [Fact]
    public async Task Stop_OpenStreams_EndWithUnavailableAtOnce()
    {
        var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var client = TestServer.Client(channel);
        using var stream = client.ServerStream(new ServerStreamRequest { Count = 1000, Interval = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100)) });
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
        using var watch = new Grpc.Health.V1.Health.HealthClient(channel.Invoker).Watch(new Grpc.Health.V1.HealthCheckRequest());
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var stopping = server.DisposeAsync().AsTask();
        var e = await Assert.ThrowsAsync<RpcException>(async () => { while (await stream.ResponseStream.MoveNext(CancellationToken.None)) { } });
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        // Health watchers hear NOT_SERVING before their stream ends.
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        await stopping;
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1.5), $"stopping took {started.Elapsed}");
    }
}
