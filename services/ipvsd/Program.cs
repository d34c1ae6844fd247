using Microsoft.Extensions.Logging;
using Vigil.Hosting;
using Vigil.Ipvsd.Api;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Daemon;
using Vigil.Ipvsd.Engine;

namespace Vigil.Ipvsd;

/// <summary>
/// vigil-ipvsd: the load balancer. Waits for ApplyConfig (from vigil-controld) on
/// RUN_DIR/ipvsd.sock, follows vigil-checkd's destination sets and vigil-vrrpd's instances on
/// their sockets, and reconciles the kernel's IPVS table (or nftables) with them. On SIGTERM the
/// services it programmed are removed (lvs_flush_on_stop: the whole table) and the sync daemons stop.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Ipvsd, args);
        if (host is null) return exitCode;
        await using (host)
        {
            // The loop wakes four times a second; a reconcile beats between batches of changes.
            var heartbeat = host.Heartbeats.Register("ipvs reconcile loop", TimeSpan.FromSeconds(2));
            var reconciler = new Reconciler((wanted, ct) => BackendSelector.OpenAsync(wanted, () => new Backends.Nftables.NftablesBackend(), ct), host.LoggerFactory, heartbeat.Beat);
            await using (reconciler)
            {
                await using var checkd = new CheckdFollower(reconciler, VigilPaths.Socket(host.RunDir, VigilPaths.Checkd), host.LoggerFactory.CreateLogger("vigil-ipvsd.checkd"));
                await using var vrrpd = new VrrpFollower(reconciler, VigilPaths.Socket(host.RunDir, VigilPaths.Vrrpd), host.LoggerFactory.CreateLogger("vigil-ipvsd.vrrp"));
                host.Server.AddService(new IpvsApi(host, reconciler), Ipvs.V1.IpvsService.Descriptor.FullName);
                _ = new Daemon.IpvsMetrics(host.Telemetry.Meter, reconciler);
                return await host.RunAsync(
                    onStarted: () =>
                    {
                        reconciler.Start();
                        checkd.Start();
                        vrrpd.Start();
                        return Task.CompletedTask;
                    },
                    onStopping: async () =>
                    {
                        await checkd.DisposeAsync();
                        await vrrpd.DisposeAsync();
                        await reconciler.StopAsync();
                    });
            }
        }
    }
}
