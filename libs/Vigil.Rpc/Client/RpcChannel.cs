using System.Buffers;
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
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            // Unary responses are buffered whole: one message, its frame header and a margin.
            MaxResponseContentBufferSize = (long)options.MaxReceiveMessageSize + MessageFraming.HeaderSize + 1024,
        };
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

    /// <summary>
    /// A unary call: the response, or an <see cref="RpcException"/> with the status. The common
    /// case, so it takes a short path: the response is buffered whole and parsed in one go.
    /// (Use <see cref="Start"/> to see response headers and trailers.)
    /// </summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        using var message = ClientProtocol.CreateRequest(method.RequestUri, options, out var timeout);
        message.Content = new ByteArrayContent(ClientProtocol.Frame(request, Options, options.CompressRequests));
        message.Content.Headers.ContentType = ClientProtocol.GrpcContentType;
        using var deadline = timeout is { } left ? CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken) : null;
        deadline?.CancelAfter(timeout!.Value);
        var token = deadline?.Token ?? options.CancellationToken;
        HttpResponseMessage? response = null;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, token);
            if (ClientProtocol.CheckHeaders(response) is { } early)
            {
                throw new RpcException(early.Code == StatusCode.OK
                    ? new Status(StatusCode.Internal, "Failed to deserialize response message: the call ended OK without one.")
                    : early, ClientProtocol.ToMetadata(response.Headers));
            }
            var whole = await response.Content.ReadAsByteArrayAsync(token);
            TResponse? result = null;
            if (MessageFraming.SingleUncompressedLength(whole, Options.MaxReceiveMessageSize) is var length and >= 0)
            {
                result = ParseResponse(method, whole, MessageFraming.HeaderSize, length);
            }
            else
            {
                var body = new ReadOnlySequence<byte>(whole);
                var encoding = ClientProtocol.ResponseEncoding(response);
                while (MessageFraming.TryRead(ref body, Options.MaxReceiveMessageSize, encoding, out var bytes))
                {
                    if (result is not null) throw new RpcException(StatusCode.Internal, "Received more than one response message for a single-response call.");
                    result = ParseResponse(method, bytes, 0, bytes.Length);
                }
                if (body.Length > 0) throw new RpcException(StatusCode.Internal, "The response ended inside a message.");
            }
            var status = ClientProtocol.ReadStatus(response.TrailingHeaders);
            if (status.Code != StatusCode.OK) throw new RpcException(status, ClientProtocol.ToMetadata(response.TrailingHeaders));
            return result ?? throw new RpcException(StatusCode.Internal, "Failed to deserialize response message: the call ended OK without one.");
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            var deadlineHit = deadline?.IsCancellationRequested == true && !options.CancellationToken.IsCancellationRequested;
            throw new RpcException(ClientProtocol.Failure(e, deadlineHit, options.CancellationToken.IsCancellationRequested, response is not null, SocketPath));
        }
        finally
        {
            response?.Dispose();
        }
    }

    private static TResponse ParseResponse<TRequest, TResponse>(Method<TRequest, TResponse> method, byte[] data, int offset, int length)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        try
        {
            return method.ResponseParser.ParseFrom(data, offset, length);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(StatusCode.Internal, $"Failed to deserialize response message: {e.Message}");
        }
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
