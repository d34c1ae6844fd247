using Grpc.Health.V1;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Rpc.Client;
using Vigil.Testing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Vigil.Hosting.Tests;

public sealed class HeartbeatsTests
{
    [Fact]
    public void Evaluate_EveryLoopBeatsWithinItsAllowance_Healthy()
    {
        var time = new FakeTimeProvider();
        using var hb = new Heartbeats(NullLogger.Instance, time);
        var a = hb.Register("a", TimeSpan.FromSeconds(1));
        var b = hb.Register("b", TimeSpan.FromSeconds(2));
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(900));
            a.Beat();
            b.Beat();
            Assert.True(hb.Evaluate());
        }
    }

    [Fact]
    public void Evaluate_OneLoopSilentPastItsAllowance_UnhealthyUntilItBeatsAgain()
    {
        var time = new FakeTimeProvider();
        using var hb = new Heartbeats(NullLogger.Instance, time);
        var a = hb.Register("a", TimeSpan.FromSeconds(1));
        var b = hb.Register("b", TimeSpan.FromSeconds(5));
        var changes = new List<bool>();
        hb.HealthChanged += changes.Add;
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(hb.Evaluate()); // exactly the allowance is still on time
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(hb.Evaluate());
        Assert.True(a.IsStalled);
        Assert.False(b.IsStalled);
        Assert.False(hb.Evaluate());
        a.Beat();
        Assert.True(hb.Evaluate());
        Assert.Equal([false, true], changes);
        var proto = hb.ToProto().Single(l => l.Name == "a");
        Assert.False(proto.Stalled);
        Assert.Equal(TimeSpan.FromSeconds(1), proto.Allowance.ToTimeSpan());
    }

    [Fact]
    public void FeedWatchdog_OnlyWhileHealthy_AtMostTwicePerInterval()
    {
        var notifier = new RecordingNotifier();
        var n = new SystemdNotifications(notifier, TimeSpan.FromMilliseconds(400));
        n.FeedWatchdog(healthy: false);
        Assert.Empty(notifier.States);
        n.FeedWatchdog(healthy: true);
        n.FeedWatchdog(healthy: true); // too soon after the first
        Assert.Equal(["WATCHDOG=1"], notifier.States);
        Thread.Sleep(250);
        n.FeedWatchdog(healthy: false);
        Assert.Single(notifier.States);
        n.FeedWatchdog(healthy: true);
        Assert.Equal(2, notifier.States.Count);
    }

    [Fact]
    public void FeedWatchdog_NoWatchdogConfigured_NothingSent()
    {
        var notifier = new RecordingNotifier();
        var n = new SystemdNotifications(notifier, watchdogInterval: null);
        if (n.WatchdogInterval is not null) return; // the test runner itself runs under a systemd watchdog
        n.FeedWatchdog(healthy: true);
        Assert.Empty(notifier.States);
    }

    /// <summary>The daemon host end to end: grpc.health.v1 follows a loop's heartbeat, for Check and Watch.</summary>
    [Fact]
    public async Task DaemonHost_LoopStalls_HealthNotServingThenServingAgain()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-hb-").FullName;
        var (host, _) = DaemonHost.Create("vigil-test", ["--run-dir", dir]);
        Assert.NotNull(host);
        await using (host)
        {
            // A dedicated thread and a 1 s allowance: in CI the thread pool is starved while the
            // host starts, and a pool-driven beater at a 300 ms allowance missed it (a stall the
            // test did not make).
            var loop = host.Heartbeats.Register("test loop", TimeSpan.FromSeconds(1));
            using var beating = new CancellationTokenSource();
            var beaterThread = new Thread(() =>
            {
                while (!beating.IsCancellationRequested)
                {
                    loop.Beat();
                    Thread.Sleep(50);
                }
            }) { IsBackground = true, Name = "test beater" };
            beaterThread.Start();
            var beater = Task.Run(beaterThread.Join);
            var run = host.RunAsync();
            await Poll.UntilAsync(() => Task.FromResult(File.Exists(host.SocketPath)), TimeSpan.FromSeconds(10), "the socket");
            using var channel = UnixChannel.Open(host.SocketPath);
            var health = new Health.HealthClient(channel.Invoker);
            Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
            using var watch = health.Watch(new HealthCheckRequest());
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

            beating.Cancel();
            await beater;
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
            Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
            Assert.False(host.Info().Healthy);
            Assert.True(host.Info().Loops.Single().Stalled);

            loop.Beat();
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);
            host.RequestStop();
            Assert.Equal(0, await run);
        }
        Directory.Delete(dir, true);
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        public List<string> States { get; } = [];
        public bool IsEnabled => true;
        public void Notify(ServiceState state) => States.Add(state.ToString());
    }
}
