using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Vigil.Hosting;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Daemon;

/// <summary>What a WatchInstances subscriber receives, in core types (the API maps them to proto).</summary>
public abstract record VrrpWatchEvent(DateTime Time);

public sealed record InstanceSnapshotEvent(DateTime Time, VrrpInstanceState State) : VrrpWatchEvent(Time);

public sealed record EndOfSnapshotEvent(DateTime Time) : VrrpWatchEvent(Time);

public sealed record InstanceTransitionEvent(DateTime Time, string Instance, VrrpStateKind From, VrrpStateKind To, VrrpTransitionReason Reason, VrrpInstanceState State)
    : VrrpWatchEvent(Time);

public sealed record OtherMasterEvent(DateTime Time, string Instance, IPAddress Address, byte Priority) : VrrpWatchEvent(Time);

public sealed record PriorityChangeEvent(DateTime Time, string Instance, byte From, byte To) : VrrpWatchEvent(Time);

/// <param name="Instance">null when the packet matched no instance (unknown VRID).</param>
/// <param name="Reason">the counter it was counted under (keepalived's name), or "unknown_vrid".</param>
public sealed record PacketRejectedEvent(DateTime Time, string? Instance, IPAddress? Source, string Reason, byte Vrid, string? Interface)
    : VrrpWatchEvent(Time);

/// <summary>
/// The driver's <see cref="IVrrpEventSink"/>, fanned out to WatchInstances subscribers. Each
/// subscriber has its own bounded channel that drops the oldest event when the client does not
/// keep up (it never blocks the driver's loop, and a slow client loses history, never the stream).
/// Subscriptions are made on the loop (<see cref="VrrpDriver.InvokeAsync"/>), so the snapshot a
/// subscriber gets first is exactly the state the events after it start from.
/// </summary>
internal sealed class EventHub(Func<TimeSpan, DateTime> wallClock, Func<DateTime> now) : IVrrpEventSink
{
    public const int DefaultCapacity = 1024;

    private readonly object _gate = new();
    private readonly List<Subscription> _subscribers = [];
    private Exception? _completed;

    /// <summary>Events dropped because a subscriber was too slow, over all subscribers.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private long _dropped;

    public int SubscriberCount
    {
        get
        {
            lock (_gate) return _subscribers.Count;
        }
    }

    /// <summary>
    /// Registers a subscriber and queues the snapshot and the end-of-snapshot marker ahead of any
    /// later event. Call on the driver's loop, with the loop's current state.
    /// </summary>
    public Subscription Subscribe(VrrpEngineState state)
    {
        var capacity = DefaultCapacity + 2 * state.Instances.Count;
        var sub = new Subscription(this, capacity);
        lock (_gate)
        {
            if (_completed is not null) throw _completed;
            var t = now();
            foreach (var s in state.Instances.Values.OrderBy(s => s.Config.Name, StringComparer.Ordinal))
                sub.Write(new InstanceSnapshotEvent(t, s));
            sub.Write(new EndOfSnapshotEvent(t));
            _subscribers.Add(sub);
        }
        return sub;
    }

    internal void Remove(Subscription sub)
    {
        lock (_gate) _subscribers.Remove(sub);
    }

    /// <summary>Ends every stream (the daemon is stopping): readers see the exception.</summary>
    public void Complete(Exception error)
    {
        lock (_gate)
        {
            _completed ??= error;
            foreach (var s in _subscribers) s.Complete(error);
            _subscribers.Clear();
        }
    }

    private void Publish(VrrpWatchEvent e)
    {
        lock (_gate)
        {
            foreach (var s in _subscribers) s.Write(e);
        }
    }

    public void OnAction(string instance, VrrpAction action, VrrpInstanceState state)
    {
        switch (action)
        {
            case LogTransition t:
                Publish(new InstanceTransitionEvent(now(), instance, t.From, t.To, t.Reason, state));
                break;
            case OtherMasterDetected o:
                Publish(new OtherMasterEvent(now(), instance, o.Address, o.Priority));
                break;
            case PriorityChanged p:
                Publish(new PriorityChangeEvent(now(), instance, p.From, p.To));
                break;
            case PacketRejected r:
                Publish(new PacketRejectedEvent(now(), instance, r.Source, r.Reason.Counter().KeepalivedName(), state.Config.Vrid, state.Config.Interface));
                break;
        }
    }

    public void OnGroupTransition(SyncGroupTransition transition)
    {
    }

    public void OnUnknownVrid(string? interfaceName, AddressFamily family, byte vrid, IPAddress? source) =>
        Publish(new PacketRejectedEvent(now(), null, source, "unknown_vrid", vrid, interfaceName));

    /// <summary>Converts the driver's monotonic instants for the API.</summary>
    public DateTime ToWallClock(TimeSpan monotonic) => wallClock(monotonic);

    /// <summary>One subscriber's queue; dispose to unsubscribe.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly EventHub _hub;
        private readonly Channel<VrrpWatchEvent> _channel;

        internal Subscription(EventHub hub, int capacity)
        {
            _hub = hub;
            _channel = Channel.CreateBounded<VrrpWatchEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
                _ => Interlocked.Increment(ref hub._dropped));
        }

        public ChannelReader<VrrpWatchEvent> Reader => _channel.Reader;

        internal void Write(VrrpWatchEvent e) => _channel.Writer.TryWrite(e);

        internal void Complete(Exception error) => _channel.Writer.TryComplete(error);

        public void Dispose()
        {
            _hub.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}

/// <summary>The daemon stopped while a caller waited: UNAVAILABLE.</summary>
internal static class DaemonStopping
{
    public static UnavailableException Error() => new("vigil-vrrpd is stopping");
}
