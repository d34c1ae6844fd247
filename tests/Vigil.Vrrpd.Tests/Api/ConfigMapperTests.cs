using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Hosting;
using Vigil.Netlink.Route;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Api;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using AddressFamily = System.Net.Sockets.AddressFamily;

namespace Vigil.Vrrpd.Tests.Api;

public sealed class ConfigMapperTests
{
    private static VrrpConfig Valid()
    {
        var c = Specs.Config(Specs.Instance(100, "10.0.0.100/24"));
        c.Scripts.Add(new ScriptSpec { Name = "chk", Script = "[ -f /tmp/hehe ]", Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)), Weight = -2, Fall = 3, Rise = 1 });
        c.TrackFiles.Add(new TrackFileSpec { Name = "tf", File = "/tmp/vigil-tf", Weight = 1 });
        c.Instances[0].TrackScripts.Add(new TrackScript { Script = "chk" });
        c.Instances[0].TrackFiles.Add(new TrackFile { TrackFile_ = "tf", Weight = 5, HasWeight = true });
        c.Instances[0].TrackInterfaces.Add(new TrackInterface { Interface = "eth1", Weight = 0 });
        return c;
    }

    private static InvalidArgumentException Invalid(Action<VrrpConfig> mutate)
    {
        var c = Valid();
        mutate(c);
        return Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToDaemonConfig(c));
    }

    [Fact]
    public void ToDaemonConfig_Valid_MapsEveryPart()
    {
        var d = ConfigMapper.ToDaemonConfig(Valid());
        var i = Assert.Single(d.Instances);
        Assert.Equal("VI_1", i.Config.Name);
        Assert.Equal(51, i.Config.Vrid);
        Assert.Equal(AddressFamily.InterNetwork, i.Config.Family);
        Assert.Equal(VrrpAuthType.SimplePassword, i.Config.AuthType);
        Assert.Equal([IPAddress.Parse("10.0.0.100")], i.Config.VirtualAddresses);
        Assert.Equal(24, i.VirtualAddresses[0].Prefix.PrefixLength);
        Assert.Equal("eth0", i.VirtualAddresses[0].Device);
        Assert.Equal(new Vigil.Vrrpd.Daemon.TrackScriptRef("chk", -2, false), Assert.Single(i.TrackScripts));
        Assert.Equal(new Vigil.Vrrpd.Daemon.TrackFileRef("tf", 5, false), Assert.Single(i.TrackFiles));
        Assert.Equal(3, d.Scripts["chk"].Fall);
        Assert.Equal(TimeSpan.FromSeconds(1), d.Scripts["chk"].Timeout);
    }

    [Fact]
    public void ToDaemonConfig_ZeroValues_GetKeepalivedDefaults()
    {
        var c = new VrrpConfig();
        c.Instances.Add(new InstanceSpec { Name = "VI_1", Interface = "eth0", VirtualRouterId = 7, VirtualAddresses = { new VirtualAddress { Address = "fd00::7" } } });
        var i = Assert.Single(ConfigMapper.ToDaemonConfig(c).Instances).Config;
        Assert.Equal(100, i.Priority);
        Assert.Equal(VrrpVersion.V2, i.Version);
        Assert.Equal(TimeSpan.FromSeconds(1), i.AdvertInterval);
        Assert.Equal(3, i.DownTimerAdverts);
        Assert.Equal(AddressFamily.InterNetworkV6, i.Family);
        Assert.Equal(TimeSpan.FromSeconds(5), i.GarpMasterDelay);
        Assert.Equal(5, i.GarpMasterRepeat);
    }

    [Fact]
    public void ToDaemonConfig_VipOptions_BecomeAddressOptions()
    {
        var c = Valid();
        c.Instances[0].VirtualAddresses.Add(new VirtualAddress { Address = "10.0.0.101/24", Broadcast = "10.0.0.255", Device = "eth1", Scope = "link", Label = "eth1:vip", Noprefixroute = true });
        c.Instances[0].ExcludedAddresses.Add(new VirtualAddress { Address = "fd00::101/64" });
        var i = ConfigMapper.ToDaemonConfig(c).Instances[0];
        var vip = i.VirtualAddresses[1].ToInterfaceAddress();
        Assert.Equal("10.0.0.101/24 brd 10.0.0.255 scope link dev eth1 label eth1:vip noprefixroute", vip.ToString());
        Assert.Equal(AddressFlags.NoDad, i.ExcludedAddresses[0].ToInterfaceAddress().Flags);
        Assert.Equal([IPAddress.Parse("fd00::101")], i.Config.ExcludedVirtualAddresses);
    }

    [Theory]
    [InlineData("vrid0", "instances[VI_1].virtual_router_id", "0 is not 1..255")]
    [InlineData("vrid300", "instances[VI_1].virtual_router_id", "300 is not 1..255")]
    [InlineData("prio256", "instances[VI_1].priority", "256 is not 1..255")]
    [InlineData("badvip", "instances[VI_1].virtual_addresses[0].address", "'10.0.0.300' is not an address")]
    [InlineData("v6vip", "instances[VI_1].virtual_addresses[1]", "fd00::1 is not IPv4")]
    [InlineData("version4", "instances[VI_1].version", "4 is not 2 or 3")]
    [InlineData("v2halfsecond", "instances[VI_1].advert_interval", "VRRPv2 needs whole seconds")]
    [InlineData("noiface", "instances[VI_1].interface", "missing")]
    [InlineData("longpass", "instances[VI_1].auth_password", "PASS needs a password of 1..8 bytes")]
    [InlineData("noscript", "instances[VI_1].track_scripts[0].script", "vrrp_script 'nope' is not defined")]
    [InlineData("weight", "instances[VI_1].track_interfaces[0].weight", "300 is not -253..253")]
    [InlineData("dup", "instances[VI_1].name", "defined twice")]
    [InlineData("group", "sync_groups[G1].members", "instance VI_9 does not exist")]
    [InlineData("vmac6", "instances[VI_1].use_vmac", "not supported yet")]
    [InlineData("xmitbase", "instances[VI_1].vmac_xmit_base", "not supported yet")]
    [InlineData("scriptparse", "scripts[chk].script", "")]
    [InlineData("user", "instances[VI_1].notify.user", "does not exist")]
    [InlineData("sameVrid", "instances[VI_2].virtual_router_id", "VRID 51 is used by VI_1 and VI_2 on eth0")]
    public void ToDaemonConfig_BadInput_InvalidArgumentNamingTheField(string what, string field, string message)
    {
        var e = Invalid(c =>
        {
            var i = c.Instances[0];
            switch (what)
            {
                case "vrid0": i.VirtualRouterId = 0; break;
                case "vrid300": i.VirtualRouterId = 300; break;
                case "prio256": i.Priority = 256; break;
                case "badvip": i.VirtualAddresses[0].Address = "10.0.0.300"; break;
                case "v6vip": i.VirtualAddresses.Add(new VirtualAddress { Address = "fd00::1" }); break;
                case "version4": i.Version = 4; break;
                case "v2halfsecond": i.AdvertInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1.5)); break;
                case "noiface": i.Interface = ""; break;
                case "longpass": i.AuthPassword = "123456789"; break;
                case "noscript": i.TrackScripts[0].Script = "nope"; break;
                case "weight": i.TrackInterfaces[0].Weight = 300; break;
                case "dup": c.Instances.Add(i.Clone()); break;
                case "group": c.SyncGroups.Add(new SyncGroupSpec { Name = "G1", Members = { "VI_1", "VI_9" } }); break;
                case "vmac6":
                    i.UseVmac = true;
                    i.VirtualAddresses[0].Address = "fd00::100";
                    i.AuthType = AuthType.None;
                    i.AuthPassword = "";
                    i.Version = 3;
                    break;
                case "xmitbase":
                    i.UseVmac = true;
                    i.VmacXmitBase = true;
                    break;
                case "scriptparse": c.Scripts[0].Script = "echo 'unterminated"; break;
                case "user": i.Notify = new NotifySpec { User = "no-such-user-vigil" }; break;
                case "sameVrid":
                    var other = i.Clone();
                    other.Name = "VI_2";
                    c.Instances.Add(other);
                    break;
            }
        });
        Assert.Equal(field, e.Field);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ToDaemonConfig_UseVmac_InstanceRunsOnTheMacvlanAndItsVipsLiveThere()
    {
        var c = Valid();
        c.Instances[0].UseVmac = true;
        var i = ConfigMapper.ToDaemonConfig(c).Instances[0];
        Assert.Equal("vrrp.51", i.Config.Interface);
        Assert.Equal("eth0", i.SourceInterface);
        Assert.Equal("vrrp.51", i.VirtualAddresses[0].Device);
        Assert.Equal("00-00-5E-00-01-33", i.Vmac!.Mac.ToString().Insert(2, "-").Insert(5, "-").Insert(8, "-").Insert(11, "-").Insert(14, "-"));
        c.Instances[0].VmacInterface = "vmac1";
        Assert.Equal("vmac1", ConfigMapper.ToDaemonConfig(c).Instances[0].Config.Interface);
    }

    [Fact]
    public void ToDaemonConfig_VirtualRoutesAndRules_AsIpRouteAndIpRuleWithProtocolKeepalived()
    {
        var c = Valid();
        c.Instances[0].VirtualRoutes.Add(new VirtualRoute { Destination = "10.99.0.0/24", Gateway = "10.0.0.254", Source = "10.0.0.100" });
        c.Instances[0].VirtualRoutes.Add(new VirtualRoute { Destination = "10.98.0.0/24" });
        c.Instances[0].VirtualRoutes.Add(new VirtualRoute { Destination = "10.97.0.0/24", Type = "blackhole", Table = 100 });
        c.Instances[0].VirtualRules.Add(new VirtualRule { From = "10.0.0.100/32", Table = 100, Priority = 1000 });
        var i = ConfigMapper.ToDaemonConfig(c).Instances[0];
        Assert.Equal(["10.99.0.0/24 via 10.0.0.254 src 10.0.0.100 proto keepalived", "10.98.0.0/24 dev eth0 proto keepalived", "blackhole 10.97.0.0/24 table 100 proto keepalived"],
            i.Routes.Select(r => r.ToString()));
        Assert.StartsWith("1000: from 10.0.0.100 lookup 100", i.Rules[0].ToString(), StringComparison.Ordinal);

        c.Instances[0].VirtualRoutes.Add(new VirtualRoute { Destination = "10.96.0.0/24", Gateway = "fd00::1" });
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToDaemonConfig(c));
        Assert.Equal("instances[VI_1].virtual_routes[3].gateway", e.Field);
        c.Instances[0].VirtualRoutes.RemoveAt(3);
        c.Instances[0].VirtualRules.Add(new VirtualRule { Action = "jump" });
        e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToDaemonConfig(c));
        Assert.Equal("instances[VI_1].virtual_rules[1].action", e.Field);
    }

    [Fact]
    public void ToDaemonConfig_MissingConfig_InvalidArgument()
    {
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToDaemonConfig(null));
        Assert.Equal("config", e.Field);
    }

    [Fact]
    public void ToDaemonConfig_SameSpecTwice_SameKey_NotifyChangeChangesIt()
    {
        var a = ConfigMapper.ToDaemonConfig(Valid()).Instances[0];
        var b = ConfigMapper.ToDaemonConfig(Valid()).Instances[0];
        Assert.Equal(a.FullKey, b.FullKey);
        var c = Valid();
        c.Instances[0].Notify = new NotifySpec { NotifyMaster = "/bin/true" };
        Assert.NotEqual(a.FullKey, ConfigMapper.ToDaemonConfig(c).Instances[0].FullKey);
    }

    [Fact]
    public void ToDaemonConfig_SyncGroup_SetsMembersGroup()
    {
        var c = Valid();
        var second = Specs.Instance(100, "10.0.1.100/24", vrid: 52, name: "VI_2");
        c.Instances.Add(second);
        c.SyncGroups.Add(new SyncGroupSpec { Name = "G1", Members = { "VI_1", "VI_2" }, Notify = new NotifySpec { NotifyMaster = "/bin/true" } });
        var d = ConfigMapper.ToDaemonConfig(c);
        Assert.All(d.Instances, i => Assert.Equal("G1", i.Config.SyncGroup));
        Assert.NotNull(d.Group("G1")!.Notify.Master);
    }

    [Fact]
    public void Map_OneUnsupportedInstance_TheOthersRun_TheBadOneIsNamedWithWhy()
    {
        var good = Specs.Instance(100, "10.0.0.100/24", vrid: 51, name: "VI_1");
        var ah = Specs.Instance(100, "10.0.1.100/24", vrid: 52, name: "VI_AH");
        ah.AuthType = AuthType.Ah;
        var vmac6 = Specs.Instance(100, "fd00::100", vrid: 53, name: "VI_V6", version: 3, pass: false);
        vmac6.UseVmac = true;
        var last = Specs.Instance(100, "10.0.2.100/24", vrid: 54, name: "VI_4");
        var mapped = ConfigMapper.Map(Specs.Config(good, ah, vmac6, last));

        Assert.Equal(["VI_1", "VI_4"], mapped.Config.Instances.Select(i => i.Name));
        Assert.Equal(2, mapped.Rejected.Count);
        Assert.Equal(("VI_AH", "instances[VI_AH].auth_type"), (mapped.Rejected[0].Name, mapped.Rejected[0].Field));
        Assert.Contains("AH is not supported", mapped.Rejected[0].Reason);
        Assert.Equal(("VI_V6", "instances[VI_V6].use_vmac"), (mapped.Rejected[1].Name, mapped.Rejected[1].Field));
        Assert.Contains("IPv6", mapped.Rejected[1].Reason);
        // All or nothing where asked for: the first problem throws.
        Assert.Equal("instances[VI_AH].auth_type", Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToDaemonConfig(Specs.Config(good, ah))).Field);
    }

    [Fact]
    public void Map_SameVridTwice_TheFirstRuns_TheSecondIsRefused()
    {
        var first = Specs.Instance(100, "10.0.0.100/24", vrid: 51, name: "VI_1");
        var second = Specs.Instance(100, "10.0.0.101/24", vrid: 51, name: "VI_2");
        var mapped = ConfigMapper.Map(Specs.Config(first, second));
        Assert.Equal("VI_1", Assert.Single(mapped.Config.Instances).Name);
        var r = Assert.Single(mapped.Rejected);
        Assert.Equal("instances[VI_2].virtual_router_id", r.Field);
        Assert.Contains("VRID 51 is used by VI_1 and VI_2", r.Reason);
    }

    [Fact]
    public void Map_RefusedMemberOfASyncGroup_RefusesTheGroup_OthersRun()
    {
        var a = Specs.Instance(100, "10.0.0.100/24", vrid: 51, name: "VI_A");
        var b = Specs.Instance(100, "10.0.1.100/24", vrid: 52, name: "VI_B");
        b.AuthType = AuthType.Ah;
        var alone = Specs.Instance(100, "10.0.2.100/24", vrid: 53, name: "VI_C");
        var c = Specs.Config(a, b, alone);
        c.SyncGroups.Add(new SyncGroupSpec { Name = "G1", Members = { "VI_A", "VI_B" } });
        var mapped = ConfigMapper.Map(c);
        Assert.Equal("VI_C", Assert.Single(mapped.Config.Instances).Name);
        Assert.Empty(mapped.Config.Groups);
        Assert.Equal(["VI_B", "VI_A"], mapped.Rejected.Select(r => r.Name));
        Assert.Equal("vrrp_sync_group G1 cannot run: its member VI_B is refused", mapped.Rejected[1].Reason);
    }

    [Fact]
    public void Response_ListsTheRefusedInstancesWithFieldAndReason()
    {
        var ah = Specs.Instance(100, "10.0.1.100/24", vrid: 52, name: "VI_AH");
        ah.AuthType = AuthType.Ah;
        var mapped = ConfigMapper.Map(Specs.Config(Specs.Instance(100, "10.0.0.100/24"), ah));
        var response = VrrpApi.Response(new Vigil.Vrrpd.Daemon.ApplyResult(["VI_1"], [], [], []), mapped.Rejected);
        Assert.Equal(["VI_1"], response.AddedInstances);
        var r = Assert.Single(response.RejectedInstances);
        Assert.Equal("VI_AH", r.Name);
        Assert.Equal("instances[VI_AH].auth_type", r.Field);
        Assert.Contains("AH is not supported", r.Reason);
    }
}
