using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

public sealed class VrrpTimingTests
{
    [Theory]
    // VRRPv2: (256 - p) / 256 s, independent of the interval.
    [InlineData(100, 1_000_000, 609_375)]
    [InlineData(150, 1_000_000, 414_062)] // 106/256 s = 414062.5 us, truncated
    [InlineData(254, 3_000_000, 7_812)]   // 2/256 s = 7812.5 us
    [InlineData(255, 1_000_000, 3_906)]
    [InlineData(1, 1_000_000, 996_093)]
    public void SkewMicros_V2_IsTwoFiftySixthsOfASecond(byte priority, long interval, long expected) =>
        Assert.Equal(expected, VrrpTiming.SkewMicrosFor(VrrpVersion.V2, priority, interval));

    [Theory]
    // VRRPv3: (256 - p) x interval(cs) x 625 / 16 us, truncated like keepalived.
    [InlineData(100, 100, 609_375)]
    [InlineData(254, 1, 78)]          // 2 x 1 x 625 / 16 = 78.125
    [InlineData(200, 50, 109_375)]    // 56 x 50 x 625 / 16
    [InlineData(1, 4095, 40_790_039)] // 255 x 4095 x 625 / 16 = 40790039.06
    [InlineData(150, 333, 1_378_828)] // 106 x 333 x 625 / 16 = 1378828.125
    public void SkewMicros_V3_ScalesWithMasterAdverInterval(byte priority, int centis, long expected) =>
        Assert.Equal(expected, VrrpTiming.SkewMicrosFor(VrrpVersion.V3, priority, centis * 10_000L));

    [Fact]
    public void MasterDownMicros_V2Priority100_IsThreeIntervalsPlusSkew() =>
        Assert.Equal(3_609_375, VrrpTiming.MasterDownMicros(VrrpVersion.V2, 100, 1_000_000, 3));

    [Fact]
    public void MasterDownMicros_DownTimerAdvertsFive_UsesFive() =>
        Assert.Equal(5 * 2_000_000 + 609_375, VrrpTiming.MasterDownMicros(VrrpVersion.V2, 100, 2_000_000, 5));

    [Fact]
    public void MasterDownMicros_V3FiftyCentiseconds_Exact() =>
        Assert.Equal(3 * 500_000 + 304_687, VrrpTiming.MasterDownMicros(VrrpVersion.V3, 100, 500_000, 3));

    [Fact]
    public void FromMicros_RoundTripsExactly() =>
        Assert.Equal(3_609_375, VrrpTiming.ToMicros(VrrpTiming.FromMicros(3_609_375)));
}
