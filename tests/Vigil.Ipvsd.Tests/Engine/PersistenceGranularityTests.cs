using System.Net.Sockets;
using Vigil.Ipvsd.Engine;

namespace Vigil.Ipvsd.Tests.Engine;

public sealed class PersistenceGranularityTests
{
    [Theory]
    [InlineData("255.255.255.0", AddressFamily.InterNetwork, 24)]
    [InlineData("255.255.255.255", AddressFamily.InterNetwork, 32)]
    [InlineData("255.255.128.0", AddressFamily.InterNetwork, 17)]
    [InlineData("16", AddressFamily.InterNetwork, 16)]
    // "0" reads as the address 0.0.0.0 (inet_aton, as keepalived reads it): every client one group.
    [InlineData("0", AddressFamily.InterNetwork, 0)]
    [InlineData("64", AddressFamily.InterNetworkV6, 64)]
    public void Parse_ReadsANetmaskOrAPrefixLength(string text, AddressFamily family, int prefix) =>
        Assert.Equal(prefix, PersistenceGranularity.Parse(text, family));

    [Theory]
    [InlineData("255.0.255.0", AddressFamily.InterNetwork)]
    [InlineData("33", AddressFamily.InterNetwork)]
    [InlineData("129", AddressFamily.InterNetworkV6)]
    [InlineData("ffff::", AddressFamily.InterNetworkV6)]
    [InlineData("wide", AddressFamily.InterNetwork)]
    public void Parse_RefusesWhatIsNeither(string text, AddressFamily family) =>
        Assert.Contains(text, Assert.Throws<FormatException>(() => PersistenceGranularity.Parse(text, family)).Message);

    [Fact]
    public void Parse_EmptyMeansOneClientAddress() => Assert.Null(PersistenceGranularity.Parse("", AddressFamily.InterNetwork));

    [Fact]
    public void Format_GivesBackWhatParseRead_ForEveryPrefix()
    {
        for (var p = 1; p <= 32; p++)
            Assert.Equal(p, PersistenceGranularity.Parse(PersistenceGranularity.Format(p, AddressFamily.InterNetwork), AddressFamily.InterNetwork));
        for (var p = 1; p <= 128; p++)
            Assert.Equal(p.ToString(System.Globalization.CultureInfo.InvariantCulture), PersistenceGranularity.Format(p, AddressFamily.InterNetworkV6));
        Assert.Equal("255.255.255.0", PersistenceGranularity.Format(24, AddressFamily.InterNetwork));
    }
}
