using System.Net;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Tests.Support;
using Vigil.Testing;

namespace Vigil.Checkd.Tests.Engine;

/// <summary>The engine on a virtual clock with scripted probes: schedules are exact arithmetic.</summary>
public sealed class CheckEngineTests
{
    private static readonly VirtualServerKey Vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.1.0.1"), 80);
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);

    private static RealServerConfig Rs(string address, params CheckerConfig[] checkers) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Checkers = checkers.Length == 0 ? new CheckerConfig[] { new TcpCheckConfig() } : checkers,
    };

    private static VirtualServerConfig Vs(params RealServerConfig[] servers) => new()
    {
        Key = Vip,
        DelayLoop = 6 * S,
        Warmup = TimeSpan.Zero,
        Retry = 2,
        DelayBeforeRetry = S,
        ConnectTimeout = 3 * S,
        RealServers = servers,
    };

    private static CheckdConfig Config(params VirtualServerConfig[] vs) => new()
    {
        Globals = new CheckdGlobals { RouterId = "lb1" },
        VirtualServers = vs,
    };

    private static TimeSpan[] Times(IEnumerable<ProbeCall> calls) => [.. calls.Select(c => c.At)];

    [Fact]
    public async Task FailingServer_DownAfterExactlyRetryFailuresDelayBeforeRetryApart()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11"))));

        await h.RunUntilAsync(14 * S);
        h.Probes.Set("10.1.0.10:80", FakeBehaviour.Fail);
        await h.RunUntilAsync(30 * S);

        // Bootstrap at 1 s, then every delay_loop; the failure at 19 s is retried at 20 s and
        // 21 s (retry 2, delay_before_retry 1 s) and the server goes down at 21 s.
        Assert.Equal([1 * S, 7 * S, 13 * S, 19 * S, 20 * S, 21 * S, 27 * S], Times(h.Probes.CallsTo("10.1.0.10:80")));
        var down = await h.RealServerAsync(Vip, "10.1.0.10", 80);
        Assert.False(down.Alive);
        Assert.False(down.InPool);
        Assert.Equal(h.Time.GetUtcNow() - 9 * S, down.LastChange);
        Assert.Equal("connection refused", down.Reason);
        var desired = Assert.Single(await h.Engine.GetDesiredDestinationsAsync());
        Assert.Equal([new DesiredDestination(IPAddress.Parse("10.1.0.11"), 80, 1, DestinationRole.RealServer)], desired.Destinations);

        h.Probes.Set("10.1.0.10:80", FakeBehaviour.Pass);
        await h.RunUntilAsync(34 * S);
        Assert.True((await h.RealServerAsync(Vip, "10.1.0.10", 80)).Alive);
        Assert.Contains(h.Alerts.Mails, m => m == ("[lb1] Realserver [10.1.0.10]:tcp:80 of virtual server [10.1.0.1]:tcp:80 - DOWN", "=> TCP CHECK failed on service <="));
        Assert.Contains(h.Alerts.Mails, m => m == ("[lb1] Realserver [10.1.0.10]:tcp:80 of virtual server [10.1.0.1]:tcp:80 - UP", "=> TCP CHECK succeed on service <="));
    }

    [Fact]
    public async Task BlackholedServer_OtherServersCheckedOnSchedule()
    {
        await using var h = new EngineHarness();
        h.Probes.Set("10.1.0.10:80", FakeBehaviour.Hang);
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11"), Rs("10.1.0.12"))));

        await h.RunUntilAsync(40 * S);

        Assert.Equal([1 * S, 7 * S, 13 * S, 19 * S, 25 * S, 31 * S, 37 * S], Times(h.Probes.CallsTo("10.1.0.11:80")));
        Assert.Equal(Times(h.Probes.CallsTo("10.1.0.11:80")), Times(h.Probes.CallsTo("10.1.0.12:80")));
        // The hanging one: first run at 1 s times out at 4 s (down at once, before any success),
        // then every delay_loop after each timeout: 10 s, 19 s, 28 s, 37 s.
        Assert.Equal([1 * S, 10 * S, 19 * S, 28 * S, 37 * S], Times(h.Probes.CallsTo("10.1.0.10:80")));
        Assert.False((await h.RealServerAsync(Vip, "10.1.0.10", 80)).Alive);
    }

    [Fact]
    public async Task LocalError_NotCountedAgainstTheServer()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"))));
        await h.RunUntilAsync(2 * S);
        h.Probes.Set("10.1.0.10:80", FakeBehaviour.LocalError);

        await h.RunUntilAsync(40 * S);

        Assert.True((await h.RealServerAsync(Vip, "10.1.0.10", 80)).Alive);
        Assert.True(h.Engine.GetCounters().ProbeLocalErrors > 0);
    }

    [Fact]
    public async Task Watch_SnapshotThenEndThenOrderedChanges()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11"))));
        await h.RunUntilAsync(2 * S);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<CheckEvent>();
        await using var e = h.Engine.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await e.MoveNextAsync());
        var snapshot = Assert.IsType<VirtualServerUpdated>(e.Current);
        Assert.Equal(2, snapshot.Status.RealServers.Count);
        Assert.True(await e.MoveNextAsync());
        Assert.IsType<EndOfSnapshot>(e.Current);

        h.Probes.Set("10.1.0.10:80", FakeBehaviour.Fail);
        await h.RunUntilAsync(20 * S);
        while (events.Count < 4 && await e.MoveNextAsync()) events.Add(e.Current);

        Assert.IsType<CheckerResultReported>(events[0]);
        Assert.Equal(CheckerTransition.None, ((CheckerResultReported)events[0]).Transition);
        var transition = events.OfType<CheckerResultReported>().Single(x => x.Transition != CheckerTransition.None);
        Assert.Equal(CheckerTransition.Down, transition.Transition);
        Assert.Contains(events, x => x is RealServerUpdated { Status.Alive: false });
        Assert.Contains(events, x => x is DestinationsChanged d && d.Desired.Destinations.Count == 1);
        Assert.Equal(events.Select(x => x.Sequence).Order(), events.Select(x => x.Sequence));
        Assert.True(events[0].Sequence > snapshot.Sequence);
    }

    [Fact]
    public async Task Watch_SlowSubscriber_LosesOldestKeepsSnapshot()
    {
        await using var h = new EngineHarness(o => o with { SubscriberCapacity = 3 });
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11"))));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var e = h.Engine.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());

        for (var i = 0; i < 5; i++)
        {
            h.Probes.Set("10.1.0.10:80", i % 2 == 0 ? FakeBehaviour.Fail : FakeBehaviour.Pass);
            await h.RunForAsync(30 * S);
        }

        Assert.True(h.Engine.GetCounters().EventsDropped > 0);
        Assert.True(await e.MoveNextAsync());
        Assert.IsType<EndOfSnapshot>(e.Current);
        var rest = new List<CheckEvent>();
        for (var i = 0; i < 3 && await e.MoveNextAsync(); i++) rest.Add(e.Current);
        Assert.Equal(3, rest.Count);
        Assert.Equal(rest.Select(x => x.Sequence).Order(), rest.Select(x => x.Sequence));
    }

    [Fact]
    public async Task Watch_Cancelled_EndsAndEngineKeepsRunning()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"))));
        using var cts = new CancellationTokenSource();
        var seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in h.Engine.WatchAsync(cts.Token))
            {
                if (++seen == 2) await cts.CancelAsync();
            }
        });

        await h.RunUntilAsync(10 * S);
        Assert.Equal(2, seen);
        Assert.True(h.Engine.GetCounters().ProbesRun >= 2);
    }

    [Fact]
    public async Task Reload_UnchangedServersKeepStateNewOnesStartRemovedOnesGoDown()
    {
        await using var h = new EngineHarness();
        var first = Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11")));
        await h.Engine.ApplyConfigurationAsync(first);
        h.Probes.Set("10.1.0.10:80", FakeBehaviour.Fail);
        await h.RunUntilAsync(3 * S);
        Assert.False((await h.RealServerAsync(Vip, "10.1.0.10", 80)).Alive);
        var callsBefore = h.Probes.CallsTo("10.1.0.10:80").Count;

        var result = await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.12"))));

        Assert.Equal(1, result.RealServersAdded);
        Assert.Equal(1, result.RealServersRemoved);
        Assert.Equal(1, result.CheckersKept);
        var vs = await h.Engine.GetVirtualServerAsync(Vip);
        Assert.False(vs.RealServers.Single(r => r.Key.Address.Equals(IPAddress.Parse("10.1.0.10"))).Alive);
        Assert.True(vs.RealServers.Single(r => r.Key.Address.Equals(IPAddress.Parse("10.1.0.12"))).Alive);
        Assert.Contains(h.Alerts.Mails, m => m == ("[lb1] Realserver [10.1.0.11]:tcp:80 of virtual server [10.1.0.1]:tcp:80 - DOWN", "=> Removing <="));
        // The kept checker keeps its timer: its next run is still 6 s after the last one (1 s).
        await h.RunUntilAsync(8 * S);
        Assert.Equal(callsBefore + 1, h.Probes.CallsTo("10.1.0.10:80").Count);
        Assert.Equal(7 * S, h.Probes.CallsTo("10.1.0.10:80")[^1].At);
        Assert.Equal(3 * S + 1 * S, h.Probes.CallsTo("10.1.0.12:80")[0].At);
    }

    [Fact]
    public async Task Reload_VirtualServerRemoved_EventAndDestinationsGone()
    {
        await using var h = new EngineHarness();
        var other = Vs(Rs("10.2.0.10")) with { Key = VirtualServerKey.ForAddress(IPAddress.Parse("10.2.0.1"), 443) };
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10")), other));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var e = h.Engine.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        for (var i = 0; i < 3; i++) await e.MoveNextAsync();

        await h.Engine.ApplyConfigurationAsync(Config(other));

        Assert.True(await e.MoveNextAsync());
        Assert.Equal(Vip, Assert.IsType<VirtualServerRemoved>(e.Current).Key);
        Assert.Single(await h.Engine.GetDesiredDestinationsAsync());
    }

    [Fact]
    public async Task InvalidConfiguration_RejectedWithFieldNamesAndNothingChanges()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"))));
        var bad = Config(Vs(
            Rs("10.1.0.10", new HttpCheckConfig { Urls = new[] { new UrlCheck { Path = "/", Digest = "xyz" } } }),
            Rs("10.1.0.10")));

        var e = await Assert.ThrowsAsync<CheckdInvalidArgumentException>(() => h.Engine.ApplyConfigurationAsync(bad));

        Assert.Contains(e.Problems, p => p.Contains("real_server [10.1.0.10]:tcp:80 HTTP_GET#1 url#1: digest 'xyz' must be 32 hex digits"));
        Assert.Contains(e.Problems, p => p.Contains("real_server [10.1.0.10]:tcp:80: defined twice"));
        Assert.Single((await h.Engine.GetVirtualServerAsync(Vip)).RealServers);
    }

    [Fact]
    public async Task QuorumAboveTotalWeight_ReducedWithWarning()
    {
        await using var h = new EngineHarness();

        var result = await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10")) with { Quorum = 5, Hysteresis = 5 }));

        Assert.Contains(result.Warnings, w => w.Contains("reducing quorum to 1"));
        Assert.Contains(result.Warnings, w => w.Contains("setting hysteresis to 0"));
        Assert.Equal(1u, (await h.Engine.GetVirtualServerAsync(Vip)).Quorum);
    }

    [Fact]
    public async Task HaSuspend_ChecksPausedUntilInstanceHoldingTheAddressIsMaster()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10")) with { HaSuspend = true }));

        await h.RunUntilAsync(20 * S);
        Assert.Empty(h.Probes.Calls);
        Assert.True((await h.Engine.GetVirtualServerAsync(Vip)).Suspended);

        await h.Engine.SetVrrpInstanceStateAsync(new VrrpInstanceState("VI_1", true, new[] { IPAddress.Parse("10.1.0.1") }));
        await h.RunUntilAsync(40 * S);
        var running = h.Probes.Calls.Count;
        Assert.True(running >= 2);
        Assert.False((await h.Engine.GetVirtualServerAsync(Vip)).Suspended);

        await h.Engine.SetVrrpInstanceStateAsync(new VrrpInstanceState("VI_1", false, new[] { IPAddress.Parse("10.1.0.1") }));
        await h.RunUntilAsync(80 * S);
        Assert.Equal(running, h.Probes.Calls.Count);
    }

    [Fact]
    public async Task HaSuspend_WithoutVrrpd_FollowsLocalAddresses()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10")) with { HaSuspend = true }));

        await h.Engine.SetLocalAddressesAsync(new[] { IPAddress.Parse("10.1.0.1") });
        await h.RunUntilAsync(10 * S);

        Assert.NotEmpty(h.Probes.Calls);
    }

    [Fact]
    public async Task SetWeightAndDrain_ChangeDesiredDestinations()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"), Rs("10.1.0.11"))));
        var rs = new RealServerKey(IPAddress.Parse("10.1.0.10"), 80);

        var weighted = await h.Engine.SetRealServerWeightAsync(Vip, rs, 7);
        Assert.Equal(7, weighted.DesiredWeight);
        var drained = await h.Engine.SetRealServerDrainAsync(Vip, rs, true);
        Assert.Equal(0, drained.DesiredWeight);
        Assert.True(drained.InPool);
        Assert.True(drained.Drained);
        var restored = await h.Engine.SetRealServerDrainAsync(Vip, rs, false);
        Assert.Equal(7, restored.DesiredWeight);
        Assert.Equal(1, (await h.Engine.SetRealServerWeightAsync(Vip, rs, null)).DesiredWeight);

        await Assert.ThrowsAsync<CheckdNotFoundException>(() => h.Engine.SetRealServerWeightAsync(Vip, new RealServerKey(IPAddress.Parse("10.9.9.9"), 80), 1));
        await Assert.ThrowsAsync<CheckdNotFoundException>(() => h.Engine.SetRealServerDrainAsync(VirtualServerKey.ForFwmark(9), rs, true));
        await Assert.ThrowsAsync<CheckdInvalidArgumentException>(() => h.Engine.SetRealServerWeightAsync(Vip, rs, -1));
    }

    [Fact]
    public async Task Alpha_SorryServerUntilFirstSuccess()
    {
        await using var h = new EngineHarness();
        var sorry = new SorryServerConfig(IPAddress.Parse("10.1.0.99"), 80);
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10")) with { Alpha = true, SorryServer = sorry }));

        var before = Assert.Single(await h.Engine.GetDesiredDestinationsAsync());
        Assert.Equal(DestinationRole.SorryServer, Assert.Single(before.Destinations).Role);
        Assert.Equal("alpha: waiting for the first check", (await h.RealServerAsync(Vip, "10.1.0.10", 80)).Reason);

        await h.RunUntilAsync(2 * S);

        var after = Assert.Single(await h.Engine.GetDesiredDestinationsAsync());
        Assert.Equal(DestinationRole.RealServer, Assert.Single(after.Destinations).Role);
    }

    [Fact]
    public async Task MiscDynamic_WeightFollowsExitStatus()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10", new MiscCheckConfig { Path = "/bin/true", Dynamic = true }))));
        h.Probes.SetExit("10.1.0.10:80", 12);

        await h.RunUntilAsync(2 * S);

        Assert.Equal(10, Assert.Single(Assert.Single(await h.Engine.GetDesiredDestinationsAsync()).Destinations).Weight);
    }

    [Fact]
    public async Task QuorumScripts_RunWithEnvironment()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-quorum-").FullName;
        try
        {
            var log = Path.Combine(dir, "log");
            await using var h = new EngineHarness();
            var vs = Vs(Rs("10.1.0.10"), Rs("10.1.0.11")) with
            {
                Quorum = 2,
                QuorumUp = new NotifyScript($"/bin/sh -c 'echo up $VIGIL_VIRTUAL_SERVER >> {log}'"),
                QuorumDown = new NotifyScript($"/bin/sh -c 'echo down $VIGIL_STATE >> {log}'"),
            };
            await h.Engine.ApplyConfigurationAsync(Config(vs));
            await Poll.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("up [10.1.0.1]:tcp:80"), TimeSpan.FromSeconds(10), "quorum_up at start");

            h.Probes.Set("10.1.0.11:80", FakeBehaviour.Fail);
            await h.RunUntilAsync(10 * S);

            await Poll.UntilAsync(() => File.ReadAllText(log).Contains("down DOWN"), TimeSpan.FromSeconds(10), "quorum_down after the loss");
            Assert.Equal(2, h.Engine.GetCounters().QuorumTransitions);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Stop_OmegaRunsNotifyDownThenCallsAreUnavailable()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-omega-").FullName;
        try
        {
            var marker = Path.Combine(dir, "down");
            var h = new EngineHarness();
            var rs = Rs("10.1.0.10") with { NotifyDown = new NotifyScript($"/usr/bin/touch {marker}") };
            await h.Engine.ApplyConfigurationAsync(Config(Vs(rs) with { Omega = true }));
            await h.RunUntilAsync(2 * S);

            await h.Engine.StopAsync();

            Assert.True(File.Exists(marker));
            Assert.Contains(h.Alerts.Mails, m => m.Body == "=> Shutting down <=");
            await Assert.ThrowsAsync<CheckdUnavailableException>(() => h.Engine.GetSnapshotAsync());
            await Assert.ThrowsAsync<CheckdUnavailableException>(() => h.Engine.ApplyConfigurationAsync(Config()));
            await h.DisposeAsync();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Stop_WithoutOmega_NoNotifiers()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Vs(Rs("10.1.0.10"))));
        var before = h.Alerts.Mails.Count;

        await h.Engine.StopAsync();

        Assert.Equal(before, h.Alerts.Mails.Count);
    }
}
