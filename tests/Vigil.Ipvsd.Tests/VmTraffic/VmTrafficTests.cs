using System.Globalization;
using Vigil.Ipvsd.Tests.Vm;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Ipvsd.Tests.VmTraffic;

/// <summary>
/// Scenarios with real traffic through the kernel's IPVS in a VM (<see cref="IpvsVm"/>): network
/// namespaces on bridges inside the guest, each director running the whole of Vigil
/// (vigil-controld, which starts vrrpd, checkd and ipvsd) from out/. The guest scripts sit beside
/// this file; each prints "R KEY=VALUE" result lines, judged here.
/// </summary>
[Trait("Category", "Vm")]
[Collection(IpvsVmCollection.Name)]
public sealed class VmTrafficTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);

    /// <summary>
    /// The programs go into the share: the guest mounts a tmpfs of its own on /tmp, so out/ of a
    /// clone under /tmp (CI's fresh clone) is not there in the guest.
    /// </summary>
    private static async Task ShareAsync(string share, string env)
    {
        var programs = Path.Combine(share, "out");
        await Shell.CheckAsync("cp", "-a", RepoPaths.Out, programs);
        await File.WriteAllTextAsync(Path.Combine(share, "env.sh"), $"OUT='{programs}'\n{env}");
    }

    private static string Get(Dictionary<string, string> r, string key) =>
        r.TryGetValue(key, out var v) ? v : throw new Xunit.Sdk.XunitException($"no result {key}; have {string.Join(", ", r.Select(kv => kv.Key + "=" + kv.Value))}");

    private static long Number(Dictionary<string, string> r, string key) =>
        long.TryParse(Get(r, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new Xunit.Sdk.XunitException($"{key}={Get(r, key)} is not a number");

    private static string Section(string text, string title)
    {
        var at = text.IndexOf("--- " + title + "\n", StringComparison.Ordinal);
        if (at < 0) return "";
        at += title.Length + 5;
        var end = text.IndexOf("--- ", at, StringComparison.Ordinal);
        return end < 0 ? text[at..] : text[at..end];
    }

    /// <summary>
    /// S5, LVS-DR: one director (VRRP VIP, rr over two real servers with TCP_CHECKs), the VIP on
    /// the real servers' lo with arp_ignore/arp_announce. Ten requests split 5/5; the replies
    /// reach the client from the real servers' MACs with the VIP as source and never pass the
    /// director; rs1's server killed, the checker takes it out and rs2 answers everything.
    /// </summary>
    [Fact]
    public async Task LvsDr_RoundRobinsOverTwoRealServers_RepliesBypassTheDirector_CheckerRemovesTheDeadOne()
    {
        var vm = await IpvsVm.GetAsync();
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "VmTraffic", "lvs-dr.sh"));
        var run = await vm.RunAsync(text, Limit, share => ShareAsync(share, ""));
        output.WriteLine($"boot {run.BootTime.TotalSeconds:0.0} s, whole run {run.Elapsed.TotalSeconds:0.0} s, exit {run.ExitCode}");
        output.WriteLine(run.Output);
        Assert.True(run.Ok, run.Output);
        var r = Parse(run.Output);

        var table = Section(run.Output, "ipvsadm -Ln");
        Assert.Matches(@"TCP\s+10\.50\.0\.100:80 rr", table);
        Assert.Matches(@"-> 10\.50\.0\.11:80\s+Route\s+1", table);
        Assert.Matches(@"-> 10\.50\.0\.12:80\s+Route\s+1", table);

        Assert.Equal("rs1:5,rs2:5,fail:0", Get(r, "split1"));

        // Direct return: the client's ARP entry for the VIP is the director, yet every reply
        // (source VIP:80) came from a real server's MAC; the director saw requests, no reply.
        Assert.Equal(Get(r, "mac_dir"), Get(r, "client_neigh_vip"));
        Assert.Equal("yes", Get(r, "nft"));
        Assert.Equal(0, Number(r, "client_from_dir"));
        Assert.True(Number(r, "client_from_rs1") >= 5 * 3, $"replies from rs1: {Number(r, "client_from_rs1")}");
        Assert.True(Number(r, "client_from_rs2") >= 5 * 3, $"replies from rs2: {Number(r, "client_from_rs2")}");
        Assert.Equal(0, Number(r, "dir_replies"));
        Assert.True(Number(r, "dir_requests") >= 10 * 3, $"requests through the director: {Number(r, "dir_requests")}");

        // TCP_CHECK every second (connect_timeout 1): out within a few seconds.
        Assert.True(Number(r, "rs1_removed_ms") < 8000, $"rs1 left the table after {Number(r, "rs1_removed_ms")} ms");
        Assert.DoesNotMatch(@"-> 10\.50\.0\.11:80\s+Route\s+[1-9]", Section(run.Output, "ipvsadm -Ln after"));
        Assert.Equal("rs1:0,rs2:10,fail:0", Get(r, "split2"));
    }

    /// <summary>
    /// Two directors (d1 MASTER, d2 BACKUP), outside VIP and inside gateway VIP in one sync
    /// group, LVS-NAT to one echo server; one long-lived client connection while d1's
    /// vigil-controld is stopped. With lvs_sync_daemon the connection is on d2 before the
    /// failover and survives it; without, d2 knows nothing of it and it breaks.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectionSync_LongLivedNatConnection_SurvivesFailoverOnlyWithTheSyncDaemon(bool sync)
    {
        var vm = await IpvsVm.GetAsync();
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "VmTraffic", "sync-failover.sh"));
        var run = await vm.RunAsync(text, Limit, share => ShareAsync(share, $"SYNC={(sync ? "on" : "off")}\n"));
        output.WriteLine($"boot {run.BootTime.TotalSeconds:0.0} s, whole run {run.Elapsed.TotalSeconds:0.0} s, exit {run.ExitCode}");
        output.WriteLine(run.Output);
        Assert.True(run.Ok, run.Output);
        var r = Parse(run.Output);

        Assert.Equal("no", Get(r, "d2_holds_vip_before"));
        Assert.True(Number(r, "ok_before") >= 5, $"exchanges before the failover: {Get(r, "ok_before")}");
        Assert.Equal(1, Number(r, "d1_conn"));
        Assert.Equal("yes", Get(r, "d1_exited"));
        Assert.Equal("no", Get(r, "d1_holds_vip_after"));
        Assert.True(Number(r, "takeover_ms") < 10000, $"d2 took both VIPs after {Get(r, "takeover_ms")} ms");
        if (sync)
        {
            Assert.Equal(1, Number(r, "d2_conn_before"));
            Assert.Equal("yes", Get(r, "client_alive"));
            // 6 s after the takeover at 5 exchanges a second: most of them went through d2.
            Assert.True(Number(r, "ok_after") >= Number(r, "ok_at_takeover") + 15, $"exchanges: {Get(r, "ok_at_takeover")} at the takeover, {Get(r, "ok_after")} 6 s later");
            Assert.StartsWith("done", Get(r, "client_end"));
        }
        else
        {
            Assert.Equal(0, Number(r, "d2_conn_before"));
            Assert.Equal("no", Get(r, "client_alive"));
            Assert.StartsWith("error", Get(r, "client_end"));
        }
    }

    private static Dictionary<string, string> Parse(string text)
    {
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("R ", StringComparison.Ordinal) || line.IndexOf('=') is not (var eq and > 2)) continue;
            results[line[2..eq]] = line[(eq + 1)..].Trim();
        }
        return results;
    }
}
