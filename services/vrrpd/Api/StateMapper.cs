using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Daemon;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using AddressFamily = System.Net.Sockets.AddressFamily;

namespace Vigil.Vrrpd.Api;

/// <summary>Core state and events -> vigil.vrrp.v1 messages.</summary>
internal static class StateMapper
{
    public static Instance ToProto(VrrpInstanceState s, Func<TimeSpan, DateTime> wallClock)
    {
        var c = s.Config;
        var master = s.State == VrrpStateKind.Master;
        var i = new Instance
        {
            Name = c.Name,
            VirtualRouterId = c.Vrid,
            Interface = c.Interface,
            Family = c.Family == AddressFamily.InterNetworkV6 ? Vrrp.V1.AddressFamily.Ipv6 : Vrrp.V1.AddressFamily.Ipv4,
            Version = c.Version == VrrpVersion.V3 ? 3u : 2u,
            State = ToProto(s.State),
            BasePriority = c.Priority,
            EffectivePriority = s.EffectivePriority,
            MasterAddress = Text(master ? s.SourceAddress : s.State == VrrpStateKind.Backup ? s.MasterAddress : null),
            MasterPriority = master ? s.EffectivePriority : s.State == VrrpStateKind.Backup && s.MasterAddress is not null ? s.MasterPriority : 0u,
            SourceAddress = Text(s.SourceAddress),
            AdvertInterval = Duration.FromTimeSpan(c.AdvertInterval),
            MasterAdvertInterval = Duration.FromTimeSpan(VrrpTiming.FromMicros(s.MasterAdverIntervalMicros)),
            VipsSet = s.VipsSet,
            SyncGroup = c.SyncGroup ?? "",
        };
        if (s.PriorityOverride is { } priorityOverride) i.PriorityOverride = priorityOverride;
        i.VirtualAddresses.AddRange(c.VirtualAddresses.Select(a => a.ToString()));
        i.Faults.AddRange(VrrpText.Faults(s.Faults));
        if (s.State != VrrpStateKind.Init) i.LastTransition = Timestamp.FromDateTime(DateTime.SpecifyKind(wallClock(s.LastTransition), DateTimeKind.Utc));
        foreach (var (k, v) in s.Stats.ToDictionary()) i.Counters[k] = v;
        return i;
    }

    public static InstanceState ToProto(VrrpStateKind s) => s switch
    {
        VrrpStateKind.Init => InstanceState.Init,
        VrrpStateKind.Backup => InstanceState.Backup,
        VrrpStateKind.Master => InstanceState.Master,
        VrrpStateKind.Fault => InstanceState.Fault,
        VrrpStateKind.Stopped => InstanceState.Stop,
        _ => InstanceState.Unspecified,
    };

    public static WatchInstancesResponse ToProto(VrrpWatchEvent e, Func<TimeSpan, DateTime> wallClock)
    {
        var r = new WatchInstancesResponse { Time = Timestamp.FromDateTime(DateTime.SpecifyKind(e.Time, DateTimeKind.Utc)) };
        switch (e)
        {
            case InstanceSnapshotEvent s:
                r.Snapshot = ToProto(s.State, wallClock);
                break;
            case EndOfSnapshotEvent:
                r.EndOfSnapshot = new EndOfSnapshot();
                break;
            case InstanceTransitionEvent t:
                r.Transition = new Transition
                {
                    Instance = ToProto(t.State, wallClock),
                    From = ToProto(t.From),
                    To = ToProto(t.To),
                    Reason = VrrpText.Reason(t.Reason),
                };
                break;
            case OtherMasterEvent o:
                r.OtherMaster = new OtherMaster { Instance = o.Instance, Address = o.Address.ToString(), Priority = o.Priority };
                break;
            case PriorityChangeEvent p:
                r.PriorityChange = new PriorityChange { Instance = p.Instance, From = p.From, To = p.To };
                break;
            case PacketRejectedEvent p:
                r.PacketRejected = new Vrrp.V1.PacketRejected
                {
                    Instance = p.Instance ?? "",
                    Source = Text(p.Source),
                    Reason = p.Reason,
                    VirtualRouterId = p.Vrid,
                    Interface = p.Interface ?? "",
                };
                break;
        }
        return r;
    }

    /// <summary>An address as text, without the IPv6 scope suffix ("fe80::1", not "fe80::1%2").</summary>
    private static string Text(IPAddress? a) =>
        a is null ? "" : a.AddressFamily == AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()).ToString() : a.ToString();
}
