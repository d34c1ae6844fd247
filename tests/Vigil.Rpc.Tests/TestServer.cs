using Vigil.Rpc.Client;
using Vigil.Rpc.Server;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>A <see cref="UnixGrpcServer"/> with the Echo service on a fresh socket in a temporary directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(string dir, UnixGrpcServer server, TestEchoService echo)
    {
        Directory = dir;
        Server = server;
        Echo = echo;
    }

    public string Directory { get; }
    public UnixGrpcServer Server { get; }
    public TestEchoService Echo { get; }
    public string SocketPath => Server.SocketPath;

    public static async Task<TestServer> StartAsync(int? maxReceive = null, Func<PeerCredentials, bool>? authorize = null,
        Func<Exception, Grpc.Core.Status?>? mapException = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("vigil-rpc-").FullName;
        var server = new UnixGrpcServer(new UnixGrpcServerOptions
        {
            SocketPath = Path.Combine(dir, "echo.sock"),
            MaxReceiveMessageSize = maxReceive ?? 4 * 1024 * 1024,
            Authorize = authorize,
            MapException = mapException,
        });
        var echo = new TestEchoService();
        server.AddService(echo, EchoService.Descriptor.FullName);
        await server.StartAsync();
        return new TestServer(dir, server, echo);
    }

    public UnixChannel Channel(TimeSpan? defaultDeadline = null, int? maxReceive = null) => UnixChannel.Open(SocketPath, defaultDeadline, maxReceive);

    public static EchoService.EchoServiceClient Client(UnixChannel channel) => new(channel.Invoker);

    /// <summary>A channel whose responses' HTTP headers are kept (Grpc.Net.Client hides grpc-encoding from callers).</summary>
    public static UnixChannel RecordingChannel(string socketPath, System.Collections.Concurrent.ConcurrentQueue<HttpResponseMessage> responses) =>
        UnixChannel.Open(socketPath, new RecordingHandler(UnixChannel.CreateHandler(socketPath), responses));

    private sealed class RecordingHandler(HttpMessageHandler inner, System.Collections.Concurrent.ConcurrentQueue<HttpResponseMessage> responses) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var r = await base.SendAsync(request, cancellationToken);
            responses.Enqueue(r);
            return r;
        }
    }

    public static string? ResponseEncoding(System.Collections.Concurrent.ConcurrentQueue<HttpResponseMessage> responses) =>
        responses.LastOrDefault()?.Headers.TryGetValues("grpc-encoding", out var v) == true ? v.First() : null;

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
