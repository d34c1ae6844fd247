using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Config.Model;
using Vigil.Ipvs.V1;
using Model = Vigil.Config.Model;
using Proto = Vigil.Ipvs.V1;

namespace Vigil.Controld.Dispatch;

/// <summary>
/// The LVS part of a keepalived configuration as vigil-ipvsd's desired state: the global LVS
/// settings (lvs_flush, lvs_flush_on_stop, lvs_timeouts, lvs_sync_daemon) and every
/// virtual_server's IPVS parameters, keyed as checkd keys them so ipvsd can join checkd's
/// destination sets. Health, weights, quorum and the sorry server's use are checkd's, not here.
/// </summary>
public static class IpvsConfigMapper
{
    public static IpvsConfig ToProto(KeepalivedConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var g = config.Global;
        var globals = new Globals
        {
            Backend = g.LvsBackend switch
            {
                LvsBackend.Ipvs => Backend.Ipvs,
                LvsBackend.Nftables => Backend.Nftables,
                _ => Backend.Unspecified,
            },
            FlushOnStart = g.LvsFlush,
            FlushOnStop = g.LvsFlushOnStop switch
            {
                LvsFlushOnStop.Full => Proto.FlushOnStop.Full,
                LvsFlushOnStop.VirtualServers => Proto.FlushOnStop.VirtualServers,
                _ => Proto.FlushOnStop.Unspecified,
            },
        };
        if (g.LvsTimeouts is { } t)
        {
            globals.Timeouts = new Timeouts
            {
                Tcp = t.Tcp is { } tcp ? Duration.FromTimeSpan(tcp) : null,
                TcpFin = t.TcpFin is { } fin ? Duration.FromTimeSpan(fin) : null,
                Udp = t.Udp is { } udp ? Duration.FromTimeSpan(udp) : null,
            };
        }
        if (g.LvsSyncDaemon is { } sd)
        {
            globals.SyncDaemon = new SyncDaemon
            {
                Interface = sd.Interface,
                Instance = sd.Instance ?? "",
                SyncId = (uint)Math.Max(0, sd.SyncId),
                MaxLength = (uint)Math.Max(0, sd.MaxLength ?? 0),
                Port = (uint)Math.Max(0, sd.Port ?? 0),
                Ttl = (uint)Math.Max(0, sd.Ttl ?? 0),
                Group = sd.Group?.ToString() ?? "",
            };
        }
        var result = new IpvsConfig { Globals = globals };
        foreach (var vs in config.VirtualServers) result.VirtualServers.Add(VirtualServer(vs, config));
        return result;
    }

    /// <summary>keepalived's form of a virtual server: "[10.0.0.1]:tcp:80", "FWM 5", "[web]:tcp".</summary>
    public static string Name(Model.VirtualServer vs) => vs.Kind switch
    {
        VirtualServerKind.Fwmark => $"FWM {vs.Fwmark}",
        VirtualServerKind.Group => $"[{vs.Group}]:{Protocol(vs)}",
        _ => $"[{vs.Address}]:{Protocol(vs)}:{vs.Port}",
    };

    private static string Protocol(Model.VirtualServer vs) => (vs.Protocol ?? IpvsProtocol.Tcp).ToString().ToLowerInvariant();

    private static VirtualServerSpec VirtualServer(Model.VirtualServer vs, KeepalivedConfig config)
    {
        var spec = new VirtualServerSpec
        {
            Key = CheckConfigMapper.Key(vs),
            Name = Name(vs),
            Ipv6 = vs.Family == AddressFamily.InterNetworkV6,
            Scheduler = vs.Scheduler,
            OnePacket = (vs.SchedulerFlags & SchedulerFlags.Ops) != 0,
            SchedulerFlag1 = (vs.SchedulerFlags & SchedulerFlags.Flag1) != 0,
            SchedulerFlag2 = (vs.SchedulerFlags & SchedulerFlags.Flag2) != 0,
            SchedulerFlag3 = (vs.SchedulerFlags & SchedulerFlags.Flag3) != 0,
            PersistenceTimeout = vs.PersistenceTimeout is { } p ? Duration.FromTimeSpan(p) : null,
            PersistenceGranularity = vs.PersistenceGranularity ?? "",
            PersistenceEngine = vs.PersistenceEngine ?? "",
        };
        if (vs.Kind == VirtualServerKind.Group && config.VirtualServerGroups.FirstOrDefault(x => x.Name == vs.Group) is { } group)
        {
            foreach (var e in group.Entries)
            {
                spec.GroupEntries.Add(e.Fwmark is uint mark
                    ? new GroupEntry { Fwmark = mark, Ipv6 = (e.FwmarkFamily ?? vs.Family) == AddressFamily.InterNetworkV6 }
                    : new GroupEntry { First = e.Start?.ToString() ?? "", Last = (e.End ?? e.Start)?.ToString() ?? "", Port = (uint)Math.Max(0, e.Port) });
            }
        }
        foreach (var rs in vs.RealServers)
        {
            spec.RealServers.Add(new RealServerSpec
            {
                Endpoint = CheckConfigMapper.Endpoint(rs.Address, rs.Port),
                Forwarding = Forwarding(rs.Forwarding),
                UpperThreshold = rs.UpperThreshold ?? 0,
                LowerThreshold = rs.LowerThreshold ?? 0,
                Weight = rs.Weight,
                Alpha = rs.Alpha,
            });
        }
        if (vs.SorryServer is { } sorry)
        {
            spec.SorryServer = new RealServerSpec
            {
                Endpoint = CheckConfigMapper.Endpoint(sorry.Address, sorry.Port),
                Forwarding = Forwarding(sorry.Forwarding),
                Weight = 1,
            };
        }
        return spec;
    }

    private static Proto.Forwarding Forwarding(Model.Forwarding f) => new()
    {
        Method = f.Method switch
        {
            Model.ForwardingMethod.Dr => Proto.ForwardingMethod.Dr,
            Model.ForwardingMethod.Tun => Proto.ForwardingMethod.Tun,
            _ => Proto.ForwardingMethod.Nat,
        },
        TunnelType = f.Method != Model.ForwardingMethod.Tun ? Proto.TunnelType.Unspecified : f.TunnelType switch
        {
            Model.TunnelType.Gue => Proto.TunnelType.Gue,
            Model.TunnelType.Gre => Proto.TunnelType.Gre,
            _ => Proto.TunnelType.Ipip,
        },
        TunnelPort = (uint)Math.Max(0, f.TunnelPort ?? 0),
        TunnelChecksum = f.TunnelChecksum switch
        {
            Model.TunnelChecksum.Checksum => Proto.TunnelChecksum.Checksum,
            Model.TunnelChecksum.RemoteChecksum => Proto.TunnelChecksum.Remote,
            _ => Proto.TunnelChecksum.None,
        },
    };
}
