using Vigil.Control.V1;
using Vigil.Controld.Events;

namespace Vigil.Controld.Tests.Events;

public sealed class EventJournalTests
{
    private static WatchEventsResponse Restart(string name) => new() { DaemonRestarted = new DaemonRestarted { Name = name } };

    private static async Task<List<WatchEventsResponse>> ReadAsync(EventJournal.Watch w, int count)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var list = new List<WatchEventsResponse>();
        for (var i = 0; i < count; i++) list.Add(await w.NextAsync(cts.Token));
        return list;
    }

    [Fact]
    public async Task Publish_NumbersEveryEventOneMoreThanTheOneBefore_InTheOrderPublished()
    {
        var j = new EventJournal();
        using var w = j.Open(0);
        Assert.True(w.NeedsSnapshot);
        for (var i = 0; i < 5; i++) j.Publish(Restart($"d{i}"));
        var got = await ReadAsync(w, 5);
        Assert.Equal([1UL, 2, 3, 4, 5], got.Select(e => e.Sequence));
        Assert.Equal(["d0", "d1", "d2", "d3", "d4"], got.Select(e => e.DaemonRestarted.Name));
        Assert.All(got, e => Assert.NotNull(e.Time));
    }

    [Fact]
    public async Task Open_AfterAHeldSequence_ReplaysWhatFollowsIt_WithoutASnapshot()
    {
        var j = new EventJournal();
        for (var i = 0; i < 10; i++) j.Publish(Restart($"d{i}"));
        using var w = j.Open(7);
        Assert.False(w.NeedsSnapshot);
        Assert.Equal(0UL, w.Lost);
        Assert.Equal(10UL, w.OpenedAt);
        j.Publish(Restart("live"));
        var got = await ReadAsync(w, 4);
        Assert.Equal([8UL, 9, 10, 11], got.Select(e => e.Sequence));
        Assert.Equal("live", got[^1].DaemonRestarted.Name);
    }

    [Fact]
    public void Open_AfterASequenceNoLongerHeld_NeedsASnapshot_AndCountsWhatIsLost()
    {
        var j = new EventJournal(capacity: 4);
        for (var i = 0; i < 10; i++) j.Publish(Restart($"d{i}"));
        // Held: 7..10. Resuming after 3 misses 4, 5 and 6.
        using var w = j.Open(3);
        Assert.True(w.NeedsSnapshot);
        Assert.Equal(3UL, w.Lost);
        using var edge = j.Open(6);
        Assert.False(edge.NeedsSnapshot);
    }

    [Fact]
    public void Open_BeyondTheLastEvent_IsRefused_NamingBoth()
    {
        var j = new EventJournal();
        j.Publish(Restart("a"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => j.Open(5));
        Assert.Contains("after_sequence 5 is beyond the last event (1)", e.Message);
    }

    [Fact]
    public async Task EveryEvent_CarriesTheJournalsEpoch_AndANewJournalHasAnother()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T20:00:00Z"));
        var first = new EventJournal(time: time);
        time.Advance(TimeSpan.FromSeconds(3)); // controld restarts 3 s later
        var second = new EventJournal(time: time);
        Assert.NotEqual(0UL, first.Epoch);
        Assert.Equal(3_000_000UL, second.Epoch - first.Epoch);
        using var w = first.Open(0);
        first.Publish(Restart("a"));
        Assert.Equal(first.Epoch, (await ReadAsync(w, 1))[0].Epoch);
    }

    [Fact]
    public void Open_WithAnotherJournalsEpoch_NeedsASnapshot_NotAReplayOrAnError()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T20:00:00Z"));
        var before = new EventJournal(time: time);
        for (var i = 0; i < 50; i++) before.Publish(Restart($"old{i}"));
        time.Advance(TimeSpan.FromSeconds(1));
        var after = new EventJournal(time: time);
        for (var i = 0; i < 60; i++) after.Publish(Restart($"new{i}"));

        // Sequence 40 of the old journal is also held by the new one: without the epoch it would
        // replay 41..60 of a different history as if nothing had happened.
        using var resumed = after.Open(40, before.Epoch);
        Assert.True(resumed.NeedsSnapshot);
        Assert.True(resumed.JournalRestarted);
        Assert.Equal(0UL, resumed.Lost);
        // Beyond the new journal's last event: a snapshot as well, not INVALID_ARGUMENT.
        using var beyond = after.Open(500, before.Epoch);
        Assert.True(beyond.JournalRestarted);
        // The same epoch resumes as before; 0 is not checked.
        using var same = after.Open(40, after.Epoch);
        Assert.False(same.NeedsSnapshot);
        using var unchecked_ = after.Open(40, 0);
        Assert.False(unchecked_.JournalRestarted);
    }

    [Fact]
    public async Task ASlowWatcher_LosesItsOldestEvents_IsToldHowMany_AndKeepsTheStream()
    {
        var j = new EventJournal(watcherQueue: 3);
        using var slow = j.Open(0);
        using var fast = j.Open(0);
        for (var i = 1; i <= 10; i++) j.Publish(Restart($"d{i}"));
        var got = await ReadAsync(slow, 4);
        Assert.Equal(7UL, got[0].EventsLost.Count);
        Assert.Equal([8UL, 9, 10], got.Skip(1).Select(e => e.Sequence));
        // Another watcher's queue is its own: reading one did not take from the other.
        var other = await ReadAsync(fast, 2);
        Assert.Equal((7UL, 8UL), (other[0].EventsLost.Count, other[1].Sequence));
    }

    [Fact]
    public async Task ADisposedWatch_NoLongerReceives_AndPublishersGoOn()
    {
        var j = new EventJournal();
        var w = j.Open(0);
        w.Dispose();
        for (var i = 0; i < 10_000; i++) j.Publish(Restart("x"));
        Assert.Equal(10_000UL, j.LastSequence);
        await Assert.ThrowsAnyAsync<Exception>(async () => await w.NextAsync(CancellationToken.None));
    }
}
