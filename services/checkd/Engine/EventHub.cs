using System.Threading.Channels;

namespace Vigil.Checkd.Engine;

/// <summary>
/// Fan-out of the engine's ordered change stream. Each subscriber gets the snapshot taken when it
/// joined (inside the engine loop, so nothing is missed or duplicated), then the changes through
/// a bounded channel that drops the oldest when the subscriber is too slow (counted), and is
/// removed when its enumeration ends or is cancelled (grpc-dotnet HealthServiceImpl.Watch,
/// gobgp WatchEvent).
/// </summary>
internal sealed class EventHub
{
    private readonly object _gate = new();
    private readonly List<Subscriber> _subscribers = [];
    private long _dropped;
    private long _published;

    public long Dropped => Interlocked.Read(ref _dropped);
    public long Published => Interlocked.Read(ref _published);

    private volatile int _count;

    /// <summary>Whether anyone listens (lets the engine skip building events nobody reads).</summary>
    public bool HasSubscribers => _count > 0;

    /// <summary>Called from the engine loop.</summary>
    public Subscriber Subscribe(IReadOnlyList<CheckEvent> snapshot, int capacity)
    {
        var subscriber = new Subscriber(this, snapshot, capacity);
        lock (_gate)
        {
            _subscribers.Add(subscriber);
            _count = _subscribers.Count;
        }
        return subscriber;
    }

    /// <summary>Called from the engine loop; never blocks.</summary>
    public void Publish(CheckEvent e)
    {
        Subscriber[] targets;
        lock (_gate)
        {
            if (_subscribers.Count == 0) return;
            targets = [.. _subscribers];
        }
        Interlocked.Increment(ref _published);
        foreach (var s in targets) s.Writer.TryWrite(e);
    }

    public void Remove(Subscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscriber);
            _count = _subscribers.Count;
        }
        subscriber.Writer.TryComplete();
    }

    /// <summary>Ends every subscription (engine stopped).</summary>
    public void CompleteAll()
    {
        Subscriber[] all;
        lock (_gate)
        {
            all = [.. _subscribers];
            _subscribers.Clear();
            _count = 0;
        }
        foreach (var s in all) s.Writer.TryComplete();
    }

    internal sealed class Subscriber
    {
        private readonly Channel<CheckEvent> _channel;

        public Subscriber(EventHub hub, IReadOnlyList<CheckEvent> snapshot, int capacity)
        {
            Snapshot = snapshot;
            _channel = Channel.CreateBounded<CheckEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
                _ => Interlocked.Increment(ref hub._dropped));
        }

        public IReadOnlyList<CheckEvent> Snapshot { get; }

        public ChannelWriter<CheckEvent> Writer => _channel.Writer;

        public ChannelReader<CheckEvent> Reader => _channel.Reader;
    }
}
