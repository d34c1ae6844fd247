using System.Net.NetworkInformation;
using Vigil.Netlink.Route;

namespace Vigil.Netlink.Tests.Lab;

/// <summary>Links against the kernel: macvlan VMACs, up/down, MAC, delete; <c>ip -d -j link</c> judges.</summary>
[Trait("Category", "Lab")]
public sealed class LinkLabTests
{
    [Fact]
    public async Task CreateMacvlan_VrrpMac_IpShowsMacvlanPrivateWithThatMac()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var eth0 = await lab.Rtnl.GetIndexAsync("eth0");
        var created = await lab.Rtnl.CreateMacvlanAsync(new MacvlanLink { Name = "vrrp.7", Parent = "eth0", Mode = MacvlanMode.Private, Address = MacvlanLink.VrrpMac(7) });

        Assert.Equal("vrrp.7", created.Name);
        Assert.Equal("macvlan", created.Kind);
        Assert.Equal(MacvlanMode.Private, created.MacvlanMode);
        Assert.Equal(eth0, created.ParentIndex);
        Assert.Equal("00:00:5e:00:01:07", Link.MacText(created.Address!));
        Assert.False(created.IsUp);

        var ip = (await lab.IpJsonAsync("-d", "link", "show", "dev", "vrrp.7"))[0];
        Assert.Equal("00:00:5e:00:01:07", ip.GetProperty("address").GetString());
        Assert.Equal("eth0", ip.GetProperty("link").GetString());
        var info = ip.GetProperty("linkinfo");
        Assert.Equal("macvlan", info.GetProperty("info_kind").GetString());
        Assert.Equal("private", info.GetProperty("info_data").GetProperty("mode").GetString());

        await lab.Rtnl.SetLinkUpAsync("vrrp.7", true);
        var up = await lab.Rtnl.GetLinkAsync("vrrp.7");
        Assert.True(up!.IsUp);
        Assert.Contains("UP", (await lab.IpJsonAsync("link", "show", "dev", "vrrp.7"))[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        await lab.Rtnl.DeleteLinkAsync("vrrp.7");
        Assert.Null(await lab.Rtnl.GetLinkAsync("vrrp.7"));
        Assert.False((await lab.Host.ExecAsync("ip", "link", "show", "dev", "vrrp.7")).Ok);
    }

    [Theory]
    [InlineData(MacvlanMode.Bridge, "bridge")]
    [InlineData(MacvlanMode.Vepa, "vepa")]
    [InlineData(MacvlanMode.Passthru, "passthru")]
    public async Task CreateMacvlan_Mode_IpShowsMode(MacvlanMode mode, string ipName)
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var link = await lab.Rtnl.CreateMacvlanAsync(new MacvlanLink { Name = "mv0", Parent = "eth0", Mode = mode });
        Assert.Equal(mode, link.MacvlanMode);
        var ip = (await lab.IpJsonAsync("-d", "link", "show", "dev", "mv0"))[0];
        Assert.Equal(ipName, ip.GetProperty("linkinfo").GetProperty("info_data").GetProperty("mode").GetString());
    }

    [Fact]
    public async Task CreateMacvlan_NameTaken_EexistNamesTheLink()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var request = new MacvlanLink { Name = "vrrp.9", Parent = "eth0", Address = MacvlanLink.VrrpMac(9) };
        await lab.Rtnl.CreateMacvlanAsync(request);
        var e = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.CreateMacvlanAsync(request));
        Assert.Equal(Errno.EEXIST, e.ErrorCode);
        Assert.StartsWith("RTM_NEWLINK vrrp.9 link eth0 type macvlan mode private address 00:00:5e:00:01:09: File exists (EEXIST)", e.Message);
    }

    [Fact]
    public async Task SetLinkAddressAndState_IpSeesThem()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        await lab.Rtnl.SetLinkUpAsync("eth0", false);
        await lab.Rtnl.SetLinkAddressAsync("eth0", PhysicalAddress.Parse("02-00-00-00-00-42"));
        var ip = (await lab.IpJsonAsync("link", "show", "dev", "eth0"))[0];
        Assert.Equal("02:00:00:00:00:42", ip.GetProperty("address").GetString());
        Assert.DoesNotContain("UP", ip.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        await lab.Rtnl.SetLinkUpAsync("eth0", true);
        var link = await lab.Rtnl.GetLinkAsync("eth0");
        Assert.True(link!.IsUp);
        Assert.Equal("02:00:00:00:00:42", Link.MacText(link.Address!));
    }

    [Fact]
    public async Task ListLinks_Namespace_SeesOnlyItsOwnInterfaces()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var links = await lab.Rtnl.ListLinksAsync();
        Assert.Equal(["eth0", "lo"], links.Select(l => l.Name).Order().ToArray());
        var eth0 = links.Single(l => l.Name == "eth0");
        Assert.Equal("veth", eth0.Kind);
        Assert.Equal(1500, eth0.Mtu);
        Assert.Equal(1, eth0.DeviceType);
        Assert.True(eth0.IsUp);
        Assert.True(eth0.HasCarrier);
        Assert.Equal(OperationalState.Up, eth0.OperationalState);
        var ip = (await lab.IpJsonAsync("link", "show", "dev", "eth0"))[0];
        Assert.Equal(ip.GetProperty("ifindex").GetInt32(), eth0.Index);
        Assert.Equal(ip.GetProperty("address").GetString(), Link.MacText(eth0.Address!));

        var byIndex = await lab.Rtnl.GetLinkAsync(eth0.Index);
        Assert.Equal("eth0", byIndex!.Name);
        Assert.Null(await lab.Rtnl.GetLinkAsync("nosuch0"));
    }

    [Fact]
    public async Task DeleteLink_Missing_ClearError()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var e = await Assert.ThrowsAsync<NetlinkException>(() => lab.Rtnl.DeleteLinkAsync("vrrp.99"));
        Assert.Equal(Errno.ENODEV, e.ErrorCode);
        Assert.Equal($"RTM_DELLINK dev vrrp.99: No such device (ENODEV): no interface named vrrp.99 in network namespace {lab.Host.Namespace}", e.Message);
    }
}
