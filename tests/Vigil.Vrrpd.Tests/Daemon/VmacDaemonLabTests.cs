using System.Text.Json;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// use_vmac with the real daemon: each router runs the instance on a macvlan "vrrp.51" with the
/// VRRP MAC 00:00:5e:00:01:33; adverts and the VIP's ARP answers come from that MAC, so on
/// failover the client's ARP entry does not even have to change.
/// </summary>
[Trait("Category", "Lab")]
public sealed class VmacDaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private const string Vip = "10.77.0.100";
    private const string Vmac = "00:00:5e:00:01:33";

    private static InstanceSpec Spec(uint priority)
    {
        var i = Specs.Instance(priority, Vip + "/24", version: 3, advertSeconds: 0.5);
        i.UseVmac = true;
        return i;
    }

    private static async Task<JsonElement?> LinkAsync(LabHost host, string name)
    {
        var r = await host.ExecAsync("ip", "-d", "-j", "link", "show", "dev", name);
        if (!r.Ok) return null;
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement[0].Clone();
    }

    [Fact]
    public async Task UseVmac_MasterAnswersFromTheVirtualMac_FailoverKeepsTheClientsArpEntry()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var c = await lab.AddHostAsync("c", sw, "10.77.0.10/24");
        // The operator's part (keepalived's VMAC documentation, LVS practice; keepalived's code does
        // not set it either): the parent must not name the VIP in its own ARP requests, or the
        // client, asked "who has 10.77.0.10, tell 10.77.0.100", learns the parent's MAC for the VIP.
        foreach (var router in new[] { a, b }) await router.CheckAsync("sysctl", "-qw", "net.ipv4.conf.eth0.arp_announce=2");
        await using var capture = await c.StartCaptureAsync("eth0", "ip proto 112");
        var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Specs.Config(Spec(150)));
        await nb.ApplyAsync(Specs.Config(Spec(100)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        Assert.Equal("vrrp.51", (await na.GetAsync()).Interface);
        Assert.Equal("10.77.0.1", (await na.GetAsync()).SourceAddress);

        var link = await LinkAsync(a, "vrrp.51");
        Assert.NotNull(link);
        Assert.Equal(Vmac, link.Value.GetProperty("address").GetString());
        var info = link.Value.GetProperty("linkinfo");
        Assert.Equal("macvlan", info.GetProperty("info_kind").GetString());
        Assert.Equal("private", info.GetProperty("info_data").GetProperty("mode").GetString());
        Assert.Equal("eth0", link.Value.GetProperty("link").GetString());
        Assert.NotNull(await LinkAsync(b, "vrrp.51"));
        await Poll.UntilAsync(() => a.HasAddressAsync("vrrp.51", Vip), Deadline, "the VIP on a's VMAC");
        Assert.False(await a.HasAddressAsync("eth0", Vip));
        Assert.Equal("1", (await a.CheckAsync("cat", "/proc/sys/net/ipv4/conf/eth0/arp_ignore")).Stdout.Trim());

        // b hears a through its own VMAC (frames from the shared MAC are delivered there).
        await Poll.UntilAsync(async () => await nb.CounterAsync("advert_rcvd") >= 3, Deadline, "b hears a's adverts", async () => await nb.Describe());
        await Poll.UntilAsync(() => c.PingAsync(Vip), Deadline, "the client reaches the VIP");
        Assert.Equal(Vmac, await c.NeighborMacAsync(Vip));

        await na.StopAsync();
        await na.DisposeAsync();
        await nb.WaitForStateAsync(InstanceState.Master, TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(() => c.PingAsync(Vip), Deadline, "the client reaches the VIP on b");
        Assert.Equal(Vmac, await c.NeighborMacAsync(Vip));
        Assert.True(await b.HasAddressAsync("vrrp.51", Vip));
        // a's daemon deleted the VMAC it had made when it stopped.
        Assert.Null(await LinkAsync(a, "vrrp.51"));

        await capture.StopAsync();
        var sources = await capture.ReadAsync("-T", "fields", "-E", "separator=,", "-e", "eth.src", "-e", "ip.src", "-e", "vrrp.prio");
        Assert.Contains($"{Vmac},10.77.0.1,150", sources);
        Assert.Contains($"{Vmac},10.77.0.2,100", sources);
        Assert.All(sources, s => Assert.StartsWith(Vmac, s, StringComparison.Ordinal));
    }
}
