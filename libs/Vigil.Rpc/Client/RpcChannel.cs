using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Vigil.Rpc.Protocol;

namespace Vigil.Rpc.Client;

public sealed class RpcChannelOptions
{
    /// <summary>Largest response message accepted; larger gets RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = MessageFraming.DefaultMaxReceiveSize;
    /// <summary>Largest request message sent; null for no limit.</summary>
    public int? MaxSendMessageSize { get; init; }
    /// <summary>How long to wait for the socket connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// A client connection to a gRPC server on a Unix socket: HttpClient with HTTP/2 prior knowledge,
/// the socket connected by SocketsHttpHandler.ConnectCallback. Thread-safe; share one per server.
/// </summary>
public sealed class RpcChannel : IDisposable
{
    private readonly HttpClient _http;

    private RpcChannel(string socketPath, RpcChannelOptions options)
    {
        SocketPath = socketPath;
        Options = options;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            InitialHttp2StreamWindowSize = 2 * 1024 * 1024,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }
    public RpcChannelOptions Options { get; }

    public static RpcChannel ForUnixSocket(string socketPath, RpcChannelOptions? options = null) => new(socketPath, options ?? new RpcChannelOptions());

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    internal HttpClient Http => _http;

    /// <summary>Starts a call of any kind; see <see cref="ClientCall{TRequest,TResponse}"/>.</summary>
    public ClientCall<TRequest, TResponse> Start<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default, TRequest? request = null)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
        => new(this, method, options, request);

    /// <summary>A unary call: the response, or an <see cref="RpcException"/> with the status.</summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        await using var call = Start(method, options, request);
        return await call.ResponseAsync;
    }

    /// <summary>A server-streaming call's responses; throws <see cref="RpcException"/> if it ends with an error.</summary>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        await using var call = Start(method, options, request);
        await foreach (var r in call.ReadAllAsync())
        {
            yield return r;
        }
    }

    public void Dispose() => _http.Dispose();
}
