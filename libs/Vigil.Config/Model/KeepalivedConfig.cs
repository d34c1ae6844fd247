namespace Vigil.Config.Model;

/// <summary>
/// A keepalived configuration as Vigil's daemons use it: every block in configuration order,
/// with keepalived's defaults applied and its corrections made (what keepalived would run).
/// Records compare by value, so two loads of the same text are equal.
/// </summary>
public sealed record KeepalivedConfig
{
    public GlobalDefs Global { get; init; } = new();

    public EquatableArray<TrackGroup> TrackGroups { get; init; }

    public EquatableArray<VirtualIpAddress> StaticAddresses { get; init; }

    public EquatableArray<IpRoute> StaticRoutes { get; init; }

    public EquatableArray<IpRule> StaticRules { get; init; }

    public EquatableArray<GarpGroup> GarpGroups { get; init; }

    public EquatableArray<VrrpScript> VrrpScripts { get; init; }

    public EquatableArray<TrackFile> TrackFiles { get; init; }

    public EquatableArray<TrackProcess> TrackProcesses { get; init; }

    public EquatableArray<BfdInstance> BfdInstances { get; init; }

    public EquatableArray<VrrpSyncGroup> SyncGroups { get; init; }

    public EquatableArray<VrrpInstance> Instances { get; init; }

    public SslContext? Ssl { get; init; }

    public EquatableArray<VirtualServerGroup> VirtualServerGroups { get; init; }

    public EquatableArray<VirtualServer> VirtualServers { get; init; }

    /// <summary>consul { } (Vigil's own): register MASTER VIPs with Consul; null: no registration.</summary>
    public ConsulSettings? Consul { get; init; }

    /// <summary>metrics { } (Vigil's own): Prometheus scrape endpoints and OTLP export; null: none configured.</summary>
    public MetricsSettings? Metrics { get; init; }

    public VrrpInstance? FindInstance(string name) => Instances.FirstOrDefault(i => i.Name == name);

    /// <summary>The sync group an instance belongs to, if any.</summary>
    public VrrpSyncGroup? SyncGroupOf(string instance) => SyncGroups.FirstOrDefault(g => g.Members.Contains(instance));
}
