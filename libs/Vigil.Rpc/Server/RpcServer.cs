using System.Collections.Concurrent;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Rpc.Protocol;
using Vigil.Rpc.Server.Health;
using Vigil.Rpc.Server.Reflection;

namespace Vigil.Rpc.Server;

public sealed class RpcServerOptions
{
    /// <summary>The Unix socket to listen on.</summary>
    public required string SocketPath { get; init; }
    /// <summary>The socket file's mode (default 0660: owner and group).</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    /// <summary>The socket file's group (members may call); null keeps the process's group.</summary>
    public uint? SocketGroup { get; init; }
    /// <summary>Largest request message accepted (after decompression); larger gets RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = MessageFraming.DefaultMaxReceiveSize;
    /// <summary>Largest response message sent; null for no limit.</summary>
    public int? MaxSendMessageSize { get; init; }
    /// <summary>Decides who may call, from SO_PEERCRED. Default: root, the server's own user, or a member of the socket's group.</summary>
    public Func<PeerCredentials, bool>? Authorize { get; init; }
    /// <summary>Maps a handler's exception to a status (the daemons map their typed core errors); null falls back to UNKNOWN.</summary>
    public Func<Exception, Status?>? MapException { get; init; }
    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>
/// A gRPC server on a Unix socket: Kestrel with HTTP/2 only (prior knowledge), one terminal
/// request delegate that dispatches by path to the bound services. Every server also serves
/// grpc.health.v1.Health and server reflection (v1 and v1alpha) over all its services.
/// </summary>
public sealed partial class RpcServer : IAsyncDisposable
{
    private readonly RpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, MethodHandler> _methods = new(StringComparer.Ordinal);
    private readonly HashSet<string> _services = new(StringComparer.Ordinal);
    private readonly List<ServiceDescriptor> _descriptors = [];
    private readonly ConcurrentDictionary<string, PeerCredentials?> _peers = new();
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private uint _ownUid;

    public RpcServer(RpcServerOptions options)
    {
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vigil.Rpc.Server");
        Health = new HealthStatusManager();
        AddService(Grpc.Health.V1.HealthReflection.Descriptor.Services[0], new HealthService(Health));
        var reflection = new ReflectionService(() => _descriptors);
        AddService(Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0], reflection);
        AddService(Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0], new ReflectionServiceV1Alpha(reflection));
    }

    /// <summary>The health status of each service, served by grpc.health.v1.Health.</summary>
    public HealthStatusManager Health { get; }

    public string SocketPath => _options.SocketPath;

    /// <summary>Binds a service implementation (see <see cref="ServiceBinder"/> for the method signatures).</summary>
    public RpcServer AddService(ServiceDescriptor service, object implementation)
    {
        if (_app is not null) throw new InvalidOperationException("services must be added before the server starts");
        if (!_services.Add(service.FullName)) throw new InvalidOperationException($"service {service.FullName} is already bound");
        foreach (var handler in ServiceBinder.Bind(service, implementation))
        {
            _methods[handler.Path] = handler;
        }
        _descriptors.Add(service);
        return this;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _ownUid = (uint)Environment.ProcessId > 0 ? GetEuid() : 0;
        UnixSocketFile.PrepareForBind(_options.SocketPath);
        // Bound in a private (0700) directory next to its final path, given its mode and group there,
        // then renamed into place: never reachable with a wider mode, and without touching the process
        // umask, which every other thread and every child started meanwhile would inherit.
        var staging = UnixSocketFile.CreateStagingDirectory(_options.SocketPath);
        var bindPath = staging is null ? _options.SocketPath : Path.Combine(staging, "s");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        if (_options.LoggerFactory is not null) builder.Services.AddSingleton(_options.LoggerFactory);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
            k.Limits.KeepAliveTimeout = TimeSpan.FromDays(1);
            k.ListenUnixSocket(bindPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(next => connection => TrackPeerAsync(connection, next));
            });
        });
        _app = builder.Build();
        _app.Run(HandleAsync);

        // A path too long to stage (sun_path holds 107 bytes) is bound in place under a narrowed
        // umask instead, which is process-wide for as long as the start takes.
        uint? savedUmask = staging is null ? UnixSocketFile.SetUmask((uint)(~(int)_options.SocketMode & 0x1FF)) : null;
        try
        {
            try
            {
                await _app.StartAsync(cancellationToken);
            }
            finally
            {
                if (savedUmask is { } umask) UnixSocketFile.SetUmask(umask);
            }
            File.SetUnixFileMode(bindPath, _options.SocketMode);
            if (_options.SocketGroup is { } gid) UnixSocketFile.SetGroup(bindPath, gid);
            if (staging is not null) UnixSocketFile.Rename(bindPath, _options.SocketPath);
        }
        finally
        {
            if (staging is not null)
            {
                try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
            }
        }
        foreach (var service in _services) Health.SetStatus(service, ServingStatus.Serving);
        Health.SetStatus("", ServingStatus.Serving);
        LogListening(_options.SocketPath);
    }

    /// <summary>Stops accepting calls, tells health watchers NOT_SERVING, cancels running calls and removes the socket file.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_app is null) return;
        Health.SetAll(ServingStatus.NotServing);
        var app = _app;
        _app = null;
        using (var cts = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(2)))
        {
            // Long-lived streams (Watch*) end when the server stops; give unary calls a moment first.
            _ = Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None).ContinueWith(_ => _stopping.Cancel(), TaskScheduler.Default);
            try { await app.StopAsync(cts.Token); } catch (OperationCanceledException) { }
        }
        _stopping.Cancel();
        await app.DisposeAsync();
        try { File.Delete(_options.SocketPath); } catch (IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task TrackPeerAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        _peers[connection.ConnectionId] = socket is null ? null : PeerCredentials.FromSocket(socket);
        try
        {
            await next(connection);
        }
        finally
        {
            _peers.TryRemove(connection.ConnectionId, out _);
        }
    }

    private bool IsAuthorized(PeerCredentials? peer)
    {
        if (peer is null) return false;
        if (_options.Authorize is { } authorize) return authorize(peer);
        if (peer.Uid == 0 || peer.Uid == _ownUid) return true;
        return UnixSocketFile.GetGroup(_options.SocketPath) is { } gid && peer.IsInGroup(gid);
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (!GrpcHttp.IsGrpcContentType(request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            http.Response.ContentType = "text/plain";
            await http.Response.WriteAsync($"Content-Type '{request.ContentType}' is not supported; gRPC calls use application/grpc.");
            return;
        }
        _peers.TryGetValue(http.Connection.Id, out var peer);
        if (!IsAuthorized(peer))
        {
            LogDenied(request.Path, peer?.ToString() ?? "unknown peer");
            await TrailersOnlyAsync(http, new Status(StatusCode.PermissionDenied,
                $"permission denied: {(peer is null ? "unknown peer" : $"uid {peer.Uid}")} is not root and not in the group of {_options.SocketPath}"));
            return;
        }
        var path = request.Path.Value ?? "";
        if (!_methods.TryGetValue(path, out var handler))
        {
            var service = path.Length > 1 && path.IndexOf('/', 1) is var slash and > 0 ? path[1..slash] : path.TrimStart('/');
            var message = _services.Contains(service) ? $"Method is unimplemented: {path}" : $"Service is unimplemented: {service}";
            await TrailersOnlyAsync(http, new Status(StatusCode.Unimplemented, message));
            return;
        }
        var encoding = request.Headers[GrpcHttp.EncodingHeader].ToString();
        if (encoding.Length > 0 && encoding is not ("identity" or "gzip"))
        {
            await TrailersOnlyAsync(http, new Status(StatusCode.Unimplemented,
                $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: identity, gzip"));
            return;
        }

        using var call = new CallState(http, handler, _options, peer, _stopping.Token);
        var context = new ServerCallContext(call);
        Status status;
        try
        {
            await handler.RunAsync(call, context);
            status = Status.Ok;
        }
        catch (RpcException e)
        {
            foreach (var t in e.Trailers) AddTrailer(call.ResponseTrailers, t);
            status = e.Status;
        }
        catch (OperationCanceledException) when (call.IsCancelled)
        {
            status = call.DeadlineExceeded ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
                : _stopping.IsCancellationRequested && !call.ClientCancelled ? new Status(StatusCode.Unavailable, "The server is stopping.")
                : new Status(StatusCode.Cancelled, "Call canceled by the client.");
        }
        catch (Exception e) when (_options.MapException?.Invoke(e) is { } mapped)
        {
            status = mapped;
        }
        catch (Exception e)
        {
            LogHandlerFailed(e, path);
            status = new Status(StatusCode.Unknown, $"Exception was thrown by handler: {e.GetType().Name}: {e.Message}");
        }
        await call.CompleteAsync(call.DeadlineExceeded ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded") : status);
    }

    private static void AddTrailer(Metadata target, Metadata.Entry e)
    {
        if (e.IsBinary) target.Add(e.Key, e.ValueBytes!);
        else target.Add(e.Key, e.Value!);
    }

    private static async Task TrailersOnlyAsync(HttpContext http, Status status)
    {
        var response = http.Response;
        response.StatusCode = 200;
        response.ContentType = GrpcHttp.ContentType;
        response.Headers[GrpcHttp.AcceptEncodingHeader] = GrpcHttp.SupportedEncodings;
        response.Headers[GrpcHttp.StatusHeader] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[GrpcHttp.MessageHeader] = PercentEncoding.Encode(status.Message);
        await response.CompleteAsync();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "gRPC server listening on {SocketPath}")]
    private partial void LogListening(string socketPath);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "permission denied for {Path} to {Peer}")]
    private partial void LogDenied(string path, string peer);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "handler of {Path} failed")]
    private partial void LogHandlerFailed(Exception exception, string path);
}
