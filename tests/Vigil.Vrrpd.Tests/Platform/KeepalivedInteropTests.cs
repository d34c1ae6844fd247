using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Vigil.Testing;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Platform;

/// <summary>
/// Vigil against Debian's keepalived 2.2.7 on one bridge, both ways round: keepalived's adverts
/// (v2 PASS, v3 IPv4, v3 IPv6) parse without a single reject, and keepalived accepts Vigil's.
/// </summary>
[Trait("Category", "Interop")]
public sealed class KeepalivedInteropTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static string Conf(string state, int prio, int vrid, string vip, string extra = "", string auth = "", string global = "") => $$"""
        global_defs {
          router_id ka_{{vrid}}
          {{global}}
        }
        vrrp_instance VI_1 {
          state {{state}}
          interface eth0
          virtual_router_id {{vrid}}
          priority {{prio}}
          advert_int 1
          {{extra}}
          {{auth}}
          virtual_ipaddress {
            {{vip}}
          }
        }
        """;

    private const string Pass = "authentication {\n    auth_type PASS\n    auth_pass 1111\n  }";

    private static VrrpInstanceConfig V2(byte prio) => RawSocketLabTests.V2("10.77.0.100", prio);

    private static VrrpInstanceConfig V3(byte prio) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 52,
        Version = VrrpVersion.V3,
        Priority = prio,
        VirtualAddresses = [IPAddress.Parse("10.77.0.100")],
    };

    private static VrrpInstanceConfig V3Six(byte prio) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 53,
        Family = AddressFamily.InterNetworkV6,
        Version = VrrpVersion.V3,
        Priority = prio,
        VirtualAddresses = [IPAddress.Parse("fd00:77::100")],
    };

    private static async Task<(Lab Lab, LabHost A, LabHost B)> TwoHosts()
    {
        var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "fd00:77::1/64");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24", "fd00:77::2/64");
        return (lab, a, b);
    }

    /// <summary>keepalived master, raw receiver: every advert it sends passes every check.</summary>
    private static async Task KeepalivedAdvertsParse(string config, VrrpInstanceConfig ours, LabHost a, LabHost b)
    {
        await using var rx = new RawSocketLabTests.Receiver(b, ours);
        await using var ka = await KeepalivedPeer.StartAsync(a, config);
        await ka.WaitForStateAsync("VI_1", "MASTER", Deadline);
        for (var i = 0; i < 3; i++)
        {
            var p = await rx.NextAsync();
            var check = VrrpReceiveCheck.Check(p, ours.CheckOptions());
            Assert.True(check.Accepted, $"keepalived's advert rejected: {check.Reason}; bytes {Convert.ToHexString(p.Data.Span)}");
            Assert.False(check.AddressListMismatch);
            Assert.Equal(200, check.Advert!.Priority);
            Assert.Equal(255, check.Ttl);

            // Vigil's encoder, given the same fields and addresses, writes the very same VRRP bytes.
            var theirs = p.Family == AddressFamily.InterNetwork ? p.Data.Span[20..].ToArray() : p.Data.ToArray();
            var mine = p.Family == AddressFamily.InterNetwork
                ? VrrpDatagram.BuildIpv4(check.Advert, check.Source!, check.Destination!, ours.V3ChecksumAsV2)[20..]
                : VrrpDatagram.BuildIpv6(check.Advert, check.Source, check.Destination!);
            Assert.Equal(Convert.ToHexString(theirs), Convert.ToHexString(mine));
        }
    }

    [Fact]
    public async Task KeepalivedV2Pass_Adverts_ParsedWithoutReject()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedAdvertsParse(Conf("MASTER", 200, 51, "10.77.0.100/32", auth: Pass), V2(100), a, b);
    }

    [Fact]
    public async Task KeepalivedV3Ipv4_Adverts_ParsedWithoutReject()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedAdvertsParse(Conf("MASTER", 200, 52, "10.77.0.100/32", global: "vrrp_version 3"), V3(100), a, b);
    }

    [Fact]
    public async Task KeepalivedV3Ipv6_Adverts_ParsedWithoutReject()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedAdvertsParse(Conf("MASTER", 200, 53, "fd00:77::100/128", global: "vrrp_version 3"), V3Six(100), a, b);
    }

    /// <summary>keepalived master and a Vigil backup: Vigil stays BACKUP, then takes over after skew on keepalived's priority 0.</summary>
    private static async Task VigilBackupOfKeepalived(string config, VrrpInstanceConfig ours, LabHost a, LabHost b, string vip)
    {
        await using var ka = await KeepalivedPeer.StartAsync(a, config);
        await ka.WaitForStateAsync("VI_1", "MASTER", Deadline);
        await using var node = await VigilNode.StartAsync(b, [ours]);
        await Poll.UntilAsync(() => node["VI_1"].Stats[VrrpCounter.AdvertReceived] >= 5, Deadline, "Vigil to hear 5 of keepalived's adverts",
            () => node["VI_1"].Stats.ToString());
        Assert.Equal(VrrpStateKind.Backup, node["VI_1"].State);
        var errors = node["VI_1"].Stats.ToDictionary().Where(kv => kv.Key.EndsWith("_err", StringComparison.Ordinal) || kv.Key.Contains("auth") || kv.Key == "invalid_type_rcvd");
        Assert.All(errors, kv => Assert.Equal(0UL, kv.Value));

        var stopped = Stopwatch.StartNew();
        await ka.StopAsync();
        Assert.Contains("sent 0 priority", ka.Log);
        await node.WaitForStateAsync("VI_1", VrrpStateKind.Master, TimeSpan.FromSeconds(3));
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2.5), $"takeover took {stopped.Elapsed}");
        Assert.Equal(1UL, node["VI_1"].Stats[VrrpCounter.PriorityZeroReceived]);
        await Poll.UntilAsync(() => b.HasAddressAsync("eth0", vip), Deadline, "VIP on the Vigil node");
    }

    [Fact]
    public async Task KeepalivedV2Master_VigilBackup_StaysBackupThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await VigilBackupOfKeepalived(Conf("MASTER", 200, 51, "10.77.0.100/32", auth: Pass), V2(100), a, b, "10.77.0.100");
    }

    [Fact]
    public async Task KeepalivedV3Ipv6Master_VigilBackup_StaysBackupThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await VigilBackupOfKeepalived(Conf("MASTER", 200, 53, "fd00:77::100/128", global: "vrrp_version 3"), V3Six(100), a, b, "fd00:77::100");
    }

    [Fact]
    public async Task KeepalivedV2UnicastMaster_VigilUnicastBackup_StaysBackupThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        var ours = V2(100) with
        {
            UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.77.0.1"))],
            CheckUnicastSource = true,
        };
        await VigilBackupOfKeepalived(
            Conf("MASTER", 200, 51, "10.77.0.100/32", auth: Pass, extra: "unicast_src_ip 10.77.0.1\n  unicast_peer {\n    10.77.0.2\n  }"),
            ours, a, b, "10.77.0.100");
    }

    [Fact]
    public async Task VigilV2UnicastMaster_KeepalivedUnicastBackup_AcceptsOursThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        var ours = V2(200) with { UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.77.0.1"))] };
        await KeepalivedBackupOfVigil(
            Conf("BACKUP", 100, 51, "10.77.0.100/32", auth: Pass, extra: "unicast_src_ip 10.77.0.1\n  unicast_peer {\n    10.77.0.2\n  }"),
            ours, a, b, "10.77.0.100");
    }

    /// <summary>Vigil master and a keepalived backup: keepalived stays BACKUP (never takes the VIP), and becomes MASTER on Vigil's priority 0.</summary>
    private static async Task KeepalivedBackupOfVigil(string config, VrrpInstanceConfig ours, LabHost a, LabHost b, string vip)
    {
        await using var node = await VigilNode.StartAsync(b, [ours]);
        await node.WaitForStateAsync("VI_1", VrrpStateKind.Master, Deadline);
        await using var ka = await KeepalivedPeer.StartAsync(a, config);
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);
        // Well past keepalived's Master_Down_Interval (3.6 s): it accepts our adverts.
        await Poll.HoldsAsync(async () => ka.State("VI_1") == "BACKUP" && !await a.HasAddressAsync("eth0", vip), TimeSpan.FromSeconds(6),
            "keepalived staying BACKUP without the VIP");
        Assert.Equal(0UL, node["VI_1"].Stats[VrrpCounter.AdvertReceived]);

        await node.StopAsync();
        await ka.WaitForStateAsync("VI_1", "MASTER", TimeSpan.FromSeconds(3));
        await Poll.UntilAsync(() => a.HasAddressAsync("eth0", vip), Deadline, "VIP on keepalived's host");
    }

    [Fact]
    public async Task VigilV2Master_KeepalivedBackup_AcceptsOursThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedBackupOfVigil(Conf("BACKUP", 100, 51, "10.77.0.100/32", auth: Pass), V2(200), a, b, "10.77.0.100");
    }

    [Fact]
    public async Task VigilV3Ipv4Master_KeepalivedBackup_AcceptsOursThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedBackupOfVigil(Conf("BACKUP", 100, 52, "10.77.0.100/32", global: "vrrp_version 3"), V3(200), a, b, "10.77.0.100");
    }

    [Fact]
    public async Task VigilV3Ipv6Master_KeepalivedBackup_AcceptsOursThenTakesOverOnPriorityZero()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await KeepalivedBackupOfVigil(Conf("BACKUP", 100, 53, "fd00:77::100/128", global: "vrrp_version 3"), V3Six(200), a, b, "fd00:77::100");
    }

    [Fact]
    public async Task KeepalivedLowerPriorityMaster_VigilPreempts_KeepalivedStepsDown()
    {
        var (lab, a, b) = await TwoHosts();
        await using var _ = lab;
        await using var ka = await KeepalivedPeer.StartAsync(a, Conf("MASTER", 100, 51, "10.77.0.100/32", auth: Pass));
        await ka.WaitForStateAsync("VI_1", "MASTER", Deadline);
        await using var node = await VigilNode.StartAsync(b, [V2(200)]);
        // Vigil discards the lower-priority adverts, its master down timer runs out, it advertises 200,
        // and keepalived goes BACKUP ("Master received advert ... with higher priority").
        await node.WaitForStateAsync("VI_1", VrrpStateKind.Master, Deadline);
        await ka.WaitForStateAsync("VI_1", "BACKUP", Deadline);
        await Poll.UntilAsync(async () => !await a.HasAddressAsync("eth0", "10.77.0.100"), Deadline, "keepalived to release the VIP");
    }
}
