using Microsoft.Extensions.Time.Testing;
using Vigil.Controld.Supervisor;

namespace Vigil.Controld.Tests.Supervisor;

/// <summary>controld --supervise systemd: when it asks systemd to restart a unit, on a virtual clock.</summary>
public sealed class UnitRestartPolicyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _time = new();
    private readonly UnitRestartPolicy _policy;

    public UnitRestartPolicyTests() => _policy = new UnitRestartPolicy(Timeout, _time);

    private static UnitStatus Active => new(UnitActiveState.Active, "running", 42);
    private static UnitStatus Failed => new(UnitActiveState.Failed, "failed", 0);

    private static Unhealthy Silent(double seconds) => new(TimeSpan.FromSeconds(seconds), "has not answered health checks");

    [Fact]
    public void Decide_Serving_Nothing()
    {
        Assert.IsType<UnitDecision.Nothing>(_policy.Decide(null, null));
        Assert.IsType<UnitDecision.Nothing>(_policy.Decide(Active, null));
    }

    [Fact]
    public void Decide_ActiveSilentLessThanTimeout_Waits()
    {
        var d = Assert.IsType<UnitDecision.Wait>(_policy.Decide(Active, Silent(2.9)));
        Assert.Contains("limit 3 s", d.Reason);
    }

    [Fact]
    public void Decide_ActiveSilentPastTimeout_RestartNamingTheReason()
    {
        var d = Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, Silent(3.2)));
        Assert.Equal("has not answered health checks for 3.2 s (limit 3 s) while the unit is active (running)", d.Reason);
    }

    [Fact]
    public void Decide_ActiveNotServingPastTimeout_Restart()
    {
        var d = Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, new Unhealthy(TimeSpan.FromSeconds(4), "has reported NOT_SERVING")));
        Assert.StartsWith("has reported NOT_SERVING for 4.0 s", d.Reason);
    }

    [Theory]
    [InlineData(UnitActiveState.Activating, "auto-restart")]
    [InlineData(UnitActiveState.Activating, "start")]
    [InlineData(UnitActiveState.Deactivating, "stop-sigterm")]
    [InlineData(UnitActiveState.Reloading, "reload")]
    public void Decide_SystemdIsAtIt_WaitsHoweverLong(UnitActiveState state, string sub)
    {
        // systemd restarts a daemon that exited (Restart=on-failure) itself: controld must not race it.
        var d = Assert.IsType<UnitDecision.Wait>(_policy.Decide(new UnitStatus(state, sub, 0), Silent(600)));
        Assert.Contains("left to systemd", d.Reason);
    }

    [Theory]
    [InlineData(UnitActiveState.Inactive, "dead")]
    [InlineData(UnitActiveState.Failed, "failed")]
    public void Decide_UnitNotRunning_RestartAtOnce(UnitActiveState state, string sub)
    {
        // A unit controld needs that is not running (never started, or given up by systemd) is started.
        var d = Assert.IsType<UnitDecision.Restart>(_policy.Decide(new UnitStatus(state, sub, 0), Silent(0)));
        Assert.Equal($"the unit is {state.ToString().ToLowerInvariant()} ({sub})", d.Reason);
    }

    [Fact]
    public void Decide_UnknownState_WaitsNeverRestarts()
    {
        Assert.IsType<UnitDecision.Wait>(_policy.Decide(UnitStatus.Unknown, Silent(600)));
        Assert.IsType<UnitDecision.Wait>(_policy.Decide(null, Silent(600)));
    }

    [Fact]
    public void Decide_AfterRestart_ActiveDaemonGetsTheStartGrace()
    {
        Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, Silent(5)));
        _time.Advance(TimeSpan.FromSeconds(29));
        var d = Assert.IsType<UnitDecision.Wait>(_policy.Decide(Active, Silent(29)));
        Assert.Contains("giving it 30 s to serve", d.Reason);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, Silent(30.5)));
    }

    [Fact]
    public void Decide_RestartedDaemonServedThenStalls_RestartAfterTheTimeoutNotTheGrace()
    {
        Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, Silent(5)));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.IsType<UnitDecision.Nothing>(_policy.Decide(Active, null));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.IsType<UnitDecision.Restart>(_policy.Decide(Active, Silent(3.5)));
    }

    [Fact]
    public void Decide_FailedAgainAndAgain_BacksOff1Then2Then4UpTo60Seconds()
    {
        var restartsAt = new List<double>();
        for (var t = 0.0; t <= 200; t += 0.5)
        {
            if (_policy.Decide(Failed, Silent(t)) is UnitDecision.Restart) restartsAt.Add(t);
            _time.Advance(TimeSpan.FromSeconds(0.5));
        }
        Assert.Equal([0, 1, 3, 7, 15, 31, 63, 123, 183], restartsAt);
        Assert.Equal(UnitRestartPolicy.MaxBackoff, _policy.Backoff);
    }

    [Fact]
    public void Decide_BackOff_WaitSaysWhenTheNextRestartIs()
    {
        Assert.IsType<UnitDecision.Restart>(_policy.Decide(Failed, Silent(0)));
        Assert.EndsWith("next restart in 1.0 s (back-off)", Assert.IsType<UnitDecision.Wait>(_policy.Decide(Failed, Silent(0))).Reason);
        _time.Advance(TimeSpan.FromSeconds(0.25));
        var d = Assert.IsType<UnitDecision.Wait>(_policy.Decide(Failed, Silent(0.25)));
        Assert.EndsWith("next restart in 0.8 s (back-off)", d.Reason);
    }

    [Fact]
    public void Decide_ServingFor60Seconds_ResetsTheBackOff()
    {
        for (var i = 0; i < 4; i++)
        {
            Assert.IsType<UnitDecision.Restart>(_policy.Decide(Failed, Silent(0)));
            _time.Advance(_policy.Backoff);
        }
        Assert.Equal(TimeSpan.FromSeconds(8), _policy.Backoff);
        _policy.Decide(Active, null);
        _time.Advance(TimeSpan.FromSeconds(59));
        _policy.Decide(Active, null);
        Assert.Equal(TimeSpan.FromSeconds(8), _policy.Backoff);
        _time.Advance(TimeSpan.FromSeconds(1));
        _policy.Decide(Active, null);
        Assert.Equal(TimeSpan.FromSeconds(1), _policy.Backoff);
    }

    [Fact]
    public void Parse_SystemctlShowOutput_StatesSubStateAndPid()
    {
        var s = UnitStatus.Parse("ActiveState=activating\nSubState=auto-restart\nMainPID=0\n");
        Assert.Equal(new UnitStatus(UnitActiveState.Activating, "auto-restart", 0), s);
        Assert.Equal(new UnitStatus(UnitActiveState.Active, "running", 1234), UnitStatus.Parse("MainPID=1234\nActiveState=active\nSubState=running"));
        Assert.Equal(UnitActiveState.Failed, UnitStatus.Parse("ActiveState=failed\nSubState=failed\nMainPID=0").ActiveState);
        Assert.Equal(UnitActiveState.Unknown, UnitStatus.Parse("").ActiveState);
    }
}
