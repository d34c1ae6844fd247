using System.Globalization;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// "Reload that never flaps", judged by keepalived 2.2.7 as the BACKUP: SIGHUP to vigil-controld
/// after its configuration raised the priority, added one VIP and removed another. keepalived
/// applies such a change in place (vrrp.c clear_diff_vrrp / restore_vrrp_state: the master stays
/// master, only the address difference is applied); so must Vigil. The wire (tcpdump on a third
/// host) shows no priority-0 advert and no pause in the adverts, neither side changes state, and
/// the kernel's own address notifications (ip monitor) never show the unchanged VIP going away.
/// </summary>
[Trait("Category", "Lab")]
public sealed class ReloadInPlaceLabTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    // Scheduling on a loaded test machine may stretch one gap a little; a restart shows as a
    // priority-0 advert and a silence of Master_Down_Interval (3.4 s at priority 150).
    private const double AdvertInterval = 1.0;
    private const double Slack = 0.4;

    private readonly string _work = Directory.CreateTempSubdirectory("vigil-reload-").FullName;
    private Lab _lab = null!;
    private LabHost _vigilHost = null!;
    private LabHost _keepalivedHost = null!;
    private LabHost _watcher = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _vigilHost = await _lab.AddHostAsync("vg", lan, "10.77.0.1/24");
        _keepalivedHost = await _lab.AddHostAsync("ka", lan, "10.77.0.2/24");
        _watcher = await _lab.AddHostAsync("w", lan, "10.77.0.100/24");
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    private static string VigilConfig(int priority, string[] vips, string name = "VI_1") => $$"""
        global_defs {
            router_id vigil
        }
        vrrp_instance {{name}} {
            state MASTER
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass labpass
            }
            virtual_ipaddress {
                {{string.Join("\n        ", vips)}}
            }
        }
        """;

    // skip_check_adv_addr: the backup compares the advert's addresses only when the master changes,
    // so the master's addresses can change before the backup's configuration does.
    private const string KeepalivedConfig = """
        global_defs {
            router_id keepalived
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            skip_check_adv_addr
            authentication {
                auth_type PASS
                auth_pass labpass
            }
            virtual_ipaddress {
                10.77.0.10/24
                10.77.0.11/24
            }
        }
        """;

    [Fact]
    public Task Sighup_PriorityRaisedVipAddedVipRemoved_AppliedInPlaceWithoutFlap() => ReloadWithoutFlapAsync("VI_1");

    /// <summary>
    /// keepalived finds the running instance of a reload by VRID, family and interface (vrrp.c
    /// vrrp_exist), not by name: an instance renamed in the file, with the same changes, keeps
    /// MASTER as well. Matched by name, it would stop (priority 0) and start again as BACKUP.
    /// </summary>
    [Fact]
    public Task Sighup_InstanceRenamedWithTheSameVrid_IsTheRunningOne_NoFlap() => ReloadWithoutFlapAsync("VI_web");

    private async Task ReloadWithoutFlapAsync(string nameAfter)
    {
        var vigil = await ControldNode.StartAsync(_vigilHost, VigilConfig(150, ["10.77.0.10/24", "10.77.0.11/24"]), _work);
        await vigil.WaitStateAsync("VI_1", InstanceState.Master, Deadline);
        await using var keepalived = await KeepalivedPeer.StartAsync(_keepalivedHost, KeepalivedConfig);
        await keepalived.WaitForStateAsync("VI_1", "BACKUP", Deadline);
        Assert.True(await _vigilHost.HasAddressAsync("eth0", "10.77.0.10"));
        Assert.True(await _vigilHost.HasAddressAsync("eth0", "10.77.0.11"));
        var before = (await vigil.InstanceAsync("VI_1"))!;
        var keepalivedTransitions = keepalived.Transitions("VI_1");

        var monitor = _vigilHost.Start("ip-monitor", Shell.Require("ip"), ["-o", "monitor", "address"]);
        await using var capture = await _watcher.StartCaptureAsync("eth0", "ip proto 112");
        // A few adverts before the reload, so the gap across it is measured between two real adverts.
        await Poll.UntilAsync(async () => (await capture.ReadAsync("-Y", "vrrp")).Count >= 3, Deadline, "adverts before the reload");

        await File.WriteAllTextAsync(vigil.ConfigPath, VigilConfig(200, ["10.77.0.10/24", "10.77.0.12/24"], nameAfter));
        var reloadedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        vigil.Process.Signal(1);
        await Poll.UntilAsync(async () => (await vigil.InstanceAsync(nameAfter))?.BasePriority == 200, Deadline, "the new priority in vrrpd",
            async () => vigil.Process.Output);
        await Poll.UntilAsync(async () => await _vigilHost.HasAddressAsync("eth0", "10.77.0.12") && !await _vigilHost.HasAddressAsync("eth0", "10.77.0.11"),
            Deadline, "the added VIP present and the removed one gone", async () => string.Join(' ', await _vigilHost.AddressesAsync("eth0")));
        // Adverts for as long again as Master_Down_Interval after the reload: a backup that took over would show by then.
        await Poll.UntilAsync(async () => (await capture.ReadAsync("-Y", "vrrp && frame.time_epoch > " + (reloadedAt + 4).ToString(CultureInfo.InvariantCulture))).Count >= 1,
            Deadline, "adverts 4 s after the reload");
        await capture.StopAsync();
        monitor.Signal(15);
        await monitor.WaitForExitAsync(Deadline);

        // No priority 0, no advert from the backup, and no pause in the master's adverts.
        var adverts = (await capture.ReadAsync("-Y", "vrrp", "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "vrrp.prio"))
            .Select(l => l.Split('\t'))
            .Select(f => (At: double.Parse(f[0], CultureInfo.InvariantCulture), Source: f[1], Priority: int.Parse(f[2], CultureInfo.InvariantCulture)))
            .ToList();
        var wire = string.Join("\n", adverts.Select(a => $"{a.At:0.000} {a.Source} prio {a.Priority}"));
        Assert.DoesNotContain(adverts, a => a.Priority == 0);
        Assert.All(adverts, a => Assert.Equal("10.77.0.1", a.Source));
        var gaps = adverts.Zip(adverts.Skip(1), (x, y) => y.At - x.At).ToList();
        Assert.True(gaps.Max() <= AdvertInterval + Slack, $"longest gap between the master's adverts {gaps.Max():0.000} s:\n{wire}");
        Assert.Contains(adverts, a => a.At < reloadedAt && a.Priority == 150);
        Assert.Contains(adverts, a => a.At > reloadedAt && a.Priority == 200);
        // The adverts after the reload carry the new address list.
        var lastVips = (await capture.ReadAsync("-Y", "vrrp", "-T", "fields", "-e", "vrrp.ip_addr")).Last();
        Assert.Equal("10.77.0.10,10.77.0.12", lastVips);

        // No transition on either side.
        var after = (await vigil.InstanceAsync(nameAfter))!;
        Assert.Equal(InstanceState.Master, after.State);
        Assert.Equal(before.LastTransition, after.LastTransition);
        Assert.Equal(1ul, after.Counters["become_master"]);
        Assert.Equal(0ul, after.Counters["release_master"]);
        Assert.Equal(0ul, after.Counters["pri_zero_sent"]);
        Assert.DoesNotContain("VI_1: MASTER ->", vigil.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"{nameAfter}: MASTER ->", vigil.Process.Output, StringComparison.Ordinal);
        Assert.Equal(keepalivedTransitions, keepalived.Transitions("VI_1"));
        Assert.Equal("BACKUP", keepalived.State("VI_1"));
        Assert.False(await _keepalivedHost.HasAddressAsync("eth0", "10.77.0.10"));

        // The kernel's view: the unchanged VIP was never deleted, the removed one was, the added one came.
        var addressEvents = monitor.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(addressEvents, l => l.StartsWith("Deleted", StringComparison.Ordinal) && l.Contains("10.77.0.10/", StringComparison.Ordinal));
        Assert.Contains(addressEvents, l => l.StartsWith("Deleted", StringComparison.Ordinal) && l.Contains("10.77.0.11/", StringComparison.Ordinal));
        Assert.Contains(addressEvents, l => !l.StartsWith("Deleted", StringComparison.Ordinal) && l.Contains("10.77.0.12/", StringComparison.Ordinal));
        Assert.True(await _vigilHost.HasAddressAsync("eth0", "10.77.0.10"));
    }
}
