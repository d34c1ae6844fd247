using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Vigil.Check.V1;
using Vigil.Ipvs.V1;
using Vigil.Ipvsd.Backends;
using Vigil.Netlink.Ipvs;
using IpvsService = Vigil.Netlink.Ipvs.IpvsService;
using ForwardingMethod = Vigil.Ipvs.V1.ForwardingMethod;
using TunnelType = Vigil.Ipvs.V1.TunnelType;

namespace Vigil.Ipvsd.Engine;

/// <summary>A malformed part of an IpvsConfig, naming the virtual server and field.</summary>
public sealed class IpvsConfigException(IReadOnlyList<string> errors) : Exception(string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>The table wanted: every service with its destinations, and which virtual_server each comes from.</summary>
public sealed record LvsTarget(IReadOnlyList<LvsEntry> Entries, IReadOnlyDictionary<IpvsService, string> Owners, IReadOnlyList<string> Refused)
{
    public static LvsTarget Empty { get; } = new([], new Dictionary<IpvsService, string>(), []);
}

/// <summary>
/// From the desired configuration and checkd's destination sets to the kernel's target table,
/// as keepalived programs it: one service per virtual_server (one per address and fwmark of a
/// virtual_server_group), real servers with checkd's weights and their configured forwarding
/// and thresholds. Pure: the same inputs always give the same table.
/// </summary>
public static class TargetBuilder
{
    /// <summary>The most services one virtual_server_group may expand to (a hostile range is an error, not a hang).</summary>
    public const int MaxServicesPerGroup = 4096;

    /// <summary>A virtual server key as text, the same for checkd's sets and controld's config.</summary>
    public static string KeyText(VirtualServerKey key) => key.KindCase switch
    {
        VirtualServerKey.KindOneofCase.Endpoint => $"ep {key.Endpoint.Address}:{key.Endpoint.Port}/{Proto(key.Protocol)}",
        VirtualServerKey.KindOneofCase.Fwmark => $"fwm {key.Fwmark}",
        VirtualServerKey.KindOneofCase.Group => $"grp {key.Group}/{Proto(key.Protocol)}",
        _ => "none",
    };

    private static Check.V1.Protocol Proto(Check.V1.Protocol p) => p == Check.V1.Protocol.Unspecified ? Check.V1.Protocol.Tcp : p;

    /// <summary>Checks a configuration; throws <see cref="IpvsConfigException"/> listing every problem.</summary>
    public static void Validate(IpvsConfig config)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vs in config.VirtualServers)
        {
            var name = string.IsNullOrEmpty(vs.Name) ? KeyText(vs.Key ?? new VirtualServerKey()) : vs.Name;
            void Error(string what) => errors.Add($"virtual_server {name}: {what}");
            if (vs.Key is null || vs.Key.KindCase == VirtualServerKey.KindOneofCase.None)
            {
                Error("key: missing");
                continue;
            }
            if (!seen.Add(KeyText(vs.Key))) Error("key: a second virtual_server with the same key");
            try
            {
                var services = ExpandServices(vs);
                _ = services.Select(s => ToService(vs, s)).ToList();
            }
            catch (FormatException e)
            {
                Error(e.Message);
            }
            foreach (var rs in vs.RealServers) CheckRealServer(rs, "real_server", Error);
            if (vs.SorryServer is not null) CheckRealServer(vs.SorryServer, "sorry_server", Error);
        }
        if (config.Globals?.SyncDaemon is { } sync && sync.Interface.Length == 0) errors.Add("lvs_sync_daemon: interface: missing");
        if (config.Globals?.ReconcileInterval is { } ri && ri.ToTimeSpan() < TimeSpan.FromMilliseconds(100)) errors.Add("reconcile_interval: under 100 ms");
        if (errors.Count > 0) throw new IpvsConfigException(errors);
    }

    private static void CheckRealServer(Ipvs.V1.RealServerSpec rs, string what, Action<string> error)
    {
        if (rs.Endpoint is null || !IPAddress.TryParse(rs.Endpoint.Address, out _)) error($"{what} {rs.Endpoint?.Address}: endpoint.address: not an IP address");
        else if (rs.Endpoint.Port > ushort.MaxValue) error($"{what} {rs.Endpoint.Address}: endpoint.port: {rs.Endpoint.Port} is above 65535");
        if (rs.Weight < 0) error($"{what} {rs.Endpoint?.Address}: weight: {rs.Weight} is negative");
        if (rs.Forwarding?.Method is < ForwardingMethod.Unspecified or > ForwardingMethod.Tun) error($"{what} {rs.Endpoint?.Address}: forwarding.method: unknown value {(int)rs.Forwarding.Method}");
        if (rs.Forwarding?.TunnelPort > ushort.MaxValue) error($"{what} {rs.Endpoint?.Address}: forwarding.tunnel_port: above 65535");
    }

    /// <summary>The (address, port) or fwmark services a virtual_server stands for.</summary>
    private readonly record struct ServiceId(IPAddress? Address, ushort Port, uint Fwmark, AddressFamily Family);

    private static List<ServiceId> ExpandServices(Ipvs.V1.VirtualServerSpec vs)
    {
        var key = vs.Key;
        switch (key.KindCase)
        {
            case VirtualServerKey.KindOneofCase.Endpoint:
                var address = ParseAddress(key.Endpoint.Address, "key.endpoint.address");
                return [new ServiceId(address, Port(key.Endpoint.Port, "key.endpoint.port"), 0, address.AddressFamily)];
            case VirtualServerKey.KindOneofCase.Fwmark:
                if (key.Fwmark == 0) throw new FormatException("key.fwmark: 0 is not a firewall mark");
                return [new ServiceId(null, 0, key.Fwmark, vs.Ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork)];
            default:
                var services = new List<ServiceId>();
                foreach (var entry in vs.GroupEntries)
                {
                    if (entry.Fwmark != 0)
                    {
                        services.Add(new ServiceId(null, 0, entry.Fwmark, entry.Ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork));
                        continue;
                    }
                    var first = ParseAddress(entry.First, "group_entries.first");
                    var last = string.IsNullOrEmpty(entry.Last) ? first : ParseAddress(entry.Last, "group_entries.last");
                    if (first.AddressFamily != last.AddressFamily) throw new FormatException($"group_entries: {first}-{last} mixes IPv4 and IPv6");
                    var (a, b) = (new BigInteger(first.GetAddressBytes(), isUnsigned: true, isBigEndian: true), new BigInteger(last.GetAddressBytes(), isUnsigned: true, isBigEndian: true));
                    if (b < a) throw new FormatException($"group_entries: range {first}-{last} ends before it starts");
                    if (b - a + services.Count >= MaxServicesPerGroup) throw new FormatException($"group_entries: more than {MaxServicesPerGroup} services in group {key.Group}");
                    var port = Port(entry.Port, "group_entries.port");
                    var length = first.GetAddressBytes().Length;
                    for (var n = a; n <= b; n++)
                    {
                        var bytes = n.ToByteArray(isUnsigned: true, isBigEndian: true);
                        var padded = new byte[length];
                        bytes.CopyTo(padded, length - bytes.Length);
                        services.Add(new ServiceId(new IPAddress(padded), port, 0, first.AddressFamily));
                    }
                }
                return services;
        }
    }

    private static IPAddress ParseAddress(string text, string field) =>
        IPAddress.TryParse(text, out var a) ? a : throw new FormatException($"{field}: \"{text}\" is not an IP address");

    private static ushort Port(uint port, string field) =>
        port <= ushort.MaxValue ? (ushort)port : throw new FormatException($"{field}: {port} is above 65535");

    private static IpvsService ToService(Ipvs.V1.VirtualServerSpec vs, ServiceId id)
    {
        var flags = IpvsServiceFlags.None;
        if (vs.PersistenceTimeout is not null) flags |= IpvsServiceFlags.Persistent;
        if (vs.OnePacket) flags |= IpvsServiceFlags.OnePacket;
        if (vs.SchedulerFlag1) flags |= IpvsServiceFlags.Scheduler1;
        if (vs.SchedulerFlag2) flags |= IpvsServiceFlags.Scheduler2;
        if (vs.SchedulerFlag3) flags |= IpvsServiceFlags.Scheduler3;
        return new IpvsService
        {
            Family = id.Family,
            Protocol = id.Fwmark != 0 ? IpvsProtocol.Tcp : vs.Key.Protocol switch
            {
                Check.V1.Protocol.Udp => IpvsProtocol.Udp,
                Check.V1.Protocol.Sctp => IpvsProtocol.Sctp,
                _ => IpvsProtocol.Tcp,
            },
            Address = id.Address,
            Port = id.Port,
            FirewallMark = id.Fwmark,
            Scheduler = string.IsNullOrEmpty(vs.Scheduler) ? "wlc" : vs.Scheduler,
            Flags = flags,
            PersistenceTimeout = vs.PersistenceTimeout is { } t ? (uint)Math.Max(1, t.ToTimeSpan().TotalSeconds) : 0,
            PersistenceNetmask = PersistenceGranularity.Parse(vs.PersistenceGranularity, id.Family),
            PersistenceEngine = string.IsNullOrEmpty(vs.PersistenceEngine) ? null : vs.PersistenceEngine,
        };
    }

    /// <summary>
    /// The target table. A virtual server checkd has not reported yet gets its configured real
    /// servers (alpha ones excluded), as keepalived starts them alive; a destination set from
    /// checkd replaces that entirely (health, weights, inhibit, sorry server).
    /// </summary>
    /// <param name="progress">Called after each virtual server (the reconcile loop's heartbeat).</param>
    public static LvsTarget Build(IpvsConfig config, IReadOnlyDictionary<string, DestinationSet> sets, ILvsBackend? backend = null, Action? progress = null)
    {
        var entries = new List<LvsEntry>();
        var owners = new Dictionary<IpvsService, string>();
        var refused = new List<string>();
        foreach (var vs in config.VirtualServers)
        {
            progress?.Invoke();
            var name = string.IsNullOrEmpty(vs.Name) ? KeyText(vs.Key) : vs.Name;
            var services = ExpandServices(vs).Select(s => ToService(vs, s)).ToList();
            var destinations = Destinations(vs, sets.GetValueOrDefault(KeyText(vs.Key)), services[0].Family);
            var reasons = backend is null ? [] : services.SelectMany(s =>
                    new[] { backend.CannotProgram(s, null) }.Concat(destinations.Select(d => backend.CannotProgram(s, d))))
                .OfType<string>().Distinct().ToList();
            if (reasons.Count > 0)
            {
                refused.Add($"virtual_server {name}: {string.Join("; ", reasons)}");
                continue;
            }
            foreach (var service in services)
            {
                if (owners.TryAdd(service.Key, name)) entries.Add(new LvsEntry(service, destinations));
                else refused.Add($"virtual_server {name}: service {service.Key} is also virtual_server {owners[service.Key]}'s");
            }
        }
        return new LvsTarget(entries, owners, refused);
    }

    private static List<IpvsDestination> Destinations(Ipvs.V1.VirtualServerSpec vs, DestinationSet? set, AddressFamily serviceFamily)
    {
        var result = new List<IpvsDestination>();
        if (set is null)
        {
            foreach (var rs in vs.RealServers.Where(r => !r.Alpha)) result.Add(ToDestination(rs, rs.Endpoint, rs.Weight, serviceFamily));
            return result;
        }
        var seen = new HashSet<(IPAddress, uint)>();
        foreach (var d in set.Destinations)
        {
            // checkd's own sets are well formed; anything else is skipped, as is a repeated endpoint.
            if (!IPAddress.TryParse(d.Endpoint?.Address, out var address) || d.Endpoint.Port > ushort.MaxValue || !seen.Add((address, d.Endpoint.Port))) continue;
            var spec = d.Role == DestinationRole.SorryServer && vs.SorryServer is not null
                ? vs.SorryServer
                : vs.RealServers.FirstOrDefault(r => SameEndpoint(r.Endpoint, d.Endpoint))
                  ?? new Ipvs.V1.RealServerSpec { Forwarding = vs.RealServers.FirstOrDefault()?.Forwarding };
            result.Add(ToDestination(spec, d.Endpoint, Math.Max(0, d.Weight), serviceFamily));
        }
        return result;
    }

    private static bool SameEndpoint(Check.V1.Endpoint? a, Check.V1.Endpoint? b) =>
        a is not null && b is not null && a.Port == b.Port && IPAddress.TryParse(a.Address, out var x) && IPAddress.TryParse(b.Address, out var y) && x.Equals(y);

    private static IpvsDestination ToDestination(Ipvs.V1.RealServerSpec rs, Check.V1.Endpoint endpoint, int weight, AddressFamily serviceFamily)
    {
        var address = IPAddress.Parse(endpoint.Address);
        var f = rs.Forwarding ?? new Forwarding();
        return new IpvsDestination
        {
            Address = address,
            Port = (ushort)endpoint.Port,
            Family = address.AddressFamily == serviceFamily ? null : address.AddressFamily,
            ForwardingMethod = f.Method switch
            {
                ForwardingMethod.Dr => IpvsForwardingMethod.DirectRoute,
                ForwardingMethod.Tun => IpvsForwardingMethod.Tunnel,
                _ => IpvsForwardingMethod.Masquerade,
            },
            Weight = weight,
            UpperThreshold = rs.UpperThreshold,
            LowerThreshold = rs.LowerThreshold,
            TunnelType = f.Method != ForwardingMethod.Tun ? IpvsTunnelType.IpIp : f.TunnelType switch
            {
                TunnelType.Gue => IpvsTunnelType.Gue,
                TunnelType.Gre => IpvsTunnelType.Gre,
                _ => IpvsTunnelType.IpIp,
            },
            TunnelPort = f.Method == ForwardingMethod.Tun && f.TunnelType == TunnelType.Gue ? (ushort)f.TunnelPort : (ushort)0,
            TunnelFlags = f.Method != ForwardingMethod.Tun ? IpvsTunnelFlags.NoChecksum : f.TunnelChecksum switch
            {
                TunnelChecksum.Checksum => IpvsTunnelFlags.Checksum,
                TunnelChecksum.Remote => IpvsTunnelFlags.RemoteChecksum,
                _ => IpvsTunnelFlags.NoChecksum,
            },
        };
    }
}
