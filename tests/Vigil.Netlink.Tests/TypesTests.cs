using System.Net;

namespace Vigil.Netlink.Tests;

public sealed class TypesTests
{
    [Theory]
    [InlineData("10.0.0.5/24", "10.0.0.5", 24)]
    [InlineData("10.0.0.5", "10.0.0.5", 32)]
    [InlineData("2001:db8::1/64", "2001:db8::1", 64)]
    [InlineData("::/0", "::", 0)]
    public void IPPrefixParse_Valid_AddressAndLength(string text, string address, int length)
    {
        var p = IPPrefix.Parse(text);
        Assert.Equal(IPAddress.Parse(address), p.Address);
        Assert.Equal(length, p.PrefixLength);
        Assert.Equal($"{address}/{length}", p.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.5/33")]
    [InlineData("10.0.0.5/-1")]
    [InlineData("10.0.0/24")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("eth0")]
    [InlineData("10.0.0.5/ 24")]
    public void IPPrefixParse_Invalid_FormatException(string text)
    {
        Assert.False(IPPrefix.TryParse(text, out _));
        Assert.Throws<FormatException>(() => IPPrefix.Parse(text));
    }

    [Theory]
    [InlineData("10.1.2.3/24", "10.1.2.0/24", "10.1.2.255")]
    [InlineData("10.9.0.1/16", "10.9.0.0/16", "10.9.255.255")]
    [InlineData("10.3.0.0/31", "10.3.0.0/31", null)]
    [InlineData("10.3.1.1/32", "10.3.1.1/32", null)]
    [InlineData("192.168.1.129/25", "192.168.1.128/25", "192.168.1.255")]
    [InlineData("2001:db8::1/64", "2001:db8::/64", null)]
    public void IPPrefix_NetworkAndBroadcast(string text, string network, string? broadcast)
    {
        var p = IPPrefix.Parse(text);
        Assert.Equal(network, p.Network.ToString());
        Assert.Equal(broadcast, p.Broadcast?.ToString());
        Assert.True(p.Contains(p.Address));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("eth0:vip")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("with space")]
    public void InterfaceRef_BadName_Rejected(string name)
    {
        Assert.Throws<ArgumentException>(() => InterfaceRef.FromName(name));
    }

    [Fact]
    public void InterfaceRef_Conversions()
    {
        InterfaceRef byName = "eth0";
        InterfaceRef byIndex = 4;
        Assert.False(byName.HasIndex);
        Assert.Equal("eth0", byName.ToString());
        Assert.Equal("if4", byIndex.ToString());
        Assert.Equal("eth0", byName.WithIndex(3).ToString());
        Assert.Equal(3, byName.WithIndex(3).RequireIndex());
        Assert.Throws<ArgumentOutOfRangeException>(() => InterfaceRef.FromIndex(0));
    }

    [Fact]
    public void NetworkNamespace_Named_PathUnderVarRunNetns()
    {
        Assert.Equal("/var/run/netns/blue", NetworkNamespace.Named("blue").Path);
        Assert.True(NetworkNamespace.Current.IsCurrent);
        Assert.Throws<ArgumentException>(() => NetworkNamespace.Named("../etc"));
    }
}
