using Google.Protobuf.Reflection;
using Vigil.Rpc.Client;
using Vigil.Rpc.Server;
using Vigil.Testing.V1;

namespace Vigil.Rpc.Tests;

/// <summary>A Vigil RPC server with the Echo service on a fresh socket in a temporary directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public static readonly ServiceDescriptor EchoDescriptor = EchoReflection.Descriptor.Services[0];

    private TestServer(string dir, RpcServer server, EchoService echo)
    {
        Directory = dir;
        Server = server;
        Echo = echo;
    }

    public string Directory { get; }
    public RpcServer Server { get; }
    public EchoService Echo { get; }
    public string SocketPath => Server.SocketPath;

    public static async Task<TestServer> StartAsync(int? maxReceive = null, Func<PeerCredentials, bool>? authorize = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("vigil-rpc-").FullName;
        var server = new RpcServer(new RpcServerOptions
        {
            SocketPath = Path.Combine(dir, "echo.sock"),
            MaxReceiveMessageSize = maxReceive ?? Protocol.MessageFraming.DefaultMaxReceiveSize,
            Authorize = authorize,
        });
        var echo = new EchoService();
        server.AddService(EchoDescriptor, echo);
        await server.StartAsync();
        return new TestServer(dir, server, echo);
    }

    public RpcChannel Channel(RpcChannelOptions? options = null) => RpcChannel.ForUnixSocket(SocketPath, options);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}

/// <summary>Client-side method handles of the Echo service.</summary>
public static class EchoMethods
{
    private static MethodDescriptor M(string name) => TestServer.EchoDescriptor.FindMethodByName(name);
    public static readonly Method<EchoRequest, EchoResponse> Echo = Method<EchoRequest, EchoResponse>.Create(M("Echo"));
    public static readonly Method<ServerStreamRequest, ServerStreamResponse> ServerStream = Method<ServerStreamRequest, ServerStreamResponse>.Create(M("ServerStream"));
    public static readonly Method<ClientStreamRequest, ClientStreamResponse> ClientStream = Method<ClientStreamRequest, ClientStreamResponse>.Create(M("ClientStream"));
    public static readonly Method<BidiRequest, BidiResponse> Bidi = Method<BidiRequest, BidiResponse>.Create(M("Bidi"));
    public static readonly Method<GetStatsRequest, GetStatsResponse> GetStats = Method<GetStatsRequest, GetStatsResponse>.Create(M("GetStats"));
}
