using Vigil.Ipvsd.Backends;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Tests.Engine;

/// <summary>A table in memory standing in for the kernel, counting every write (the reconciler is what is tested).</summary>
internal sealed class MemoryBackend(bool hasSyncDaemon = true, Func<IpvsService, IpvsDestination?, string?>? cannot = null) : ILvsBackend
{
    private readonly object _gate = new();
    public Dictionary<IpvsService, (IpvsService Service, List<IpvsDestination> Destinations)> Table { get; } = [];
    public List<IpvsDaemon> Daemons { get; } = [];
    public List<string> Log { get; } = [];
    public int Writes;
    public int Flushes;
    public IpvsTimeouts? Timeouts;

    public string Name => "memory";
    public bool HasSyncDaemon => hasSyncDaemon;

    public Task<string> VersionAsync(CancellationToken cancellationToken) => Task.FromResult("memory 1");

    public string? CannotProgram(IpvsService service, IpvsDestination? destination) => cannot?.Invoke(service, destination);

    public Task<IReadOnlyList<LvsEntry>> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<LvsEntry>>(Table.Values.Select(e => new LvsEntry(e.Service, e.Destinations.ToList())).ToList());
        }
    }

    public Task ApplyAsync(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var c in changes)
            {
                Writes++;
                Log.Add(c.GetType().Name);
                switch (c)
                {
                    case LvsChange.AddService a:
                        if (!Table.TryAdd(a.Service.Key, (a.Service, []))) throw new InvalidOperationException("EEXIST " + a.Service);
                        break;
                    case LvsChange.UpdateService u:
                        Table[u.Service.Key] = (u.Service, Table[u.Service.Key].Destinations);
                        break;
                    case LvsChange.DeleteService d:
                        if (!Table.Remove(d.Service.Key)) throw new InvalidOperationException("ESRCH " + d.Service);
                        break;
                    case LvsChange.AddDestination a:
                        var list = Table[a.Service.Key].Destinations;
                        if (list.Any(x => x.Address.Equals(a.Destination.Address) && x.Port == a.Destination.Port)) throw new InvalidOperationException("EEXIST " + a.Destination);
                        list.Add(a.Destination);
                        break;
                    case LvsChange.UpdateDestination u:
                        var l2 = Table[u.Service.Key].Destinations;
                        l2[l2.FindIndex(x => x.Address.Equals(u.Destination.Address) && x.Port == u.Destination.Port)] = u.Destination;
                        break;
                    case LvsChange.DeleteDestination d:
                        Table[d.Service.Key].Destinations.RemoveAll(x => x.Address.Equals(d.Destination.Address) && x.Port == d.Destination.Port);
                        break;
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Flushes++;
            Table.Clear();
        }
        return Task.CompletedTask;
    }

    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken)
    {
        Timeouts = timeouts;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<IpvsDaemon>> ListSyncDaemonsAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<IpvsDaemon>>(Daemons.ToList());
    }

    public Task StartSyncDaemonAsync(IpvsDaemon daemon, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Daemons.Any(d => d.State == daemon.State)) throw new InvalidOperationException("EEXIST daemon");
            Daemons.Add(daemon);
            Log.Add("start " + daemon.State);
        }
        return Task.CompletedTask;
    }

    public Task StopSyncDaemonAsync(IpvsDaemonState state, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Daemons.RemoveAll(d => d.State == state);
            Log.Add("stop " + state);
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
