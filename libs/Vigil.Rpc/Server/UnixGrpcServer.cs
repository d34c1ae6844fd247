using System.Diagnostics.CodeAnalysis;
using Grpc.AspNetCore.Server;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Vigil.Rpc.Server;

public sealed class UnixGrpcServerOptions
{
    /// <summary>The Unix socket to listen on.</summary>
    public required string SocketPath { get; init; }
    /// <summary>The socket file's mode (default 0660: owner and group).</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    /// <summary>The socket file's group (members may call); null keeps the process's group.</summary>
    public uint? SocketGroup { get; init; }
    /// <summary>Largest request message accepted; larger gets RESOURCE_EXHAUSTED (grpc-dotnet's default, 4 MiB).</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>Largest response message sent; null for no limit.</summary>
    public int? MaxSendMessageSize { get; init; }
    /// <summary>Who may call, from SO_PEERCRED. Default: root, the server's own user, or a member of the socket's group.</summary>
    public Func<PeerCredentials, bool>? Authorize { get; init; }
    /// <summary>Turns a handler's exception into a status (the daemons map their typed core errors); null: grpc-dotnet's UNKNOWN.</summary>
    public Func<Exception, Grpc.Core.Status?>? MapException { get; init; }
    /// <summary>How long unary calls in flight get to finish when the server stops (streams end at once).</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(2);
    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>
/// A gRPC server on a Unix socket: the generic host with Kestrel (HTTP/2 only, prior knowledge)
/// and Grpc.AspNetCore, plus what every Vigil socket serves: grpc.health.v1 (Grpc.HealthCheck)
/// and server reflection v1 and v1alpha (Grpc.AspNetCore.Server.Reflection). Vigil's own parts
/// are small: the socket file (<see cref="UnixSocketFile"/>), the caller check
/// (<see cref="PeerCredentialsInterceptor"/>) and <see cref="ServerCallInterceptor"/>.
/// Add services and register what they need in <see cref="Services"/> before <see cref="StartAsync"/>.
/// </summary>
public sealed partial class UnixGrpcServer : IAsyncDisposable
{
    private readonly UnixGrpcServerOptions _options;
    private readonly WebApplicationBuilder _builder;
    private readonly List<Action<WebApplication>> _maps = [];
    private readonly List<string> _serviceNames = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private WebApplication? _app;

    public UnixGrpcServer(UnixGrpcServerOptions options)
    {
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vigil.Rpc.Server");
        _builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        if (options.LoggerFactory is not null) _builder.Services.AddSingleton(options.LoggerFactory);
        else _builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        _builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        _builder.Services.AddSingleton(this);
        _builder.Services.AddSingleton(options);
        _builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.StopGrace);
        _builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            o.MaxSendMessageSize = options.MaxSendMessageSize;
            // Callers are local and authorized by their credentials: the exception's text helps them.
            o.EnableDetailedErrors = true;
            // First added runs outermost: the call is timed as the client sees it, refusals and
            // the status mapping of ServerCallInterceptor included.
            o.Interceptors.Add<RpcTelemetryInterceptor>();
            o.Interceptors.Add<PeerCredentialsInterceptor>();
            o.Interceptors.Add<ServerCallInterceptor>();
        });
        _builder.Services.AddGrpcReflection();
        Health = new HealthServiceImpl();
        _builder.Services.AddSingleton(Health);
        Binding = new UnixSocketBinding(options.SocketPath, options.SocketMode, options.SocketGroup);
        _builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
            k.Limits.KeepAliveTimeout = TimeSpan.FromDays(1);
            k.ListenUnixSocket(Binding.BindPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(PeerCredentialsFeature.Capture);
            });
        });
        Map<HealthServiceImpl>(Grpc.Health.V1.Health.Descriptor.FullName);
    }

    /// <summary>Where dependencies of the services go (before <see cref="StartAsync"/>).</summary>
    public IServiceCollection Services => _builder.Services;

    /// <summary>grpc.health.v1 statuses; "" and every added service are SERVING once started, NOT_SERVING once stopping.</summary>
    public HealthServiceImpl Health { get; }

    /// <summary>The full names of the services added (health and reflection included).</summary>
    public IReadOnlyList<string> ServiceNames => _serviceNames;

    public string SocketPath => _options.SocketPath;

    internal UnixSocketBinding Binding { get; }

    internal UnixGrpcServerOptions Options => _options;

    /// <summary>Cancelled when the server begins to stop: streaming calls end with UNAVAILABLE.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The host's services, once started.</summary>
    public IServiceProvider? Provider => _app?.Services;

    /// <summary>Adds a service implemented by <typeparamref name="TService"/> (a generated *Base subclass), one instance for all calls.</summary>
    public UnixGrpcServer AddService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] TService>(
        TService implementation, string serviceName) where TService : class
    {
        if (_app is not null) throw new InvalidOperationException("services must be added before the server starts");
        _builder.Services.AddSingleton(implementation);
        Map<TService>(serviceName);
        return this;
    }

    private void Map<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicMethods | DynamicallyAccessedMemberTypes.NonPublicMethods)] TService>(string serviceName)
        where TService : class
    {
        if (_serviceNames.Contains(serviceName)) throw new InvalidOperationException($"service {serviceName} is already added");
        _serviceNames.Add(serviceName);
        _maps.Add(app => app.MapGrpcService<TService>());
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null) throw new InvalidOperationException("the server has started already");
        Binding.Prepare();
        try
        {
            var app = _builder.Build();
            foreach (var map in _maps) map(app);
            app.MapGrpcReflectionService();
            _app = app;
            await Binding.BindAsync(() => app.StartAsync(cancellationToken));
        }
        catch
        {
            Binding.Abandon();
            throw;
        }
        _serviceNames.Add(Grpc.Reflection.V1.ServerReflection.Descriptor.FullName);
        _serviceNames.Add(Grpc.Reflection.V1Alpha.ServerReflection.Descriptor.FullName);
        SetAll(ServingStatus.Serving);
        LogListening(_options.SocketPath);
    }

    /// <summary>Sets the status of "" and of every service added.</summary>
    public void SetAll(ServingStatus status)
    {
        Health.SetStatus("", status);
        foreach (var s in _serviceNames) Health.SetStatus(s, status);
    }

    /// <summary>
    /// Tells health watchers NOT_SERVING, ends streaming calls (UNAVAILABLE), gives unary calls
    /// <see cref="UnixGrpcServerOptions.StopGrace"/> to finish, and removes the socket file.
    /// </summary>
    public async Task StopAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        SetAll(ServingStatus.NotServing);
        // Health watchers see NOT_SERVING before their stream ends.
        await Task.Delay(50, CancellationToken.None);
        _stopping.Cancel();
        using (var grace = new CancellationTokenSource(_options.StopGrace))
        {
            try { await app.StopAsync(grace.Token); } catch (OperationCanceledException) { }
        }
        await app.DisposeAsync();
        Binding.Remove();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "gRPC server listening on {SocketPath}")]
    private partial void LogListening(string socketPath);
}
