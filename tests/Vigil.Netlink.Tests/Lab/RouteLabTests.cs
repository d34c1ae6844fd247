using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Netlink.Route;

namespace Vigil.Netlink.Tests.Lab;

/// <summary>Routes and rules against the kernel; <c>ip -j route show table N</c> and <c>ip -j rule show</c> judge.</summary>
[Trait("Category", "Lab")]
public sealed class RouteLabTests
{
    private static async Task<NetlinkLab> LabWithAddressesAsync()
    {
        var lab = await NetlinkLab.CreateAsync();
        await lab.Rtnl.AddAddressAsync(new InterfaceAddress { Interface = "eth0", Address = IPPrefix.Parse("10.1.2.254/24") });
        await lab.Rtnl.AddAddressAsync(new InterfaceAddress { Interface = "eth0", Address = IPPrefix.Parse("2001:db8::fe/64"), Flags = AddressFlags.NoDad });
        return lab;
    }

    private static JsonElement Find(JsonElement routes, string dst) =>
        routes.EnumerateArray().SingleOrDefault(r => r.GetProperty("dst").GetString() == dst);

    [Fact]
    public async Task AddRoutes_Table100_IpSeesExactlyThem()
    {
        await using var lab = await LabWithAddressesAsync();
        var rt = lab.Rtnl;
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.20.0.0/16"), Gateway = IPAddress.Parse("10.1.2.1"), Interface = "eth0", Table = 100, Metric = 50, Protocol = RouteProtocol.Keepalived });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.21.0.0/16"), Interface = "eth0", PreferredSource = IPAddress.Parse("10.1.2.254"), Table = 100 });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.22.0.0/16"), Type = RouteType.Blackhole, Table = 100 });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.23.0.0/16"), Type = RouteType.Unreachable, Table = 100 });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.24.0.0/16"), Type = RouteType.Prohibit, Table = 100 });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.25.0.0/16"), Gateway = IPAddress.Parse("192.0.2.1"), Interface = "eth0", OnLink = true, Table = 100 });
        await rt.AddRouteAsync(new()
        {
            Destination = IPPrefix.Parse("10.26.0.0/16"),
            Table = 100,
            NextHops = [new() { Gateway = IPAddress.Parse("10.1.2.1"), Interface = "eth0", Weight = 1 }, new() { Gateway = IPAddress.Parse("10.1.2.2"), Interface = "eth0", Weight = 3 }],
        });
        await rt.AddRouteAsync(new() { Destination = IPPrefix.Default(AddressFamily.InterNetwork), Gateway = IPAddress.Parse("10.1.2.1"), Table = 100 });

        var ip = await lab.IpJsonAsync("route", "show", "table", "100");
        Assert.Equal(8, ip.GetArrayLength());
        var via = Find(ip, "10.20.0.0/16");
        Assert.Equal("10.1.2.1", via.GetProperty("gateway").GetString());
        Assert.Equal("eth0", via.GetProperty("dev").GetString());
        Assert.Equal(50, via.GetProperty("metric").GetInt32());
        Assert.Equal("keepalived", via.GetProperty("protocol").GetString());
        var src = Find(ip, "10.21.0.0/16");
        Assert.Equal("10.1.2.254", src.GetProperty("prefsrc").GetString());
        Assert.Equal("link", src.GetProperty("scope").GetString());
        Assert.Equal("blackhole", Find(ip, "10.22.0.0/16").GetProperty("type").GetString());
        Assert.Equal("unreachable", Find(ip, "10.23.0.0/16").GetProperty("type").GetString());
        Assert.Equal("prohibit", Find(ip, "10.24.0.0/16").GetProperty("type").GetString());
        Assert.Contains("onlink", Find(ip, "10.25.0.0/16").GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var hops = Find(ip, "10.26.0.0/16").GetProperty("nexthops").EnumerateArray().ToList();
        Assert.Equal(["10.1.2.1", "10.1.2.2"], hops.Select(h => h.GetProperty("gateway").GetString()));
        Assert.Equal([1, 3], hops.Select(h => h.GetProperty("weight").GetInt32()));
        Assert.Equal("10.1.2.1", Find(ip, "default").GetProperty("gateway").GetString());

        // Vigil's listing of the table agrees, and does not leak other tables.
        var mine = await rt.ListRoutesAsync(AddressFamily.InterNetwork, 100);
        Assert.Equal(8, mine.Count);
        Assert.All(mine, r => Assert.Equal(100u, r.Table));
        var v = mine.Single(r => r.Destination == IPPrefix.Parse("10.20.0.0/16"));
        Assert.Equal(IPAddress.Parse("10.1.2.1"), v.Gateway);
        Assert.Equal(50u, v.Metric);
        Assert.Equal(RouteProtocol.Keepalived, v.Protocol);
        Assert.Equal(await rt.GetIndexAsync("eth0"), v.Interface!.Value.Index);
        var mp = mine.Single(r => r.Destination == IPPrefix.Parse("10.26.0.0/16"));
        Assert.Equal([1, 3], mp.NextHops.Select(h => h.Weight));
        Assert.True(mine.Single(r => r.Destination == IPPrefix.Parse("10.25.0.0/16")).OnLink);
        Assert.Equal(RouteType.Blackhole, mine.Single(r => r.Destination == IPPrefix.Parse("10.22.0.0/16")).Type);

        // Every listed route deletes as it is listed.
        foreach (var r in mine)
        {
            await rt.DeleteRouteAsync(r);
        }
        Assert.Equal(0, (await lab.IpJsonAsync("route", "show", "table", "100")).GetArrayLength());
        Assert.Empty(await rt.ListRoutesAsync(AddressFamily.InterNetwork, 100));
    }

    [Fact]
    public async Task AddRoute_V6BigTable_IpSeesIt()
    {
        await using var lab = await LabWithAddressesAsync();
        await lab.Rtnl.AddRouteAsync(new() { Destination = IPPrefix.Parse("2001:db8:100::/48"), Gateway = IPAddress.Parse("2001:db8::1"), Interface = "eth0", Metric = 1024, Table = 5000 });
        var ip = await lab.IpJsonAsync("-6", "route", "show", "table", "5000");
        var r = Find(ip, "2001:db8:100::/48");
        Assert.Equal("2001:db8::1", r.GetProperty("gateway").GetString());
        Assert.Equal(1024, r.GetProperty("metric").GetInt32());
        var mine = await lab.Rtnl.ListRoutesAsync(AddressFamily.InterNetworkV6, 5000);
        Assert.Equal(5000u, Assert.Single(mine).Table);
        await lab.Rtnl.DeleteRouteAsync(new() { Destination = IPPrefix.Parse("2001:db8:100::/48"), Gateway = IPAddress.Parse("2001:db8::1"), Interface = "eth0", Table = 5000 });
        Assert.Equal(0, (await lab.IpJsonAsync("-6", "route", "show", "table", "5000")).GetArrayLength());
    }

    [Fact]
    public async Task AddRoute_Twice_EexistAndDeleteMissing_Esrch()
    {
        await using var lab = await LabWithAddressesAsync();
        var route = new Vigil.Netlink.Route.Route { Destination = IPPrefix.Parse("10.20.0.0/16"), Gateway = IPAddress.Parse("10.1.2.1"), Interface = "eth0", Table = 100 };
        await lab.Rtnl.AddRouteAsync(route);
        var dup = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.AddRouteAsync(route));
        Assert.StartsWith("RTM_NEWROUTE 10.20.0.0/16 via 10.1.2.1 dev eth0 table 100: File exists (EEXIST)", dup.Message);
        await lab.Rtnl.DeleteRouteAsync(route);
        var missing = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.DeleteRouteAsync(route));
        Assert.True(missing.NotFound);
        Assert.StartsWith("RTM_DELROUTE 10.20.0.0/16 via 10.1.2.1 dev eth0 table 100: No such process (ESRCH): no such route", missing.Message);
    }

    [Fact]
    public async Task AddRoute_GatewayNotOnLink_ErrorCarriesKernelExplanation()
    {
        await using var lab = await LabWithAddressesAsync();
        var e = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.AddRouteAsync(new() { Destination = IPPrefix.Parse("10.40.0.0/16"), Gateway = IPAddress.Parse("192.0.2.1"), Interface = "eth0" }));
        Assert.Equal(Errno.ENETUNREACH, e.ErrorCode);
        // NETLINK_EXT_ACK: the kernel says why in words.
        Assert.False(string.IsNullOrEmpty(e.KernelMessage), e.Message);
        Assert.Contains("; kernel: " + e.KernelMessage, e.Message);
    }

    [Fact]
    public async Task ListRoutes_TableThatDoesNotExist_Empty()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        Assert.Empty(await lab.Rtnl.ListRoutesAsync(AddressFamily.InterNetwork, 4242));
    }

    [Fact]
    public async Task AddRules_IpSeesExactlyThem_ListAndDelete()
    {
        await using var lab = await LabWithAddressesAsync();
        var rt = lab.Rtnl;
        RoutingRule[] rules =
        [
            new() { From = IPPrefix.Parse("10.1.2.3"), Table = 100, Priority = 100 },
            new() { To = IPPrefix.Parse("10.30.0.0/16"), Table = 101, Priority = 101 },
            new() { FirewallMark = 0x10, FirewallMask = 0xff, Table = 102, Priority = 102 },
            new() { InputInterface = "eth0", OutputInterface = "lo", Table = 103, Priority = 104 },
            new() { Priority = 106, Action = RuleAction.Blackhole },
            new() { Priority = 107, Action = RuleAction.Unreachable },
            new() { Priority = 108, Action = RuleAction.Prohibit },
            new() { Priority = 109, GotoPriority = 200 },
            new() { Invert = true, From = IPPrefix.Parse("10.1.0.0/16"), Table = 110, Priority = 110 },
            new() { Priority = 111, L3mdev = true },
            new() { From = IPPrefix.Parse("10.1.2.5"), Table = 5000, Priority = 112, Protocol = RouteProtocol.Keepalived },
            new() { From = IPPrefix.Parse("10.1.2.11"), Table = 116, SuppressPrefixLength = 0, Priority = 116 },
            new() { Priority = 200, Table = 200 },
        ];
        foreach (var r in rules)
        {
            await rt.AddRuleAsync(r);
        }
        await rt.AddRuleAsync(new() { From = IPPrefix.Parse("2001:db8::/64"), Table = 120, Priority = 120 });

        var ip = await lab.IpJsonAsync("rule", "show");
        JsonElement Prio(int p) => ip.EnumerateArray().Single(r => r.GetProperty("priority").GetInt32() == p);
        Assert.Equal("10.1.2.3", Prio(100).GetProperty("src").GetString());
        Assert.Equal("100", Prio(100).GetProperty("table").ToString());
        Assert.Equal("10.30.0.0", Prio(101).GetProperty("dst").GetString());
        Assert.Equal(16, Prio(101).GetProperty("dstlen").GetInt32());
        Assert.Equal("0x10", Prio(102).GetProperty("fwmark").GetString());
        Assert.Equal("0xff", Prio(102).GetProperty("fwmask").GetString());
        Assert.Equal("eth0", Prio(104).GetProperty("iif").GetString());
        Assert.Equal("lo", Prio(104).GetProperty("oif").GetString());
        Assert.Equal("blackhole", Prio(106).GetProperty("action").GetString());
        Assert.Equal("unreachable", Prio(107).GetProperty("action").GetString());
        Assert.Equal("prohibit", Prio(108).GetProperty("action").GetString());
        Assert.Equal(200, Prio(109).GetProperty("goto").GetInt32());
        // ip -j prints these flags as keys with a null value.
        Assert.True(Prio(110).TryGetProperty("not", out _));
        Assert.Equal(16, Prio(110).GetProperty("srclen").GetInt32());
        Assert.True(Prio(111).TryGetProperty("l3mdev", out _));
        Assert.Equal("5000", Prio(112).GetProperty("table").ToString());
        Assert.Equal("keepalived", Prio(112).GetProperty("protocol").GetString());
        Assert.Equal(0, Prio(116).GetProperty("suppress_prefixlen").GetInt32());
        var ip6 = await lab.IpJsonAsync("-6", "rule", "show");
        Assert.Contains(ip6.EnumerateArray(), r => r.GetProperty("priority").GetInt32() == 120 && r.GetProperty("src").GetString() == "2001:db8::");

        var mine = await rt.ListRulesAsync(AddressFamily.InterNetwork);
        var byPrio = mine.Where(r => r.Priority is >= 100 and <= 200).ToDictionary(r => r.Priority!.Value);
        Assert.Equal(rules.Length, byPrio.Count);
        Assert.Equal(IPPrefix.Parse("10.1.2.3/32"), byPrio[100].From);
        Assert.Equal(100u, byPrio[100].Table);
        Assert.Equal(RuleAction.ToTable, byPrio[100].Action);
        Assert.Equal(5000u, byPrio[112].Table);
        Assert.Equal(0xffu, byPrio[102].FirewallMask);
        Assert.Equal("eth0", byPrio[104].InputInterface);
        Assert.Equal(RuleAction.Goto, byPrio[109].Action);
        Assert.Equal(200u, byPrio[109].GotoPriority);
        Assert.True(byPrio[110].Invert);
        Assert.True(byPrio[111].L3mdev);
        Assert.Equal(0, byPrio[116].SuppressPrefixLength);
        Assert.Contains(await rt.ListRulesAsync(AddressFamily.InterNetworkV6), r => r.Priority == 120 && r.From == IPPrefix.Parse("2001:db8::/64"));

        foreach (var r in byPrio.Values)
        {
            await rt.DeleteRuleAsync(r);
        }
        Assert.DoesNotContain((await lab.IpJsonAsync("rule", "show")).EnumerateArray(), r => r.GetProperty("priority").GetInt32() is >= 100 and <= 200);
        // The kernel's own rules (local, main, default) are untouched.
        Assert.Equal([0, 32766, 32767], (await rt.ListRulesAsync()).Select(r => (int)r.Priority!.Value).Order());
    }

    [Fact]
    public async Task Rules_DuplicateAndMissing_ClearErrors()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var rule = new RoutingRule { From = IPPrefix.Parse("10.1.2.3"), Table = 100, Priority = 100 };
        await lab.Rtnl.AddRuleAsync(rule);
        var dup = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.AddRuleAsync(rule));
        Assert.StartsWith("RTM_NEWRULE 100: from 10.1.2.3 lookup 100: File exists (EEXIST)", dup.Message);
        await lab.Rtnl.DeleteRuleAsync(rule);
        var missing = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.DeleteRuleAsync(rule));
        Assert.True(missing.NotFound);
        Assert.StartsWith("RTM_DELRULE 100: from 10.1.2.3 lookup 100: No such file or directory (ENOENT): no such rule", missing.Message);
    }
}
