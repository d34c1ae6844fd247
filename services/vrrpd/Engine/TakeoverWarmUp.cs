using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vigil.Vrrpd.Engine;

/// <summary>
/// Runs the daemon's own instance configurations through a throwaway <see cref="VrrpDriver"/> on a
/// virtual clock, against a host that does nothing: start, master-down timer expiry, takeover,
/// a few adverts, clean stop. A backup that has never been master has never run that code, and
/// its first real takeover paid for JIT and type loading: 13 to 20 ms after Master_Down_Interval
/// (bench/results/failover-analysis.md) against under 1 ms once warm. The real driver, its
/// instances and the network are not touched.
/// </summary>
internal static class TakeoverWarmUp
{
    /// <summary>Returns how many adverts the throwaway driver encoded (for tests).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<VrrpInstanceConfig> instances)
    {
        // Sync groups and trackers are left out: they only decide *whether* to take over.
        var configs = instances.Select(c => c with { SyncGroup = null }).ToList();
        if (configs.Count == 0) return 0;
        var clock = new ManualTimeProvider();
        var host = new DiscardingHost();
        var driver = new VrrpDriver(VrrpEngineState.Create(configs),
            new VrrpDriverDependencies(host, host, host, host, clock, NullLogger.Instance, host) { LogUnknownVrids = false });
        var loop = driver.RunAsync(CancellationToken.None);
        try
        {
            await driver.StartAllAsync(c => (c.Family == AddressFamily.InterNetwork ? Documentation4 : Documentation6, true)).ConfigureAwait(false);
            // Master_Down_Interval is at most 3 x 40.95 s + Skew_Time (and vrrp_startup_delay may come first).
            for (var second = 0; second < 200 && driver.State.Instances.Values.Any(s => s.State != VrrpStateKind.Master); second++)
                await clock.AdvanceAsync(TimeSpan.FromSeconds(1), driver.FlushAsync).ConfigureAwait(false);
            var longest = configs.Max(c => c.AdvertInterval);
            await clock.AdvanceAsync(longest + longest, driver.FlushAsync).ConfigureAwait(false);
        }
        finally
        {
            // Stopping runs the clean-stop path too (priority 0 from each master).
            await driver.StopAsync().ConfigureAwait(false);
            await loop.ConfigureAwait(false);
        }
        return host.Adverts;
    }

    private static readonly IPAddress Documentation4 = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress Documentation6 = IPAddress.Parse("fe80::1");

    private sealed class DiscardingHost : IVrrpTransport, IAddressManager, IArpSender, INotifier, IVrrpEventSink
    {
        public int Adverts;

        public ValueTask SendAsync(VrrpInstanceConfig instance, ReadOnlyMemory<byte> packet, IPAddress destination, CancellationToken cancellationToken)
        {
            Adverts++;
            return ValueTask.CompletedTask;
        }

        public ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask ChangeVipsAsync(VrrpInstanceConfig instance, IReadOnlyList<IPAddress> added, IReadOnlyList<IPAddress> removed, CancellationToken cancellationToken) =>
            ValueTask.CompletedTask;
        public ValueTask AnnounceAsync(string interfaceName, IPAddress address, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask NotifyInstanceAsync(string instance, VrrpNotifyState state, byte priority, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask NotifyGroupAsync(string group, VrrpStateKind state, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public void OnAction(string instance, VrrpAction action, VrrpInstanceState state) { }
        public void OnGroupTransition(SyncGroupTransition transition) { }
        public void OnUnknownVrid(string? interfaceName, AddressFamily family, byte vrid, IPAddress? source) { }
    }
}
