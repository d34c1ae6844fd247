using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Vigil.Hosting;
using Vigil.Vrrpd.Api;
using Vigil.Vrrpd.Daemon;
using Vigil.Vrrpd.Platform;

namespace Vigil.Vrrpd;

/// <summary>
/// vigil-vrrpd: the VRRP plane. Starts with no instance and waits for ApplyConfig (from
/// vigil-controld, or any client) on RUN_DIR/vrrpd.sock. On SIGTERM/SIGINT the instances stop
/// first (masters send priority 0 and release their VIPs, STOP notifies run), then the server.
/// </summary>
public static partial class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Vrrpd, args);
        if (host is null) return exitCode;
        await using (host)
        {
            VrrpDaemon daemon;
            using var timers = new MonotonicTimeProvider();
            try
            {
                // The protocol loop beats four times a second; 1.5 s without a beat (a stalled loop, a
                // stalled timer thread or an overdue advert) turns the daemon's health NOT_SERVING.
                var heartbeat = host.Heartbeats.Register("vrrp protocol loop", TimeSpan.FromSeconds(1.5));
                daemon = await VrrpDaemon.StartAsync(host.LoggerFactory, timers, heartbeat.Beat, host.Stopping);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Typically not root / no CAP_NET_ADMIN + CAP_NET_RAW: say so and exit, never half-run.
                LogCannotStart(host.Logger, e.Message);
                return 1;
            }
            await using (daemon)
            {
                host.Server.AddService(new VrrpApi(host, daemon), Vrrp.V1.VrrpService.Descriptor.FullName);
                var metrics = new VrrpMetrics(host.Telemetry.Meter, host.Telemetry.Activities, () => daemon.State,
                    () => ((long)daemon.Counters["unknown_vrid"], (long)daemon.Counters["packet_too_short"]));
                daemon.ActionObserved += metrics.OnAction;
                // keepalived's HUP reloads its file; here the configuration comes by ApplyConfig, and a
                // stray HUP must not kill the daemon (that would leave the VIPs without an owner).
                host.OnSignal(PosixSignal.SIGHUP, () => LogHupIgnored(host.Logger));
                // keepalived's data (USR1) and stats (USR2) dumps, to the log.
                host.OnSignal(10, () => daemon.LogState(withCounters: false));
                host.OnSignal(12, () => daemon.LogState(withCounters: true));
                return await host.RunAsync(onStopping: daemon.StopAsync);
            }
        }
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "SIGHUP ignored: vigil-vrrpd takes its configuration through ApplyConfig (vigil-controld reloads on HUP)")]
    private static partial void LogHupIgnored(ILogger logger);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Critical, Message = "cannot start the VRRP plane: {Reason}")]
    private static partial void LogCannotStart(ILogger logger, string reason);
}
