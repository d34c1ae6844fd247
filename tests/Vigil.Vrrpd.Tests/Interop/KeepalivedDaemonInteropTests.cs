using System.Diagnostics;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Interop;

/// <summary>The keepalived side of a mixed pair: Debian's keepalived 2.2.7, judged by its own log.</summary>
internal static class KeepalivedConf
{
    public const string Pass = "authentication {\n    auth_type PASS\n    auth_pass 1111\n  }";

    public static string Of(string state, int priority, int vrid, string vip, string advert = "1", string auth = "", string global = "", string extra = "") => $$"""
        global_defs {
          router_id ka_{{vrid}}
          {{global}}
        }
        vrrp_instance VI_1 {
          state {{state}}
          interface eth0
          virtual_router_id {{vrid}}
          priority {{priority}}
          advert_int {{advert}}
          {{extra}}
          {{auth}}
          virtual_ipaddress {
            {{vip}}
          }
        }
        """;

    public static int Entering(KeepalivedPeer ka) => ka.Log.Split('\n').Count(l => l.Contains("(VI_1) Entering ", StringComparison.Ordinal));

    public static async Task<(Lab, LabHost, LabHost)> TwoRoutersAsync()
    {
        var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "fd00:77::1/64");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24", "fd00:77::2/64");
        return (lab, a, b);
    }
}

/// <summary>
/// vigil-vrrpd (the real daemon) as MASTER with keepalived as BACKUP, VRRPv2 with PASS: correct
/// election, no flapping over 30 s of steady state, failover on Vigil's clean stop (priority 0),
/// fail-back when vigil-vrrpd returns with its higher priority.
/// </summary>
[Trait("Category", "Interop")]
public sealed class VigilMasterKeepalivedBackupInteropTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task V2Pass_VigilMasterKeepalivedBackup_SteadyFailoverFailback()
    {
        var (lab, a, b) = await KeepalivedConf.TwoRoutersAsync();
        await using var _ = lab;
        var spec = Specs.Config(Specs.Instance(150, "10.77.0.100"));
        var vigil = await VrrpdNode.StartAsync(b);
        await vigil.ApplyAsync(spec);
        await using var ka = await KeepalivedPeer.StartAsync(a, KeepalivedConf.Of("BACKUP", 100, 51, "10.77.0.100/32", auth: KeepalivedConf.Pass));
        await vigil.WaitForStateAsync(InstanceState.Master, Deadline);
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);

        // 30 s of steady state: nobody changes state, keepalived never takes the VIP, and each
        // side counts no error on the other's packets.
        var entering = KeepalivedConf.Entering(ka);
        await Poll.HoldsAsync(async () => (await vigil.GetAsync()).State == InstanceState.Master && ka.State("VI_1") == "BACKUP"
            && !await a.HasAddressAsync("eth0", "10.77.0.100"), TimeSpan.FromSeconds(30), "Vigil MASTER and keepalived BACKUP");
        Assert.Equal(entering, KeepalivedConf.Entering(ka));
        var counters = (await vigil.GetAsync()).Counters;
        Assert.Equal(1ul, counters["become_master"]);
        Assert.True(counters["advert_sent"] >= 30);
        Assert.Equal(0ul, counters["other_master_seen"]);
        Assert.DoesNotContain(ka.Log.Split('\n'), l => l.Contains("(VI_1)", StringComparison.Ordinal)
            && (l.Contains("invalid", StringComparison.OrdinalIgnoreCase) || l.Contains("mismatch", StringComparison.OrdinalIgnoreCase)
                || l.Contains("not present", StringComparison.Ordinal) || l.Contains("bad", StringComparison.OrdinalIgnoreCase)));

        // Failover: Vigil stops cleanly, keepalived takes over after its skew time.
        var stopped = Stopwatch.StartNew();
        await vigil.StopAsync();
        await vigil.DisposeAsync();
        await ka.WaitForStateAsync("VI_1", "MASTER", TimeSpan.FromSeconds(5));
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(4), $"keepalived took over after {stopped.Elapsed}");
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "the VIP on keepalived's router");
        Assert.False(await b.HasAddressAsync("eth0", "10.77.0.100"));

        // Fail-back: vigil-vrrpd returns with 150 and preempts keepalived's 100.
        await using var again = await VrrpdNode.StartAsync(b);
        await again.ApplyAsync(spec);
        await again.WaitForStateAsync(InstanceState.Master, Deadline);
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);
        await Poll.UntilAsync(async () => !await a.HasAddressAsync("eth0", "10.77.0.100") && await b.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "the VIP back on Vigil's router");
    }
}

/// <summary>
/// keepalived as MASTER with vigil-vrrpd as BACKUP, VRRPv3: vigil-vrrpd accepts keepalived's
/// adverts for 30 s without an error or a transition, takes over after Master_Down_Interval when
/// keepalived's cable is pulled, and steps back down when keepalived returns and preempts.
/// </summary>
[Trait("Category", "Interop")]
public sealed class KeepalivedMasterVigilBackupInteropTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task V3Ipv4_KeepalivedMasterVigilBackup_SteadyFailoverFailback()
    {
        var (lab, a, b) = await KeepalivedConf.TwoRoutersAsync();
        await using var _ = lab;
        await using var ka = await KeepalivedPeer.StartAsync(a, KeepalivedConf.Of("MASTER", 150, 52, "10.77.0.100/32", global: "vrrp_version 3"));
        await ka.WaitForStateAsync("VI_1", "MASTER", Deadline);
        await using var vigil = await VrrpdNode.StartAsync(b);
        var watch = await vigil.WatchAsync();
        await vigil.ApplyAsync(Specs.Config(Specs.Instance(100, "10.77.0.100", vrid: 52, version: 3)));
        await vigil.WaitForStateAsync(InstanceState.Backup, Deadline);

        var entering = KeepalivedConf.Entering(ka);
        await Poll.HoldsAsync(async () => (await vigil.GetAsync()).State == InstanceState.Backup && ka.State("VI_1") == "MASTER",
            TimeSpan.FromSeconds(30), "keepalived MASTER and Vigil BACKUP");
        Assert.Equal(entering, KeepalivedConf.Entering(ka));
        var i = await vigil.GetAsync();
        Assert.Equal("10.77.0.1", i.MasterAddress);
        Assert.Equal(150u, i.MasterPriority);
        Assert.True(i.Counters["advert_rcvd"] >= 25, $"advert_rcvd {i.Counters["advert_rcvd"]}");
        Assert.All(i.Counters.Where(kv => kv.Key.EndsWith("_err", StringComparison.Ordinal) || kv.Key.Contains("auth", StringComparison.Ordinal)),
            kv => Assert.Equal(0ul, kv.Value));
        Assert.Equal(0ul, i.Counters["advert_sent"]);
        Assert.False(await b.HasAddressAsync("eth0", "10.77.0.100"));

        // Failover: keepalived's cable is pulled; Vigil takes over after 3 x 1 s + skew (0.61 s).
        var pulled = Stopwatch.StartNew();
        await a.SetCableAsync("eth0", false);
        await vigil.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.InRange(pulled.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(8));
        await Poll.UntilAsync(() => b.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "the VIP on Vigil's router");

        // Fail-back: the cable returns, keepalived (150) preempts Vigil (100).
        await a.SetCableAsync("eth0", true);
        await vigil.WaitForStateAsync(InstanceState.Backup, Deadline);
        await ka.WaitForStateAsync("VI_1", "MASTER", Deadline);
        await Poll.UntilAsync(async () => !await b.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "Vigil to release the VIP");
        await Poll.UntilAsync(() => watch.Transitions().Count() >= 3, Deadline, "three transitions on the stream", () => watch.Dump());
        Assert.Equal(["Init->Backup", "Backup->Master", "Master->Backup"], watch.Transitions().Select(t => $"{t.From}->{t.To}"));
    }

    [Fact]
    public async Task V3Ipv6_KeepalivedBackupOfVigil_ElectionAndFailoverBothWays()
    {
        var (lab, a, b) = await KeepalivedConf.TwoRoutersAsync();
        await using var _ = lab;
        var spec = Specs.Instance(200, "fd00:77::100/64", vrid: 53, version: 3);
        spec.Family = AddressFamily.Ipv6;
        var vigil = await VrrpdNode.StartAsync(b);
        await vigil.ApplyAsync(Specs.Config(spec));
        await vigil.WaitForStateAsync(InstanceState.Master, Deadline);
        await using var ka = await KeepalivedPeer.StartAsync(a, KeepalivedConf.Of("BACKUP", 100, 53, "fd00:77::100/64", global: "vrrp_version 3"));
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);
        await Poll.HoldsAsync(async () => ka.State("VI_1") == "BACKUP" && !await a.HasAddressAsync("eth0", "fd00:77::100"),
            TimeSpan.FromSeconds(6), "keepalived BACKUP over its Master_Down_Interval");

        await vigil.StopAsync();
        await vigil.DisposeAsync();
        await ka.WaitForStateAsync("VI_1", "MASTER", TimeSpan.FromSeconds(5));
        await using var again = await VrrpdNode.StartAsync(b);
        await again.ApplyAsync(Specs.Config(spec));
        await again.WaitForStateAsync(InstanceState.Master, Deadline);
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);
    }
}
