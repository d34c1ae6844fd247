using System.Diagnostics;
using System.Diagnostics.Metrics;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// vrrpd's instruments, on the daemon's Meter and ActivitySource (Vigil.Hosting exports them).
/// Names and labels are keepalived-exporter's (github.com/mehdy/keepalived-exporter) where it has
/// the metric, so its dashboards and alerts work unchanged: keepalived_vrrp_state{iname, intf,
/// vrid, ip_address} (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, one series per VIP) and the per-instance
/// counters keepalived_advertisements_received_total{iname, intf, vrid, state} and the rest. What
/// only Vigil counts is vigil_vrrp_*. The counters are read from the engine's immutable state when
/// a reader collects (observable instruments): nothing on the packet path changes.
/// </summary>
public sealed class VrrpMetrics
{
    private readonly Func<VrrpEngineState> _state;
    private readonly Counter<long> _transitions;
    private readonly ActivitySource _activities;

    /// <param name="daemonCounters">The driver's daemon-wide counters (packets for no instance, too short to parse).</param>
    public VrrpMetrics(Meter meter, ActivitySource activities, Func<VrrpEngineState> state, Func<(long UnknownVrid, long Malformed)> daemonCounters)
    {
        _state = state;
        _activities = activities;
        meter.CreateObservableGauge("keepalived_vrrp_state", ObserveStates, description: "State of vrrp (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), per virtual IP address");
        meter.CreateObservableGauge("vigil_vrrp_priority", () => Instances(i => (long)i.EffectivePriority), description: "Effective priority of the instance (configured priority plus tracker weights)");
        foreach (var counter in Enum.GetValues<VrrpCounter>())
        {
            var c = counter;
            meter.CreateObservableCounter(MetricName(c), () => Instances(i => (long)i.Stats[c]), description: Describe(c));
        }
        meter.CreateObservableCounter("keepalived_gratuitous_arp_delay", () => Instances(i => (long)i.Config.GarpMasterDelay.TotalSeconds),
            description: "Gratuitous ARP delay (garp_master_delay, seconds)");
        meter.CreateObservableCounter("vigil_vrrp_unknown_vrid_packets", () => daemonCounters().UnknownVrid, description: "VRRP packets received for a VRID no instance has");
        meter.CreateObservableCounter("vigil_vrrp_malformed_packets", () => daemonCounters().Malformed, description: "VRRP packets too short or malformed to belong to any instance");
        _transitions = meter.CreateCounter<long>("vigil_vrrp_transitions", description: "VRRP state transitions, by instance, from, to and reason");
    }

    /// <summary>keepalived's number for a state (vrrp.h VRRP_STATE_*; 98 is its internal STOP).</summary>
    public static int KeepalivedState(VrrpStateKind s) => s switch
    {
        VrrpStateKind.Init => 0,
        VrrpStateKind.Backup => 1,
        VrrpStateKind.Master => 2,
        VrrpStateKind.Fault => 3,
        _ => 98,
    };

    /// <summary>keepalived-exporter's state label ("MASTER"); the Prometheus exporter adds _total to counters.</summary>
    public static string StateLabel(VrrpStateKind s) => s switch
    {
        VrrpStateKind.Init => "INIT",
        VrrpStateKind.Backup => "BACKUP",
        VrrpStateKind.Master => "MASTER",
        VrrpStateKind.Fault => "FAULT",
        _ => "STOP",
    };

    /// <summary>The instrument's name (Prometheus: plus _total): keepalived-exporter's where it has one.</summary>
    public static string MetricName(VrrpCounter c) => c switch
    {
        VrrpCounter.AdvertReceived => "keepalived_advertisements_received",
        VrrpCounter.AdvertSent => "keepalived_advertisements_sent",
        VrrpCounter.BecomeMaster => "keepalived_become_master",
        VrrpCounter.ReleaseMaster => "keepalived_release_master",
        VrrpCounter.PacketLengthError => "keepalived_packet_length_errors",
        VrrpCounter.AdvertIntervalError => "keepalived_advertisements_interval_errors",
        VrrpCounter.IpTtlError => "keepalived_ip_ttl_errors",
        VrrpCounter.InvalidTypeReceived => "keepalived_invalid_type_received",
        VrrpCounter.AddressListError => "keepalived_address_list_errors",
        VrrpCounter.InvalidAuthType => "keepalived_authentication_invalid",
        VrrpCounter.AuthTypeMismatch => "keepalived_authentication_mismatch",
        VrrpCounter.AuthFailure => "keepalived_authentication_failure",
        VrrpCounter.PriorityZeroReceived => "keepalived_priority_zero_received",
        VrrpCounter.PriorityZeroSent => "keepalived_priority_zero_sent",
        VrrpCounter.ChecksumError => "vigil_vrrp_checksum_errors",
        VrrpCounter.VersionError => "vigil_vrrp_version_errors",
        VrrpCounter.UnknownUnicastSource => "vigil_vrrp_unknown_unicast_source",
        VrrpCounter.OtherMasterSeen => "vigil_vrrp_other_master_seen",
        _ => "vigil_vrrp_" + c.KeepalivedName(),
    };

    private static string Describe(VrrpCounter c) => $"keepalived's {c.KeepalivedName()} counter of the instance";

    /// <summary>Counts a transition and records it as a span (a failover shows as BACKUP -> MASTER with its reason).</summary>
    public void OnAction(string instance, VrrpAction action, VrrpInstanceState state)
    {
        if (action is not LogTransition t) return;
        var from = StateLabel(t.From);
        var to = StateLabel(t.To);
        var reason = t.Reason.ToString();
        _transitions.Add(1,
            new KeyValuePair<string, object?>("iname", instance),
            new KeyValuePair<string, object?>("from", from),
            new KeyValuePair<string, object?>("to", to),
            new KeyValuePair<string, object?>("reason", reason));
        using var span = _activities.StartActivity($"vrrp.transition {from} -> {to}", ActivityKind.Internal);
        if (span is null) return;
        span.SetTag("vrrp.instance", instance);
        span.SetTag("vrrp.vrid", (int)state.Config.Vrid);
        span.SetTag("vrrp.interface", state.Config.Interface);
        span.SetTag("vrrp.from", from);
        span.SetTag("vrrp.to", to);
        span.SetTag("vrrp.reason", reason);
        span.SetTag("vrrp.priority", (int)state.EffectivePriority);
    }

    private IEnumerable<Measurement<long>> ObserveStates()
    {
        foreach (var i in _state().Instances.Values)
        {
            var value = KeepalivedState(i.State);
            foreach (var vip in i.Config.VirtualAddresses)
            {
                yield return new Measurement<long>(value,
                    new KeyValuePair<string, object?>("iname", i.Config.Name),
                    new KeyValuePair<string, object?>("intf", i.Config.Interface),
                    new KeyValuePair<string, object?>("vrid", Vrid(i)),
                    new KeyValuePair<string, object?>("ip_address", vip.ToString()));
            }
        }
    }

    private IEnumerable<Measurement<long>> Instances(Func<VrrpInstanceState, long> value)
    {
        foreach (var i in _state().Instances.Values)
        {
            yield return new Measurement<long>(value(i),
                new KeyValuePair<string, object?>("iname", i.Config.Name),
                new KeyValuePair<string, object?>("intf", i.Config.Interface),
                new KeyValuePair<string, object?>("vrid", Vrid(i)),
                new KeyValuePair<string, object?>("state", StateLabel(i.State)));
        }
    }

    private static string Vrid(VrrpInstanceState i) => i.Config.Vrid.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
