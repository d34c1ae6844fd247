using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Check.V1;
using Vigil.Client;
using Vigil.Control.V1;
using Vigil.Ipvs.V1;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;
using LvsTable = Vigil.Ipvs.V1.ListVirtualServersResponse;
using Google.Protobuf.WellKnownTypes;

namespace Vigil.Controld.Events;

// controld follows every plane by its own stream, keeps what each last said (GetStatus answers
// from it when a plane is away) and turns what changes into the node's events (WatchEvents).

/// <summary>vrrpd's instances (WatchInstances) and their transitions.</summary>
public sealed partial class VrrpPlaneFollower(EventJournal journal, string socketPath, ILogger logger, TimeSpan? retry = null)
    : StreamFollower(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
{
    private readonly ConcurrentDictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly ILogger _logger = logger;
    private readonly object _subscribersGate = new();
    private readonly List<Action<IReadOnlyList<Instance>>> _subscribers = [];
    private bool _announced;

    /// <summary>The instances as last heard, by name.</summary>
    public IReadOnlyList<Instance> Instances => _instances.Values.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Calls <paramref name="onChange"/> with vrrpd's instances now (if it is followed) and after each
    /// snapshot and transition; with none while vrrpd is away (unlike <see cref="Instances"/>, which keeps
    /// the last heard for status: what is acted on, as the Consul registrar does, must not outlive the
    /// stream). One stream serves both. Calls never overlap; dispose the result to stop them.
    /// </summary>
    public IDisposable FollowInstances(Action<IReadOnlyList<Instance>> onChange)
    {
        lock (_subscribersGate)
        {
            _subscribers.Add(onChange);
            if (_announced) onChange(Instances);
        }
        return new Unsubscriber(this, onChange);
    }

    private sealed class Unsubscriber(VrrpPlaneFollower follower, Action<IReadOnlyList<Instance>> onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (follower._subscribersGate) follower._subscribers.Remove(onChange);
        }
    }

    private void Announce(bool followed)
    {
        lock (_subscribersGate)
        {
            if (!followed && !_announced) return;
            _announced = followed;
            IReadOnlyList<Instance> now = followed ? Instances : [];
            foreach (var s in _subscribers.ToArray())
            {
                try
                {
                    s(now);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogSubscriberFailed(e.Message);
                }
            }
        }
    }

    protected override Task OnDisconnectedAsync()
    {
        Announce(followed: false);
        return Task.CompletedTask;
    }

    protected override Task OnStoppedAsync() => OnDisconnectedAsync();

    protected override void OnLost(string reason) => LogLost(SocketPath, reason);

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var snapshot = new List<Instance>();
        using var watch = new VrrpService.VrrpServiceClient(channel.Invoker).WatchInstances(new WatchInstancesRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case WatchInstancesResponse.EventOneofCase.Snapshot when !Connected:
                    snapshot.Add(e.Snapshot);
                    break;
                case WatchInstancesResponse.EventOneofCase.EndOfSnapshot:
                    Resynchronize(snapshot);
                    Connected = true;
                    Announce(followed: true);
                    break;
                case WatchInstancesResponse.EventOneofCase.Transition:
                    _instances[e.Transition.Instance.Name] = e.Transition.Instance;
                    journal.Publish(new WatchEventsResponse { VrrpTransition = e.Transition });
                    Announce(followed: true);
                    break;
                case WatchInstancesResponse.EventOneofCase.OtherMaster:
                    journal.Publish(new WatchEventsResponse { VrrpOtherMaster = e.OtherMaster });
                    break;
                case WatchInstancesResponse.EventOneofCase.PriorityChange:
                    if (_instances.TryGetValue(e.PriorityChange.Instance, out var i))
                    {
                        var changed = i.Clone();
                        changed.EffectivePriority = e.PriorityChange.To;
                        _instances[i.Name] = changed;
                    }
                    journal.Publish(new WatchEventsResponse { VrrpPriorityChange = e.PriorityChange });
                    break;
            }
        }
    }

    /// <summary>
    /// A (re)connect's snapshot replaces what was known. A state that differs from the last one
    /// heard is a transition the stream did not carry (vrrpd restarted, or controld was away):
    /// published, so a watcher's view stays right.
    /// </summary>
    private void Resynchronize(List<Instance> snapshot)
    {
        var names = snapshot.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var i in snapshot)
        {
            if (_instances.TryGetValue(i.Name, out var before) && before.State != i.State)
            {
                journal.Publish(new WatchEventsResponse
                {
                    VrrpTransition = new Transition { Instance = i, From = before.State, To = i.State, Reason = "state found on reconnecting to vigil-vrrpd" },
                });
            }
            _instances[i.Name] = i;
        }
        foreach (var gone in _instances.Keys.Where(k => !names.Contains(k)).ToList()) _instances.TryRemove(gone, out _);
    }

    [LoggerMessage(EventId = 240, Level = LogLevel.Warning, Message = "lost {Socket} ({Reason}); status shows its instances as last heard")]
    private partial void LogLost(string socket, string reason);

    [LoggerMessage(EventId = 243, Level = LogLevel.Error, Message = "a follower of vrrpd's instances failed: {Reason}")]
    private partial void LogSubscriberFailed(string reason);
}

/// <summary>checkd's virtual servers (WatchCheckResults): health, weights, checker results.</summary>
public sealed partial class CheckPlaneFollower(EventJournal journal, string socketPath, ILogger logger, TimeSpan? retry = null)
    : StreamFollower(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Check.V1.VirtualServer> _servers = new(StringComparer.Ordinal);
    private readonly ILogger _logger = logger;

    public IReadOnlyList<Check.V1.VirtualServer> VirtualServers
    {
        get { lock (_gate) return _servers.Values.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => v.Clone()).ToList(); }
    }

    protected override void OnLost(string reason) => LogLost(SocketPath, reason);

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var snapshot = new List<Check.V1.VirtualServer>();
        using var watch = new CheckService.CheckServiceClient(channel.Invoker).WatchCheckResults(new WatchCheckResultsRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            lock (_gate) Apply(e, snapshot);
        }
    }

    private void Apply(WatchCheckResultsResponse e, List<Check.V1.VirtualServer> snapshot)
    {
        switch (e.EventCase)
        {
            case WatchCheckResultsResponse.EventOneofCase.Snapshot when !Connected:
                snapshot.Add(e.Snapshot);
                break;
            case WatchCheckResultsResponse.EventOneofCase.EndOfSnapshot:
                _servers.Clear();
                foreach (var v in snapshot) _servers[v.Name] = v;
                Connected = true;
                break;
            case WatchCheckResultsResponse.EventOneofCase.CheckerResult:
                journal.Publish(new WatchEventsResponse { CheckerResult = e.CheckerResult });
                break;
            case WatchCheckResultsResponse.EventOneofCase.RealServerUpdated:
                if (_servers.TryGetValue(e.RealServerUpdated.VirtualServerName, out var vs))
                {
                    var at = vs.RealServers.ToList().FindIndex(r => r.Name == e.RealServerUpdated.RealServer.Name);
                    if (at >= 0) vs.RealServers[at] = e.RealServerUpdated.RealServer;
                    else vs.RealServers.Add(e.RealServerUpdated.RealServer);
                }
                journal.Publish(new WatchEventsResponse { RealServerUpdated = e.RealServerUpdated });
                break;
            case WatchCheckResultsResponse.EventOneofCase.VirtualServerUpdated:
                _servers[e.VirtualServerUpdated.Name] = e.VirtualServerUpdated;
                journal.Publish(new WatchEventsResponse { VirtualServerUpdated = e.VirtualServerUpdated });
                break;
            case WatchCheckResultsResponse.EventOneofCase.DestinationsChanged:
                // What ipvsd will program; the load balancer's own table change is published by LvsTableFollower.
                if (_servers.TryGetValue(e.DestinationsChanged.Name, out var owner)) owner.Destinations = e.DestinationsChanged;
                break;
            case WatchCheckResultsResponse.EventOneofCase.VirtualServerRemoved:
                _servers.Remove(e.VirtualServerRemoved.Name);
                journal.Publish(new WatchEventsResponse { VirtualServerRemoved = e.VirtualServerRemoved });
                break;
            case WatchCheckResultsResponse.EventOneofCase.RealServerRemoved:
                if (_servers.TryGetValue(e.RealServerRemoved.VirtualServerName, out var from))
                {
                    var at = from.RealServers.ToList().FindIndex(r => r.Endpoint.Equals(e.RealServerRemoved.RealServer));
                    if (at >= 0) from.RealServers.RemoveAt(at);
                }
                journal.Publish(new WatchEventsResponse { RealServerRemoved = e.RealServerRemoved });
                break;
        }
    }

    [LoggerMessage(EventId = 241, Level = LogLevel.Warning, Message = "lost {Socket} ({Reason}); status shows its virtual servers as last heard")]
    private partial void LogLost(string socket, string reason);
}

/// <summary>ipvsd's table (WatchStats, once a second): status shows it, and a change of its shape is an event.</summary>
public sealed partial class LvsTableFollower(EventJournal journal, string socketPath, ILogger logger, TimeSpan? interval = null, TimeSpan? retry = null)
    : StreamFollower(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
{
    private readonly TimeSpan _interval = interval ?? TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = logger;
    private LvsTable? _table;

    /// <summary>The table as last read (null before ipvsd first answered).</summary>
    public LvsTable? Table => Volatile.Read(ref _table);

    protected override void OnLost(string reason) => LogLost(SocketPath, reason);

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        using var watch = new IpvsService.IpvsServiceClient(channel.Invoker).WatchStats(
            new WatchStatsRequest { Interval = Duration.FromTimeSpan(_interval) }, cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            var before = _table;
            Volatile.Write(ref _table, e.Stats);
            Connected = true;
            if (before is null) continue;
            var changes = LvsTableDiff.Describe(before.Services, e.Stats.Services);
            if (changes.Count == 0) continue;
            var changed = new LvsTableChanged();
            changed.Changes.AddRange(changes);
            changed.Services.AddRange(e.Stats.Services);
            journal.Publish(new WatchEventsResponse { LvsTableChanged = changed });
        }
    }

    [LoggerMessage(EventId = 242, Level = LogLevel.Warning, Message = "lost {Socket} ({Reason}); status shows the load balancer's table as last read")]
    private partial void LogLost(string socket, string reason);
}

/// <summary>What differs between two reads of the load balancer's table, counters aside, as ipvsadm names things.</summary>
public static class LvsTableDiff
{
    public static List<string> Describe(IEnumerable<VirtualService> before, IEnumerable<VirtualService> after)
    {
        var changes = new List<string>();
        var old = before.ToDictionary(Key);
        var now = after.ToDictionary(Key);
        foreach (var (key, s) in now)
        {
            if (!old.TryGetValue(key, out var was))
            {
                changes.Add($"+ {key} {s.Scheduler}");
                changes.AddRange(s.Destinations.Select(d => $"+ {key} -> {Endpoint(d)} {d.Forward} weight {d.Weight}"));
                continue;
            }
            var oldShape = Shape(was);
            var newShape = Shape(s);
            if (oldShape != newShape) changes.Add($"~ {key} {oldShape} -> {newShape}");
            var oldDests = was.Destinations.ToDictionary(Endpoint);
            var newDests = s.Destinations.ToDictionary(Endpoint);
            foreach (var (ep, d) in newDests)
            {
                if (!oldDests.TryGetValue(ep, out var od)) changes.Add($"+ {key} -> {ep} {d.Forward} weight {d.Weight}");
                else if (od.Weight != d.Weight || od.Forward != d.Forward || od.UpperThreshold != d.UpperThreshold || od.LowerThreshold != d.LowerThreshold)
                    changes.Add($"~ {key} -> {ep} {Dest(od)} -> {Dest(d)}");
            }
            changes.AddRange(oldDests.Keys.Where(ep => !newDests.ContainsKey(ep)).Select(ep => $"- {key} -> {ep}"));
        }
        changes.AddRange(old.Keys.Where(k => !now.ContainsKey(k)).Select(k => $"- {k}"));
        return changes;
    }

    /// <summary>ipvsadm's name of a service without the padding: "TCP 10.0.0.1:80", "FWM 5".</summary>
    public static string Key(VirtualService s) => IpvsNames.Service(s);

    private static string Endpoint(Ipvs.V1.Destination d) => IpvsNames.Endpoint(d.Endpoint.Address, d.Endpoint.Port);

    private static string Shape(VirtualService s)
    {
        var text = s.Scheduler;
        if (s.Flags.Count > 0) text += " " + string.Join(",", s.Flags);
        if (s.PersistenceTimeout != 0) text += $" persistent {s.PersistenceTimeout.ToString(CultureInfo.InvariantCulture)}";
        if (s.PersistenceGranularity.Length > 0) text += $" mask {s.PersistenceGranularity}";
        if (s.PersistenceEngine.Length > 0) text += $" pe {s.PersistenceEngine}";
        return text;
    }

    private static string Dest(Ipvs.V1.Destination d)
    {
        var text = $"{d.Forward} weight {d.Weight.ToString(CultureInfo.InvariantCulture)}";
        if (d.UpperThreshold != 0 || d.LowerThreshold != 0) text += $" thresholds {d.UpperThreshold}/{d.LowerThreshold}";
        return text;
    }
}
