using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Vigil.Control.V1;

namespace Vigil.Controld.Events;

/// <summary>
/// The node's one ordered event log behind WatchEvents: every event gets the next sequence
/// number; the last <see cref="Capacity"/> are kept so a client can resume after a reconnect;
/// each watcher reads from its own bounded queue, so one slow client never holds up the
/// publishers (it loses its oldest events, and is told how many).
/// </summary>
public sealed class EventJournal
{
    private readonly object _gate = new();
    private readonly Queue<WatchEventsResponse> _held = new();
    private readonly List<Watcher> _watchers = [];
    private readonly TimeProvider _time;
    private ulong _sequence;

    public EventJournal(int capacity = 4096, int watcherQueue = 1024, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(watcherQueue, 1);
        Capacity = capacity;
        WatcherQueue = watcherQueue;
        _time = time ?? TimeProvider.System;
        // Microseconds since the Unix epoch when this journal began: unique per start of controld
        // on one node, and readable as a time.
        var started = _time.GetUtcNow() - DateTimeOffset.UnixEpoch;
        Epoch = (ulong)(started.Ticks / TimeSpan.TicksPerMicrosecond);
        if (Epoch == 0) Epoch = 1; // 0 means "not checked" in a request
    }

    /// <summary>Which journal the sequence numbers belong to (they start again with a new controld).</summary>
    public ulong Epoch { get; }

    /// <summary>How many past events are held for resuming.</summary>
    public int Capacity { get; }

    /// <summary>How many events one watcher may fall behind before it loses the oldest.</summary>
    public int WatcherQueue { get; }

    public ulong LastSequence { get { lock (_gate) return _sequence; } }

    /// <summary>Gives the event the next sequence number and the time, holds it and hands it to every watcher.</summary>
    public WatchEventsResponse Publish(WatchEventsResponse e)
    {
        lock (_gate)
        {
            e.Sequence = ++_sequence;
            e.Epoch = Epoch;
            e.Time = Timestamp.FromDateTimeOffset(_time.GetUtcNow());
            _held.Enqueue(e);
            while (_held.Count > Capacity) _held.Dequeue();
            foreach (var w in _watchers) w.Offer(e);
            return e;
        }
    }

    /// <summary>
    /// Starts a watch. Resuming (<paramref name="afterSequence"/> &gt; 0) within what is held
    /// replays the events after it and needs no snapshot; otherwise <see cref="Watch.NeedsSnapshot"/>
    /// is set (and <see cref="Watch.Lost"/> counts what a resume missed). Registration and the
    /// replay happen under the publishers' lock, so nothing published falls between them.
    /// </summary>
    /// <param name="epoch">the epoch <paramref name="afterSequence"/> was read in; one that is not
    /// <see cref="Epoch"/> (another controld's) needs a snapshot and sets <see cref="Watch.JournalRestarted"/>;
    /// 0: not checked.</param>
    /// <exception cref="ArgumentOutOfRangeException">a sequence number not yet given out</exception>
    public Watch Open(ulong afterSequence, ulong epoch = 0)
    {
        lock (_gate)
        {
            if (afterSequence > 0 && epoch != 0 && epoch != Epoch)
            {
                var fresh = new Watcher(this, WatcherQueue);
                _watchers.Add(fresh);
                return new Watch(fresh, needsSnapshot: true, lost: 0, _sequence) { JournalRestarted = true };
            }
            if (afterSequence > _sequence)
                throw new ArgumentOutOfRangeException(nameof(afterSequence), afterSequence, $"after_sequence {afterSequence} is beyond the last event ({_sequence})");
            var watcher = new Watcher(this, WatcherQueue);
            var oldestHeld = _held.Count == 0 ? _sequence + 1 : _held.Peek().Sequence;
            var resumable = afterSequence > 0 && afterSequence + 1 >= oldestHeld;
            if (resumable)
            {
                foreach (var e in _held)
                    if (e.Sequence > afterSequence) watcher.Offer(e);
            }
            _watchers.Add(watcher);
            var lost = afterSequence > 0 && !resumable ? oldestHeld - 1 - afterSequence : 0;
            return new Watch(watcher, needsSnapshot: !resumable, lost, _sequence);
        }
    }

    private void Close(Watcher w)
    {
        lock (_gate) _watchers.Remove(w);
    }

    internal sealed class Watcher
    {
        private readonly EventJournal _journal;
        private readonly int _limit;
        private readonly Channel<WatchEventsResponse> _queue;
        private ulong _dropped;

        public Watcher(EventJournal journal, int limit)
        {
            _journal = journal;
            _limit = limit;
            // Unbounded underneath, bounded by Offer: it must count what it drops (and Count needs the
            // multi-reader channel: the single-reader one cannot count).
            _queue = Channel.CreateUnbounded<WatchEventsResponse>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
        }

        public ChannelReader<WatchEventsResponse> Reader => _queue.Reader;

        /// <summary>Under the journal's lock.</summary>
        public void Offer(WatchEventsResponse e)
        {
            while (_queue.Reader.Count >= _limit && _queue.Reader.TryRead(out _)) _dropped++;
            _queue.Writer.TryWrite(e);
        }

        public ulong TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

        public void Close()
        {
            _journal.Close(this);
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>One client's view of the journal; dispose to stop.</summary>
    public sealed class Watch : IDisposable
    {
        private readonly Watcher _watcher;
        // The event behind an EventsLost: returned by the next call.
        private WatchEventsResponse? _pending;

        internal Watch(Watcher watcher, bool needsSnapshot, ulong lost, ulong openedAt)
        {
            _watcher = watcher;
            NeedsSnapshot = needsSnapshot;
            Lost = lost;
            OpenedAt = openedAt;
        }

        /// <summary>The client must be sent the node's state first (a new watch, or a resume too old).</summary>
        public bool NeedsSnapshot { get; }

        /// <summary>Events a resume asked for that are no longer held.</summary>
        public ulong Lost { get; }

        /// <summary>The resume named another journal (controld restarted): what was lost is unknown.</summary>
        public bool JournalRestarted { get; init; }

        /// <summary>The last sequence number given out when the watch opened.</summary>
        public ulong OpenedAt { get; }

        /// <summary>
        /// The next event; an <see cref="EventsLost"/> comes first when this client fell
        /// behind and lost some. Completes when the token is cancelled.
        /// </summary>
        public async ValueTask<WatchEventsResponse> NextAsync(CancellationToken cancellationToken)
        {
            if (_pending is { } held)
            {
                _pending = null;
                return held;
            }
            var e = await _watcher.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var dropped = _watcher.TakeDropped();
            if (dropped == 0) return e;
            // Said before the event that follows the gap; the event itself is not lost.
            _pending = e;
            return new WatchEventsResponse { Sequence = e.Sequence - 1, Time = e.Time, Epoch = e.Epoch, EventsLost = new EventsLost { Count = dropped } };
        }

        public void Dispose() => _watcher.Close();
    }
}
