using Vigil.Config.Model;

namespace Vigil.Config.Tests;

/// <summary>What of virtual_routes / virtual_rules vrrpd installs, and in which table.</summary>
public sealed class RoutingPartsTests
{
    private static IEnumerable<string>? RtTables(string path) => path == "/etc/iproute2/rt_tables"
        ? ["# reserved", "255\tlocal", "254 main", "100  vip_out", "#101 commented"]
        : null;

    [Theory]
    [InlineData("100", 100u)]
    [InlineData("0x10", 16u)]
    [InlineData("main", 254u)]
    [InlineData("local", 255u)]
    [InlineData("default", 253u)]
    [InlineData("vip_out", 100u)]
    [InlineData("commented", null)]
    [InlineData("nosuch", null)]
    public void TableNumber_NumbersReservedNamesAndRtTables(string table, uint? expected) =>
        Assert.Equal(expected, RoutingParts.TableNumber(table, RtTables));

    [Fact]
    public void UnsupportedParts_NamesWhatIsLeftOut()
    {
        var plain = new IpRoute { Destination = new IpPrefix(System.Net.IPAddress.Parse("10.1.0.0"), 16), Table = "vip_out" };
        Assert.Empty(RoutingParts.UnsupportedParts(plain, RtTables));
        var rich = plain with { Tos = "0x10", Table = "nosuch", Options = ["mtu 1400"], Type = "local" };
        Assert.Equal(["route type local (the whole route)", "tos", "table nosuch (unknown name: the main table is used)", "mtu"],
            RoutingParts.UnsupportedParts(rich, RtTables));
        Assert.False(RoutingParts.IsInstallable(rich));
        Assert.Equal(["l3mdev (the whole rule)"], RoutingParts.UnsupportedParts(new IpRule { Action = "l3mdev" }, RtTables));
    }
}
