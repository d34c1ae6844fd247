using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Vigil.Netlink;
using Vigil.Netlink.Route;

namespace Vigil.Vrrpd.Daemon;

/// <summary>What the link monitor knows of one interface.</summary>
/// <param name="Up">IFF_UP and IFF_RUNNING (carrier), keepalived's test for a usable interface.</param>
public sealed record LinkInfo(int Index, string Name, bool Up);

/// <summary>
/// The interfaces and addresses of the daemon's namespace, kept current from rtnetlink
/// notifications (<see cref="RtnetlinkMonitor"/>): a carrier loss reaches
/// <see cref="LinkChanged"/> as soon as the kernel announces it. After a notification overflow
/// the whole state is read again and differences are reported like events.
/// </summary>
internal sealed partial class LinkMonitor : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkInfo> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<int, List<InterfaceAddress>> _addresses = [];
    private readonly RtnetlinkMonitor _monitor;
    private readonly Rtnetlink _rtnl;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _cts = new();
    private Task _loop = Task.CompletedTask;

    private LinkMonitor(RtnetlinkMonitor monitor, Rtnetlink rtnl, ILogger log)
    {
        _monitor = monitor;
        _rtnl = rtnl;
        _log = log;
    }

    /// <summary>An interface appeared, went, or changed its up/carrier state (old, new; either may be null).</summary>
    public event Action<LinkInfo?, LinkInfo?>? LinkChanged;

    /// <summary>The addresses of an interface changed.</summary>
    public event Action<string>? AddressesChanged;

    /// <summary>Opens the monitor first, then reads the current state, so no change falls in between.</summary>
    public static async Task<LinkMonitor> StartAsync(Rtnetlink rtnl, ILogger log, CancellationToken ct)
    {
        var monitor = RtnetlinkMonitor.Open(MonitorGroups.Links | MonitorGroups.Addresses);
        var m = new LinkMonitor(monitor, rtnl, log);
        try
        {
            await m.ResyncAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            monitor.Dispose();
            throw;
        }
        m._loop = Task.Run(() => m.RunAsync(m._cts.Token), CancellationToken.None);
        return m;
    }

    public LinkInfo? Link(string name)
    {
        lock (_gate) return _links.GetValueOrDefault(name);
    }

    public bool IsUp(string name) => Link(name)?.Up ?? false;

    /// <summary>
    /// The address VRRP sends from on an interface: for IPv4 its first primary address, for IPv6
    /// its link-local address (with the interface as scope). Addresses in <paramref name="exclude"/>
    /// (our own VIPs) never count, so taking over a VIP cannot change the source.
    /// </summary>
    public IPAddress? SourceFor(string name, AddressFamily family, IReadOnlySet<IPAddress> exclude)
    {
        lock (_gate)
        {
            if (!_links.TryGetValue(name, out var link) || !_addresses.TryGetValue(link.Index, out var list)) return null;
            foreach (var a in list)
            {
                var ip = a.Address.Address;
                if (ip.AddressFamily != family || exclude.Contains(ip)) continue;
                if (family == AddressFamily.InterNetwork)
                {
                    if ((a.Flags & AddressFlags.Secondary) != 0) continue;
                    return ip;
                }
                if (ip.IsIPv6LinkLocal && (a.Flags & (AddressFlags.Tentative | AddressFlags.DadFailed)) == 0)
                    return new IPAddress(ip.GetAddressBytes(), link.Index);
            }
            return null;
        }
    }

    /// <summary>The addresses currently on an interface (for tests and diagnostics).</summary>
    public IReadOnlyList<InterfaceAddress> Addresses(string name)
    {
        lock (_gate)
        {
            return _links.TryGetValue(name, out var link) && _addresses.TryGetValue(link.Index, out var list) ? [.. list] : [];
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var e in _monitor.ReadEventsAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    switch (e)
                    {
                        case LinkEvent l: ApplyLink(l.Link, l.Removed); break;
                        case AddressEvent a: ApplyAddress(a.Address, a.Removed); break;
                        case EventsLost:
                            LogEventsLost(_log);
                            await ResyncAsync(ct).ConfigureAwait(false);
                            break;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogEventFailed(_log, ex, e.ToString() ?? "");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void ApplyLink(Link link, bool removed)
    {
        var changes = new List<(LinkInfo?, LinkInfo?)>();
        var after = removed ? null : new LinkInfo(link.Index, link.Name, link.IsRunning);
        lock (_gate)
        {
            // A rename arrives as a new name with an old index: the old name is gone.
            var renamed = _links.Values.FirstOrDefault(l => l.Index == link.Index && l.Name != link.Name);
            if (renamed is not null && !removed)
            {
                _links.Remove(renamed.Name);
                changes.Add((renamed, null));
            }
            var before = _links.GetValueOrDefault(link.Name);
            if (removed)
            {
                if (before is null || before.Index != link.Index) return;
                _links.Remove(link.Name);
                _addresses.Remove(link.Index);
            }
            else
            {
                _links[link.Name] = after!;
            }
            if (before != after) changes.Add((before, after));
        }
        // Outside the lock: handlers take their own locks and read this monitor.
        foreach (var (b, a) in changes) Raise(b, a);
    }

    private void Raise(LinkInfo? before, LinkInfo? after)
    {
        LogLink(_log, (after ?? before)!.Name, Describe(before), Describe(after));
        LinkChanged?.Invoke(before, after);
    }

    private static string Describe(LinkInfo? l) => l is null ? "absent" : l.Up ? "up" : "down";

    private void ApplyAddress(InterfaceAddress address, bool removed)
    {
        string? name;
        lock (_gate)
        {
            var index = address.Interface.Index;
            if (!_addresses.TryGetValue(index, out var list)) _addresses[index] = list = [];
            var at = list.FindIndex(a => a.Address == address.Address && Equals(a.Peer, address.Peer));
            if (removed)
            {
                if (at < 0) return;
                list.RemoveAt(at);
            }
            else if (at >= 0)
            {
                list[at] = address;
            }
            else
            {
                list.Add(address);
            }
            name = _links.Values.FirstOrDefault(l => l.Index == index)?.Name;
        }
        if (name is not null) AddressesChanged?.Invoke(name);
    }

    /// <summary>Reads links and addresses again and reports what differs.</summary>
    private async Task ResyncAsync(CancellationToken ct)
    {
        var links = await _rtnl.ListLinksAsync(ct).ConfigureAwait(false);
        var addresses = await _rtnl.ListAddressesAsync(AddressFamily.Unspecified, null, ct).ConfigureAwait(false);
        var changedLinks = new List<(LinkInfo?, LinkInfo?)>();
        var changedAddresses = new HashSet<string>(StringComparer.Ordinal);
        lock (_gate)
        {
            var next = links.ToDictionary(l => l.Name, l => new LinkInfo(l.Index, l.Name, l.IsRunning), StringComparer.Ordinal);
            foreach (var (name, old) in _links)
                if (!next.TryGetValue(name, out var now) || now != old) changedLinks.Add((old, next.GetValueOrDefault(name)));
            foreach (var (name, now) in next)
                if (!_links.ContainsKey(name)) changedLinks.Add((null, now));
            var byIndex = addresses.GroupBy(a => a.Interface.Index).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var l in next.Values)
            {
                var old = _addresses.GetValueOrDefault(l.Index) ?? [];
                var now = byIndex.GetValueOrDefault(l.Index) ?? [];
                if (!old.Select(a => a.Address).SequenceEqual(now.Select(a => a.Address))) changedAddresses.Add(l.Name);
            }
            _links.Clear();
            foreach (var (k, v) in next) _links[k] = v;
            _addresses.Clear();
            foreach (var (k, v) in byIndex) _addresses[k] = v;
        }
        foreach (var (before, after) in changedLinks) Raise(before, after);
        foreach (var name in changedAddresses) AddressesChanged?.Invoke(name);
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _monitor.Dispose();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        _cts.Dispose();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "interface {Interface}: {Before} -> {After}")]
    private static partial void LogLink(ILogger logger, string @interface, string before, string after);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "rtnetlink notifications were lost; reading links and addresses again")]
    private static partial void LogEventsLost(ILogger logger);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "handling {Event} failed")]
    private static partial void LogEventFailed(ILogger logger, Exception exception, string @event);
}
