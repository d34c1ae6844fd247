using System.Globalization;
using System.Net;
using Vigil.Config.Model;
using Vigil.Consul;

namespace Vigil.Controld.Consul;

/// <summary>A VRRP instance as vrrpd reports it, as much as registration needs.</summary>
public sealed record VrrpInstanceView(string Name, bool IsMaster, uint VirtualRouterId, IReadOnlyList<IPAddress> VirtualAddresses);

/// <summary>
/// What should be registered with the agent, from the configuration and vrrpd's instances: for
/// every MASTER instance one service per VIP (Address = the VIP, no port) and, with
/// virtual_servers on, one per virtual_server IP PORT on such a VIP (its port); nothing for an
/// instance in any other state. IDs are unique across nodes (router_id in them), so the catalog
/// shows every node's registration of a VIP; each has one TTL check, ID "SERVICE_ID:vrrp".
/// </summary>
public static class ConsulServicePlan
{
    public const string ManagedByKey = "managed_by";
    public const string ManagedByValue = "vigil";

    /// <summary>The node's router_id (global_defs), else the short host name, as keepalived.</summary>
    public static string RouterIdOf(KeepalivedConfig config) => config.Global.RouterId ?? Environment.MachineName.Split('.')[0];

    public static string CheckIdOf(string serviceId) => serviceId + ":vrrp";

    public static IReadOnlyList<AgentServiceRegistration> For(KeepalivedConfig config, ConsulSettings settings, IEnumerable<VrrpInstanceView> instances)
    {
        var routerId = RouterIdOf(config);
        var result = new List<AgentServiceRegistration>();
        foreach (var instance in instances.Where(i => i.IsMaster).OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var name = settings.ServiceNameFor(instance.Name);
            var vrid = instance.VirtualRouterId.ToString(CultureInfo.InvariantCulture);
            foreach (var vip in instance.VirtualAddresses.Distinct())
            {
                var vipText = vip.ToString();
                var id = $"vigil:{routerId}:{instance.Name}:{vipText}";
                var meta = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [ManagedByKey] = ManagedByValue,
                    ["router_id"] = routerId,
                    ["instance"] = instance.Name,
                    ["vrid"] = vrid,
                    ["vip"] = vipText,
                };
                result.Add(Registration(settings, id, name, vipText, null, ["vigil", "vip", "master"], meta, instance.Name));
                if (!settings.RegisterVirtualServers) continue;
                foreach (var vs in config.VirtualServers.Where(v => v.Kind == VirtualServerKind.Address && vip.Equals(v.Address)))
                {
                    var protocol = (vs.Protocol ?? IpvsProtocol.Tcp).ToString().ToLowerInvariant();
                    var port = vs.Port.ToString(CultureInfo.InvariantCulture);
                    var vsMeta = new Dictionary<string, string>(meta, StringComparer.Ordinal) { ["protocol"] = protocol, ["port"] = port };
                    result.Add(Registration(settings, $"{id}:{protocol}:{port}", name, vipText, vs.Port, ["vigil", "virtual_server", protocol, "master"], vsMeta, instance.Name));
                }
            }
        }
        return result;
    }

    private static AgentServiceRegistration Registration(ConsulSettings settings, string id, string name, string address, int? port, string[] tags,
        Dictionary<string, string> meta, string instance) => new()
    {
        Id = id,
        Name = name,
        Address = address,
        Port = port,
        Tags = [.. tags, .. settings.Tags.Where(t => !tags.Contains(t))],
        Meta = meta,
        Check = new AgentServiceCheck
        {
            CheckId = CheckIdOf(id),
            Name = $"VRRP {instance} MASTER",
            Notes = "TTL refreshed by vigil-controld while the VRRP instance is MASTER on this node",
            Ttl = GoDuration.Format(settings.Ttl),
            Status = "passing",
            DeregisterCriticalServiceAfter = GoDuration.Format(settings.DeregisterCriticalAfter),
        },
    };

    /// <summary>Whether the agent's copy matches the registration (else it is registered again).</summary>
    public static bool Matches(AgentServiceRegistration wanted, AgentService actual) =>
        actual.Service == wanted.Name
        && actual.Address == (wanted.Address ?? "")
        && actual.Port == (wanted.Port ?? 0)
        && (actual.Tags ?? []).SequenceEqual(wanted.Tags ?? [])
        && (actual.Meta ?? []).Count == (wanted.Meta?.Count ?? 0)
        && (wanted.Meta ?? new Dictionary<string, string>()).All(kv => actual.Meta!.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
