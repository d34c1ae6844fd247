using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends;

/// <summary>A virtual service of a backend's table with its real servers.</summary>
public sealed record LvsEntry(IpvsService Service, IReadOnlyList<IpvsDestination> Destinations);

/// <summary>One change to a backend's table, in the order the planner wants them applied.</summary>
public abstract record LvsChange
{
    private LvsChange() { }

    public sealed record AddService(IpvsService Service) : LvsChange;
    public sealed record UpdateService(IpvsService Service) : LvsChange;
    public sealed record DeleteService(IpvsService Service) : LvsChange;
    public sealed record AddDestination(IpvsService Service, IpvsDestination Destination) : LvsChange;
    public sealed record UpdateDestination(IpvsService Service, IpvsDestination Destination) : LvsChange;
    public sealed record DeleteDestination(IpvsService Service, IpvsDestination Destination) : LvsChange;
}

/// <summary>
/// Where the load balancer's rules go: the kernel's IPVS (generic netlink) or nftables (DNAT,
/// for kernels without IPVS). The reconciler reads the table, plans the difference and hands it
/// here; a backend never decides what the table should be.
/// </summary>
public interface ILvsBackend : IAsyncDisposable
{
    /// <summary>"ipvs" or "nftables".</summary>
    string Name { get; }

    /// <summary>"IP Virtual Server version 1.2.1 (size=4096)", "nftables v1.0.6".</summary>
    Task<string> VersionAsync(CancellationToken cancellationToken);

    /// <summary>Why this backend cannot program a service or destination (e.g. DR on nftables); null when it can.</summary>
    string? CannotProgram(IpvsService service, IpvsDestination? destination);

    /// <summary>The whole table this backend manages, with counters.</summary>
    Task<IReadOnlyList<LvsEntry>> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies the changes, in order. <paramref name="target"/> is the whole table wanted after
    /// them, for backends that rewrite a service at a time (nftables). Throws on the first
    /// failure; changes before it stay applied (the next reconcile reads what is there).
    /// </summary>
    Task ApplyAsync(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, CancellationToken cancellationToken);

    /// <summary>
    /// How many changes the reconciler hands to one <see cref="ApplyAsync"/>. IPVS takes one
    /// netlink message per change, so batches only bound the time between heartbeats; nftables
    /// reloads its table with every transaction, so batches would cost that reload each time
    /// (20,000 services: minutes instead of seconds), and it takes the whole plan at once.
    /// </summary>
    int ChangesPerApply => 256;

    /// <summary>Removes every service (lvs_flush, lvs_flush_on_stop).</summary>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>lvs_timeouts; backends without connection timeouts of their own ignore it.</summary>
    Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken);

    /// <summary>The connection sync daemons running (none for backends without one).</summary>
    Task<IReadOnlyList<IpvsDaemon>> ListSyncDaemonsAsync(CancellationToken cancellationToken);

    Task StartSyncDaemonAsync(IpvsDaemon daemon, CancellationToken cancellationToken);

    Task StopSyncDaemonAsync(IpvsDaemonState state, CancellationToken cancellationToken);

    /// <summary>Whether the backend has a connection sync daemon (IPVS); lvs_sync_daemon is a warning otherwise.</summary>
    bool HasSyncDaemon { get; }
}
