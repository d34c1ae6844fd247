using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Vigil.Rpc.Server;

/// <summary>The caller's credentials, read once per connection (SO_PEERCRED) and kept with it.</summary>
public sealed class PeerCredentialsFeature(PeerCredentials? peer)
{
    public PeerCredentials? Peer { get; } = peer;

    /// <summary>Kestrel connection middleware: reads the peer of each accepted connection.</summary>
    internal static ConnectionDelegate Capture(ConnectionDelegate next) => connection =>
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        connection.Features.Set(new PeerCredentialsFeature(socket is null ? null : PeerCredentials.FromSocket(socket)));
        return next(connection);
    };
}

/// <summary>
/// Lets a call through only when its connection's peer may use the socket: root, the server's own
/// user, or a member of the socket file's group (or what <see cref="UnixGrpcServerOptions.Authorize"/>
/// decides). Others get PERMISSION_DENIED, on every service including health and reflection.
/// </summary>
internal sealed partial class PeerCredentialsInterceptor(UnixGrpcServer server, ILogger<PeerCredentialsInterceptor> logger) : Interceptor
{
    private static readonly uint OwnUid = UnixSocketFile.GetEuid();

    private void Authorize(ServerCallContext context)
    {
        var peer = context.GetHttpContext().Features.Get<PeerCredentialsFeature>()?.Peer;
        if (IsAuthorized(peer)) return;
        LogDenied(context.Method, peer?.ToString() ?? "unknown peer");
        throw new RpcException(new Status(StatusCode.PermissionDenied,
            $"permission denied: {(peer is null ? "unknown peer" : $"uid {peer.Uid}")} is not root and not in the group of {server.SocketPath}"));
    }

    private bool IsAuthorized(PeerCredentials? peer)
    {
        if (peer is null) return false;
        if (server.Options.Authorize is { } authorize) return authorize(peer);
        if (peer.Uid == 0 || peer.Uid == OwnUid) return true;
        return UnixSocketFile.GetGroup(server.SocketPath) is { } gid && peer.IsInGroup(gid);
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "permission denied for {Method} to {Peer}")]
    private partial void LogDenied(string method, string peer);
}
