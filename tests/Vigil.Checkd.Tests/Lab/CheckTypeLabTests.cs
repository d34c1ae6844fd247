using System.Net;
using System.Security.Cryptography;
using System.Text;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>
/// Every check type against a real peer in a network namespace: healthy while the service runs;
/// once it stops, down after exactly retry + 1 failed attempts with delay_before_retry between
/// them (the window is asserted); healthy again once restored; the mails arrive at a real SMTP
/// server with keepalived's subjects and bodies.
/// </summary>
[Trait("Category", "Lab")]
public sealed class CheckTypeLabTests(CheckdLab lab, ITestOutputHelper output) : IClassFixture<CheckdLab>
{
    private const int Retry = 2;
    private static readonly TimeSpan DelayLoop = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DelayBeforeRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);
    // Room for a busy machine (lab peers start processes, CI shares cores). Still below one
    // delay_loop per retry, so retries spaced by delay_loop instead of delay_before_retry fail.
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(900);

    private static VirtualServerConfig Vs(VirtualServerKey key, RealServerConfig rs) => new()
    {
        Key = key,
        DelayLoop = DelayLoop,
        Retry = Retry,
        DelayBeforeRetry = DelayBeforeRetry,
        ConnectTimeout = ConnectTimeout,
        Warmup = TimeSpan.Zero,
        RealServers = new[] { rs },
    };

    private static RealServerConfig Rs(string address, ushort port, CheckerConfig checker) => new()
    {
        Address = IPAddress.Parse(address),
        Port = port,
        Checkers = new[] { checker },
    };

    /// <summary>Runs the up / stop / down / restore / up sequence and checks timings and mails.</summary>
    private async Task UpDownUpAsync(VirtualServerKey vsKey, RealServerConfig rs, Func<Task> stop, Func<Task> restore,
        string downBody, string upBody, TimeSpan attemptDuration = default, int upWithinLoops = 1)
    {
        var config = new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { Vs(vsKey, rs) } };
        await using var engine = await LabEngine.StartAsync(lab, config, output);
        var address = rs.Address.ToString();

        // HasRun: a whole round done (HTTP_GET walks all its URLs first; before that one failure is
        // enough, as in keepalived).
        await Poll.UntilAsync(async () => (await engine.RealServerAsync(vsKey, address, rs.Port)) is { Alive: true, Checkers: var c } && c[0] is { HasRun: true, LastResult.Success: true },
            TimeSpan.FromSeconds(10), "the real server to be checked healthy", () => Task.FromResult(engine.Describe(address, rs.Port)));

        var stoppedAt = DateTimeOffset.UtcNow;
        await stop();
        try
        {
            var down = await engine.WaitForTransitionAsync(address, rs.Port, CheckerTransition.Down, TimeSpan.FromSeconds(20), stoppedAt);
            var firstFailure = engine.Events.OfType<CheckerResultReported>()
                .First(e => e.At >= stoppedAt && e.RealServer == rs.Key && e.Checker.LastResult is { Success: false });
            output.WriteLine(engine.Describe(address, rs.Port));

            // Exactly retry + 1 attempts failed, delay_before_retry apart.
            Assert.Equal(Retry + 1, down.Checker.ConsecutiveFailures);
            var expected = Retry * (DelayBeforeRetry + attemptDuration);
            var window = down.At - firstFailure.At;
            Assert.InRange(window, expected - TimeSpan.FromMilliseconds(50), expected + Slack);
            Assert.InRange(firstFailure.At - stoppedAt, TimeSpan.Zero, DelayLoop + attemptDuration + Slack);
            var desired = Assert.Single(await engine.Engine.GetDesiredDestinationsAsync());
            Assert.DoesNotContain(desired.Destinations, d => d.Key == rs.Key);
        }
        finally
        {
            await restore();
        }
        var restoredAt = DateTimeOffset.UtcNow;
        var up = await engine.WaitForTransitionAsync(address, rs.Port, CheckerTransition.Up, TimeSpan.FromSeconds(20), restoredAt);
        // Recovery is not about retries: bound it loosely (a busy machine delays the peer's restart).
        Assert.InRange(up.At - restoredAt, TimeSpan.Zero, upWithinLoops * DelayLoop + attemptDuration + TimeSpan.FromSeconds(2));
        Assert.Contains(Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()).Destinations, d => d.Key == rs.Key);

        var service = rs.Key.Format(vsKey.Protocol);
        var subject = $"[lab] Realserver {service} of virtual server {vsKey}";
        await Poll.UntilAsync(() => lab.Mails().Any(m => m.Subject == subject + " - DOWN" && m.Body == downBody)
                                    && lab.Mails().Any(m => m.Subject == subject + " - UP" && m.Body == upBody),
            TimeSpan.FromSeconds(15), "the DOWN and UP mails",
            () => string.Join("\n", lab.Mails().Select(m => $"{m.Subject} | {m.Body}")));
        var mail = lab.Mails().First(m => m.Subject == subject + " - DOWN");
        Assert.Contains("From: checkd@vigil.test", mail.Raw);
        Assert.Contains("X-Envelope-To: ops@vigil.test", mail.Raw);
    }

    private static VirtualServerKey Vip(int n, ushort port = 80, ServiceProtocol protocol = ServiceProtocol.Tcp) =>
        VirtualServerKey.ForAddress(IPAddress.Parse($"10.77.0.{100 + n}"), port, protocol);

    [Fact]
    public Task TcpCheck_NginxStoppedAndRestarted() =>
        UpDownUpAsync(Vip(1), Rs(CheckdLab.WebAddress, 80, new TcpCheckConfig()), lab.StopNginxAsync, lab.StartNginxAsync,
            "=> TCP CHECK failed on service <=", "=> TCP CHECK succeed on service <=");

    [Fact]
    public async Task HttpGet_DigestOfTheRealPage_NginxStoppedAndRestarted()
    {
        var digest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(CheckdLab.IndexPage)));
        var checker = new HttpCheckConfig
        {
            Urls = new[] { new UrlCheck { Path = "/index.html", Digest = digest, StatusCodes = new[] { new StatusCodeRange(200, 200) } }, new UrlCheck { Path = "/big.html" } },
            Virtualhost = "www.vigil.test",
        };
        // keepalived walks the URLs one per delay_loop and needs the failed URL, then every URL,
        // to pass again before the server is up: three delay_loops here.
        await UpDownUpAsync(Vip(2), Rs(CheckdLab.WebAddress, 80, checker), lab.StopNginxAsync, lab.StartNginxAsync,
            "=> CHECK failed on service : HTTP/SSL request failed <=", "=> CHECK succeed on service <=", upWithinLoops: 3);

        var lines = File.ReadAllLines(lab.AccessLog);
        Assert.Contains(lines, l => l.Contains("\"GET /index.html HTTP/1.0\" \"www.vigil.test\" \"KeepAliveClient\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SslGet_WithSni_NginxStoppedAndRestarted()
    {
        var digest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(CheckdLab.IndexPage)));
        var checker = new HttpCheckConfig
        {
            UseSsl = true,
            EnableSni = true,
            SniName = "web.vigil.test",
            Protocol = HttpProtocolVersion.Http11,
            Urls = new[] { new UrlCheck { Path = "/index.html", Digest = digest } },
        };
        await UpDownUpAsync(Vip(3, 443), Rs(CheckdLab.WebAddress, 443, checker), lab.StopNginxAsync, lab.StartNginxAsync,
            "=> CHECK failed on service : HTTP/SSL request failed <=", "=> CHECK succeed on service <=", upWithinLoops: 2);

        Assert.Contains(File.ReadAllLines(lab.AccessLog), l => l.Contains(" 443 \"web.vigil.test\" \"GET /index.html HTTP/1.1\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SmtpCheck_PythonSmtpdStoppedAndRestarted()
    {
        var rs = Rs(CheckdLab.MailAddress, 2525, new SmtpCheckConfig { HeloName = "checker.vigil.test" });
        await UpDownUpAsync(Vip(4, 25), rs, () => lab.SmtpTarget!.StopAsync(), lab.StartSmtpTargetAsync,
            $"=> CHECK failed on service : connection to [{CheckdLab.MailAddress}]:2525 refused <=", "=> CHECK succeed on service <=");
    }

    [Fact]
    public Task DnsCheck_DnsmasqStoppedAndRestarted() =>
        UpDownUpAsync(Vip(5, 53, ServiceProtocol.Udp), Rs(CheckdLab.DnsAddress, 53, new DnsCheckConfig { QueryType = DnsQueryType.A, Name = "www.vigil.test" }),
            () => lab.Dnsmasq!.StopAsync(), lab.StartDnsmasqAsync,
            "=> DNS_CHECK: failed on service <=", "=> DNS_CHECK: succeed on service <=");

    [Fact]
    public Task UdpCheck_EchoStoppedAndRestarted() =>
        UpDownUpAsync(Vip(6, 7, ServiceProtocol.Udp), Rs(CheckdLab.WebAddress, 7, new UdpCheckConfig
        {
            Payload = Encoding.ASCII.GetBytes("vigil"),
            RequireReply = true,
            ReplyData = Encoding.ASCII.GetBytes("vigil"),
            MinReplyLength = 5,
            MaxReplyLength = 5,
        }), () => lab.UdpEcho!.StopAsync(), lab.StartUdpEchoAsync,
            "=> UDP CHECK failed on service <=", "=> UDP CHECK succeed on service <=");

    [Fact]
    public async Task PingCheck_EchoRequestsDropped_TimeoutsCounted()
    {
        // Ping sockets like keepalived's need ping_group_range to include root.
        await lab.Lb.CheckAsync("sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647");
        var drop = new[] { "nft", "add", "table", "inet", "vigilping" };
        await UpDownUpAsync(Vip(7), Rs(CheckdLab.WebAddress, 80, new PingCheckConfig()),
            async () =>
            {
                await lab.Web.CheckAsync(drop);
                await lab.Web.CheckAsync("nft", "add chain inet vigilping input { type filter hook input priority 0; icmp type echo-request drop; }");
            },
            async () => await lab.Web.CheckAsync("nft", "delete", "table", "inet", "vigilping"),
            "=> ICMP CHECK failed on service <=", "=> ICMP CHECK succeed on service <=", attemptDuration: ConnectTimeout);
    }

    [Fact]
    public async Task MiscCheck_FlagRemovedAndRestored()
    {
        var flag = Path.Combine(lab.Dir, "misc-ok");
        await File.WriteAllTextAsync(flag, "");
        await UpDownUpAsync(Vip(8), Rs(CheckdLab.WebAddress, 80, new MiscCheckConfig { Path = $"/usr/bin/test -f {flag}", Timeout = TimeSpan.FromSeconds(2) }),
            () =>
            {
                File.Delete(flag);
                return Task.CompletedTask;
            },
            () => File.WriteAllTextAsync(flag, ""),
            "=> MISC CHECK failed on service <=", "=> MISC CHECK succeeded on service <=");
    }

    [Fact]
    public async Task MiscCheck_DynamicWeightAndTimeoutKillsTheProcessGroup()
    {
        var exitFile = Path.Combine(lab.Dir, "misc-exit");
        var pidFile = Path.Combine(lab.Dir, "misc-child.pid");
        await File.WriteAllTextAsync(exitFile, "7");
        // Exit with the number in the file; "hang" makes it start a child and wait on it.
        var script = Path.Combine(lab.Dir, "misc-dynamic.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nv=$(cat {exitFile})\nif [ \"$v\" = hang ]; then sleep 300 & echo $! > {pidFile}; wait; fi\nexit $v\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var vsKey = Vip(9);
        var rs = Rs(CheckdLab.WebAddress, 80, new MiscCheckConfig { Path = script, Dynamic = true, Timeout = TimeSpan.FromMilliseconds(700) }) with { Weight = 3 };
        await using var engine = await LabEngine.StartAsync(lab, new CheckdConfig { Globals = LabEngine.Globals(), VirtualServers = new[] { Vs(vsKey, rs) with { Retry = 0 } } }, output);

        await Poll.UntilAsync(async () => Assert.Single(Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()).Destinations).Weight == 5,
            TimeSpan.FromSeconds(10), "weight 5 from exit status 7");

        await File.WriteAllTextAsync(exitFile, "hang");
        var down = await engine.WaitForTransitionAsync(CheckdLab.WebAddress, 80, CheckerTransition.Down, TimeSpan.FromSeconds(15), DateTimeOffset.UtcNow);
        Assert.True(down.Checker.LastResult!.TimedOut);
        var child = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim());
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{child}") || File.ReadAllText($"/proc/{child}/stat").Contains(") Z "), TimeSpan.FromSeconds(5),
            "the script's child to be killed with its process group");
        await Poll.UntilAsync(() => lab.Mails().Any(m => m.Subject.Contains(vsKey.ToString()) && m.Body == "=> MISC CHECK timed out on service <="),
            TimeSpan.FromSeconds(10), "the timed out mail");

        await File.WriteAllTextAsync(exitFile, "0");
        await Poll.UntilAsync(async () => Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()).Destinations is [{ Weight: 3 }],
            TimeSpan.FromSeconds(10), "the configured weight back after exit 0");
    }

    [Fact]
    public async Task FileCheck_ValueFaultsAndWeights()
    {
        var file = Path.Combine(lab.Dir, "track-file");
        await File.WriteAllTextAsync(file, "0\n");
        var vsKey = Vip(10);
        var config = new CheckdConfig
        {
            Globals = LabEngine.Globals(),
            VirtualServers = new[]
            {
                Vs(vsKey, Rs(CheckdLab.WebAddress, 80, new FileCheckConfig { TrackFileName = "fault", Path = file, Weight = 0 }) with
                {
                    Checkers = new CheckerConfig[] { new FileCheckConfig { TrackFileName = "fault", Path = file, Weight = 0 }, new FileCheckConfig { TrackFileName = "w", Path = file + ".w", Weight = 2 } },
                }),
            },
        };
        await using var engine = await LabEngine.StartAsync(lab, config, output);
        Assert.True((await engine.RealServerAsync(vsKey, CheckdLab.WebAddress, 80)).Alive);

        var written = DateTimeOffset.UtcNow;
        await File.WriteAllTextAsync(file, "1\n");
        var down = await engine.WaitForTransitionAsync(CheckdLab.WebAddress, 80, CheckerTransition.Down, TimeSpan.FromSeconds(5), written);
        // About one delay_loop (1 s) later; slack for CI, where 1.61 s was seen on loaded cores.
        Assert.InRange(down.At - written, TimeSpan.Zero, TimeSpan.FromSeconds(2.5));

        await File.WriteAllTextAsync(file, "0\n");
        await File.WriteAllTextAsync(file + ".w", "3\n");
        await Poll.UntilAsync(async () => Assert.Single(await engine.Engine.GetDesiredDestinationsAsync()).Destinations is [{ Weight: 7 }],
            TimeSpan.FromSeconds(5), "weight 1 + 3 x 2");
    }

    [Theory]
    [InlineData("/index.html", false)]
    [InlineData("/big.html", false)]
    [InlineData("/index.html", true)]
    [InlineData("/big.html", true)]
    [InlineData("/missing.html", false)]
    public async Task GenHash_SameDigestAsKeepalivedGenhash(string path, bool ssl)
    {
        var genhash = Shell.Require("/usr/bin/genhash");
        var port = ssl ? 443 : 80;
        await lab.WaitTcpAsync(CheckdLab.WebAddress, port);
        string[] args = ssl ? ["-S", "-s", CheckdLab.WebAddress, "-p", port.ToString(), "-u", path] : ["-s", CheckdLab.WebAddress, "-p", port.ToString(), "-u", path];

        var theirs = (await lab.Lb.CheckAsync([genhash, .. args])).Stdout.Trim();
        var ours = await GenHash.ComputeAsync(new GenHashRequest(IPAddress.Parse(CheckdLab.WebAddress), (ushort)port, path) { UseSsl = ssl }, family => lab.LbSockets.Create(family, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));

        output.WriteLine($"genhash: {theirs}  vigil: {ours.Digest} ({ours.StatusLine}, {ours.BodyBytes} bytes)");
        Assert.Matches("^[0-9a-f]{32}$", theirs);
        Assert.Equal(theirs, ours.Digest);
    }
}
