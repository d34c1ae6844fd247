using System.Diagnostics.Metrics;

namespace Vigil.Controld.Consul;

/// <summary>
/// The Consul registration's instruments on controld's Meter. A reload that changes the consul
/// block replaces the registrar; the counts of the ones replaced are kept (<see cref="Retire"/>)
/// so the counters never go back.
/// </summary>
public sealed class ConsulMetrics
{
    private readonly Func<ConsulRegistration?> _current;
    private readonly object _gate = new();
    private long _retiredAclRefusals;
    private long _retiredFailures;

    public ConsulMetrics(Meter meter, Func<ConsulRegistration?> current)
    {
        _current = current;
        meter.CreateObservableCounter("vigil_consul_acl_refusals", () => Totals().AclRefusals,
            description: "Requests the Consul agent refused with 403 (the ACL token is missing or lacks the permission)");
        meter.CreateObservableCounter("vigil_consul_failures", () => Totals().Failures,
            description: "Failed rounds of the Consul registration (agent down, 5xx, TLS, ACL), each retried with backoff");
        meter.CreateObservableGauge("vigil_consul_registered_services", () => (long)(_current()?.Registrar.Registered.Count ?? 0),
            description: "Services the local Consul agent had from this node after the last good round");
    }

    /// <summary>A registrar being replaced: its counts stay in the totals; <paramref name="detach"/> (which stops it being current) runs under the same lock, so no reading counts it twice or not at all.</summary>
    public void Retire(ConsulRegistration old, Action detach)
    {
        lock (_gate)
        {
            _retiredAclRefusals += old.Registrar.AclRefusals;
            _retiredFailures += old.Registrar.Failures;
            detach();
        }
    }

    public (long AclRefusals, long Failures) Totals()
    {
        lock (_gate)
        {
            var r = _current()?.Registrar;
            return (_retiredAclRefusals + (r?.AclRefusals ?? 0), _retiredFailures + (r?.Failures ?? 0));
        }
    }
}
