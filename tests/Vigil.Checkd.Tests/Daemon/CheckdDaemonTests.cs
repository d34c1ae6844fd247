using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Grpc.Core;
using Vigil.Testing;
using Vigil.Vrrp.V1;
using static Vigil.Checkd.Tests.Api.ConfigMapperTests;
using Proto = Vigil.Check.V1;

namespace Vigil.Checkd.Tests.Daemon;

/// <summary>
/// vigil-checkd as a daemon (out/vigil-checkd), driven through vigil.check.v1 on its socket:
/// ApplyConfig, List/Get, the ordered watch stream, runtime weights and drains, errors, ha_suspend
/// following vrrpd, SIGTERM. Real servers are HTTP servers on loopback; timings are short.
/// </summary>
[Trait("Category", "Daemon")]
public sealed class CheckdDaemonTests
{
    private static readonly Proto.VirtualServerKey VsKey = Key("127.0.0.1", 80);

    private static Duration Seconds(double s) => Duration.FromTimeSpan(TimeSpan.FromSeconds(s));

    /// <summary>Fast checks: first run at the bootstrap delay (1 s), then every 0.5 s, down on the first failure.</summary>
    private static CheckTimings Fast() => new()
    {
        DelayLoop = Seconds(0.5),
        ConnectTimeout = Seconds(1),
        Warmup = Seconds(0),
        Retry = 0,
        DelayBeforeRetry = Seconds(0.5),
    };

    private static CheckerSpec HttpGet(string path = "/", string digest = "")
    {
        var c = new CheckerSpec { Http = new Proto.HttpCheck() };
        c.Http.Urls.Add(new Proto.UrlCheck { Path = path, Digest = digest });
        return c;
    }

    private static CheckerSpec TcpCheck() => new() { Tcp = new Proto.TcpCheck() };

    private static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static CheckConfig TwoServers(int up, int down)
    {
        var vs = Vs(VsKey, Rs("127.0.0.1", (uint)up, HttpGet()), Rs("127.0.0.1", (uint)down, TcpCheck()));
        vs.Timings = Fast();
        vs.RealServers[0].Weight = 3;
        return ConfigOf(vs);
    }

    [Fact]
    public async Task ApplyConfig_ListShowsHealthResultReasonLatency_DestinationsOnlyLive()
    {
        await using var web = new SwitchableHttpServer();
        var closed = ClosedPort();
        await using var checkd = await CheckdDaemon.StartAsync();

        var applied = await checkd.ApplyAsync(TwoServers(web.Port, closed));
        Assert.Equal((1u, 2u, 2u), (applied.VirtualServersAdded, applied.RealServersAdded, applied.CheckersStarted));

        ListVirtualServersResponse list = null!;
        await Poll.UntilAsync(async () =>
        {
            list = await checkd.Client.ListVirtualServersAsync(new ListVirtualServersRequest(), CheckdDaemon.Call());
            var rss = list.VirtualServers.Single().RealServers;
            return rss[0].LastResult?.Outcome == CheckOutcome.Success && rss[1].Health == Health.Down;
        }, TimeSpan.FromSeconds(15), "one real server up, the other down", () => Task.FromResult(list?.ToString() ?? ""));

        var vs = Assert.Single(list.VirtualServers);
        Assert.Equal("[127.0.0.1]:tcp:80", vs.Name);
        Assert.True(vs.QuorumUp);
        var up = vs.RealServers[0];
        Assert.Equal($"[127.0.0.1]:tcp:{web.Port}", up.Name);
        Assert.Equal((Health.Up, true, 3, 3), (up.Health, up.InPool, up.DesiredWeight, up.ConfiguredWeight));
        Assert.Contains("HTTP status code 200 success", up.Reason);
        Assert.True(up.LastResult.Latency.ToTimeSpan() > TimeSpan.Zero);
        var checker = Assert.Single(up.Checkers);
        Assert.Equal(("HTTP_GET", Proto.CheckType.Http, true), (checker.Keyword, checker.Type, checker.HasRun));
        var down = vs.RealServers[1];
        Assert.Equal((Health.Down, false, 0), (down.Health, down.InPool, down.DesiredWeight));
        Assert.Contains("refused", down.Reason);
        Assert.Equal(CheckOutcome.Failure, down.LastResult.Outcome);
        Assert.True(list.Counters["probes_run"] >= 2, list.Counters.ToString());

        var destinations = Assert.Single((await checkd.Client.ListDestinationsAsync(new ListDestinationsRequest(), CheckdDaemon.Call())).VirtualServers);
        var only = Assert.Single(destinations.Destinations);
        Assert.Equal(((uint)web.Port, 3, DestinationRole.RealServer), (only.Endpoint.Port, only.Weight, only.Role));
    }

    [Fact]
    public async Task WatchCheckResults_SnapshotMarkerThenChangesInOrder()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        await using var watch = checkd.Watch();
        // Nothing configured yet: the snapshot is just the marker.
        await watch.WaitForAsync(m => m.Count >= 1, "the end-of-snapshot marker");
        Assert.Equal(WatchCheckResultsResponse.EventOneofCase.EndOfSnapshot, watch.Messages[0].EventCase);

        var vs = Vs(VsKey, Rs("127.0.0.1", (uint)web.Port, HttpGet()));
        vs.Timings = Fast();
        await checkd.ApplyAsync(ConfigOf(vs));
        await watch.WaitForAsync(m => m.Any(e => e.CheckerResult?.Checker.LastResult?.Outcome == CheckOutcome.Success), "a successful check");

        await web.StopAsync();
        await watch.WaitForAsync(m => m.Any(e => e.DestinationsChanged is { Destinations.Count: 0 }), "the real server to leave the destinations");
        await web.DisposeAsync();

        var messages = watch.Messages;
        // Sequence numbers grow strictly after the snapshot.
        var changes = messages.Skip(1).ToList();
        Assert.All(changes.Zip(changes.Skip(1)), p => Assert.True(p.Second.Sequence > p.First.Sequence, watch.Describe()));
        // The configuration shows up as the virtual server and its destinations...
        Assert.Contains(changes, e => e.VirtualServerUpdated?.Name == "[127.0.0.1]:tcp:80");
        // ...and the failure in causal order: the checker's DOWN, the real server's health, the destinations.
        var down = changes.FindIndex(e => e.CheckerResult?.Transition == CheckerTransition.Down);
        var health = changes.FindIndex(e => e.RealServerUpdated?.RealServer.Health == Health.Down);
        var dest = changes.FindIndex(e => e.DestinationsChanged is { Destinations.Count: 0 });
        Assert.True(down >= 0 && down < health && health < dest, watch.Describe());
        Assert.Contains("refused", changes[down].CheckerResult.Checker.LastResult.Reason);
        Assert.Equal($"[127.0.0.1]:tcp:{web.Port}", changes[down].CheckerResult.RealServerName);

        // A later subscriber starts from the current state: one snapshot message, then the marker
        // with the sequence of the snapshot, which is past every change seen so far.
        await using var late = checkd.Watch();
        await late.WaitForAsync(m => m.Count >= 2, "the second subscriber's snapshot");
        var snapshot = late.Messages[0].Snapshot;
        Assert.NotNull(snapshot);
        Assert.Equal(Health.Down, snapshot.RealServers.Single().Health);
        Assert.Equal(WatchCheckResultsResponse.EventOneofCase.EndOfSnapshot, late.Messages[1].EventCase);
        Assert.True(late.Messages[1].Sequence >= changes[dest].Sequence);
    }

    [Fact]
    public async Task SetRealServerWeightAndDrain_ChangeDestinationsWithoutReload()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        var config = TwoServers(web.Port, ClosedPort());
        await checkd.ApplyAsync(config);
        await Poll.UntilAsync(async () => (await checkd.RealServerAsync(VsKey, web.Port)).Checkers[0].HasRun, TimeSpan.FromSeconds(15), "the first check");
        var rs = new Endpoint { Address = "127.0.0.1", Port = (uint)web.Port };

        var set = await checkd.Client.SetRealServerWeightAsync(new SetRealServerWeightRequest { VirtualServer = VsKey, RealServer = rs, Weight = 5 }, CheckdDaemon.Call());
        Assert.Equal((5, 5, 3), (set.RealServer.DesiredWeight, set.RealServer.WeightOverride, set.RealServer.ConfiguredWeight));
        Assert.Equal(5, await DestinationWeightAsync(checkd, web.Port));

        var drained = await checkd.Client.DrainRealServerAsync(new DrainRealServerRequest { VirtualServer = VsKey, RealServer = rs }, CheckdDaemon.Call());
        Assert.Equal((true, 0, true), (drained.RealServer.Drained, drained.RealServer.DesiredWeight, drained.RealServer.InPool));
        Assert.Equal(0, await DestinationWeightAsync(checkd, web.Port)); // still there: existing connections finish

        await checkd.Client.DrainRealServerAsync(new DrainRealServerRequest { VirtualServer = VsKey, RealServer = rs, Undrain = true }, CheckdDaemon.Call());
        Assert.Equal(5, await DestinationWeightAsync(checkd, web.Port));

        // The same configuration again (a reload) keeps the runtime weight.
        var again = await checkd.ApplyAsync(config);
        Assert.Equal((1u, 2u), (again.VirtualServersKept, again.CheckersKept));
        Assert.Equal(5, await DestinationWeightAsync(checkd, web.Port));

        var reset = await checkd.Client.SetRealServerWeightAsync(new SetRealServerWeightRequest { VirtualServer = VsKey, RealServer = rs }, CheckdDaemon.Call());
        Assert.Null(reset.RealServer.WeightOverride);
        Assert.Equal(3, await DestinationWeightAsync(checkd, web.Port));

        var negative = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.SetRealServerWeightAsync(new SetRealServerWeightRequest { VirtualServer = VsKey, RealServer = rs, Weight = -1 }, CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
        Assert.StartsWith("weight: ", negative.Status.Detail);
        var unknownRs = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.DrainRealServerAsync(
            new DrainRealServerRequest { VirtualServer = VsKey, RealServer = new Endpoint { Address = "127.0.0.9", Port = 80 } }, CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknownRs.StatusCode);
        Assert.Contains("127.0.0.9:80", unknownRs.Status.Detail);
        var unknownVs = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.SetRealServerWeightAsync(
            new SetRealServerWeightRequest { VirtualServer = Key("127.0.0.1", 81), RealServer = rs, Weight = 1 }, CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknownVs.StatusCode);
        Assert.Contains("[127.0.0.1]:tcp:81", unknownVs.Status.Detail);
        var noVs = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.SetRealServerWeightAsync(new SetRealServerWeightRequest { RealServer = rs, Weight = 1 }, CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noVs.StatusCode);
        Assert.StartsWith("virtual_server: ", noVs.Status.Detail);
    }

    private static async Task<int> DestinationWeightAsync(CheckdDaemon checkd, int port) =>
        (await checkd.Client.ListDestinationsAsync(new ListDestinationsRequest(), CheckdDaemon.Call())).VirtualServers.Single()
            .Destinations.Single(d => d.Endpoint.Port == port).Weight;

    [Fact]
    public async Task ApplyConfig_BadInput_InvalidArgumentNamesTheFieldAndKeepsTheRunningConfig()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        await checkd.ApplyAsync(TwoServers(web.Port, ClosedPort()));

        // Caught at the edge: the field's path, named by virtual and real server.
        var badAddress = TwoServers(web.Port, ClosedPort());
        badAddress.VirtualServers[0].RealServers[1].Endpoint.Address = "10.0.0.300";
        var e1 = await Assert.ThrowsAsync<RpcException>(() => checkd.ApplyAsync(badAddress));
        Assert.Equal(StatusCode.InvalidArgument, e1.StatusCode);
        Assert.StartsWith("config.virtual_servers[[127.0.0.1]:tcp:80].real_servers[1].endpoint.address: '10.0.0.300' is not an IPv4 or IPv6 address", e1.Status.Detail);

        // Caught by the engine's validation: keepalived's words for virtual server, real server, checker and field.
        var badDigest = TwoServers(web.Port, ClosedPort());
        badDigest.VirtualServers[0].RealServers[0].Checkers[0] = HttpGet("/", "xyz");
        badDigest.VirtualServers[0].RealServers[1].Timings = new CheckTimings { DelayLoop = Seconds(0) };
        var e2 = await Assert.ThrowsAsync<RpcException>(() => checkd.ApplyAsync(badDigest));
        Assert.Equal(StatusCode.InvalidArgument, e2.StatusCode);
        Assert.Contains($"virtual_server [127.0.0.1]:tcp:80 real_server [127.0.0.1]:tcp:{web.Port} HTTP_GET#1 url#1: digest 'xyz' must be 32 hex digits", e2.Status.Detail);
        Assert.Contains("delay_loop must be positive", e2.Status.Detail);

        var e3 = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.ApplyConfigAsync(new Proto.ApplyConfigRequest(), CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e3.StatusCode);
        Assert.StartsWith("config: ", e3.Status.Detail);

        // Nothing of the refused configurations was applied; the daemon still serves.
        var vs = await checkd.VirtualServerAsync(VsKey);
        Assert.Equal(2, vs.RealServers.Count);
        Assert.Equal("HTTP_GET", vs.RealServers[0].Checkers[0].Keyword);
        Assert.False(checkd.Process.HasExited);

        var noKey = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.GetVirtualServerAsync(new GetVirtualServerRequest(), CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noKey.StatusCode);
        Assert.StartsWith("key: ", noKey.Status.Detail);
        var missing = await Assert.ThrowsAsync<RpcException>(() => checkd.Client.GetVirtualServerAsync(new GetVirtualServerRequest { Key = new Proto.VirtualServerKey { Fwmark = 9 } }, CheckdDaemon.Call()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("FWM 9", missing.Status.Detail);
    }

    /// <summary>Quorum lost: the destinations are the sorry server alone, and vigilctl shows it.</summary>
    [Fact]
    public async Task QuorumLost_SorryServerInDestinations_AndInVigilctlChecks()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        var closed = ClosedPort();
        var vs = Vs(VsKey, Rs("127.0.0.1", (uint)web.Port, TcpCheck()), Rs("127.0.0.1", (uint)closed, TcpCheck()));
        vs.Timings = Fast();
        vs.Quorum = 2;
        vs.SorryServer = new SorryServer { Endpoint = new Endpoint { Address = "127.0.0.2", Port = 8080 } };
        var applied = await checkd.ApplyAsync(ConfigOf(vs));
        Assert.Empty(applied.Warnings);

        DestinationSet set = null!;
        await Poll.UntilAsync(async () =>
        {
            set = (await checkd.Client.ListDestinationsAsync(new ListDestinationsRequest(), CheckdDaemon.Call())).VirtualServers.Single();
            return set.SorryServerActive;
        }, TimeSpan.FromSeconds(15), "the quorum to be lost", () => Task.FromResult(set?.ToString() ?? ""));
        Assert.False(set.QuorumUp);
        var sorry = Assert.Single(set.Destinations);
        Assert.Equal(("127.0.0.2", 8080u, DestinationRole.SorryServer, 1), (sorry.Endpoint.Address, sorry.Endpoint.Port, sorry.Role, sorry.Weight));

        var table = await Shell.RunAsync(RepoPaths.Program("vigilctl"), ["--run-dir", checkd.RunDir, "checks"], TimeSpan.FromSeconds(30));
        Assert.True(table.Ok, table.Stderr);
        Assert.Matches(@"\[127\.0\.0\.1\]:tcp:80\s+down \(1/2\)\s+\[127\.0\.0\.2\]:8080\s+sorry server\s+1", table.Stdout);

        // A quorum above the total weight is corrected as keepalived does, with a warning.
        vs.Quorum = 5;
        var corrected = await checkd.ApplyAsync(ConfigOf(vs));
        Assert.Contains(corrected.Warnings, w => w.Contains("quorum 5 exceeds total weight of real servers 2", StringComparison.Ordinal));
    }

    /// <summary>ha_suspend: with vrrpd on RUN_DIR/vrrpd.sock, checks run while the instance holding
    /// the virtual address is MASTER and pause otherwise; when vrrpd goes the host's addresses
    /// decide, and checkd follows vrrpd again when it is back.</summary>
    [Fact]
    public async Task HaSuspend_FollowsVrrpdInstances_ReconnectsWhenVrrpdComesBack()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        // 192.0.2.80 is on no interface of this host.
        var key = Key("192.0.2.80", 80);
        var vs = Vs(key, Rs("127.0.0.1", (uint)web.Port, TcpCheck()));
        vs.Timings = Fast();
        vs.HaSuspend = true;
        await checkd.ApplyAsync(ConfigOf(vs));

        async Task<bool> SuspendedAsync() => (await checkd.VirtualServerAsync(key)).Suspended;
        Assert.True(await SuspendedAsync());
        Assert.True((await checkd.RealServerAsync(key, web.Port)).Checkers[0].Suspended);

        var vrrpd = await FakeVrrpd.StartAsync(checkd.RunDir, FakeVrrpd.Instance("VI_1", InstanceState.Master, "192.0.2.80"));
        try
        {
            await Poll.UntilAsync(async () => !await SuspendedAsync(), TimeSpan.FromSeconds(10), "checks to resume while VI_1 is MASTER");
            await Poll.UntilAsync(async () => (await checkd.RealServerAsync(key, web.Port)).Checkers[0].HasRun, TimeSpan.FromSeconds(10), "a check to run");

            vrrpd.Transition("VI_1", InstanceState.Backup);
            await Poll.UntilAsync(SuspendedAsync, TimeSpan.FromSeconds(10), "checks to pause when VI_1 goes BACKUP");
            var requests = web.Requests;
            vrrpd.Transition("VI_1", InstanceState.Master);
            await Poll.UntilAsync(async () => !await SuspendedAsync(), TimeSpan.FromSeconds(10), "checks to resume when VI_1 is MASTER again");
        }
        finally
        {
            await vrrpd.DisposeAsync();
        }
        // vrrpd gone: the host's addresses decide, and 192.0.2.80 is not one of them.
        await Poll.UntilAsync(SuspendedAsync, TimeSpan.FromSeconds(10), "checks to pause without vrrpd");

        await using var again = await FakeVrrpd.StartAsync(checkd.RunDir, FakeVrrpd.Instance("VI_1", InstanceState.Master, "192.0.2.80/32"));
        await Poll.UntilAsync(async () => !await SuspendedAsync(), TimeSpan.FromSeconds(10), "checkd to follow the restarted vrrpd");
        Assert.Equal(1, again.Watchers);
    }

    /// <summary>An independent client (buf curl, Go) through server reflection alone: the JSON
    /// names and status codes are what the .proto promises.</summary>
    [Fact]
    public async Task BufCurl_ThroughReflection_ApplyGetAndErrors()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        async Task<CommandResult> CurlAsync(string method, string json) =>
            await Shell.RunAsync(RepoPaths.Buf, ["curl", "--unix-socket", checkd.SocketPath, "--protocol", "grpc", "--http2-prior-knowledge",
                "-d", json, $"http://localhost/vigil.check.v1.CheckService/{method}"], TimeSpan.FromSeconds(30));

        var apply = await CurlAsync("ApplyConfig", $$$"""
            {"config":{"virtualServers":[{"key":{"endpoint":{"address":"127.0.0.1","port":80}},"timings":{"delayLoop":"0.5s","warmup":"0s"},
              "realServers":[{"endpoint":{"address":"127.0.0.1","port":{{{web.Port}}}},"weight":4,"checkers":[{"http":{"urls":[{"path":"/"}]}}]}]}]}}
            """);
        Assert.True(apply.Ok, apply.Stderr);
        Assert.Contains("\"virtualServersAdded\": 1", apply.Stdout);

        await Poll.UntilAsync(async () => (await checkd.RealServerAsync(VsKey, web.Port)).Checkers[0].HasRun, TimeSpan.FromSeconds(15), "the first check");
        var get = await CurlAsync("GetVirtualServer", """{"key":{"endpoint":{"address":"127.0.0.1","port":80}}}""");
        Assert.True(get.Ok, get.Stderr);
        Assert.Contains("\"health\": \"HEALTH_UP\"", get.Stdout);
        Assert.Contains("\"desiredWeight\": 4", get.Stdout);
        Assert.Contains("\"outcome\": \"CHECK_OUTCOME_SUCCESS\"", get.Stdout);

        var bad = await CurlAsync("GetVirtualServer", """{"key":{"endpoint":{"address":"127.0.0.300","port":80}}}""");
        Assert.False(bad.Ok);
        Assert.Contains("invalid_argument", bad.Stdout + bad.Stderr);
        Assert.Contains("key.endpoint.address", bad.Stdout + bad.Stderr);
        var missing = await CurlAsync("GetVirtualServer", """{"key":{"fwmark":3}}""");
        Assert.Contains("not_found", missing.Stdout + missing.Stderr);
    }

    [Fact]
    public async Task Sigterm_WatchEndsUnavailable_DaemonExitsZeroAndRemovesItsSocket()
    {
        await using var web = new SwitchableHttpServer();
        await using var checkd = await CheckdDaemon.StartAsync();
        var vs = Vs(VsKey, Rs("127.0.0.1", (uint)web.Port, TcpCheck()));
        vs.Timings = Fast();
        await checkd.ApplyAsync(ConfigOf(vs));
        await using var watch = checkd.Watch();
        await watch.WaitForAsync(m => m.Any(e => e.EventCase == WatchCheckResultsResponse.EventOneofCase.EndOfSnapshot), "the watch to start");

        checkd.Process.Signal(15);
        Assert.Equal(0, await checkd.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        await Poll.UntilAsync(() => watch.Finished, TimeSpan.FromSeconds(10), "the watch stream to end");
        Assert.NotNull(watch.Ended);
        Assert.Equal(StatusCode.Unavailable, watch.Ended!.StatusCode);
        Assert.False(File.Exists(checkd.SocketPath));
        Assert.Contains("Health checkers stopped", checkd.Process.Stderr);
    }
}
