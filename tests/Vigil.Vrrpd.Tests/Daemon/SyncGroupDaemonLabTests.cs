using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// Scenario S6 with the real daemon: an outside and an inside instance in one vrrp_sync_group on
/// two LANs. When the inside link of the master fails, both instances move together, so both VIPs
/// are always on the same router; the group's generic notify script hears "GROUP G1 state 0".
/// </summary>
[Trait("Category", "Lab")]
public sealed class SyncGroupDaemonLabTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-sync-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private VrrpConfig Config(uint priority, string notifyScript)
    {
        var c = Specs.Config(
            Specs.Instance(priority, "10.77.0.100", vrid: 51, name: "VI_1", version: 3, advertSeconds: 0.5, iface: "eth0"),
            Specs.Instance(priority, "10.78.0.100", vrid: 52, name: "VI_2", version: 3, advertSeconds: 0.5, iface: "eth1"));
        c.SyncGroups.Add(new SyncGroupSpec { Name = "G1", Members = { "VI_1", "VI_2" }, Notify = new NotifySpec { Notify = notifyScript } });
        return c;
    }

    [Fact]
    public async Task S6_InsideLinkOfMasterFails_BothInstancesMoveTogether_AndBack()
    {
        await using var lab = await Lab.CreateAsync();
        var outside = await lab.AddSwitchAsync("out");
        var inside = await lab.AddSwitchAsync("in");
        var a = await lab.AddHostAsync("a", outside, "10.77.0.1/24");
        await a.ConnectAsync(inside, "eth1", "10.78.0.1/24");
        var b = await lab.AddHostAsync("b", outside, "10.77.0.2/24");
        await b.ConnectAsync(inside, "eth1", "10.78.0.2/24");
        var script = Path.Combine(_dir, "group-notify.sh");
        File.WriteAllText(script, $"#!/bin/sh\necho \"$*\" >> {_dir}/group.out\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ed);
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Config(150, script));
        await nb.ApplyAsync(Config(100, ""));

        await na.WaitForStateAsync(InstanceState.Master, Deadline, "VI_1");
        await na.WaitForStateAsync(InstanceState.Master, Deadline, "VI_2");
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline, "VI_1");
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline, "VI_2");
        Assert.Equal("G1", (await na.GetAsync("VI_1")).SyncGroup);

        // Only the inside link fails, yet the outside instance follows it.
        await a.SetCableAsync("eth1", false);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline, "VI_1");
        await nb.WaitForStateAsync(InstanceState.Master, Deadline, "VI_2");
        await na.WaitForStateAsync(InstanceState.Fault, Deadline, "VI_1");
        await na.WaitForStateAsync(InstanceState.Fault, Deadline, "VI_2");
        Assert.Contains("interface down", (await na.GetAsync("VI_2")).Faults);
        Assert.Empty((await na.GetAsync("VI_1")).Faults);
        await Poll.UntilAsync(async () => await b.HasAddressAsync("eth0", "10.77.0.100") && await b.HasAddressAsync("eth1", "10.78.0.100")
            && !await a.HasAddressAsync("eth0", "10.77.0.100") && !await a.HasAddressAsync("eth1", "10.78.0.100"), Deadline, "both VIPs on b, none on a");
        Assert.Contains("VI_1: MASTER -> FAULT (sync group)", na.Log);
        Assert.Contains("VRRP_Group(G1): MASTER -> FAULT", na.Log);

        await a.SetCableAsync("eth1", true);
        await na.WaitForStateAsync(InstanceState.Master, Deadline, "VI_1");
        await na.WaitForStateAsync(InstanceState.Master, Deadline, "VI_2");
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline, "VI_1");
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline, "VI_2");

        var lines = () => File.Exists(Path.Combine(_dir, "group.out")) ? File.ReadAllLines(Path.Combine(_dir, "group.out")) : [];
        await Poll.UntilAsync(() => lines().Length >= 5, Deadline, "the group's notify lines", () => string.Join('\n', lines()));
        Assert.Equal(["GROUP G1 BACKUP 0", "GROUP G1 MASTER 0", "GROUP G1 FAULT 0", "GROUP G1 BACKUP 0", "GROUP G1 MASTER 0"], lines());
    }
}
