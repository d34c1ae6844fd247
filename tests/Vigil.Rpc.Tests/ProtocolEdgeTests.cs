using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Vigil.Rpc.Protocol;
using Vigil.Testing.V1;
using Google.Protobuf;

namespace Vigil.Rpc.Tests;

/// <summary>What the server answers to requests no well-behaved gRPC client sends.</summary>
public sealed class ProtocolEdgeTests
{
    private static HttpClient RawClient(string socket) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
            return new NetworkStream(s, true);
        },
    });

    private static HttpRequestMessage Post(string path, string contentType, byte[] body, params (string, string)[] headers)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, "http://localhost" + path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        m.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (k, v) in headers) m.Headers.TryAddWithoutValidation(k, v);
        return m;
    }

    private static string? Header(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? v.First() : null;

    [Fact]
    public async Task WrongContentType_Http415()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/json", "{}"u8.ToArray()));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
    }

    [Fact]
    public async Task GrpcProtoContentType_Accepted()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest { Message = "x" }.ToByteArray(), false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc+proto", body, ("te", "trailers")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await r.Content.ReadAsByteArrayAsync();
        Assert.Equal("0", r.TrailingHeaders.GetValues("grpc-status").First());
    }

    [Fact]
    public async Task UnsupportedEncoding_UnimplementedWithAcceptEncoding()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest().ToByteArray(), false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body, ("grpc-encoding", "snappy")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(), Header(r, "grpc-status"));
        Assert.Contains("snappy", PercentEncoding.Decode(Header(r, "grpc-message")!));
        Assert.Equal("identity,gzip", Header(r, "grpc-accept-encoding"));
    }

    [Fact]
    public async Task ErrorBeforeAnyMessage_IsTrailersOnly()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest { FailCode = 7, FailMessage = "nope" }.ToByteArray(), false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("7", Header(r, "grpc-status"));
        Assert.Equal("nope", Header(r, "grpc-message"));
        Assert.Empty(await r.Content.ReadAsByteArrayAsync());
        Assert.Empty(r.TrailingHeaders);
    }

    [Fact]
    public async Task CompressedFlagWithoutEncoding_Internal()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest().ToByteArray(), true);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body));
        await r.Content.ReadAsByteArrayAsync();
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.Internal).ToString(), status);
    }

    [Fact]
    public async Task GarbageMessage_InternalAndServerStaysUp()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame([0xff, 0xff, 0xff, 0xff, 0x0f], false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body));
        await r.Content.ReadAsByteArrayAsync();
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.Internal).ToString(), status);
        using var channel = server.Channel();
        Assert.Equal("up", (await channel.UnaryAsync(EchoMethods.Echo, new EchoRequest { Message = "up" })).Message);
    }

    [Fact]
    public async Task TruncatedMessage_Internal()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest { Message = "abcdef" }.ToByteArray(), false)[..7];
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body));
        await r.Content.ReadAsByteArrayAsync();
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.Internal).ToString(), status);
    }

    /// <summary>The server enforces grpc-timeout itself, even when the client never cancels.</summary>
    [Fact]
    public async Task GrpcTimeout_ClientNeverCancels_ServerEndsCallWithDeadlineExceeded()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = MessageFraming.Frame(new EchoRequest { Delay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(30)) }.ToByteArray(), false);
        var started = DateTime.UtcNow;
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body, ("grpc-timeout", "200m")));
        await r.Content.ReadAsByteArrayAsync();
        var elapsed = DateTime.UtcNow - started;
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(), status);
        Assert.InRange(elapsed.TotalMilliseconds, 190, 5000);
        using var channel = server.Channel();
        var stats = await channel.UnaryAsync(EchoMethods.GetStats, new GetStatsRequest());
        Assert.Equal(1, stats.DeadlineExceededCalls);
    }

    [Fact]
    public async Task Get_Http405()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        using var m = new HttpRequestMessage(HttpMethod.Get, "http://localhost/vigil.testing.v1.EchoService/Echo") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var r = await http.SendAsync(m);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
    }
}
