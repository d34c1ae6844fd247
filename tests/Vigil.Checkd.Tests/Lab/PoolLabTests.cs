using System.Globalization;
using System.Net;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>Pool logic against real servers: quorum loss brings in the sorry server and runs
/// quorum_down (and the reverse), inhibit_on_failure keeps a failed server at weight 0, and a
/// blackholed server does not delay anybody else's checks.</summary>
[Trait("Category", "Lab")]
public sealed class PoolLabTests(CheckdLab lab, ITestOutputHelper output) : IClassFixture<CheckdLab>
{
    private static readonly IPAddress Web = IPAddress.Parse(CheckdLab.WebAddress);

    private async Task<IAsyncDisposable> BlockPortAsync(string name, int port, string verdict)
    {
        await lab.Web.CheckAsync("nft", "add", "table", "inet", name);
        await lab.Web.CheckAsync("nft", $"add chain inet {name} input {{ type filter hook input priority 0; tcp dport {port} {verdict}; }}");
        return new Unblock(lab, name);
    }

    private sealed class Unblock(CheckdLab lab, string name) : IAsyncDisposable
    {
        private bool _done;

        public async ValueTask DisposeAsync()
        {
            if (_done) return;
            _done = true;
            await lab.Web.ExecAsync("nft", "delete", "table", "inet", name);
        }
    }

    private static RealServerConfig Tcp(ushort port) => new() { Address = Web, Port = port, Checkers = new CheckerConfig[] { new TcpCheckConfig() } };

    [Fact]
    public async Task QuorumLost_SorryServerInQuorumDownRunMailed_ThenBack()
    {
        var vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.77.0.150"), 80);
        var log = Path.Combine(lab.Dir, "quorum.log");
        var vs = new VirtualServerConfig
        {
            Key = vip,
            DelayLoop = TimeSpan.FromSeconds(1),
            Retry = 1,
            DelayBeforeRetry = TimeSpan.FromMilliseconds(300),
            ConnectTimeout = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.Zero,
            Quorum = 2,
            SmtpAlert = true,
            QuorumUp = new NotifyScript($"/bin/sh -c 'echo \"up $VIGIL_VIRTUAL_SERVER\" >> {log}'"),
            QuorumDown = new NotifyScript($"/bin/sh -c 'echo \"down $VIGIL_VIRTUAL_SERVER\" >> {log}'"),
            SorryServer = new SorryServerConfig(Web, 8099),
            RealServers = new[] { Tcp(8001), Tcp(8002) },
        };
        await using var engine = await LabEngine.StartAsync(lab, new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs } }, output);
        await Poll.UntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains($"up {vip}"), TimeSpan.FromSeconds(10), "quorum_up at start");
        await Poll.UntilAsync(() => lab.Mails().Any(m => m.Subject == $"[lab] Virtualserver {vip} - UP" && m.Body == "=> Starting with quorum up 2+0=2 <= 2 <="),
            TimeSpan.FromSeconds(10), "the starting mail");

        await using (await BlockPortAsync("vigilq", 8002, "reject with tcp reset"))
        {
            await Poll.UntilAsync(async () => Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()) is { SorryServerActive: true },
                TimeSpan.FromSeconds(10), "the sorry server to come in");
            var desired = Assert.Single(await engine.Engine.GetDesiredDestinationsAsync());
            Assert.Equal([new DesiredDestination(Web, 8099, 1, DestinationRole.SorryServer)], desired.Destinations);
            Assert.False(desired.QuorumUp);
            await Poll.UntilAsync(() => File.ReadAllText(log).Contains($"down {vip}"), TimeSpan.FromSeconds(10), "quorum_down");
            await Poll.UntilAsync(() => lab.Mails().Any(m => m.Subject == $"[lab] Virtualserver {vip} - DOWN" && m.Body == "=> Lost quorum 2+0=2 <= 1 <="),
                TimeSpan.FromSeconds(10), "the lost quorum mail", () => string.Join("\n", lab.Mails().Select(m => $"{m.Subject} | {m.Body}")));
            Assert.Contains(engine.Events, e => e is DestinationsChanged { Desired.SorryServerActive: true });
        }

        await Poll.UntilAsync(async () => Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()) is { QuorumUp: true, Destinations.Count: 2 },
            TimeSpan.FromSeconds(10), "the real servers back");
        Assert.All(Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()).Destinations, d => Assert.Equal(DestinationRole.RealServer, d.Role));
        await Poll.UntilAsync(() => lab.Mails().Any(m => m.Subject == $"[lab] Virtualserver {vip} - UP" && m.Body == "=> Gained quorum 2+0=2 <= 2 <="),
            TimeSpan.FromSeconds(10), "the gained quorum mail");
        Assert.Equal(2, File.ReadAllLines(log).Count(l => l == $"up {vip}"));
    }

    [Fact]
    public async Task InhibitOnFailure_FailedServerKeptWithWeightZero()
    {
        var vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.77.0.151"), 80);
        var vs = new VirtualServerConfig
        {
            Key = vip,
            DelayLoop = TimeSpan.FromSeconds(1),
            Retry = 0,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.Zero,
            InhibitOnFailure = true,
            RealServers = new[] { Tcp(8003) with { Weight = 5 }, Tcp(8004) },
        };
        await using var engine = await LabEngine.StartAsync(lab, new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs } }, output);

        await using (await BlockPortAsync("vigili", 8003, "reject with tcp reset"))
        {
            await Poll.UntilAsync(async () => (await engine.RealServerAsync(vip, CheckdLab.WebAddress, 8003)) is { Alive: false, InPool: true, DesiredWeight: 0 },
                TimeSpan.FromSeconds(10), "the failed server at weight 0");
        }
        await Poll.UntilAsync(async () => (await engine.RealServerAsync(vip, CheckdLab.WebAddress, 8003)) is { Alive: true, DesiredWeight: 5 },
            TimeSpan.FromSeconds(10), "weight 5 again");
    }

    [Fact]
    public async Task BlackholedServer_DoesNotDelayTheOthersChecks()
    {
        var vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.77.0.152"), 80);
        var delayLoop = TimeSpan.FromSeconds(1);
        var servers = Enumerable.Range(8001, 9).Select(p => new RealServerConfig
        {
            Address = Web,
            Port = (ushort)p,
            Checkers = new CheckerConfig[] { new HttpCheckConfig { Urls = new[] { new UrlCheck { Path = $"/index.html?blackhole-test={p}" } } } },
        }).Append(new RealServerConfig
        {
            Address = Web,
            Port = 8000,
            Checkers = new CheckerConfig[] { new HttpCheckConfig { Urls = new[] { new UrlCheck { Path = "/" } } } },
        }).ToArray();
        var vs = new VirtualServerConfig
        {
            Key = vip,
            DelayLoop = delayLoop,
            Retry = 3,
            DelayBeforeRetry = TimeSpan.FromMilliseconds(200),
            ConnectTimeout = TimeSpan.FromSeconds(3),
            Warmup = TimeSpan.Zero,
            RealServers = servers,
        };

        // Port 8000 drops every SYN: its checks hang for connect_timeout.
        await using var blackhole = await BlockPortAsync("vigilb", 8000, "drop");
        var started = DateTimeOffset.UtcNow;
        await using var engine = await LabEngine.StartAsync(lab, new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs } }, output);
        var down = await engine.WaitForTransitionAsync(CheckdLab.WebAddress, 8000, CheckerTransition.Down, TimeSpan.FromSeconds(10), started);
        Assert.Contains("timeout", down.Checker.LastResult!.Reason);
        Assert.InRange(down.At - started, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(4.5));
        await Task.Delay(TimeSpan.FromSeconds(5)); // let several delay_loops pass (observation period, not an assertion)
        var stoppedAt = DateTimeOffset.UtcNow;
        await engine.DisposeAsync();

        // nginx saw each healthy server's check every delay_loop, whatever the blackholed one did.
        var requests = File.ReadAllLines(lab.AccessLog)
            .Where(l => l.Contains("blackhole-test=", StringComparison.Ordinal))
            .Select(l => (At: DateTimeOffset.FromUnixTimeMilliseconds((long)(double.Parse(l.Split(' ')[0], CultureInfo.InvariantCulture) * 1000)), Port: int.Parse(l.Split(' ')[1])))
            .Where(r => r.At >= started && r.At <= stoppedAt)
            .ToList();
        foreach (var port in Enumerable.Range(8001, 9))
        {
            var times = requests.Where(r => r.Port == port).Select(r => r.At).Order().ToList();
            Assert.True(times.Count >= 7, $"port {port}: {times.Count} checks in {(stoppedAt - started).TotalSeconds:0.0} s");
            Assert.InRange(times[0] - started, TimeSpan.Zero, TimeSpan.FromSeconds(1.5));
            var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
            output.WriteLine($"port {port}: gaps {string.Join(" ", gaps.Select(g => g.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)))} ms");
            // Every gap is a delay_loop (never shorter); a check held up behind the blackholed one
            // would show a gap of its connect_timeout (3 s). The median is tight, the worst case
            // leaves room for a busy machine while staying well below 3 s.
            Assert.All(gaps, g => Assert.InRange(g, delayLoop - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2.2)));
            Assert.InRange(gaps.Order().ElementAt(gaps.Count / 2), delayLoop - TimeSpan.FromMilliseconds(50), delayLoop + TimeSpan.FromMilliseconds(150));
        }
    }

    [Fact]
    public async Task HaSuspend_WithoutVrrpd_ChecksFollowTheAddressOnTheDirector()
    {
        var vipAddress = "10.77.0.160";
        var vip = VirtualServerKey.ForAddress(IPAddress.Parse(vipAddress), 80);
        var vs = new VirtualServerConfig
        {
            Key = vip,
            HaSuspend = true,
            DelayLoop = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.Zero,
            RealServers = new[] { Tcp(8005) },
        };
        var config = new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs } };
        await using var engine = await LabEngine.StartAsync(lab, config, output, o => o with { LocalAddressPollInterval = TimeSpan.FromMilliseconds(300) });

        Assert.True((await engine.Engine.GetVirtualServerAsync(vip)).Suspended);
        await Poll.HoldsAsync(async () => (await engine.RealServerAsync(vip, CheckdLab.WebAddress, 8005)).Checkers[0].LastResult is null,
            TimeSpan.FromSeconds(2), "no check while the address is elsewhere");

        await lab.Lb.CheckAsync("ip", "addr", "add", vipAddress + "/32", "dev", "eth0");
        try
        {
            await Poll.UntilAsync(async () => (await engine.RealServerAsync(vip, CheckdLab.WebAddress, 8005)).Checkers[0].LastResult is { Success: true },
                TimeSpan.FromSeconds(10), "checks once the director holds the address");
            Assert.False((await engine.Engine.GetVirtualServerAsync(vip)).Suspended);
        }
        finally
        {
            await lab.Lb.ExecAsync("ip", "addr", "del", vipAddress + "/32", "dev", "eth0");
        }
        await Poll.UntilAsync(async () => (await engine.Engine.GetVirtualServerAsync(vip)).Suspended, TimeSpan.FromSeconds(10), "suspended again");
    }

    [Fact]
    public async Task ConnectionOptions_BindtoBindIfAndFwmark_OnTheWire()
    {
        // Count the checker's marked SYNs leaving the director's eth0 from the bindto address.
        await lab.Lb.CheckAsync("nft", "add", "table", "inet", "vigilmark");
        await lab.Lb.CheckAsync("nft", "add chain inet vigilmark out { type filter hook output priority 0; }");
        await lab.Lb.CheckAsync("nft", "add rule inet vigilmark out oifname eth0 meta mark 0x42 ip saddr 10.77.0.1 tcp dport 8006 tcp flags syn counter");
        try
        {
            var vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.77.0.161"), 80);
            var checker = new TcpCheckConfig
            {
                Connection = new ConnectionOptions
                {
                    BindTo = IPAddress.Parse(CheckdLab.LbAddress),
                    BindInterface = "eth0",
                    Fwmark = 0x42,
                    ConnectPort = 8006,
                },
            };
            var vs = new VirtualServerConfig
            {
                Key = vip,
                DelayLoop = TimeSpan.FromSeconds(1),
                Warmup = TimeSpan.Zero,
                RealServers = new[] { new RealServerConfig { Address = Web, Port = 80, Checkers = new CheckerConfig[] { checker } } },
            };
            await using var engine = await LabEngine.StartAsync(lab, new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs } }, output);

            await Poll.UntilAsync(async () => (await engine.RealServerAsync(vip, CheckdLab.WebAddress, 80)).Checkers[0].LastResult is { Success: true },
                TimeSpan.FromSeconds(10), "a successful check through connect_port 8006");
            var counter = await lab.Lb.CheckAsync("nft", "list", "table", "inet", "vigilmark");
            output.WriteLine(counter.Stdout);
            Assert.Matches(@"counter packets [1-9]", counter.Stdout);

            var bad = vs with { Key = VirtualServerKey.ForAddress(IPAddress.Parse("10.77.0.162"), 80), RealServers = new[] { vs.RealServers[0] with { Checkers = new CheckerConfig[] { checker with { Connection = checker.Connection with { BindInterface = "nosuchif0" } } } } } };
            await engine.Engine.ApplyConfigurationAsync(new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { vs, bad } });
            await Poll.UntilAsync(() => engine.Engine.GetCounters().ProbeLocalErrors > 0, TimeSpan.FromSeconds(10), "bind_if to a missing interface reported as a local error");
            Assert.True((await engine.RealServerAsync(bad.Key, CheckdLab.WebAddress, 80)).Alive);
        }
        finally
        {
            await lab.Lb.ExecAsync("nft", "delete", "table", "inet", "vigilmark");
        }
    }
}
