using System.Reflection;
using System.Runtime.InteropServices;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Vigil.Hosting.Logging;
using Vigil.Hosting.Telemetry;
using Vigil.Rpc.Server;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Vigil.Hosting;

/// <summary>
/// What every Vigil daemon does around its own work: logging (stderr for the journal, syslog with
/// -S), its gRPC server on RUN_DIR/NAME.sock (Grpc.AspNetCore on the generic host, with health
/// and reflection), heartbeats of its work loops behind grpc.health.v1 and systemd's watchdog,
/// systemd notifications (READY, STOPPING, RELOADING, WATCHDOG), and signals (TERM/INT stop; HUP,
/// USR1, USR2 to handlers).
/// </summary>
public sealed partial class DaemonHost : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly Dictionary<int, Action> _signalHandlers = [];
    private readonly ILogger _logger;

    private DaemonHost(string name, DaemonOptions options)
    {
        Name = name;
        Options = options;
        var sinks = new List<ILogSink> { new StderrSink(name) };
        if (options.SyslogFacility is { } facility) sinks.Add(new SyslogSink(name, facility, options.SyslogSocket));
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
        {
            b.ClearProviders();
            b.SetMinimumLevel(options.LogLevel);
            b.AddProvider(new SinkLoggerProvider(sinks, options.LogLevel));
            // Kestrel's own chatter stays out unless debugging.
            b.AddFilter("Microsoft", options.LogLevel <= LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
            // grpc-dotnet logs every error status a handler returns; the daemons log what matters.
            b.AddFilter("Grpc", options.LogLevel <= LogLevel.Debug ? LogLevel.Debug : LogLevel.Warning);
        });
        _logger = LoggerFactory.CreateLogger(name);
        SocketPath = VigilPaths.Socket(options.RunDir, name);
        Server = new UnixGrpcServer(new UnixGrpcServerOptions
        {
            SocketPath = SocketPath,
            SocketGroup = options.SocketGroup,
            LoggerFactory = LoggerFactory,
            MapException = ErrorMapping.ToStatus,
            // ApplyConfig of a large LVS configuration (tens of thousands of real servers) exceeds gRPC's usual 4 MiB.
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
        Telemetry = new DaemonTelemetry(name, options.Telemetry with { PrometheusAddress = options.PrometheusAddress }, LoggerFactory);
        Notify = new SystemdNotifications();
        Heartbeats = new Heartbeats(LoggerFactory.CreateLogger(name + ".health"));
        Heartbeats.HealthChanged += healthy =>
        {
            if (!_stop.IsCancellationRequested) Server.SetAll(healthy ? ServingStatus.Serving : ServingStatus.NotServing);
        };
        Heartbeats.Evaluated += Notify.FeedWatchdog;
        StartedAt = DateTime.UtcNow;
    }

    public string Name { get; }
    public DaemonOptions Options { get; }
    public string RunDir => Options.RunDir;
    public string SocketPath { get; }
    public ILoggerFactory LoggerFactory { get; }
    public ILogger Logger => _logger;
    public UnixGrpcServer Server { get; }
    public SystemdNotifications Notify { get; }

    /// <summary>The daemon's Meter and ActivitySource, exported by OTLP and/or Prometheus when configured.</summary>
    public DaemonTelemetry Telemetry { get; }

    /// <summary>The daemon's work loops register here; health (grpc.health.v1, WATCHDOG=1) follows them.</summary>
    public Heartbeats Heartbeats { get; }
    public DateTime StartedAt { get; }

    /// <summary>Cancelled on SIGTERM / SIGINT or <see cref="RequestStop"/>.</summary>
    public CancellationToken Stopping => _stop.Token;

    public static string Version { get; } =
        typeof(DaemonHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Parses the shared options; prints help/version or a usage error and returns an exit code when the daemon should not run.</summary>
    public static (DaemonHost? Host, int ExitCode) Create(string name, IReadOnlyList<string> args, string? extraHelp = null, Func<string, bool>? acceptsOption = null)
    {
        DaemonOptions options;
        try
        {
            options = DaemonOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{name}: {e.Message}");
            return (null, 2);
        }
        if (options.ShowHelp)
        {
            Console.Out.WriteLine($"Usage: {name} [options]\n{extraHelp}{DaemonOptions.Help}");
            return (null, 0);
        }
        if (options.ShowVersion)
        {
            Console.Out.WriteLine($"{name} {Version}");
            return (null, 0);
        }
        var unknown = options.Remaining.FirstOrDefault(a => acceptsOption is null || !acceptsOption(a));
        if (unknown is not null)
        {
            Console.Error.WriteLine($"{name}: unknown option '{unknown}' (see --help)");
            return (null, 2);
        }
        return (new DaemonHost(name, options), 0);
    }

    /// <summary>What GetDaemonInfo answers.</summary>
    public Vigil.Types.V1.DaemonInfo Info() => new()
    {
        Name = Name,
        Version = Version,
        Pid = Environment.ProcessId,
        StartedAt = Timestamp.FromDateTime(StartedAt),
        SocketPath = SocketPath,
        Healthy = Heartbeats.IsHealthy,
        Loops = { Heartbeats.ToProto() },
    };

    /// <summary>Runs the handler on the daemon's own thread pool when the signal arrives (HUP, USR1, USR2).</summary>
    public void OnSignal(PosixSignal signal, Action handler) => _signalHandlers[(int)signal] = handler;

    public void OnSignal(int signal, Action handler) => _signalHandlers[signal] = handler;

    public void RequestStop() => _stop.Cancel();

    /// <summary>
    /// Starts the RPC server (services must be added before), tells systemd READY, keeps the
    /// watchdog fed, waits for a stop signal, then STOPPING, <paramref name="onStopping"/>, and the
    /// server stops and its socket is removed. Returns the exit code.
    /// </summary>
    public async Task<int> RunAsync(Func<Task>? onStarted = null, Func<Task>? onStopping = null)
    {
        foreach (var sig in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
        {
            _signals.Add(PosixSignalRegistration.Create(sig, ctx =>
            {
                ctx.Cancel = true; // we stop ourselves, cleanly
                LogSignal(ctx.Signal.ToString());
                _stop.Cancel();
            }));
        }
        foreach (var (sig, handler) in _signalHandlers)
        {
            _signals.Add(PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
            {
                ctx.Cancel = true;
                Task.Run(() =>
                {
                    try { handler(); }
                    catch (Exception e) { LogSignalHandlerFailed(e, sig); }
                });
            }));
        }
        // Registered here, not at construction: controld configures it from its configuration file first.
        Telemetry.Register(Server.Services);
        try
        {
            await Server.StartAsync(_stop.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            LogStartFailed(SocketPath, e.Message);
            return 1;
        }
        try
        {
            await Telemetry.StartAsync(Server.Provider!, _stop.Token);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // An opt-in endpoint that cannot listen must not leave a half-running daemon.
            LogStartFailed(Telemetry.Options.PrometheusAddress?.ToString() ?? "the metrics endpoint", e.Message);
            await Server.StopAsync();
            return 1;
        }
        if (onStarted is not null) await onStarted();
        // Health follows the loops from here on (a loop registered late starts with a fresh beat).
        if (!Heartbeats.Evaluate()) Server.SetAll(ServingStatus.NotServing);
        Heartbeats.Start();
        Notify.Ready($"{Name} serving on {SocketPath}");
        LogStarted(Name, Version, SocketPath);
        try
        {
            await Task.Delay(Timeout.Infinite, _stop.Token);
        }
        catch (OperationCanceledException) { }
        Notify.Stopping();
        LogStopping(Name);
        if (onStopping is not null)
        {
            try { await onStopping(); }
            catch (Exception e) { LogStopHandlerFailed(e); }
        }
        await Telemetry.StopAsync();
        await Server.StopAsync();
        LogStopped(Name);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _signals) s.Dispose();
        await Telemetry.DisposeAsync();
        await Server.DisposeAsync();
        Heartbeats.Dispose();
        LoggerFactory.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Daemon} {Version} started, serving on {SocketPath}")]
    private partial void LogStarted(string daemon, string version, string socketPath);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "received {Signal}, stopping")]
    private partial void LogSignal(string signal);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Daemon} stopping")]
    private partial void LogStopping(string daemon);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "{Daemon} stopped")]
    private partial void LogStopped(string daemon);

    [LoggerMessage(EventId = 5, Level = LogLevel.Critical, Message = "cannot serve on {SocketPath}: {Reason}")]
    private partial void LogStartFailed(string socketPath, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "handler of signal {Signal} failed")]
    private partial void LogSignalHandlerFailed(Exception e, int signal);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "stop handler failed")]
    private partial void LogStopHandlerFailed(Exception e);
}
