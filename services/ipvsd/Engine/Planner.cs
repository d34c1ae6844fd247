using System.Net.Sockets;
using Vigil.Ipvsd.Backends;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Engine;

/// <summary>
/// The difference between the table wanted and the table read: only what differs is changed
/// (an unchanged service or real server is never written). Services the daemon does not own are
/// left alone; services it owns that are no longer wanted are deleted.
/// </summary>
public static class Planner
{
    /// <param name="progress">Called after each wanted service (the reconcile loop's heartbeat).</param>
    public static IReadOnlyList<LvsChange> Plan(IReadOnlyList<LvsEntry> target, IReadOnlyList<LvsEntry> actual, IReadOnlySet<IpvsService> owned, Action? progress = null)
    {
        var changes = new List<LvsChange>();
        var current = new Dictionary<IpvsService, LvsEntry>();
        foreach (var e in actual) current.TryAdd(e.Service.Key, e);
        var wanted = new HashSet<IpvsService>();
        foreach (var want in target)
        {
            progress?.Invoke();
            var key = want.Service.Key;
            wanted.Add(key);
            if (!current.TryGetValue(key, out var have))
            {
                changes.Add(new LvsChange.AddService(want.Service));
                foreach (var d in want.Destinations) changes.Add(new LvsChange.AddDestination(want.Service, d));
                continue;
            }
            if (!SameService(want.Service, have.Service)) changes.Add(new LvsChange.UpdateService(want.Service));
            var existing = have.Destinations.GroupBy(DestinationKey).ToDictionary(g => g.Key, g => g.First());
            var wantedDestinations = new HashSet<(string, ushort)>();
            foreach (var d in want.Destinations)
            {
                var dk = DestinationKey(d);
                wantedDestinations.Add(dk);
                if (!existing.TryGetValue(dk, out var h)) changes.Add(new LvsChange.AddDestination(want.Service, d));
                else if (!SameDestination(d, h)) changes.Add(new LvsChange.UpdateDestination(want.Service, d));
            }
            foreach (var (dk, h) in existing)
            {
                if (!wantedDestinations.Contains(dk)) changes.Add(new LvsChange.DeleteDestination(want.Service, h));
            }
        }
        foreach (var (key, have) in current)
        {
            if (!wanted.Contains(key) && owned.Contains(key)) changes.Add(new LvsChange.DeleteService(have.Service));
        }
        return changes;
    }

    private static (string, ushort) DestinationKey(IpvsDestination d) => (d.Address.ToString(), d.Port);

    /// <summary>What the kernel keeps of a service, compared as it reports it back.</summary>
    public static bool SameService(IpvsService want, IpvsService have)
    {
        const IpvsServiceFlags settable = ~IpvsServiceFlags.Hashed;
        var persistent = (want.Flags & IpvsServiceFlags.Persistent) != 0;
        var full = want.Family == AddressFamily.InterNetworkV6 ? 128 : 32;
        return want.Scheduler == have.Scheduler
            && (want.Flags & settable) == (have.Flags & settable)
            && (!persistent || want.PersistenceTimeout == have.PersistenceTimeout)
            && (!persistent || (want.PersistenceNetmask ?? full) == (have.PersistenceNetmask ?? full))
            && (want.PersistenceEngine ?? "") == (have.PersistenceEngine ?? "");
    }

    public static bool SameDestination(IpvsDestination want, IpvsDestination have)
    {
        var tunnel = want.ForwardingMethod == IpvsForwardingMethod.Tunnel;
        return want.Weight == have.Weight
            && want.ForwardingMethod == have.ForwardingMethod
            && want.UpperThreshold == have.UpperThreshold
            && want.LowerThreshold == have.LowerThreshold
            && (!tunnel || (want.TunnelType == have.TunnelType && want.TunnelPort == have.TunnelPort && want.TunnelFlags == have.TunnelFlags));
    }
}
