using System.Net;
using System.Net.Sockets;
using Vigil.Netlink.Route;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Tests.Route;

public sealed class RouteMessagesTests
{
    private static readonly InterfaceRef Eth0 = InterfaceRef.FromName("eth0").WithIndex(3);

    private static ReadOnlySpan<byte> Payload(NetlinkMessageBuilder m) => m.ToArray().AsSpan(NetlinkHeader.Size);

    [Fact]
    public void EncodeAddress_ThenDecode_SameAddress()
    {
        var a = new InterfaceAddress
        {
            Interface = Eth0,
            Address = IPPrefix.Parse("10.1.2.3/24"),
            Broadcast = IPAddress.Parse("10.1.2.255"),
            Scope = AddressScope.Link,
            Label = "eth0:vip",
            Flags = AddressFlags.NoPrefixRoute,
            ValidLifetime = TimeSpan.FromSeconds(300),
            PreferredLifetime = TimeSpan.FromSeconds(100),
        };
        var back = RouteMessages.DecodeAddress(Payload(RouteMessages.EncodeAddress(a, delete: false)));
        Assert.Equal(a with { Interface = InterfaceRef.FromIndex(3) }, back);
    }

    [Fact]
    public void EncodeAddress_PeerDecodesAsPeer()
    {
        var a = new InterfaceAddress { Interface = Eth0, Address = IPPrefix.Parse("10.4.0.1/32"), Peer = IPAddress.Parse("10.4.0.2") };
        var back = RouteMessages.DecodeAddress(Payload(RouteMessages.EncodeAddress(a, false)));
        Assert.Equal(IPAddress.Parse("10.4.0.2"), back.Peer);
        Assert.Equal(IPPrefix.Parse("10.4.0.1/32"), back.Address);
    }

    [Fact]
    public void EncodeAddress_OnlyValidLifetime_PreferredEqualsValid()
    {
        var a = new InterfaceAddress { Interface = Eth0, Address = IPPrefix.Parse("10.1.2.3/24"), ValidLifetime = TimeSpan.FromSeconds(60) };
        var back = RouteMessages.DecodeAddress(Payload(RouteMessages.EncodeAddress(a, false)));
        Assert.Equal(TimeSpan.FromSeconds(60), back.PreferredLifetime);
    }

    [Fact]
    public void EncodeAddress_InvalidRequests_ArgumentErrors()
    {
        var baseAddr = new InterfaceAddress { Interface = Eth0, Address = IPPrefix.Parse("10.1.2.3/24") };
        Assert.Contains("not the same family", Assert.Throws<ArgumentException>(() => RouteMessages.EncodeAddress(baseAddr with { Peer = IPAddress.Parse("::1") }, false)).Message);
        Assert.Contains("only for IPv4", Assert.Throws<ArgumentException>(() => RouteMessages.EncodeAddress(baseAddr with { Address = IPPrefix.Parse("2001:db8::1/64"), Broadcast = IPAddress.Parse("10.0.0.255") }, false)).Message);
        Assert.Contains("label", Assert.Throws<ArgumentException>(() => RouteMessages.EncodeAddress(baseAddr with { Label = "eth0:muchtoolonglabel" }, false)).Message);
        Assert.Contains("preferred lifetime", Assert.Throws<ArgumentException>(() => RouteMessages.EncodeAddress(baseAddr with { ValidLifetime = TimeSpan.FromSeconds(5), PreferredLifetime = TimeSpan.FromSeconds(10) }, false)).Message);
        Assert.Contains("resolve it first", Assert.Throws<InvalidOperationException>(() => RouteMessages.EncodeAddress(baseAddr with { Interface = "eth0" }, false)).Message);
    }

    [Fact]
    public void EncodeRoute_ThenDecode_SameRoute()
    {
        var r = new Vigil.Netlink.Route.Route
        {
            Destination = IPPrefix.Parse("10.20.0.0/16"),
            Gateway = IPAddress.Parse("10.1.2.1"),
            Interface = Eth0,
            PreferredSource = IPAddress.Parse("10.1.2.3"),
            Table = 5000,
            Metric = 10,
            Scope = AddressScope.Global,
            Protocol = RouteProtocol.Keepalived,
            Type = RouteType.Unicast,
            OnLink = true,
        };
        var back = RouteMessages.DecodeRoute(Payload(RouteMessages.EncodeRoute(r, false)));
        Assert.Equal(r.ToString().Replace("dev eth0", "dev if3"), back.ToString());
        Assert.Equal(5000u, back.Table);
    }

    [Fact]
    public void EncodeRoute_Multipath_WeightsRoundTrip()
    {
        var r = new Vigil.Netlink.Route.Route
        {
            Destination = IPPrefix.Parse("2001:db8::/32"),
            NextHops = [new() { Gateway = IPAddress.Parse("fe80::1"), Interface = Eth0, Weight = 256 }, new() { Interface = Eth0, OnLink = true }],
        };
        var back = RouteMessages.DecodeRoute(Payload(RouteMessages.EncodeRoute(r, false)));
        Assert.Equal([256, 1], back.NextHops.Select(h => h.Weight));
        Assert.Equal(IPAddress.Parse("fe80::1"), back.NextHops[0].Gateway);
        Assert.Null(back.NextHops[1].Gateway);
        Assert.True(back.NextHops[1].OnLink);
        Assert.Throws<ArgumentException>(() => RouteMessages.EncodeRoute(r with { NextHops = [new() { Interface = Eth0, Weight = 0 }] }, false));
    }

    [Fact]
    public void EncodeRule_ThenDecode_SameRule()
    {
        var rule = new RoutingRule
        {
            Priority = 100,
            From = IPPrefix.Parse("10.1.0.0/16"),
            To = IPPrefix.Parse("10.2.0.0/16"),
            InputInterface = "eth0",
            OutputInterface = "eth1",
            FirewallMark = 7,
            FirewallMask = 0xff,
            Table = 70000,
            Action = RuleAction.ToTable,
            Invert = true,
            Tos = 0x10,
            Protocol = RouteProtocol.Keepalived,
            SuppressPrefixLength = 0,
        };
        var back = RouteMessages.DecodeRule(Payload(RouteMessages.EncodeRule(rule, false)));
        Assert.Equal(rule, back);
        Assert.Equal("100: not from 10.1.0.0/16 to 10.2.0.0/16 tos 0x10 fwmark 0x7/0xff iif eth0 oif eth1 lookup 70000 suppress_prefixlength 0 proto keepalived", rule.ToString());
    }

    [Fact]
    public void DecodeRoute_WrongFamily_Rejected()
    {
        var bytes = new byte[RtMsg.Size];
        new RtMsg(28, 0, 0, 0, 254, 0, 0, 1, 0).Write(bytes); // RTNL_FAMILY_IPMR
        Assert.Contains("neither AF_INET nor AF_INET6", Assert.Throws<NetlinkDecodeException>(() => RouteMessages.DecodeRoute(bytes)).Reason);
    }

    [Fact]
    public void DecodeAddress_AddressOfWrongSizeForFamily_Rejected()
    {
        var m = new NetlinkMessageBuilder(20, 0);
        new IfAddrMsg(2, 24, 0, 0, 3).Write(m.Append(IfAddrMsg.Size));
        m.AddAddress(2, IPAddress.Parse("2001:db8::1"));
        Assert.Equal("IFA_LOCAL: address of 16 bytes, expected 4", Assert.Throws<NetlinkDecodeException>(() => RouteMessages.DecodeAddress(Payload(m))).Reason);
    }

    [Fact]
    public void RequestToString_IpSyntax()
    {
        Assert.Equal("10.0.0.5/24 brd + dev eth0 label eth0:vip",
            new InterfaceAddress { Interface = "eth0", Address = IPPrefix.Parse("10.0.0.5/24"), AutoBroadcast = true, Label = "eth0:vip" }.ToString());
        Assert.Equal("blackhole 10.23.0.0/16 table 1000", new Vigil.Netlink.Route.Route { Destination = IPPrefix.Parse("10.23.0.0/16"), Type = RouteType.Blackhole, Table = 1000 }.ToString());
        Assert.Equal("default via 10.0.0.1 dev eth0", new Vigil.Netlink.Route.Route { Destination = IPPrefix.Default(AddressFamily.InterNetwork), Gateway = IPAddress.Parse("10.0.0.1"), Interface = "eth0" }.ToString());
        Assert.Equal("109: from all goto 200", new RoutingRule { Priority = 109, GotoPriority = 200 }.ToString());
        Assert.Equal("from all blackhole", new RoutingRule { Action = RuleAction.Blackhole }.ToString());
        Assert.Equal("vrrp.7 link eth0 type macvlan mode private address 00:00:5e:00:01:07",
            new MacvlanLink { Name = "vrrp.7", Parent = "eth0", Address = MacvlanLink.VrrpMac(7) }.ToString());
        Assert.Equal("00:00:5e:00:02:ff", Link.MacText(MacvlanLink.VrrpMac(255, ipv6: true)));
    }
}
