using Microsoft.Extensions.Logging;
using Vigil.Checkd.Api;
using Vigil.Checkd.Daemon;
using Vigil.Checkd.Engine;
using Vigil.Hosting;

namespace Vigil.Checkd;

/// <summary>
/// vigil-checkd: the health checkers. Starts with no virtual server and waits for ApplyConfig
/// (from vigil-controld, or any client) on RUN_DIR/checkd.sock. With ha_suspend configured it
/// follows vigil-vrrpd's instances on RUN_DIR/vrrpd.sock. On SIGTERM/SIGINT the checkers stop
/// first (omega notifiers and mails run), then the server.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Checkd, args);
        if (host is null) return exitCode;
        await using (host)
        {
            // The engine loop beats four times a second; 1.5 s without a beat turns health NOT_SERVING.
            var heartbeat = host.Heartbeats.Register("check scheduler loop", TimeSpan.FromSeconds(1.5));
            var engine = new CheckEngine(new CheckEngineOptions { OnBeat = heartbeat.Beat }, host.LoggerFactory);
            await using (engine)
            {
                engine.Metrics = new CheckMetrics(host.Telemetry.Meter, engine.GetCounters);
                var vrrp = new VrrpFollower(engine, VigilPaths.Socket(host.RunDir, VigilPaths.Vrrpd), host.LoggerFactory.CreateLogger("vigil-checkd.vrrp"));
                await using (vrrp)
                {
                    host.Server.AddService(new CheckApi(host, engine, vrrp), Check.V1.CheckService.Descriptor.FullName);
                    return await host.RunAsync(onStopping: async () =>
                    {
                        await vrrp.StopAsync();
                        await engine.StopAsync();
                    });
                }
            }
        }
    }
}
