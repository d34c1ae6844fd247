using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Vigil.Client;
using Vigil.Config;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Controld.Consul;
using Vigil.Controld.Dispatch;
using Vigil.Controld.Events;
using Vigil.Controld.Supervisor;
using Vigil.Hosting;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Controld;

/// <summary>What controld was asked to run.</summary>
public sealed record ControllerOptions
{
    public string ConfigFile { get; init; } = VigilPaths.DefaultConfigFile;
    public string? ConfigId { get; init; }
    /// <summary>-P: only the VRRP plane.</summary>
    public bool VrrpOnly { get; init; }
    /// <summary>-C: only the checkers.</summary>
    public bool CheckersOnly { get; init; }
    /// <summary>Where vigil-vrrpd and the others are (default: beside vigil-controld).</summary>
    public string ProgramsDirectory { get; init; } = AppContext.BaseDirectory;
    /// <summary>A child silent, or NOT_SERVING, for longer is killed and restarted (--heartbeat-timeout).</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>--supervise: spawn the daemons (default), or watch their systemd units.</summary>
    public SupervisionMode Supervision { get; init; } = SupervisionMode.Spawn;
    /// <summary>Where SIGUSR1/SIGUSR2/SIGJSON write keepalived.data/.stats/.json (--dump-dir): keepalived's tmp_dir, $TMPDIR or /tmp.</summary>
    public string DumpDirectory { get; init; } = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/tmp";
    /// <summary>Options passed on to every child (logging flags).</summary>
    public IReadOnlyList<string> ChildArguments { get; init; } = [];
}

/// <summary>
/// keepalived's parent process, Vigil's way: reads and validates the configuration, starts the
/// daemons it needs with the same run dir, pushes each its part (and the new one on reload), and
/// follows every plane (VRRP, checks, the load balancer's table) for the control API and the
/// node's event log.
/// </summary>
public sealed partial class Controller : IAsyncDisposable
{
    private readonly DaemonHost _host;
    private readonly ControllerOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly VrrpPlaneFollower _vrrpFollower;
    private readonly CheckPlaneFollower _checkFollower;
    private readonly LvsTableFollower _lvsFollower;
    private ChildProcess? _vrrpd;
    private ChildProcess? _checkd;
    private ChildProcess? _ipvsd;
    private readonly Systemctl _systemctl = new();
    private ConsulRegistration? _consul;
    private readonly ConsulMetrics _consulMetrics;

    public Controller(DaemonHost host, ControllerOptions options)
    {
        _host = host;
        _options = options;
        _logger = host.LoggerFactory.CreateLogger("vigil-controld");
        _vrrpFollower = new VrrpPlaneFollower(Events, VigilPaths.Socket(host.RunDir, VigilPaths.Vrrpd), _logger);
        _checkFollower = new CheckPlaneFollower(Events, VigilPaths.Socket(host.RunDir, VigilPaths.Checkd), _logger);
        _lvsFollower = new LvsTableFollower(Events, VigilPaths.Socket(host.RunDir, VigilPaths.Ipvsd), _logger);
        _consulMetrics = new ConsulMetrics(host.Telemetry.Meter, () => _consul);
    }

    /// <summary>The node's ordered event log (WatchEvents).</summary>
    public EventJournal Events { get; } = new();

    public KeepalivedConfig? Config { get; private set; }
    public DateTime ConfigLoadedAt { get; private set; }
    public ControllerOptions Options => _options;
    public int? FatalExitCode { get; private set; }

    /// <summary>The Consul registrar when the configuration has a consul block.</summary>
    public ConsulRegistration? Consul => _consul;

    public IEnumerable<ChildProcess> Children => new[] { _vrrpd, _checkd, _ipvsd }.OfType<ChildProcess>();

    /// <summary>The VRRP instances as vrrpd's event stream last reported them.</summary>
    public IReadOnlyCollection<Instance> Instances => _vrrpFollower.Instances;

    /// <summary>The virtual servers as checkd's event stream last reported them.</summary>
    public IReadOnlyList<Check.V1.VirtualServer> VirtualServers => _checkFollower.VirtualServers;

    /// <summary>The load balancer's table as ipvsd last read it back (null: not heard yet).</summary>
    public Ipvs.V1.ListVirtualServersResponse? LvsTable => _lvsFollower.Table;

    /// <summary>
    /// The instances as vrrpd has them now (master addresses and priorities change without a
    /// transition), or, when vrrpd does not answer, as its event stream last reported them.
    /// </summary>
    public async Task<IReadOnlyCollection<Instance>> CurrentInstancesAsync(CancellationToken cancellationToken)
    {
        if (_vrrpd is { IsReady: true } vrrpd)
        {
            try
            {
                return (await new VrrpService.VrrpServiceClient(vrrpd.Invoker).ListInstancesAsync(new ListInstancesRequest(), Deadline.In(TimeSpan.FromSeconds(1), cancellationToken))).Instances;
            }
            catch (RpcException) { /* fall back to the relayed state */ }
        }
        return Instances;
    }

    /// <summary>
    /// The virtual servers with their real servers as checkd has them now (weights and health
    /// change without events), or, when checkd does not answer, as its stream last reported them
    /// (the failure is added to <paramref name="unavailable"/>). Null when checkd is not a child.
    /// </summary>
    public async Task<IReadOnlyCollection<Check.V1.VirtualServer>?> CurrentVirtualServersAsync(ICollection<string> unavailable, TimeSpan deadline, CancellationToken cancellationToken)
    {
        if (Children.FirstOrDefault(c => c.Name == VigilPaths.Checkd) is not { } checkd) return null;
        try
        {
            return (await new Check.V1.CheckService.CheckServiceClient(checkd.Invoker)
                .ListVirtualServersAsync(new Check.V1.ListVirtualServersRequest(), Deadline.In(deadline, cancellationToken))).VirtualServers;
        }
        catch (RpcException e)
        {
            unavailable.Add($"{VigilPaths.Checkd}: {e.StatusCode}: {e.Status.Detail}");
            return VirtualServers;
        }
    }

    /// <summary>Reads the configuration; logs every diagnostic. Null when it cannot run.</summary>
    public ConfigLoadResult Load()
    {
        var options = new ConfigLoadOptions { Host = SystemHostEnvironment.Instance };
        if (_options.ConfigId is not null) options = options with { ConfigId = _options.ConfigId };
        var result = ConfigLoader.Load(_options.ConfigFile, options);
        foreach (var d in result.Diagnostics)
        {
            if (d.Severity == DiagnosticSeverity.Error) LogConfigError(d.ToString());
            else LogConfigWarning(d.ToString());
        }
        return result;
    }

    /// <summary>Loads the configuration and starts the daemons it needs.</summary>
    public bool Start()
    {
        var result = Load();
        if (result.Config is null)
        {
            LogCannotRun(_options.ConfigFile, result.ExitCode);
            return false;
        }
        Config = result.Config;
        ConfigLoadedAt = DateTime.UtcNow;
        ApplyMetrics(Config.Metrics);
        if (!_options.CheckersOnly && Config.Instances.Count > 0)
        {
            _vrrpd = StartChild(VigilPaths.Vrrpd, PushVrrpAsync);
            _vrrpFollower.Start();
        }
        else
        {
            LogNoVrrp();
        }
        if (!_options.VrrpOnly && Config.VirtualServers.Count > 0)
        {
            _checkd = StartChild(VigilPaths.Checkd, PushCheckAsync);
            _ipvsd = StartChild(VigilPaths.Ipvsd, PushIpvsAsync);
            _checkFollower.Start();
            _lvsFollower.Start();
        }
        else
        {
            LogNoCheckd();
        }
        ApplyConsul(Config);
        return true;
    }

    /// <summary>
    /// Starts, keeps, replaces or stops the Consul registrar for the consul block of
    /// <paramref name="config"/>. Never waits for the agent: a registrar being replaced
    /// deregisters on its own task.
    /// </summary>
    private void ApplyConsul(KeepalivedConfig config)
    {
        if (_consul is { } current && current.Settings == config.Consul)
        {
            current.SetConfig(config);
            return;
        }
        if (_consul is { } old)
        {
            _consulMetrics.Retire(old, () => _consul = null);
            _ = Task.Run(async () => await old.DisposeAsync());
        }
        if (config.Consul is not { } settings) return;
        Vigil.Consul.ConsulClientOptions clientOptions;
        try
        {
            clientOptions = ConsulRegistration.ClientOptionsFor(settings, Environment.GetEnvironmentVariable);
        }
        catch (FormatException e)
        {
            LogConsulDisabled(e.Message);
            return;
        }
        Vigil.Consul.ConsulClient client;
        try
        {
            client = new Vigil.Consul.ConsulClient(clientOptions);
        }
        catch (Exception e) when (e is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
        {
            LogConsulDisabled($"consul tls files: {e.Message}");
            return;
        }
        var logger = _host.LoggerFactory.CreateLogger("vigil-controld.consul");
        _consul = new ConsulRegistration(config, client, logger);
        _consul.Start(_options.CheckersOnly ? null : _vrrpFollower);
        LogConsulEnabled(clientOptions.Address.ToString(), settings.Ttl.TotalSeconds);
    }

    /// <summary>
    /// The metrics block as controld started with it: its own telemetry, and what its children
    /// are started with (also when restarted). A reload does not change it (see ReloadChanges).
    /// </summary>
    public MetricsSettings? Metrics { get; private set; }

    private void ApplyMetrics(MetricsSettings? metrics)
    {
        Metrics = metrics;
        if (metrics is null) return;
        var t = _host.Telemetry.Options;
        t = t with { PrometheusAddress = metrics.PrometheusAddressOf(VigilPaths.Controld) ?? t.PrometheusAddress };
        if (metrics.OtlpEndpoint is { } endpoint) t = t with { OtlpEndpoint = endpoint };
        if (metrics.OtlpProtocol is { } protocol) t = t with { OtlpProtocol = protocol == OtlpProtocol.Grpc ? OpenTelemetry.Exporter.OtlpExportProtocol.Grpc : OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf };
        if (metrics.OtlpHeaders is { } headers) t = t with { OtlpHeaders = headers };
        if (metrics.OtlpInterval is { } interval) t = t with { OtlpInterval = interval };
        _host.Telemetry.Configure(t);
        if (_options.Supervision == SupervisionMode.Systemd) LogMetricsUnderSystemd();
    }

    /// <summary>The child's share of the metrics block: its scrape port as --prometheus-address, OTLP as OpenTelemetry's standard variables.</summary>
    internal static (List<string> Arguments, Dictionary<string, string> Environment) TelemetryFor(string daemon, MetricsSettings? metrics)
    {
        var args = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metrics is null) return (args, env);
        if (metrics.PrometheusAddressOf(daemon) is { } scrape) args.AddRange(["--prometheus-address", scrape.ToString()]);
        if (metrics.OtlpEndpoint is { } endpoint) env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint.OriginalString;
        if (metrics.OtlpProtocol is { } protocol) env["OTEL_EXPORTER_OTLP_PROTOCOL"] = MetricsSettings.ProtocolName(protocol);
        if (metrics.OtlpHeaders is { } headers) env["OTEL_EXPORTER_OTLP_HEADERS"] = headers;
        if (metrics.OtlpInterval is { } interval) env["OTEL_METRIC_EXPORT_INTERVAL"] = ((long)interval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (args, env);
    }

    private ChildProcess StartChild(string name, Func<ChildProcess, Task> onReady)
    {
        var program = Path.Combine(_options.ProgramsDirectory, name);
        var args = new List<string> { "--run-dir", _host.RunDir };
        args.AddRange(_options.ChildArguments);
        var (telemetryArgs, telemetryEnv) = TelemetryFor(name, Metrics);
        args.AddRange(telemetryArgs);
        var spec = new ChildSpec(name, program, args, VigilPaths.Socket(_host.RunDir, name))
        {
            HeartbeatTimeout = _options.HeartbeatTimeout,
            Unit = _options.Supervision == SupervisionMode.Systemd ? name + ".service" : null,
            Environment = telemetryEnv,
        };
        var child = new ChildProcess(spec, _logger, onReady, OnFatalChildExit, _options.Supervision == SupervisionMode.Systemd ? _systemctl : null)
        {
            Restarting = (c, reason) => Events.Publish(new Control.V1.WatchEventsResponse
            {
                DaemonRestarted = new Control.V1.DaemonRestarted { Name = c.Name, Pid = c.Pid ?? 0, Reason = reason, Restarts = c.Restarts + 1 },
            }),
        };
        child.Start();
        return child;
    }

    private void OnFatalChildExit(ChildProcess child, int exitCode)
    {
        FatalExitCode = exitCode;
        _host.RequestStop();
    }

    /// <summary>Sends vrrpd the VRRP part of the current configuration (on start, restart and reload).</summary>
    private async Task PushVrrpAsync(ChildProcess child)
    {
        var config = Config ?? throw new InvalidOperationException("no configuration loaded");
        var desired = VrrpConfigMapper.ToProto(config);
        var reply = await new VrrpService.VrrpServiceClient(child.Invoker).ApplyConfigAsync(new ApplyConfigRequest { Config = desired }, Deadline.In(TimeSpan.FromSeconds(30)));
        foreach (var line in VrrpConfigMapper.Rejections(reply)) LogChildError(child.Name, line);
        LogPushed(child.Name, desired.Instances.Count, reply.AddedInstances.Count, reply.ChangedInstances.Count, reply.RemovedInstances.Count, reply.UnchangedInstances.Count, reply.RejectedInstances.Count);
    }

    /// <summary>Sends checkd the checker part of the current configuration (on start, restart and reload).</summary>
    private async Task PushCheckAsync(ChildProcess child)
    {
        var config = Config ?? throw new InvalidOperationException("no configuration loaded");
        var desired = CheckConfigMapper.ToProto(config);
        var reply = await new Check.V1.CheckService.CheckServiceClient(child.Invoker).ApplyConfigAsync(new Check.V1.ApplyConfigRequest { Config = desired }, Deadline.In(TimeSpan.FromSeconds(30)));
        foreach (var warning in reply.Warnings) LogCheckWarning(child.Name, warning);
        LogPushedCheck(child.Name, desired.VirtualServers.Count, reply.VirtualServersAdded, reply.VirtualServersKept, reply.VirtualServersRemoved,
            reply.RealServersAdded, reply.RealServersRemoved, reply.CheckersKept, reply.CheckersStarted);
    }

    /// <summary>Sends ipvsd the LVS part of the current configuration (on start, restart and reload).</summary>
    private async Task PushIpvsAsync(ChildProcess child)
    {
        var config = Config ?? throw new InvalidOperationException("no configuration loaded");
        var desired = IpvsConfigMapper.ToProto(config);
        var reply = await new Ipvs.V1.IpvsService.IpvsServiceClient(child.Invoker).ApplyConfigAsync(new Ipvs.V1.ApplyConfigRequest { Config = desired }, Deadline.In(TimeSpan.FromSeconds(60)));
        foreach (var warning in reply.Warnings) LogCheckWarning(child.Name, warning);
        foreach (var error in reply.Errors) LogChildError(child.Name, error);
        LogPushedIpvs(child.Name, desired.VirtualServers.Count, reply.Backend, reply.VirtualServersAdded, reply.VirtualServersKept, reply.VirtualServersRemoved, reply.Changes);
    }

    /// <summary>A reload's outcome: the file as read, and what it changes against the running configuration.</summary>
    public sealed record ReloadResult(ConfigLoadResult Load, IReadOnlyList<string> Changes);

    /// <summary>ReloadConfig with dry_run: reads the file and says what it would change; applies nothing.</summary>
    public ReloadResult DryRunReload()
    {
        var result = Load();
        return new ReloadResult(result, result.Config is null ? [] : ReloadChanges.Describe(Config, result.Config));
    }

    /// <summary>SIGHUP / ReloadConfig: a configuration that cannot run is refused and the running one stays.</summary>
    public async Task<ReloadResult> ReloadAsync()
    {
        await _reloadLock.WaitAsync();
        // A reload is a span of its own (its pushes to the daemons are RPC spans inside it).
        using var span = _host.Telemetry.Activities.StartActivity("config.reload");
        span?.SetTag("vigil.config.file", _options.ConfigFile);
        try
        {
            _host.Notify.Reloading();
            LogReloading(_options.ConfigFile);
            var result = Load();
            if (result.Config is null)
            {
                LogReloadRefused(_options.ConfigFile);
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "the configuration cannot run");
                PublishReload(result, [], refused: true);
                return new ReloadResult(result, []);
            }
            var changes = ReloadChanges.Describe(Config, result.Config);
            if (result.Config.Metrics != Metrics) LogMetricsNotReloaded(_options.ConfigFile);
            Config = result.Config;
            ConfigLoadedAt = DateTime.UtcNow;
            ApplyConsul(Config);
            await ApplyReloadedAsync();
            PublishReload(result, changes, refused: false);
            return new ReloadResult(result, changes);
        }
        finally
        {
            _host.Notify.Ready($"configuration {_options.ConfigFile} loaded");
            _reloadLock.Release();
        }
    }

    private void PublishReload(ConfigLoadResult result, IReadOnlyList<string> changes, bool refused)
    {
        var e = new Control.V1.ConfigReloaded { ConfigFile = _options.ConfigFile, Refused = refused };
        e.Changes.AddRange(changes);
        e.Warnings.AddRange(result.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Error).Select(d => d.ToString()));
        e.Errors.AddRange(result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));
        Events.Publish(new Control.V1.WatchEventsResponse { ConfigReloaded = e });
    }

    /// <summary>Pushes the reloaded configuration to every daemon, starting the ones it newly needs.</summary>
    private async Task ApplyReloadedAsync()
    {
        var config = Config!;
        if (_vrrpd is { IsReady: true } vrrpd) await PushVrrpAsync(vrrpd);
        else if (_vrrpd is null && !_options.CheckersOnly && config.Instances.Count > 0)
        {
            _vrrpd = StartChild(VigilPaths.Vrrpd, PushVrrpAsync);
            _vrrpFollower.Start();
        }
        if (_checkd is { IsReady: true } checkd)
        {
            try
            {
                await PushCheckAsync(checkd);
            }
            catch (RpcException e)
            {
                // The VRRP part is applied; the checkers keep their previous configuration.
                LogPushFailed(checkd.Name, e.Status.Detail);
            }
        }
        else if (_checkd is null && !_options.VrrpOnly && config.VirtualServers.Count > 0)
        {
            _checkd = StartChild(VigilPaths.Checkd, PushCheckAsync);
            _checkFollower.Start();
        }
        if (_ipvsd is { IsReady: true } ipvsd)
        {
            try
            {
                await PushIpvsAsync(ipvsd);
            }
            catch (RpcException e)
            {
                LogPushFailed(ipvsd.Name, e.Status.Detail);
            }
        }
        else if (_ipvsd is null && !_options.VrrpOnly && config.VirtualServers.Count > 0)
        {
            _ipvsd = StartChild(VigilPaths.Ipvsd, PushIpvsAsync);
            _lvsFollower.Start();
        }
    }

    /// <summary>Stops the children (masters send priority 0 and release their VIPs); systemd units are left running (systemd stops them).</summary>
    public async Task StopAsync()
    {
        _stopping.Cancel();
        // Withdraw the registrations first (bounded), while the VIPs are still up.
        if (_consul is { } consul)
        {
            _consul = null;
            await consul.DisposeAsync();
        }
        foreach (var child in Children) await child.StopAsync(terminate: true, TimeSpan.FromSeconds(15));
        await _vrrpFollower.StopAsync();
        await _checkFollower.StopAsync();
        await _lvsFollower.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in Children) await child.DisposeAsync();
        _stopping.Dispose();
        _reloadLock.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "{Diagnostic}")]
    private partial void LogConfigError(string diagnostic);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "{Diagnostic}")]
    private partial void LogConfigWarning(string diagnostic);

    [LoggerMessage(EventId = 202, Level = LogLevel.Critical, Message = "configuration {File} cannot run (keepalived -t status {Status}); stopping")]
    private partial void LogCannotRun(string file, int status);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "pushed {Count} VRRP instances to {Child}: {Added} added, {Changed} changed, {Removed} removed, {Unchanged} unchanged, {Refused} refused",
        SkipEnabledCheck = true)]
    private partial void LogPushed(string child, int count, int added, int changed, int removed, int unchanged, int refused);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "reloading {File}")]
    private partial void LogReloading(string file);

    [LoggerMessage(EventId = 205, Level = LogLevel.Error, Message = "the new configuration in {File} cannot run; keeping the running one")]
    private partial void LogReloadRefused(string file);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "no vrrp_instance configured: vigil-vrrpd not started")]
    private partial void LogNoVrrp();

    [LoggerMessage(EventId = 207, Level = LogLevel.Information, Message = "no virtual_server configured (or -P): vigil-checkd and vigil-ipvsd not started")]
    private partial void LogNoCheckd();

    [LoggerMessage(EventId = 208, Level = LogLevel.Information,
        Message = "pushed {Count} virtual servers to {Child}: {Added} added, {Kept} kept, {Removed} removed; real servers {RsAdded} added, {RsRemoved} removed; checkers {CheckersKept} kept, {CheckersStarted} started",
        SkipEnabledCheck = true)]
    private partial void LogPushedCheck(string child, int count, uint added, uint kept, uint removed, uint rsAdded, uint rsRemoved, uint checkersKept, uint checkersStarted);

    [LoggerMessage(EventId = 209, Level = LogLevel.Warning, Message = "{Child}: {Warning}")]
    private partial void LogCheckWarning(string child, string warning);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information,
        Message = "pushed {Count} virtual servers to {Child} ({Backend} backend): {Added} added, {Kept} kept, {Removed} removed; {Changes} table changes",
        SkipEnabledCheck = true)]
    private partial void LogPushedIpvs(string child, int count, string backend, uint added, uint kept, uint removed, uint changes);

    [LoggerMessage(EventId = 212, Level = LogLevel.Error, Message = "{Child}: {Error}")]
    private partial void LogChildError(string child, string error);

    [LoggerMessage(EventId = 213, Level = LogLevel.Information, Message = "consul: registering MASTER VIPs with the agent at {Address} (check TTL {Ttl} s)")]
    private partial void LogConsulEnabled(string address, double ttl);

    [LoggerMessage(EventId = 214, Level = LogLevel.Error, Message = "consul: registration disabled: {Reason}")]
    private partial void LogConsulDisabled(string reason);

    [LoggerMessage(EventId = 215, Level = LogLevel.Warning,
        Message = "metrics block of {File} changed: not applied by a reload (the daemons keep their telemetry, so VRRP is not disturbed); it takes effect when vigil-controld restarts")]
    private partial void LogMetricsNotReloaded(string file);

    [LoggerMessage(EventId = 216, Level = LogLevel.Warning,
        Message = "metrics block: under --supervise systemd only vigil-controld uses it; give the units --prometheus-address and OTEL_EXPORTER_OTLP_* in a drop-in (systemctl edit vigil-vrrpd)")]
    private partial void LogMetricsUnderSystemd();

    [LoggerMessage(EventId = 210, Level = LogLevel.Error, Message = "{Child} refused the configuration: {Reason}")]
    private partial void LogPushFailed(string child, string reason);
}
