using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>virtual_routes and virtual_rules follow the master, judged by the kernel ("ip route", "ip rule").</summary>
[Trait("Category", "Lab")]
public sealed class RoutesDaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static VrrpConfig Config(uint priority)
    {
        var i = Specs.Instance(priority, "10.77.0.100/24", version: 3, advertSeconds: 0.5);
        i.VirtualRoutes.Add(new VirtualRoute { Destination = "10.99.0.0/24", Gateway = "10.77.0.254", Source = "10.77.0.100" });
        i.VirtualRoutes.Add(new VirtualRoute { Destination = "10.98.0.0/24", Type = "blackhole" });
        i.VirtualRoutes.Add(new VirtualRoute { Destination = "0.0.0.0/0", Gateway = "10.77.0.254", Table = 100 });
        i.VirtualRules.Add(new VirtualRule { From = "10.77.0.100/32", Table = 100, Priority = 1000 });
        return Specs.Config(i);
    }

    // Filtered by "proto keepalived": every route listed is one of ours.
    private static async Task<string> RoutesAsync(LabHost host) =>
        (await host.CheckAsync("ip", "route", "show", "table", "all", "proto", "keepalived")).Stdout + (await host.CheckAsync("ip", "rule", "show")).Stdout;

    [Fact]
    public async Task VirtualRoutesAndRules_OnTheMasterOnly_MoveOnFailover()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        await na.ApplyAsync(Config(150));
        await nb.ApplyAsync(Config(100));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);

        static bool Installed(string routes) =>
            routes.Contains("10.99.0.0/24 via 10.77.0.254 dev eth0 src 10.77.0.100", StringComparison.Ordinal)
            && routes.Contains("blackhole 10.98.0.0/24", StringComparison.Ordinal)
            && routes.Contains("default via 10.77.0.254 dev eth0 table 100", StringComparison.Ordinal)
            && routes.Contains("1000:\tfrom 10.77.0.100 lookup 100 proto keepalived", StringComparison.Ordinal);
        await Poll.UntilAsync(async () => Installed(await RoutesAsync(a)), Deadline, "routes and rule on a", async () => await RoutesAsync(a) + na.Tail());
        Assert.DoesNotContain("10.99.0.0/24", await RoutesAsync(b));
        Assert.DoesNotContain("lookup 100", await RoutesAsync(b));

        await na.StopAsync();
        await na.DisposeAsync();
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await Poll.UntilAsync(async () => Installed(await RoutesAsync(b)), Deadline, "routes and rule on b", async () => await RoutesAsync(b) + nb.Tail());
        Assert.DoesNotContain("10.99.0.0/24", await RoutesAsync(a));
        Assert.DoesNotContain("lookup 100", await RoutesAsync(a));
    }
}
