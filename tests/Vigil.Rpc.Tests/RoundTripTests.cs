using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>Vigil's client against Vigil's server, in process: every call kind and error path.</summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task Unary_Echo_ReturnsMessage()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var r = await channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Message = "hello", Payload = ByteString.CopyFromUtf8("p") });
        Assert.Equal("hello", r.Message);
        Assert.Equal("p", r.Payload.ToStringUtf8());
        Assert.Equal("application/grpc", r.ContentType);
    }

    [Fact]
    public async Task Unary_Error_CarriesStatusAndPercentEncodedMessage()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo,
            new EchoRequest { FailCode = (int)StatusCode.InvalidArgument, FailMessage = "field 'x': 100% wrong ✗\nline" }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("field 'x': 100% wrong ✗\nline", e.Status.Message);
    }

    [Fact]
    public async Task ServerStreaming_Count_AllMessagesInOrder()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var got = new List<int>();
        await foreach (var m in channel.ServerStreamingAsync(EchoMethods.ServerStream, new ServerStreamRequest { Count = 50, PayloadSize = 10 }))
        {
            got.Add(m.Index);
        }
        Assert.Equal(Enumerable.Range(0, 50), got);
    }

    [Fact]
    public async Task ServerStreaming_FailAfterMessages_ThrowsAfterThem()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var got = 0;
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var m in channel.ServerStreamingAsync(EchoMethods.ServerStream, new ServerStreamRequest { Count = 3, FailCode = 9, FailMessage = "stop" })) got++;
        });
        Assert.Equal(3, got);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [Fact]
    public async Task ClientStreaming_Messages_CountedAndJoined()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        await using var call = channel.Start(EchoMethods.ClientStream);
        foreach (var s in new[] { "a", "b", "c" }) await call.WriteAsync(new ClientStreamRequest { Message = s });
        await call.CompleteRequestAsync();
        var r = await call.ResponseAsync;
        Assert.Equal(3, r.Count);
        Assert.Equal("a,b,c", r.Joined);
    }

    [Fact]
    public async Task Bidi_Interleaved_EachEchoedBeforeNextSent()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        await using var call = channel.Start(EchoMethods.Bidi);
        var responses = call.ReadAllAsync().GetAsyncEnumerator();
        for (var i = 0; i < 5; i++)
        {
            await call.WriteAsync(new BidiRequest { Message = $"m{i}" });
            Assert.True(await responses.MoveNextAsync());
            Assert.Equal($"m{i}", responses.Current.Message);
            Assert.Equal(i, responses.Current.Index);
        }
        await call.CompleteRequestAsync();
        Assert.False(await responses.MoveNextAsync());
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    [Fact]
    public async Task Deadline_SlowHandler_DeadlineExceededAndHandlerCancelled()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo,
            new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) },
            CallOptions.WithTimeout(TimeSpan.FromMilliseconds(1000))));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        // The client resets the stream at its deadline, a moment before the server's own deadline
        // (counted from arrival) fires, so the handler sees one or the other; the server-only path
        // is ProtocolEdgeTests.GrpcTimeout_ClientNeverCancels_ServerEndsCallWithDeadlineExceeded.
        await Poll.UntilAsync(async () =>
        {
            var stats = await channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest());
            return stats.DeadlineExceededCalls + stats.CancelledCalls == 1;
        }, TimeSpan.FromSeconds(5), "the handler to see its call end");
    }

    [Fact]
    public async Task Cancellation_ClientCancels_HandlerSeesIt()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        using var cts = new CancellationTokenSource();
        var call = channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Delay = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)) }, new CallOptions { CancellationToken = cts.Token });
        await Poll.UntilAsync(async () => (await channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest())).StartedCalls == 1, TimeSpan.FromSeconds(10), "the handler to start");
        cts.Cancel();
        var e = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
        await Poll.UntilAsync(async () => (await channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest())).CancelledCalls == 1,
            TimeSpan.FromSeconds(5), "the handler to see the cancellation");
    }

    [Fact]
    public async Task Metadata_TextAndBinary_RoundTripAsHeadersAndTrailers()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var bin = new byte[] { 0, 1, 2, 250, 255 };
        var headers = new Metadata().Add("x-echo-text", "value 1").Add("x-echo-data-bin", bin).Add("x-trailer-t", "tv").Add("x-trailer-b-bin", bin);
        await using var call = channel.Start(EchoMethods.Echo, new CallOptions { Headers = headers }, new EchoRequest { Message = "m" });
        var h = await call.ResponseHeadersAsync;
        await call.ResponseAsync;
        Assert.Equal("value 1", h.Get("x-echo-text"));
        Assert.Equal(bin, h.GetBytes("x-echo-data-bin"));
        Assert.Equal("tv", call.GetTrailers().Get("x-trailer-t"));
        Assert.Equal(bin, call.GetTrailers().GetBytes("x-trailer-b-bin"));
    }

    [Fact]
    public async Task MaxReceive_OversizeRequest_ResourceExhausted()
    {
        await using var server = await TestServer.StartAsync(maxReceive: 1024);
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[2048]) }));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        // The server is fine afterwards.
        Assert.Equal("ok", (await channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Message = "ok" })).Message);
    }

    [Fact]
    public async Task MaxReceive_OversizeResponse_ClientResourceExhausted()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel(new RpcChannelOptions { MaxReceiveMessageSize = 1000 });
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { ResponseSize = 5000 }));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    [Fact]
    public async Task Gzip_BothDirections_Decoded()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var payload = ByteString.CopyFrom(new byte[100_000]);
        var r = await channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Payload = payload },
            new CallOptions { CompressRequests = true, Headers = new Metadata().Add("x-response-encoding", "gzip") });
        Assert.Equal("gzip", r.RequestEncoding);
        Assert.Equal(payload, r.Payload);
    }

    [Fact]
    public async Task UnknownMethod_Unimplemented()
    {
        await using var server = await TestServer.StartAsync();
        using var channel = server.Channel();
        var bogus = Method<Vigil.Vrrp.V1.GetDaemonInfoRequest, Vigil.Vrrp.V1.GetDaemonInfoResponse>.Create(
            Vigil.Vrrp.V1.VrrpReflection.Descriptor.Services[0].FindMethodByName("GetDaemonInfo"));
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(bogus, new()));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.Contains("vigil.vrrp.v1.VrrpService", e.Status.Message);
    }

    [Fact]
    public async Task Connect_NoServer_Unavailable()
    {
        using var channel = RpcChannel.ForUnixSocket("/tmp/vigil-no-such-socket-" + Guid.NewGuid().ToString("N")[..8]);
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo, new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Contains("cannot connect", e.Status.Message);
    }

    [Fact]
    public async Task Authorize_Refused_PermissionDenied()
    {
        await using var server = await TestServer.StartAsync(authorize: _ => false);
        using var channel = server.Channel();
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Echo, new EchoRequest()));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
