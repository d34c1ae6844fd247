using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Tests.Engine;

public sealed class TrackerAggregateTests
{
    [Fact]
    public void Compute_NegativeWeightScriptFailing_Subtracts() =>
        Assert.Equal((-2, 0), TrackerAggregate.Compute([new TrackedItem("chk", -2, Up: false)]));

    [Fact]
    public void Compute_NegativeWeightScriptOk_AddsNothing() =>
        Assert.Equal((0, 0), TrackerAggregate.Compute([new TrackedItem("chk", -2, Up: true)]));

    [Fact]
    public void Compute_PositiveWeightUp_Adds() =>
        Assert.Equal((10, 0), TrackerAggregate.Compute([new TrackedItem("eth1", 10, Up: true), new TrackedItem("eth2", 5, Up: false)]));

    [Fact]
    public void Compute_WeightZeroDown_Faults() =>
        Assert.Equal((0, 1), TrackerAggregate.Compute([new TrackedItem("eth1", 0, Up: false)]));

    [Fact]
    public void Compute_WeightZeroReversedUp_Faults() =>
        Assert.Equal((0, 1), TrackerAggregate.Compute([new TrackedItem("maint", 0, Reverse: true, Up: true)]));

    [Fact]
    public void Compute_ReversedPositiveWeightUp_Subtracts() =>
        Assert.Equal((-10, 0), TrackerAggregate.Compute([new TrackedItem("x", 10, Reverse: true, Up: true)]));

    [Theory]
    [InlineData(3L, 5, 15, 0)]
    [InlineData(100L, 5, 253, 0)]  // capped at 253
    [InlineData(-60L, 5, 0, 1)]    // -300 <= -254: fault
    [InlineData(0L, 0, 0, 0)]      // weight 0, value 0: fine
    [InlineData(7L, 0, 0, 1)]      // weight 0, non-zero value: fault
    public void Compute_TrackedFile_ValueTimesWeight(long value, int weight, int sum, int faults) =>
        Assert.Equal((sum, faults), TrackerAggregate.Compute([new TrackedItem("f", weight, FileValue: value)]));
}
