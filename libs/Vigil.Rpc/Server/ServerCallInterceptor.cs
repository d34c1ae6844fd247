using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Vigil.Rpc.Server;

/// <summary>
/// What Vigil asks of every call beyond grpc-dotnet's defaults: streaming calls end with
/// UNAVAILABLE as soon as the server begins to stop (Kestrel would let a Watch stream run until
/// the shutdown timeout and then cut the connection), and a handler's exception is turned into a
/// status by <see cref="UnixGrpcServerOptions.MapException"/> (typed core errors to their codes).
/// </summary>
internal sealed class ServerCallInterceptor(UnixGrpcServer server) : Interceptor
{
    private static readonly Status Stopping = new(StatusCode.Unavailable, "The server is stopping.");

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw new RpcException(status);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw new RpcException(status);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, server.Stopping);
        try
        {
            await continuation(request, responseStream, new StoppableCallContext(context, linked.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw new RpcException(status);
        }
        if (server.Stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested) throw new RpcException(Stopping);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, server.Stopping);
        try
        {
            await continuation(requestStream, responseStream, new StoppableCallContext(context, linked.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, context) is { } status)
        {
            throw new RpcException(status);
        }
        if (server.Stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested) throw new RpcException(Stopping);
    }

    private Status? Map(Exception e, ServerCallContext context)
    {
        if (e is RpcException) return null;
        if (e is OperationCanceledException)
        {
            // The caller cancelled or its deadline passed: grpc-dotnet reports that itself.
            if (context.CancellationToken.IsCancellationRequested) return null;
            if (server.Stopping.IsCancellationRequested) return Stopping;
        }
        return server.Options.MapException?.Invoke(e);
    }

    /// <summary>The call's context with a cancellation token that also fires when the server stops.</summary>
    private sealed class StoppableCallContext : ServerCallContext
    {
        // GetHttpContext() looks for the HttpContext under this key of a context that is not grpc-dotnet's own.
        private const string HttpContextKey = "__HttpContext";
        private readonly ServerCallContext inner;
        private readonly CancellationToken token;

        public StoppableCallContext(ServerCallContext inner, CancellationToken token)
        {
            this.inner = inner;
            this.token = token;
            inner.UserState[HttpContextKey] = inner.GetHttpContext();
        }

        protected override string MethodCore => inner.Method;
        protected override string HostCore => inner.Host;
        protected override string PeerCore => inner.Peer;
        protected override DateTime DeadlineCore => inner.Deadline;
        protected override Metadata RequestHeadersCore => inner.RequestHeaders;
        protected override CancellationToken CancellationTokenCore => token;
        protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;
        protected override Status StatusCore { get => inner.Status; set => inner.Status = value; }
        protected override WriteOptions? WriteOptionsCore { get => inner.WriteOptions; set => inner.WriteOptions = value; }
        protected override AuthContext AuthContextCore => inner.AuthContext;
        protected override IDictionary<object, object> UserStateCore => inner.UserState;
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => inner.CreatePropagationToken(options);
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);
    }
}
