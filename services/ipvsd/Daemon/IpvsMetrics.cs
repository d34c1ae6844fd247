using System.Diagnostics.Metrics;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Engine;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Daemon;

/// <summary>
/// ipvsd's instruments, on the daemon's Meter (Vigil.Hosting exports them): the kernel's counters
/// of every virtual and real server (connections, packets, bytes, as `ipvsadm -Ln --stats` shows
/// them) and the reconciler's own counters. The table is read from the backend when a reader
/// collects, at most once a second and for at most 2 s (a collection during a long reconcile gets
/// the previous reading). keepalived-exporter has no IPVS metrics: these are vigil_ipvs_*, labelled
/// service ("TCP 10.0.0.1:80", "FWM 5"), and real_server ("10.0.0.2:80").
/// </summary>
public sealed class IpvsMetrics
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly Reconciler _reconciler;
    private readonly Lock _gate = new();
    private IReadOnlyList<LvsEntry> _table = [];
    private long _readAt;

    public IpvsMetrics(Meter meter, Reconciler reconciler)
    {
        _reconciler = reconciler;
        Stat("vigil_ipvs_service_connections", "Connections scheduled to the virtual server", s => s.Connections, real: false);
        Stat("vigil_ipvs_service_in_packets", "Packets in to the virtual server", s => s.InPackets, real: false);
        Stat("vigil_ipvs_service_out_packets", "Packets out of the virtual server", s => s.OutPackets, real: false);
        Stat("vigil_ipvs_service_in_bytes", "Bytes in to the virtual server", s => s.InBytes, real: false);
        Stat("vigil_ipvs_service_out_bytes", "Bytes out of the virtual server", s => s.OutBytes, real: false);
        Stat("vigil_ipvs_real_server_connections", "Connections scheduled to the real server", s => s.Connections, real: true);
        Stat("vigil_ipvs_real_server_in_bytes", "Bytes in to the real server", s => s.InBytes, real: true);
        Stat("vigil_ipvs_real_server_out_bytes", "Bytes out of the real server", s => s.OutBytes, real: true);
        meter.CreateObservableGauge("vigil_ipvs_real_server_active_connections", () => Destinations(d => d.ActiveConnections), description: "Active connections of the real server (ActiveConn)");
        meter.CreateObservableGauge("vigil_ipvs_real_server_inactive_connections", () => Destinations(d => d.InactiveConnections), description: "Inactive connections of the real server (InActConn)");
        meter.CreateObservableGauge("vigil_ipvs_real_server_weight", () => Destinations(d => d.Weight), description: "Weight of the real server in the kernel's table");
        meter.CreateObservableCounter("vigil_ipvs_reconciler_events", () => _reconciler.Counters().Select(kv =>
            new Measurement<long>((long)kv.Value, new KeyValuePair<string, object?>("counter", kv.Key))), description: "The reconciler's counters (reconciles, changes, errors, kernel reads), by name");

        void Stat(string name, string description, Func<IpvsStats, ulong> value, bool real)
        {
            if (real) meter.CreateObservableCounter(name, () => Destinations(d => d.Stats is { } s ? (long)value(s) : 0), description: description);
            else meter.CreateObservableCounter(name, () => Services(s => s.Stats is { } st ? (long)value(st) : 0), description: description);
        }
    }

    private IReadOnlyList<LvsEntry> Table()
    {
        lock (_gate)
        {
            if (_readAt != 0 && TimeProvider.System.GetElapsedTime(_readAt) < MaxAge) return _table;
            if (_reconciler.Backend is null) return _table = [];
            try
            {
                var read = _reconciler.ReadAsync(CancellationToken.None);
                if (read.Wait(TimeSpan.FromSeconds(2)))
                {
                    _table = read.Result.Table;
                    _readAt = TimeProvider.System.GetTimestamp();
                }
            }
            catch (AggregateException)
            {
                // The backend could not be read (IPVS gone, nft failing): the last reading stands.
            }
            catch (InvalidOperationException)
            {
            }
            return _table;
        }
    }

    private IEnumerable<Measurement<long>> Services(Func<IpvsService, long> value)
    {
        foreach (var e in Table())
            yield return new Measurement<long>(value(e.Service), new KeyValuePair<string, object?>("service", ServiceLabel(e.Service)));
    }

    private IEnumerable<Measurement<long>> Destinations(Func<IpvsDestination, long> value)
    {
        foreach (var e in Table())
        {
            var service = ServiceLabel(e.Service);
            foreach (var d in e.Destinations)
            {
                yield return new Measurement<long>(value(d),
                    new KeyValuePair<string, object?>("service", service),
                    new KeyValuePair<string, object?>("real_server", IpvsServiceEndpoint(d.Address, d.Port)));
            }
        }
    }

    /// <summary>"TCP 10.0.0.1:80" or "FWM 5" (ipvsadm's head of a service, without its scheduler).</summary>
    public static string ServiceLabel(IpvsService s) =>
        s.IsFirewallMark ? $"FWM {s.FirewallMark}" : $"{s.Protocol.ToString().ToUpperInvariant()} {IpvsServiceEndpoint(s.Address, s.Port)}";

    private static string IpvsServiceEndpoint(System.Net.IPAddress? address, ushort port) =>
        address is null ? $"*:{port}" : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
}
