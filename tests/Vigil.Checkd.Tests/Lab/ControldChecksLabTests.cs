using Vigil.Testing;
using Xunit.Abstractions;
using static Vigil.Checkd.Tests.Lab.ControldChecksLab;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>
/// End to end as a keepalived user runs it: `vigil-controld -f FILE --run-dir DIR` on a director
/// in a lab namespace, nginx real servers, `vigilctl checks`, vigil-checkd's ListDestinations,
/// reload, and `vigilctl genhash` against keepalived's own /usr/bin/genhash.
/// </summary>
[Trait("Category", "Lab")]
public sealed class ControldChecksLabTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ControldChecksLab _lab = null!;

    public async Task InitializeAsync() => _lab = await ControldChecksLab.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_lab.Controld is { } c) output.WriteLine(c.Output);
        await _lab.DisposeAsync();
    }

    /// <summary>Two virtual servers (HTTP_GET with digest + TCP_CHECK on 80, SSL_GET on 443), short timings.</summary>
    private static string Config(int web2Weight = 2, bool withHttps = true) => $$"""
        global_defs {
            router_id lab-lb
        }
        virtual_server {{Vip}} 80 {
            delay_loop 1
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server {{Web1}} 80 {
                weight 1
                HTTP_GET {
                    url {
                        path /index.html
                        digest {{IndexDigest}}
                    }
                    connect_timeout 1
                    retry 0
                    delay_before_retry 1
                    warmup 0
                }
            }
            real_server {{Web2}} 80 {
                weight {{web2Weight}}
                TCP_CHECK {
                    connect_timeout 1
                    retry 0
                    warmup 0
                }
            }
        }
        {{(withHttps ? $$"""
        virtual_server {{Vip}} 443 {
            delay_loop 1
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server {{Web1}} 443 {
                SSL_GET {
                    url {
                        path /index.html
                        digest {{IndexDigest}}
                    }
                    connect_timeout 1
                    retry 0
                    delay_before_retry 1
                    warmup 0
                }
            }
            real_server {{Web2}} 443 {
                SSL_GET {
                    url {
                        path /index.html
                        digest {{IndexDigest}}
                    }
                    connect_timeout 1
                    retry 0
                    delay_before_retry 1
                    warmup 0
                }
            }
        }
        """ : "")}}
        """;

    private Task WaitHealthAsync(int vsPort, string address, int port, string health) =>
        Poll.UntilAsync(async () => await _lab.HealthAsync(vsPort, address, port) == health, TimeSpan.FromSeconds(20),
            $"{address}:{port} in VS :{vsPort} to be {health}", async () => $"now {await _lab.HealthAsync(vsPort, address, port)}\n{(await _lab.VigilctlAsync("checks")).Stdout}\n{_lab.Diagnostics()}");

    [Fact]
    public async Task Controld_StartsCheckd_RealServerStoppedThenRestored_HealthAndDestinationsFollow()
    {
        await _lab.StartControldAsync(Config());
        foreach (var (vsPort, address) in new[] { (80, Web1), (80, Web2), (443, Web1), (443, Web2) })
        {
            await WaitHealthAsync(vsPort, address, vsPort, "HEALTH_UP");
        }
        await Poll.UntilAsync(async () => await _lab.LastOutcomeAsync(443, Web1, 443) == "CHECK_OUTCOME_SUCCESS",
            TimeSpan.FromSeconds(15), "a successful SSL_GET");
        var status = await _lab.StatusAsync();
        var checkd = Assert.Single(status.Children, c => c.Name == "vigil-checkd");
        Assert.True(checkd.Ready);
        Assert.Equal([$"{Web1}:80/1", $"{Web2}:80/2"], await _lab.DestinationsOfAsync(80));

        using (var doc = await _lab.ChecksJsonAsync())
        {
            var web1 = RealServer(doc!, 80, Web1, 80)!.Value;
            Assert.Equal("MD5 digest success url(/index.html)", web1.GetProperty("reason").GetString());
            Assert.Equal("HTTP_GET", web1.GetProperty("checkers")[0].GetProperty("keyword").GetString());
            Assert.EndsWith("s", web1.GetProperty("lastResult").GetProperty("latency").GetString());
            Assert.Equal("SSL_GET", RealServer(doc!, 443, Web1, 443)!.Value.GetProperty("checkers")[0].GetProperty("keyword").GetString());
        }
        var table = await _lab.VigilctlAsync("checks");
        Assert.True(table.Ok, table.Stderr);
        output.WriteLine(table.Stdout);
        Assert.Matches($@"\[{Vip}\]:tcp:80\s+up \(3/1\)\s+\[{Web1}\]:tcp:80\s+UP\s+1\s+success\s+[0-9.]+ ms\s+MD5 digest success", table.Stdout);

        // web1's nginx stops: both of its services go down and leave the destination sets.
        await _lab.StopWebAsync(Web1);
        await WaitHealthAsync(80, Web1, 80, "HEALTH_DOWN");
        await WaitHealthAsync(443, Web1, 443, "HEALTH_DOWN");
        using (var doc = await _lab.ChecksJsonAsync())
        {
            var reason = RealServer(doc!, 80, Web1, 80)!.Value.GetProperty("reason").GetString();
            Assert.Contains($"[{Web1}]:80", reason);
            Assert.Equal("HEALTH_UP", RealServer(doc!, 80, Web2, 80)!.Value.GetProperty("health").GetString());
        }
        Assert.Equal([$"{Web2}:80/2"], await _lab.DestinationsOfAsync(80));
        Assert.Equal([$"{Web2}:443/1"], await _lab.DestinationsOfAsync(443));
        table = await _lab.VigilctlAsync("checks");
        Assert.Matches($@"\[{Web1}\]:tcp:80\s+DOWN\s+0 \(conf 1\)\s+failure", table.Stdout);

        // Back: healthy again and back in the pools.
        await _lab.StartWebAsync(Web1);
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        await WaitHealthAsync(443, Web1, 443, "HEALTH_UP");
        Assert.Equal([$"{Web1}:80/1", $"{Web2}:80/2"], await _lab.DestinationsOfAsync(80));
        Assert.Equal([$"{Web1}:443/1", $"{Web2}:443/1"], await _lab.DestinationsOfAsync(443));
    }

    /// <summary>
    /// Health timing as a new user writes it (no warmup line): delay_loop 1, connect_timeout 1,
    /// retry 2, delay_before_retry 1. Stopped (connection refused): down after 2 x
    /// delay_before_retry plus at most one delay_loop before the first failure. Frozen (SIGSTOP:
    /// connections are accepted and nothing answers): each of the 3 attempts also lasts
    /// connect_timeout.
    /// </summary>
    [Theory]
    [InlineData("stopped", 1.9, 5.0)]
    [InlineData("frozen", 4.9, 8.0)]
    public async Task HttpGet_ServerDown_DownAfterRetriesDelayBeforeRetryApart(string how, double minSeconds, double maxSeconds)
    {
        await _lab.StartControldAsync($$"""
            virtual_server {{Vip}} 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server {{Web1}} 80 {
                    weight 1
                    HTTP_GET {
                        url {
                            path /index.html
                            status_code 200
                        }
                        connect_timeout 1
                        retry 2
                        delay_before_retry 1
                    }
                }
            }
            """);
        // Up and checked: before its first result a checker counts as up, and one failure is enough.
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        await Poll.UntilAsync(async () => await _lab.LastOutcomeAsync(80, Web1, 80) == "CHECK_OUTCOME_SUCCESS",
            TimeSpan.FromSeconds(20), "a successful HTTP_GET", () => Task.FromResult(_lab.Diagnostics()));
        var stopped = DateTime.UtcNow;
        if (how == "stopped") await _lab.StopWebAsync(Web1);
        else await _lab.SignalWebAsync(Web1, "STOP");
        TimeSpan took;
        try
        {
            await WaitHealthAsync(80, Web1, 80, "HEALTH_DOWN");
            took = DateTime.UtcNow - stopped;
        }
        finally
        {
            if (how == "frozen") await _lab.SignalWebAsync(Web1, "CONT");
        }
        output.WriteLine($"down after {took.TotalSeconds:0.00} s");
        Assert.InRange(took, TimeSpan.FromSeconds(minSeconds), TimeSpan.FromSeconds(maxSeconds));
    }

    [Fact]
    public async Task Reload_NewWeightAndRemovedVirtualServer_PushedToCheckdWithoutRestartingIt()
    {
        await _lab.StartControldAsync(Config());
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        await WaitHealthAsync(80, Web2, 80, "HEALTH_UP");
        var pid = (await _lab.StatusAsync()).Children.Single(c => c.Name == "vigil-checkd").Pid;

        await File.WriteAllTextAsync(_lab.ConfigPath, Config(web2Weight: 5, withHttps: false));
        _lab.Controld!.Signal(1);
        await Poll.UntilAsync(async () => (await _lab.DestinationsAsync()).VirtualServers.Count == 1, TimeSpan.FromSeconds(15), "the 443 virtual server to go",
            () => Task.FromResult(_lab.Diagnostics()));
        Assert.Equal([$"{Web1}:80/1", $"{Web2}:80/5"], await _lab.DestinationsOfAsync(80));
        Assert.Equal("HEALTH_UP", await _lab.HealthAsync(80, Web1, 80));
        var after = (await _lab.StatusAsync()).Children.Single(c => c.Name == "vigil-checkd");
        Assert.Equal((pid, 0), (after.Pid, after.Restarts));
        Assert.Contains("pushed 1 virtual servers to vigil-checkd: 0 added, 1 kept, 1 removed", _lab.Diagnostics());
    }

    [Fact]
    public async Task CheckdKilled_RestartedByControldAndReconfigured()
    {
        await _lab.StartControldAsync(Config(withHttps: false));
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        var first = (await _lab.StatusAsync()).Children.Single(c => c.Name == "vigil-checkd").Pid;

        Assert.Equal(0, kill(first, 9));
        await Poll.UntilAsync(async () => (await _lab.StatusAsync()).Children.Single(c => c.Name == "vigil-checkd") is { Ready: true, Restarts: 1 } c && c.Pid != first,
            TimeSpan.FromSeconds(20), "controld to restart vigil-checkd", () => Task.FromResult(_lab.Diagnostics()));
        // The new checkd got the configuration again and checks.
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        await WaitHealthAsync(80, Web2, 80, "HEALTH_UP");
        Assert.Equal([$"{Web1}:80/1", $"{Web2}:80/2"], await _lab.DestinationsOfAsync(80));
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int sig);

    /// <summary>
    /// ha_suspend with the real vrrpd: the director runs VI_1 (the VIP) and the virtual server on
    /// the VIP; its checks run while VI_1 is MASTER here, pause while a higher-priority router
    /// holds the VIP, and resume when that router leaves (priority 0 on SIGTERM).
    /// </summary>
    [Fact]
    public async Task HaSuspend_ChecksRunOnlyWhileThisNodeIsMasterOfTheVip()
    {
        const string vrrp = """
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 51
                priority PRIORITY
                advert_int 1
                virtual_ipaddress {
                    10.77.0.100/24
                }
            }
            """;
        var config = vrrp.Replace("PRIORITY", "100", StringComparison.Ordinal) + "\n" + Config(withHttps: false).Replace("    protocol TCP\n", "    protocol TCP\n    ha_suspend\n", StringComparison.Ordinal);
        Assert.Contains("ha_suspend", config);
        await _lab.StartControldAsync(config);

        async Task<bool> SuspendedAsync()
        {
            using var doc = await _lab.ChecksJsonAsync();
            return doc is null || VirtualServer(doc, 80)?.GetProperty("suspended").GetBoolean() != false;
        }
        // Alone on the LAN the director becomes MASTER, adds the VIP and the checks run.
        await Poll.UntilAsync(async () => !await SuspendedAsync(), TimeSpan.FromSeconds(20), "checks to run once VI_1 is MASTER", () => Task.FromResult(_lab.Diagnostics()));
        await WaitHealthAsync(80, Web1, 80, "HEALTH_UP");
        Assert.True(await _lab.Lb.HasAddressAsync("eth0", Vip));
        Assert.Contains("ha_suspend follows vigil-vrrpd", _lab.Diagnostics());

        // A router with a higher priority takes the VIP: this director is BACKUP, its checks pause.
        var lb2 = await _lab.Lab.AddHostAsync("lb2", _lab.Lan, "10.77.0.2/24");
        var lb2Dir = Path.Combine(_lab.Dir, "lb2");
        Directory.CreateDirectory(lb2Dir);
        await File.WriteAllTextAsync(Path.Combine(lb2Dir, "keepalived.conf"), vrrp.Replace("PRIORITY", "200", StringComparison.Ordinal));
        var other = lb2.Start("controld-lb2", RepoPaths.Program("vigil-controld"), ["-f", Path.Combine(lb2Dir, "keepalived.conf"), "--run-dir", lb2Dir]);
        await Poll.UntilAsync(SuspendedAsync, TimeSpan.FromSeconds(20), "checks to pause while lb2 is MASTER", () => Task.FromResult(_lab.Diagnostics() + other.Output));
        Assert.False(await _lab.Lb.HasAddressAsync("eth0", Vip));
        using (var doc = await _lab.ChecksJsonAsync())
        {
            Assert.True(RealServer(doc!, 80, Web1, 80)!.Value.GetProperty("checkers")[0].GetProperty("suspended").GetBoolean());
        }

        // lb2 leaves (priority 0): this director is MASTER again and checks again.
        other.Signal(15);
        await other.WaitForExitAsync(TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(async () => !await SuspendedAsync(), TimeSpan.FromSeconds(20), "checks to resume when VI_1 is MASTER again", () => Task.FromResult(_lab.Diagnostics()));
    }

    [Fact]
    public async Task VrrpOnlyOption_CheckdNotStarted()
    {
        await _lab.StartControldAsync(Config(), "-P");
        await Poll.UntilAsync(() => _lab.Diagnostics().Contains("vigil-checkd and vigil-ipvsd not started"), TimeSpan.FromSeconds(10), "controld to decide");
        Assert.DoesNotContain((await _lab.StatusAsync()).Children, c => c.Name == "vigil-checkd");
        Assert.False(File.Exists(Path.Combine(_lab.RunDir, "checkd.sock")));
    }

    /// <summary>`vigilctl genhash` prints what keepalived's genhash prints, for the same page, plain
    /// and over TLS, with a Host/SNI name, for a page larger than one read and for a 404 page.</summary>
    [Theory]
    [InlineData("/index.html", false, null)]
    [InlineData("/big.html", false, null)]
    [InlineData("/missing.html", false, null)]
    [InlineData("/index.html", true, null)]
    [InlineData("/big.html", true, null)]
    [InlineData("/index.html", true, "web.vigil.test")]
    public async Task Genhash_SameOutputAsKeepalivedGenhash(string path, bool ssl, string? virtualhost)
    {
        var genhash = Shell.Require("/usr/bin/genhash");
        var port = ssl ? "443" : "80";
        var args = new List<string> { "-s", Web2, "-p", port, "-u", path };
        if (ssl) args.Insert(0, "-S");
        if (virtualhost is not null) args.AddRange(["-V", virtualhost, "-I"]);

        var theirs = await _lab.Lb.ExecAsync([genhash, .. args]);
        var ours = await _lab.Lb.ExecAsync([RepoPaths.Program("vigilctl"), "genhash", .. args]);
        output.WriteLine($"genhash {string.Join(' ', args)}:\n  keepalived: {theirs.Stdout.Trim()} (exit {theirs.ExitCode})\n  vigilctl:   {ours.Stdout.Trim()} (exit {ours.ExitCode}) {ours.Stderr}");
        Assert.True(ours.Ok, ours.Stderr);
        Assert.Matches("^[0-9a-f]{32}\n$", theirs.Stdout);
        Assert.Equal(theirs.Stdout, ours.Stdout);
        if (path == "/index.html") Assert.Equal(IndexDigest + "\n", ours.Stdout);
    }

    [Fact]
    public async Task Genhash_ServerDown_ErrorAndExitStatus1()
    {
        await _lab.StopWebAsync(Web2);
        var r = await _lab.Lb.ExecAsync(RepoPaths.Program("vigilctl"), "genhash", "-s", Web2, "-p", "80", "-u", "/", "-t", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"connection to [{Web2}]:80 refused", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
