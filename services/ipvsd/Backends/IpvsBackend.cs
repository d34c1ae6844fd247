using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends;

/// <summary>The kernel's IPVS through generic netlink (what ipvsadm and keepalived program).</summary>
public sealed class IpvsBackend : ILvsBackend
{
    private readonly IpvsClient _ipvs;

    private IpvsBackend(IpvsClient ipvs) => _ipvs = ipvs;

    /// <summary>Opens the IPVS family; <see cref="IpvsNotAvailableException"/> when the kernel has no IPVS.</summary>
    public static async Task<IpvsBackend> OpenAsync(CancellationToken cancellationToken) =>
        new(await IpvsClient.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));

    public string Name => "ipvs";

    public bool HasSyncDaemon => true;

    public async Task<string> VersionAsync(CancellationToken cancellationToken) =>
        (await _ipvs.GetInfoAsync(cancellationToken).ConfigureAwait(false)).ToString();

    public string? CannotProgram(IpvsService service, IpvsDestination? destination) => null;

    public async Task<IReadOnlyList<LvsEntry>> ReadAsync(CancellationToken cancellationToken)
    {
        var services = await _ipvs.ListServicesAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<LvsEntry>(services.Count);
        foreach (var service in services)
        {
            entries.Add(new LvsEntry(service, await _ipvs.ListDestinationsAsync(service, cancellationToken).ConfigureAwait(false)));
        }
        return entries;
    }

    public async Task ApplyAsync(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, CancellationToken cancellationToken)
    {
        foreach (var change in changes)
        {
            var task = change switch
            {
                LvsChange.AddService c => _ipvs.AddServiceAsync(c.Service, cancellationToken),
                LvsChange.UpdateService c => _ipvs.UpdateServiceAsync(c.Service, cancellationToken),
                LvsChange.DeleteService c => _ipvs.DeleteServiceAsync(c.Service, cancellationToken),
                LvsChange.AddDestination c => _ipvs.AddDestinationAsync(c.Service, c.Destination, cancellationToken),
                LvsChange.UpdateDestination c => _ipvs.UpdateDestinationAsync(c.Service, c.Destination, cancellationToken),
                LvsChange.DeleteDestination c => _ipvs.DeleteDestinationAsync(c.Service, c.Destination, cancellationToken),
                _ => throw new ArgumentOutOfRangeException(nameof(changes), change, "unknown change"),
            };
            await task.ConfigureAwait(false);
        }
    }

    public Task FlushAsync(CancellationToken cancellationToken) =>
        _ipvs.FlushAsync(cancellationToken);

    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken) =>
        _ipvs.SetTimeoutsAsync(timeouts, cancellationToken);

    public Task<IReadOnlyList<IpvsDaemon>> ListSyncDaemonsAsync(CancellationToken cancellationToken) =>
        _ipvs.ListDaemonsAsync(cancellationToken);

    public Task StartSyncDaemonAsync(IpvsDaemon daemon, CancellationToken cancellationToken) =>
        _ipvs.StartDaemonAsync(daemon, cancellationToken);

    public Task StopSyncDaemonAsync(IpvsDaemonState state, CancellationToken cancellationToken) =>
        _ipvs.StopDaemonAsync(state, cancellationToken);

    public ValueTask DisposeAsync()
    {
        _ipvs.Dispose();
        return ValueTask.CompletedTask;
    }
}
