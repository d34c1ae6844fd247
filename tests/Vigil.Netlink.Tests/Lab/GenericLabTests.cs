using Vigil.Netlink.Generic;
using Vigil.Netlink.Ipvs;
using Vigil.Netlink.Route;

namespace Vigil.Netlink.Tests.Lab;

/// <summary>Generic netlink and namespace handling against this machine's kernel.</summary>
[Trait("Category", "Lab")]
public sealed class GenericLabTests
{
    [Fact]
    public async Task GetFamily_Controller_ResolvesItselfAndUnknownIsNull()
    {
        using var genl = GenericNetlink.Open();
        var ctrl = await genl.GetFamilyAsync("nlctrl");
        Assert.NotNull(ctrl);
        Assert.Equal(GenericMessages.ControllerId, ctrl.Id);
        Assert.Contains("notify", ctrl.MulticastGroups.Keys);
        Assert.Null(await genl.GetFamilyAsync("VIGILNOSUCH"));
    }

    [Fact]
    public async Task IpvsOpen_ThisKernel_EitherWorksOrSaysIpvsIsMissing()
    {
        // The development kernel has no IPVS: the client must say so in words. On a kernel with
        // IPVS the same call must work (Vm tests cover that kernel in depth).
        var hasIpvs = File.Exists("/proc/net/ip_vs");
        if (hasIpvs)
        {
            using var ipvs = await IpvsClient.OpenAsync();
            Assert.Equal("1.2.1", (await ipvs.GetInfoAsync()).VersionText[..5]);
        }
        else
        {
            var e = await Assert.ThrowsAsync<IpvsNotAvailableException>(() => IpvsClient.OpenAsync());
            Assert.Equal("IPVS is not available in this kernel (generic netlink family IPVS not found; modprobe ip_vs)", e.Message);
            Assert.Equal(Errno.ENOENT, e.ErrorCode);
        }
    }

    [Fact]
    public void Open_NamespaceThatDoesNotExist_NamesIt()
    {
        var e = Assert.Throws<NetlinkException>(() => Rtnetlink.Open(NetworkNamespace.Named("vigil-no-such-ns")));
        Assert.Equal("open network namespace /var/run/netns/vigil-no-such-ns: No such file or directory (ENOENT)", e.Message);
    }

    [Fact]
    public async Task Open_TwoNamespaces_EachSocketStaysInItsOwn()
    {
        await using var a = await NetlinkLab.CreateAsync();
        await using var b = await NetlinkLab.CreateAsync();
        await a.Rtnl.CreateMacvlanAsync(new MacvlanLink { Name = "only-in-a", Parent = "eth0" });
        Assert.NotNull(await a.Rtnl.GetLinkAsync("only-in-a"));
        Assert.Null(await b.Rtnl.GetLinkAsync("only-in-a"));
        // And the test process itself never left its namespace.
        using var here = Rtnetlink.Open();
        Assert.Null(await here.GetLinkAsync("only-in-a"));
    }
}
