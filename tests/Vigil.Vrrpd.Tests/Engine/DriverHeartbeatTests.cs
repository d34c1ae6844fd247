using System.Net;
using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>The protocol loop's heartbeat (<see cref="VrrpDriverDependencies.OnBeat"/>) on a virtual clock.</summary>
public sealed class DriverHeartbeatTests : DriverTestBase
{
    private int _beats;

    private static VrrpInstanceConfig Owner() => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 51,
        Priority = 255,
        InitialState = VrrpStateKind.Master,
        VirtualAddresses = [IPAddress.Parse("10.0.0.100")],
    };

    private VrrpDriver StartBeating(FakeHost host, TimeProvider time, params VrrpInstanceConfig[] instances) =>
        Run(new VrrpDriver(VrrpEngineState.Create(instances), host.Dependencies() with { Time = time, OnBeat = () => Interlocked.Increment(ref _beats) }));

    [Fact]
    public async Task Heartbeat_LoopRunning_BeatsEveryQuarterSecond()
    {
        var host = new FakeHost(Clock);
        var driver = StartBeating(host, Clock, Owner());
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(2);
        Assert.Equal(8, Volatile.Read(ref _beats));
        Assert.Equal(VrrpStateKind.Master, driver.State.Instances["VI_1"].State);
    }

    [Fact]
    public async Task Heartbeat_LoopBlocked_NoBeatsUntilItRunsAgain()
    {
        var host = new FakeHost(Clock);
        var driver = StartBeating(host, Clock);
        await Advance(1);
        Assert.Equal(4, Volatile.Read(ref _beats));
        using var release = new ManualResetEventSlim();
        var blocked = driver.InvokeAsync(_ => release.Wait(TimeSpan.FromSeconds(30)));
        // The clock moves on while the loop is stuck: beats queue up but none is taken.
        await Clock.AdvanceAsync(TimeSpan.FromSeconds(2), () => Task.CompletedTask);
        await Task.Delay(100);
        Assert.Equal(4, Volatile.Read(ref _beats));
        release.Set();
        await blocked;
        await Settle();
        Assert.True(Volatile.Read(ref _beats) > 4);
    }

    /// <summary>A protocol timer that never reaches the loop (a lost or stalled timer) stops the beat.</summary>
    [Fact]
    public async Task Heartbeat_AdvertTimerOverdue_NoBeats()
    {
        var host = new FakeHost(Clock);
        var driver = StartBeating(host, new OneShotTimersNeverFire(Clock), Owner());
        await driver.StartAllAsync(_ => (host.Address, true));
        await Advance(1.25); // the owner's first advert timer (1 s) is due and does not fire
        var before = Volatile.Read(ref _beats);
        Assert.True(before >= 4, $"{before} beats before the advert was due");
        await Advance(1);
        Assert.Equal(before + 1, Volatile.Read(ref _beats)); // the beat at 1.5 s: 0.5 s late is still allowed
        await Advance(2);
        Assert.Equal(before + 1, Volatile.Read(ref _beats));
    }

    /// <summary>Periodic timers (the heartbeat's own) run; one-shot timers (the protocol's) never fire.</summary>
    private sealed class OneShotTimersNeverFire(TimeProvider inner) : TimeProvider
    {
        public override long TimestampFrequency => inner.TimestampFrequency;
        public override long GetTimestamp() => inner.GetTimestamp();
        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            period > TimeSpan.Zero && period != Timeout.InfiniteTimeSpan
                ? inner.CreateTimer(callback, state, dueTime, period)
                : inner.CreateTimer(_ => { }, null, dueTime, period);
    }
}
