using System.Net;
using System.Net.Sockets;
using Vigil.Check.V1;
using Vigil.Ipvsd.Engine;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Tests.Engine;

public sealed class TargetBuilderTests
{
    private static readonly Dictionary<string, DestinationSet> NoSets = new();

    [Fact]
    public void Build_AddressService_AsKeepalivedProgramsIt()
    {
        var target = TargetBuilder.Build(Configs.Ipvs(Configs.Web), NoSets);
        var entry = Assert.Single(target.Entries);
        Assert.Equal("TCP  10.0.0.1:80 wrr", entry.Service.ToString());
        Assert.Equal(["-> 10.0.1.2:80 Masq 3", "-> 10.0.1.3:80 Masq 1"], entry.Destinations.Select(d => d.ToString()));
        Assert.Equal((100u, 10u), (entry.Destinations[1].UpperThreshold, entry.Destinations[1].LowerThreshold));
        Assert.Equal("[10.0.0.1]:tcp:80", target.Owners[entry.Service.Key]);
    }

    [Fact]
    public void Build_CheckdSet_ReplacesConfiguredServers()
    {
        var config = Configs.Ipvs(Configs.Web);
        var sets = new Dictionary<string, DestinationSet> { [TargetBuilder.KeyText(Configs.Key("10.0.0.1", 80))] = Configs.Set(Configs.Key("10.0.0.1", 80), ("10.0.1.3", 80, 0)) };
        var entry = Assert.Single(TargetBuilder.Build(config, sets).Entries);
        var d = Assert.Single(entry.Destinations);
        Assert.Equal("-> 10.0.1.3:80 Masq 0", d.ToString());
        Assert.Equal(100u, d.UpperThreshold);
    }

    [Fact]
    public void Build_AlphaServers_WaitForCheckd()
    {
        var config = Configs.Ipvs(Configs.Web.Replace("weight 3", "weight 3\n alpha"));
        var entry = Assert.Single(TargetBuilder.Build(config, NoSets).Entries);
        Assert.Equal(["-> 10.0.1.3:80 Masq 1"], entry.Destinations.Select(d => d.ToString()));
    }

    [Fact]
    public void Build_GroupWithRangeAndFwmark_OneServiceEach()
    {
        var config = Configs.Ipvs("""
            virtual_server_group web {
                10.0.0.1-3 80
                fwmark 7
            }
            virtual_server group web {
                protocol TCP
                lb_algo rr
                lb_kind DR
                persistence_timeout 600
                persistence_granularity 255.255.255.0
                real_server 10.0.1.2 80 { weight 2 }
            }
            """);
        var target = TargetBuilder.Build(config, NoSets);
        Assert.Equal(["TCP  10.0.0.1:80 rr persistent 600", "TCP  10.0.0.2:80 rr persistent 600", "TCP  10.0.0.3:80 rr persistent 600",
            "FWM  7 rr persistent 600"], target.Entries.Select(e => e.Service.ToString()));
        Assert.All(target.Entries, e => Assert.Equal("-> 10.0.1.2:80 Route 2", Assert.Single(e.Destinations).ToString()));
        Assert.Equal(24, target.Entries[0].Service.PersistenceNetmask);
        Assert.All(target.Entries, e => Assert.Null(e.Destinations[0].Family));
    }

    [Fact]
    public void Build_SchedulerFlagsTunnelAndUdp()
    {
        var config = Configs.Ipvs("""
            virtual_server 10.0.0.1 53 {
                protocol UDP
                lvs_sched sh
                sh-port
                sh-fallback
                ops
                real_server 10.0.1.2 53 {
                    lvs_method TUN type gue port 6080 csum
                }
            }
            """);
        var e = Assert.Single(TargetBuilder.Build(config, NoSets).Entries);
        Assert.Equal(IpvsProtocol.Udp, e.Service.Protocol);
        Assert.Equal(IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort | IpvsServiceFlags.OnePacket, e.Service.Flags);
        var d = Assert.Single(e.Destinations);
        Assert.Equal((IpvsForwardingMethod.Tunnel, IpvsTunnelType.Gue, (ushort)6080, IpvsTunnelFlags.Checksum), (d.ForwardingMethod, d.TunnelType, d.TunnelPort, d.TunnelFlags));
    }

    [Fact]
    public void Build_SorryServer_TakesItsOwnForwarding()
    {
        var config = Configs.Ipvs(Configs.Web.Replace("protocol TCP", "protocol TCP\n sorry_server 10.0.9.9 8080\n sorry_server_lvs_method DR"));
        var set = Configs.Set(Configs.Key("10.0.0.1", 80));
        set.Destinations.Add(new Destination { Endpoint = new Endpoint { Address = "10.0.9.9", Port = 8080 }, Weight = 1, Role = DestinationRole.SorryServer });
        var e = Assert.Single(TargetBuilder.Build(config, new Dictionary<string, DestinationSet> { [TargetBuilder.KeyText(set.Key)] = set }).Entries);
        Assert.Equal("-> 10.0.9.9:8080 Route 1", Assert.Single(e.Destinations).ToString());
    }

    [Fact]
    public void Build_BackendCannot_RefusesThatVirtualServerOnly()
    {
        var config = Configs.Ipvs(Configs.Web + Configs.Web.Replace("10.0.0.1 80", "10.0.0.2 80").Replace("lb_kind NAT", "lb_kind DR"));
        var backend = new MemoryBackend(cannot: (_, d) => d?.ForwardingMethod == IpvsForwardingMethod.DirectRoute ? "lb_kind DR needs IPVS" : null);
        var target = TargetBuilder.Build(config, NoSets, backend);
        Assert.Equal("TCP  10.0.0.1:80 wrr", Assert.Single(target.Entries).Service.ToString());
        Assert.Equal("virtual_server [10.0.0.2]:tcp:80: lb_kind DR needs IPVS", Assert.Single(target.Refused));
    }

    [Fact]
    public void Validate_MalformedEntries_NameVirtualServerAndField()
    {
        var config = Configs.Ipvs(Configs.Web);
        config.VirtualServers[0].RealServers[0].Endpoint.Address = "10.0.1.x";
        config.VirtualServers[0].RealServers[1].Weight = -1;
        config.VirtualServers[0].PersistenceGranularity = "255.0.255.0";
        var e = Assert.Throws<IpvsConfigException>(() => TargetBuilder.Validate(config));
        Assert.True(e.Errors.Count == 3, string.Join("\n", e.Errors));
        Assert.Contains("virtual_server [10.0.0.1]:tcp:80: real_server 10.0.1.x: endpoint.address: not an IP address", e.Errors);
        Assert.Contains("virtual_server [10.0.0.1]:tcp:80: real_server 10.0.1.3: weight: -1 is negative", e.Errors);
        Assert.Contains("virtual_server [10.0.0.1]:tcp:80: persistence_granularity: \"255.0.255.0\" is not a netmask or prefix length", e.Errors);
    }

    [Fact]
    public void Validate_HugeGroupRange_IsAnErrorNotAHang()
    {
        var config = Configs.Ipvs("virtual_server_group g { 10.0.0.1 80 }\nvirtual_server group g { protocol TCP\n real_server 10.0.1.2 80 { } }");
        config.VirtualServers[0].GroupEntries[0].Last = "10.255.255.255";
        var e = Assert.Throws<IpvsConfigException>(() => TargetBuilder.Validate(config));
        Assert.Contains($"more than {TargetBuilder.MaxServicesPerGroup} services", e.Message);
    }

    [Fact]
    public void Validate_Ipv6Service_KeepsFamilies()
    {
        var config = Configs.Ipvs("virtual_server fd00::1 443 { lb_algo mh\n mh-port\n real_server fd00::2 443 { } }");
        var e = Assert.Single(TargetBuilder.Build(config, NoSets).Entries);
        Assert.Equal((AddressFamily.InterNetworkV6, IPAddress.Parse("fd00::1"), IpvsServiceFlags.MhPort), (e.Service.Family, e.Service.Address, e.Service.Flags));
        Assert.Null(Assert.Single(e.Destinations).Family);
    }
}
