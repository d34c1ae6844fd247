using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Grpc.Core;
using Vigil.Testing.V1;
using Google.Protobuf;

namespace Vigil.Rpc.Tests;

/// <summary>What the server (Grpc.AspNetCore as Vigil sets it up) answers to requests no well-behaved gRPC client sends.</summary>
public sealed class ProtocolEdgeTests
{
    /// <summary>One gRPC length-prefixed message: compressed flag, 4-byte big-endian length, bytes.</summary>
    private static byte[] Frame(byte[] message, bool compressed)
    {
        var framed = new byte[5 + message.Length];
        framed[0] = compressed ? (byte)1 : (byte)0;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), message.Length);
        message.CopyTo(framed, 5);
        return framed;
    }

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

    private static string? HeaderOrTrailer(HttpResponseMessage r, string name) =>
        Header(r, name) ?? (r.TrailingHeaders.TryGetValues(name, out var v) ? v.First() : null);

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
        var body = Frame(new EchoRequest { Message = "x" }.ToByteArray(), false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc+proto", body, ("te", "trailers")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await r.Content.ReadAsByteArrayAsync();
        Assert.Equal("0", r.TrailingHeaders.GetValues("grpc-status").First());
    }

    [Fact]
    public async Task UnsupportedEncoding_CompressedMessage_UnimplementedWithAcceptEncoding()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = Frame(new EchoRequest().ToByteArray(), true);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body, ("grpc-encoding", "snappy")));
        await r.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(), HeaderOrTrailer(r, "grpc-status"));
        Assert.Contains("snappy", Uri.UnescapeDataString(HeaderOrTrailer(r, "grpc-message")!));
        Assert.Contains("gzip", HeaderOrTrailer(r, "grpc-accept-encoding"));
    }

    /// <summary>An uncompressed message (flag 0) needs no decoding: an unknown grpc-encoding does not matter.</summary>
    [Fact]
    public async Task UnsupportedEncoding_UncompressedMessage_Served()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = Frame(new EchoRequest { Message = "x" }.ToByteArray(), false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body, ("grpc-encoding", "snappy"), ("te", "trailers")));
        await r.Content.ReadAsByteArrayAsync();
        Assert.Equal("0", HeaderOrTrailer(r, "grpc-status"));
    }

    [Fact]
    public async Task ErrorBeforeAnyMessage_IsTrailersOnly()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = Frame(new EchoRequest { FailCode = 7, FailMessage = "nope" }.ToByteArray(), false);
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
        var body = Frame(new EchoRequest().ToByteArray(), true);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body));
        await r.Content.ReadAsByteArrayAsync();
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.Internal).ToString(), status);
    }

    /// <summary>A message that does not parse fails the call (grpc-dotnet reports UNKNOWN where the C core says INTERNAL); the server stays up.</summary>
    [Fact]
    public async Task GarbageMessage_CallFailsAndServerStaysUp()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = Frame([0xff, 0xff, 0xff, 0xff, 0x0f], false);
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body));
        await r.Content.ReadAsByteArrayAsync();
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Contains(status, new[] { ((int)StatusCode.Internal).ToString(), ((int)StatusCode.Unknown).ToString() });
        using var channel = server.Channel();
        Assert.Equal("up", (await TestServer.Client(channel).EchoAsync(new EchoRequest { Message = "up" })).Message);
    }

    [Fact]
    public async Task TruncatedMessage_Internal()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        var body = Frame(new EchoRequest { Message = "abcdef" }.ToByteArray(), false)[..7];
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
        var body = Frame(new EchoRequest { Delay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(30)) }.ToByteArray(), false);
        var started = DateTime.UtcNow;
        using var r = await http.SendAsync(Post("/vigil.testing.v1.EchoService/Echo", "application/grpc", body, ("grpc-timeout", "200m")));
        await r.Content.ReadAsByteArrayAsync();
        var elapsed = DateTime.UtcNow - started;
        var status = Header(r, "grpc-status") ?? r.TrailingHeaders.GetValues("grpc-status").First();
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(), status);
        Assert.InRange(elapsed.TotalMilliseconds, 190, 5000);
        using var channel = server.Channel();
        var stats = await TestServer.Client(channel).GetStatsAsync(new GetStatsRequest());
        Assert.Equal(1, stats.DeadlineExceededCalls);
    }

    /// <summary>Only POST reaches a gRPC method: grpc-dotnet's routing answers a GET with 404.</summary>
    [Fact]
    public async Task Get_NotServed()
    {
        await using var server = await TestServer.StartAsync();
        using var http = RawClient(server.SocketPath);
        using var m = new HttpRequestMessage(HttpMethod.Get, "http://localhost/vigil.testing.v1.EchoService/Echo") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var r = await http.SendAsync(m);
        Assert.Contains(r.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed });
    }
}
