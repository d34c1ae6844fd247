using System.Net.Sockets;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Vigil.Rpc.Client;

/// <summary>
/// A Grpc.Net.Client channel to a Vigil socket: HTTP/2 over a Unix domain socket (the authority
/// is "localhost"), and a deadline on every unary and client-streaming call that has none
/// (<see cref="DefaultDeadline"/>), so a hung daemon never hangs its caller. Streaming reads
/// (Watch*) are long-lived and end by cancellation. Generated clients take <see cref="Invoker"/>:
/// <c>new VrrpService.VrrpServiceClient(channel.Invoker)</c>.
/// </summary>
public sealed class UnixChannel : IDisposable
{
    /// <summary>The deadline of calls that set none: long enough for a large ApplyConfig.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    private UnixChannel(string socketPath, GrpcChannel channel, CallInvoker invoker)
    {
        SocketPath = socketPath;
        Channel = channel;
        Invoker = invoker;
    }

    public string SocketPath { get; }
    public GrpcChannel Channel { get; }
    public CallInvoker Invoker { get; }

    public static UnixChannel Open(string socketPath, TimeSpan? defaultDeadline = null, int? maxReceiveMessageSize = null) =>
        Open(socketPath, CreateHandler(socketPath), defaultDeadline, maxReceiveMessageSize);

    /// <summary>A channel over <paramref name="handler"/> (for example one that wraps <see cref="CreateHandler"/>).</summary>
    public static UnixChannel Open(string socketPath, HttpMessageHandler handler, TimeSpan? defaultDeadline = null, int? maxReceiveMessageSize = null)
    {
        var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            // null: gRPC's usual 4 MiB.
            MaxReceiveMessageSize = maxReceiveMessageSize ?? 4 * 1024 * 1024,
        });
        var invoker = channel.Intercept(new DefaultDeadlineInterceptor(defaultDeadline ?? DefaultDeadline));
        return new UnixChannel(socketPath, channel, invoker);
    }

    /// <summary>HTTP/2 to the Unix socket at <paramref name="socketPath"/>, whatever host the request names.</summary>
    public static SocketsHttpHandler CreateHandler(string socketPath) => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        EnableMultipleHttp2Connections = true,
        InitialHttp2StreamWindowSize = 2 * 1024 * 1024,
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    public void Dispose() => Channel.Dispose();
}

/// <summary>Call options with a deadline <paramref name="timeout"/> from now.</summary>
public static class Deadline
{
    public static CallOptions In(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
}

/// <summary>Adds a deadline to unary and client-streaming calls that have none.</summary>
internal sealed class DefaultDeadlineInterceptor(TimeSpan timeout) : Interceptor
{
    private ClientInterceptorContext<TRequest, TResponse> WithDeadline<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class where TResponse : class =>
        context.Options.Deadline is null
            ? new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + timeout))
            : context;

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithDeadline(context));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, WithDeadline(context));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(WithDeadline(context));
}
