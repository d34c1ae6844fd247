using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>vigil-controld as a keepalived user runs it: -f FILE, children, status, signals.</summary>
[Trait("Category", "Lab")]
public sealed class ControldLabTests : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-ctl-").FullName;
    private Lab _lab = null!;
    private LabHost _r1 = null!;
    private LabHost _r2 = null!;
    private LabHost _client = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _r1 = await _lab.AddHostAsync("r1", lan, "10.77.0.1/24");
        _r2 = await _lab.AddHostAsync("r2", lan, "10.77.0.2/24");
        _client = await _lab.AddHostAsync("c", lan, "10.77.0.100/24");
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    [Fact]
    public async Task TwoRouters_StatusShowsMasterAndBackup_VipOnMasterOnly()
    {
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        var n2 = await ControldNode.StartAsync(_r2, Configs.Router("BACKUP", 100, "10.77.0.10/24"), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        await n2.WaitStateAsync("VI_1", InstanceState.Backup, TimeSpan.FromSeconds(15));
        Assert.True(await _r1.HasAddressAsync("eth0", "10.77.0.10"));
        Assert.False(await _r2.HasAddressAsync("eth0", "10.77.0.10"));
        await Poll.UntilAsync(() => _client.PingAsync("10.77.0.10"), TimeSpan.FromSeconds(10), "the VIP to answer");

        // vigilctl shows the node as controld relays it, with the master's address on the backup.
        var status = await Shell.RunAsync(RepoPaths.Program("vigilctl"), "--run-dir", n2.RunDir, "status");
        Assert.True(status.Ok, status.Stderr);
        Assert.Matches(@"VI_1\s+51\s+eth0\s+BACKUP\s+100\s+10\.77\.0\.1\s", status.Stdout);
        await Poll.UntilAsync(async () => (await n1.StatusAsync()).Instances.Any(i => i.State == InstanceState.Master), TimeSpan.FromSeconds(10), "controld to relay the MASTER state");
        var json = await Shell.RunAsync(RepoPaths.Program("vigilctl"), "--run-dir", n1.RunDir, "status", "--json");
        Assert.Contains("\"state\": \"INSTANCE_STATE_MASTER\"", json.Stdout);
        Assert.Contains("\"masterAddress\": \"10.77.0.1\"", json.Stdout);
    }

    /// <summary>SIGTERM to controld: vrrpd stops too, the master sends priority 0 and drops its VIP, so
    /// the backup takes over after Skew_Time only ((256-100)/256 s), not Master_Down_Interval.</summary>
    [Fact]
    public async Task Sigterm_MasterReleasesVipWithPriorityZero_BackupTakesOverAfterSkew()
    {
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        var n2 = await ControldNode.StartAsync(_r2, Configs.Router("BACKUP", 100, "10.77.0.10/24"), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        await n2.WaitStateAsync("VI_1", InstanceState.Backup, TimeSpan.FromSeconds(15));
        var vrrpdPid = (await n1.StatusAsync()).Children.Single(c => c.Name == "vigil-vrrpd").Pid;
        await using var capture = await _client.StartCaptureAsync("eth0", "ip proto 112");

        n1.Process.Signal(15);
        Assert.Equal(0, await n1.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.False(Directory.Exists($"/proc/{vrrpdPid}"), "vigil-vrrpd stopped with controld");
        Assert.False(await _r1.HasAddressAsync("eth0", "10.77.0.10"), "the old master removed its VIP");
        await n2.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(5));
        await capture.StopAsync();
        var adverts = await capture.ReadAsync("-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "vrrp.prio");
        var zero = adverts.Select(l => l.Split('\t')).First(f => f[1] == "10.77.0.1" && f[2] == "0");
        var takeover = adverts.Select(l => l.Split('\t')).First(f => f[1] == "10.77.0.2");
        var gap = double.Parse(takeover[0], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(zero[0], System.Globalization.CultureInfo.InvariantCulture);
        // Skew_Time = (256 - 100) / 256 s = 0.609 s.
        Assert.InRange(gap, 0.55, 1.2);
    }

    /// <summary>
    /// virtual_routes and virtual_rules from keepalived.conf reach the kernel of the MASTER only
    /// (protocol keepalived), and move with the VIP on failover.
    /// </summary>
    [Fact]
    public async Task VirtualRoutesAndRules_InstalledOnMasterOnly_MoveOnFailover()
    {
        const string routing = """
            virtual_routes {
                203.0.113.0/24 dev eth0 src 10.77.0.10 metric 30
                blackhole 198.51.100.0/24 table 100 no_track
            }
            virtual_rules {
                from 10.77.0.10 table 100 priority 90
            }
            """;
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24", extra: routing), _work);
        var n2 = await ControldNode.StartAsync(_r2, Configs.Router("BACKUP", 100, "10.77.0.10/24", extra: routing), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        await n2.WaitStateAsync("VI_1", InstanceState.Backup, TimeSpan.FromSeconds(15));

        async Task<(string Main, string Table100, string Rules)> Routing(LabHost host) => (
            (await host.CheckAsync("ip", "route", "show", "proto", "keepalived")).Stdout,
            // An empty table 100 does not exist: ip exits 2, and there is nothing in it.
            (await host.ExecAsync("ip", "route", "show", "table", "100", "proto", "keepalived")).Stdout,
            (await host.CheckAsync("ip", "rule", "show")).Stdout);
        await Poll.UntilAsync(async () => (await Routing(_r1)).Rules.Contains("90:", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "the rule on the master");
        var master = await Routing(_r1);
        Assert.Matches(@"203\.0\.113\.0/24 dev eth0 .*src 10\.77\.0\.10 metric 30", master.Main);
        Assert.Contains("blackhole 198.51.100.0/24", master.Table100, StringComparison.Ordinal);
        Assert.Matches(@"90:\s+from 10\.77\.0\.10 lookup 100 proto keepalived", master.Rules);
        var backup = await Routing(_r2);
        Assert.DoesNotContain("203.0.113.0", backup.Main, StringComparison.Ordinal);
        Assert.DoesNotContain("90:", backup.Rules, StringComparison.Ordinal);

        n1.Process.Signal(15);
        Assert.Equal(0, await n1.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        await n2.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(async () => (await Routing(_r2)).Rules.Contains("90:", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "the rule on the new master");
        Assert.Contains("203.0.113.0/24", (await Routing(_r2)).Main, StringComparison.Ordinal);
        var old = await Routing(_r1);
        Assert.DoesNotContain("203.0.113.0", old.Main, StringComparison.Ordinal);
        Assert.DoesNotContain("90:", old.Rules, StringComparison.Ordinal);
    }

    /// <summary>A vrrpd that dies is restarted by controld and gets its configuration again.</summary>
    [Fact]
    public async Task VrrpdKilled_RestartedAndReconfigured()
    {
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        var pid = (await n1.StatusAsync()).Children.Single(c => c.Name == "vigil-vrrpd").Pid;
        await Shell.CheckAsync("kill", "-9", pid.ToString());
        await Poll.UntilAsync(async () =>
        {
            var child = (await n1.StatusAsync()).Children.Single(c => c.Name == "vigil-vrrpd");
            return child.Restarts == 1 && child.Pid != pid && child.Ready;
        }, TimeSpan.FromSeconds(30), "controld to restart vrrpd", async () => n1.Process.Output);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        Assert.True(await _r1.HasAddressAsync("eth0", "10.77.0.10"));
    }

    /// <summary>vrrpd never drops VIPs because controld went away; a new controld adopts it.</summary>
    [Fact]
    public async Task ControldKilled_VrrpdKeepsVip_NewControldAdopts()
    {
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        var vrrpdPid = (await n1.StatusAsync()).Children.Single(c => c.Name == "vigil-vrrpd").Pid;
        n1.Process.Signal(9);
        await n1.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await Poll.HoldsAsync(async () => await _r1.HasAddressAsync("eth0", "10.77.0.10") && (await n1.InstanceAsync("VI_1"))?.State == InstanceState.Master,
            TimeSpan.FromSeconds(3), "the VIP and MASTER state without controld");

        n1.Restart();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                var child = (await n1.StatusAsync()).Children.SingleOrDefault(c => c.Name == "vigil-vrrpd");
                return child is { Ready: true } && child.Pid == vrrpdPid;
            }
            catch (Grpc.Core.RpcException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "the new controld to adopt the running vrrpd", async () => n1.Process.Output);
        Assert.Equal(InstanceState.Master, (await n1.InstanceAsync("VI_1"))!.State);
        // Adopted, not restarted: the child was never killed, so the VIP stayed.
        Assert.True(await _r1.HasAddressAsync("eth0", "10.77.0.10"));
        // Stop the adopted vrrpd through the new controld.
        n1.Process.Signal(15);
        await n1.Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.False(Directory.Exists($"/proc/{vrrpdPid}"), "the adopted vrrpd stops with the new controld");
    }

    /// <summary>SIGHUP: the new configuration is applied; an unchanged instance keeps its state and VIP.</summary>
    [Fact]
    public async Task Sighup_NewPriorityApplied_UnchangedInstanceDoesNotFlap()
    {
        var config = Configs.Router("MASTER", 150, "10.77.0.10/24");
        var n1 = await ControldNode.StartAsync(_r1, config, _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        var before = (await n1.InstanceAsync("VI_1"))!;

        // Same file, plus a second instance: VI_1 must not move.
        await File.WriteAllTextAsync(n1.ConfigPath, config + "\n" + Configs.Router("BACKUP", 90, "10.77.0.20/24", vrid: 52).Replace("VI_1", "VI_2").Replace("global_defs {\n    router_id lab\n}\n", ""));
        n1.Process.Signal(1);
        await Poll.UntilAsync(async () => (await n1.InstanceAsync("VI_2")) is not null, TimeSpan.FromSeconds(15), "VI_2 after the reload", async () => n1.Process.Output);
        var after = (await n1.InstanceAsync("VI_1"))!;
        Assert.Equal(InstanceState.Master, after.State);
        Assert.Equal(before.LastTransition, after.LastTransition);
        Assert.Equal(before.Counters["become_master"], after.Counters["become_master"]);
        Assert.True(await _r1.HasAddressAsync("eth0", "10.77.0.10"));

        // A configuration that cannot run is refused; the running one stays.
        await File.WriteAllTextAsync(n1.ConfigPath, "vrrp_instance BROKEN {\n  interface eth0\n  virtual_ipaddress {\n 10.77.0.30/24\n }\n}\n");
        n1.Process.Signal(1);
        await Poll.UntilAsync(() => n1.Process.Stderr.Contains("cannot run; keeping the running one"), TimeSpan.FromSeconds(15), "the refused reload to be logged", () => n1.Process.Output);
        Assert.Equal(InstanceState.Master, (await n1.InstanceAsync("VI_1"))!.State);
        Assert.NotNull(await n1.InstanceAsync("VI_2"));
    }

    [Fact]
    public async Task ConfigTest_InLabNamespace_KeepalivedExitCodes()
    {
        var good = Path.Combine(_work, "good.conf");
        await File.WriteAllTextAsync(good, Configs.Router("MASTER", 150, "10.77.0.10/24"));
        var r = await _r1.ExecAsync(RepoPaths.Program("vigil-controld"), "-t", "-f", good);
        Assert.True(r.ExitCode == 0, r.Stderr);

        var bad = Path.Combine(_work, "bad.conf");
        await File.WriteAllTextAsync(bad, Configs.Router("MASTER", 300, "10.77.0.10/24"));
        r = await _r1.ExecAsync(RepoPaths.Program("vigil-controld"), "-t", "-f", bad);
        Assert.Equal(5, r.ExitCode);
        Assert.Matches($@"(?i){System.Text.RegularExpressions.Regex.Escape(bad)}:\d+:\d+: error: .*priority", r.Stderr);

        r = await _r1.ExecAsync(RepoPaths.Program("vigil-controld"), "-t", "-f", Path.Combine(_work, "missing.conf"));
        Assert.Equal(4, r.ExitCode);

        // Daemon mode refuses to start on a configuration that cannot run, saying why.
        var noIf = Path.Combine(_work, "noif.conf");
        await File.WriteAllTextAsync(noIf, Configs.Router("MASTER", 150, "10.77.0.10/24").Replace("interface eth0", "interface eth9"));
        r = await _r1.ExecAsync(TimeSpan.FromSeconds(30), RepoPaths.Program("vigil-controld"), "-f", noIf, "--run-dir", Path.Combine(_work, "noif"));
        Assert.Equal(4, r.ExitCode);
        Assert.Contains("eth9", r.Stderr);
    }
}
