using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Tests.Policy;

public sealed class CheckerPolicyTests
{
    private static readonly TimeSpan DelayLoop = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Dbr = TimeSpan.FromSeconds(1);

    private static CheckerTiming Timing(int retry = 2, bool alpha = false, TimeSpan? dbr = null) =>
        new(DelayLoop, DelayLoop, retry, dbr ?? Dbr, TimeSpan.FromSeconds(1), alpha, false);

    private static ProbeResult Ok => ProbeResult.Ok("ok", TimeSpan.Zero);
    private static ProbeResult Bad => ProbeResult.Fail("refused", TimeSpan.Zero);

    [Fact]
    public void Initial_NonAlpha_UpWithRetriesUsedUp()
    {
        var s = CheckerState.Initial(Timing(retry: 3));

        Assert.True(s.Up);
        Assert.False(s.HasRun);
        Assert.Equal(3, s.RetryCount);
    }

    [Fact]
    public void OnResult_FirstResultFailure_DownAtOnce()
    {
        var d = CheckerPolicy.OnResult(CheckerState.Initial(Timing()), Bad, Timing());

        Assert.Equal(CheckerTransition.Down, d.Transition);
        Assert.False(d.State.Up);
        Assert.Equal(DelayLoop, d.NextDelay);
    }

    [Fact]
    public void OnResult_FirstResultSuccess_ConfirmsWithoutTransition()
    {
        var d = CheckerPolicy.OnResult(CheckerState.Initial(Timing()), Ok, Timing());

        Assert.Equal(CheckerTransition.None, d.Transition);
        Assert.True(d.FirstResultConfirmed);
        Assert.True(d.State.HasRun);
        Assert.Equal(0, d.State.RetryCount);
    }

    [Fact]
    public void OnResult_UpThenFailing_RetriesThenDownOnRetryPlusOneFailure()
    {
        var timing = Timing(retry: 2);
        var s = CheckerPolicy.OnResult(CheckerState.Initial(timing), Ok, timing).State;

        var f1 = CheckerPolicy.OnResult(s, Bad, timing);
        Assert.Equal(CheckerTransition.None, f1.Transition);
        Assert.Equal(Dbr, f1.NextDelay);
        Assert.True(f1.RetryScheduled);
        var f2 = CheckerPolicy.OnResult(f1.State, Bad, timing);
        Assert.Equal(CheckerTransition.None, f2.Transition);
        Assert.Equal(Dbr, f2.NextDelay);
        var f3 = CheckerPolicy.OnResult(f2.State, Bad, timing);
        Assert.Equal(CheckerTransition.Down, f3.Transition);
        Assert.Equal(DelayLoop, f3.NextDelay);

        var f4 = CheckerPolicy.OnResult(f3.State, Bad, timing);
        Assert.Equal(CheckerTransition.None, f4.Transition);
        Assert.Equal(DelayLoop, f4.NextDelay);
        var up = CheckerPolicy.OnResult(f4.State, Ok, timing);
        Assert.Equal(CheckerTransition.Up, up.Transition);
        Assert.Equal(DelayLoop, up.NextDelay);
    }

    [Fact]
    public void OnResult_SuccessDuringRetries_ResetsTheCount()
    {
        var timing = Timing(retry: 1);
        var s = CheckerPolicy.OnResult(CheckerState.Initial(timing), Ok, timing).State;
        s = CheckerPolicy.OnResult(s, Bad, timing).State;
        s = CheckerPolicy.OnResult(s, Ok, timing).State;

        var again = CheckerPolicy.OnResult(s, Bad, timing);

        Assert.Equal(CheckerTransition.None, again.Transition);
        Assert.Equal(1, again.State.RetryCount);
    }

    [Fact]
    public void OnResult_RetryZero_DownOnFirstFailure()
    {
        var timing = Timing(retry: 0);
        var s = CheckerPolicy.OnResult(CheckerState.Initial(timing), Ok, timing).State;

        Assert.Equal(CheckerTransition.Down, CheckerPolicy.OnResult(s, Bad, timing).Transition);
    }

    [Fact]
    public void OnResult_AlphaFirstSuccess_Up()
    {
        var timing = Timing(alpha: true);
        var s = CheckerState.Initial(timing);
        Assert.False(s.Up);

        Assert.Equal(CheckerTransition.Up, CheckerPolicy.OnResult(s, Ok, timing).Transition);
    }

    [Fact]
    public void OnResult_AlphaFirstFailure_ConfirmedDown()
    {
        var timing = Timing(alpha: true);

        var d = CheckerPolicy.OnResult(CheckerState.Initial(timing), Bad, timing);

        Assert.Equal(CheckerTransition.None, d.Transition);
        Assert.True(d.FirstResultConfirmed);
        Assert.False(d.State.Up);
    }

    [Fact]
    public void OnResult_LocalError_NotCountedAndRescheduledAfterDelayLoop()
    {
        var timing = Timing();
        var s = CheckerPolicy.OnResult(CheckerState.Initial(timing), Ok, timing).State;

        var d = CheckerPolicy.OnResult(s, ProbeResult.Local("bind failed", TimeSpan.Zero), timing);

        Assert.Equal(s, d.State);
        Assert.Equal(DelayLoop, d.NextDelay);
    }

    [Fact]
    public void OnHttpResult_ThreeUrls_OnePerDelayLoopAndBackToFirst()
    {
        var timing = Timing(retry: 1, dbr: TimeSpan.FromSeconds(3));
        var s = CheckerState.Initial(timing);
        var steps = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            steps.Add(s.UrlIndex);
            var d = CheckerPolicy.OnHttpResult(s, Ok, 3, timing, fastRecovery: false);
            Assert.Equal(DelayLoop, d.NextDelay);
            s = d.State;
        }

        Assert.Equal([0, 1, 2, 0], steps);
        Assert.True(s.HasRun);
    }

    [Fact]
    public void OnHttpResult_FailingUrl_RetriedThenDownThenRecoveryWalksAllUrls()
    {
        var timing = Timing(retry: 1, dbr: TimeSpan.FromSeconds(3));
        var s = CheckerState.Initial(timing);
        s = CheckerPolicy.OnHttpResult(s, Ok, 2, timing, false).State; // url 0
        s = CheckerPolicy.OnHttpResult(s, Ok, 2, timing, false).State; // url 1: all passed
        s = CheckerPolicy.OnHttpResult(s, Ok, 2, timing, false).State; // url 0
        Assert.Equal(1, s.UrlIndex);

        var f1 = CheckerPolicy.OnHttpResult(s, Bad, 2, timing, false);
        Assert.Equal(CheckerTransition.None, f1.Transition);
        Assert.Equal(TimeSpan.FromSeconds(3), f1.NextDelay);
        Assert.Equal(1, f1.State.UrlIndex);
        var f2 = CheckerPolicy.OnHttpResult(f1.State, Bad, 2, timing, false);
        Assert.Equal(CheckerTransition.Down, f2.Transition);
        Assert.Equal(1, f2.State.FailedUrl);
        Assert.Equal(DelayLoop, f2.NextDelay); // max(delay_before_retry, delay_loop)

        var stillDown = CheckerPolicy.OnHttpResult(f2.State, Bad, 2, timing, false);
        Assert.Equal(CheckerTransition.None, stillDown.Transition);
        Assert.Equal(1, stillDown.State.UrlIndex);

        // The failed URL passes: walk all URLs again; up after the last one.
        var r1 = CheckerPolicy.OnHttpResult(stillDown.State, Ok, 2, timing, false);
        Assert.Equal(CheckerTransition.None, r1.Transition);
        Assert.Null(r1.State.FailedUrl);
        Assert.Equal(0, r1.State.UrlIndex);
        var r2 = CheckerPolicy.OnHttpResult(r1.State, Ok, 2, timing, false);
        Assert.Equal(CheckerTransition.None, r2.Transition);
        var r3 = CheckerPolicy.OnHttpResult(r2.State, Ok, 2, timing, false);
        Assert.Equal(CheckerTransition.Up, r3.Transition);
        Assert.Equal(0, r3.State.UrlIndex);
    }

    [Fact]
    public void OnHttpResult_FastRecovery_NoDelayWhileRecovering()
    {
        var timing = Timing(retry: 0);
        var s = CheckerState.Initial(timing);
        var down = CheckerPolicy.OnHttpResult(s, Bad, 2, timing, fastRecovery: true);
        Assert.Equal(CheckerTransition.Down, down.Transition);

        var failedPasses = CheckerPolicy.OnHttpResult(down.State, Ok, 2, timing, fastRecovery: true);
        Assert.Equal(TimeSpan.Zero, failedPasses.NextDelay);
        var url0 = CheckerPolicy.OnHttpResult(failedPasses.State, Ok, 2, timing, fastRecovery: true);
        Assert.Equal(TimeSpan.Zero, url0.NextDelay);
        var url1 = CheckerPolicy.OnHttpResult(url0.State, Ok, 2, timing, fastRecovery: true);
        Assert.Equal(CheckerTransition.Up, url1.Transition);
        Assert.Equal(DelayLoop, url1.NextDelay);
    }

    [Fact]
    public void OnMiscResult_Dynamic_WeightFollowsExitStatus()
    {
        var timing = Timing(retry: 0);
        var s = CheckerState.Initial(timing);

        var d10 = CheckerPolicy.OnMiscResult(s, Exit(12, true), dynamic: true, timing);
        Assert.Equal(10, d10.State.DynamicWeight);
        Assert.True(d10.WeightChanged);
        Assert.True(d10.DelayFromRunStart);
        var same = CheckerPolicy.OnMiscResult(d10.State, Exit(12, true), dynamic: true, timing);
        Assert.False(same.WeightChanged);
        var zero = CheckerPolicy.OnMiscResult(same.State, Exit(0, true), dynamic: true, timing);
        Assert.Null(zero.State.DynamicWeight);
        Assert.True(zero.WeightChanged);
        var down = CheckerPolicy.OnMiscResult(d10.State, Exit(1, false), dynamic: true, timing);
        Assert.Equal(CheckerTransition.Down, down.Transition);
        Assert.Null(down.State.DynamicWeight);
    }

    [Fact]
    public void OnMiscResult_Retries_DelayBeforeRetryFromRunStart()
    {
        var timing = Timing(retry: 2);
        var s = CheckerPolicy.OnMiscResult(CheckerState.Initial(timing), Exit(0, true), false, timing).State;

        var f1 = CheckerPolicy.OnMiscResult(s, Exit(1, false), false, timing);
        Assert.Equal(Dbr, f1.NextDelay);
        var f2 = CheckerPolicy.OnMiscResult(f1.State, Exit(1, false), false, timing);
        Assert.Equal(Dbr, f2.NextDelay);
        var f3 = CheckerPolicy.OnMiscResult(f2.State, Exit(1, false), false, timing);
        Assert.Equal(CheckerTransition.Down, f3.Transition);
        Assert.Equal(DelayLoop, f3.NextDelay);
    }

    [Theory]
    [InlineData(0, 1, false, false, 0)]
    [InlineData(5, 1, false, false, 5)]
    [InlineData(5, 3, true, false, -15)]
    [InlineData(1, 0, false, true, 0)]
    [InlineData(0, 0, false, false, 0)]
    [InlineData(0, 0, true, true, 0)]
    [InlineData(7, 0, true, false, 0)]
    [InlineData(int.MinValue, 1, false, true, 0)]
    public void FileStatus_KeepalivedRules(long value, int weight, bool reverse, bool fault, long contribution)
    {
        Assert.Equal((fault, contribution), CheckerPolicy.FileStatus(value, weight, reverse));
    }

    [Fact]
    public void OnFileValue_FaultAndRecovery_Transitions()
    {
        var timing = Timing();
        var s = CheckerState.Initial(timing);
        var fault = CheckerPolicy.OnFileValue(s, new ProbeResult(ProbeOutcome.Success, "", TimeSpan.Zero) { Value = 3 }, 0, false, timing);
        Assert.Equal(CheckerTransition.Down, fault.Transition);
        var back = CheckerPolicy.OnFileValue(fault.State, new ProbeResult(ProbeOutcome.Success, "", TimeSpan.Zero) { Value = 0 }, 0, false, timing);
        Assert.Equal(CheckerTransition.Up, back.Transition);
        var weighted = CheckerPolicy.OnFileValue(back.State, new ProbeResult(ProbeOutcome.Success, "", TimeSpan.Zero) { Value = 4 }, 2, false, timing);
        Assert.Equal(8, weighted.State.FileWeight);
        Assert.True(weighted.WeightChanged);
    }

    private static ProbeResult Exit(int status, bool success) =>
        new(success ? ProbeOutcome.Success : ProbeOutcome.Failure, $"status {status}", TimeSpan.Zero) { ExitStatus = status };
}
