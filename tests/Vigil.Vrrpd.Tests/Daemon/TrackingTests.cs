using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Api;
using Vigil.Vrrpd.Daemon;
using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Tests.Daemon;

public sealed class TrackingTests
{
    [Fact]
    public void Counter_FallThreeRiseOne_ThreeFailuresDownOneSuccessUp()
    {
        // Scenario S4: interval 1, fall 3, rise 1.
        var c = TrackScriptCounter.Start(rise: 1, fall: 3, initFail: false);
        Assert.Equal(TrackScriptStatus.Init, c.Status);
        c = c.Record(true);
        Assert.Equal(TrackScriptStatus.Up, c.Status);
        c = c.Record(false);
        Assert.Equal(TrackScriptStatus.Up, c.Status);
        c = c.Record(false);
        Assert.Equal(TrackScriptStatus.Up, c.Status);
        c = c.Record(false);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
        c = c.Record(false);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
        c = c.Record(true);
        Assert.Equal(TrackScriptStatus.Up, c.Status);
    }

    [Fact]
    public void Counter_Init_OneResultDecidesEitherWay()
    {
        Assert.Equal(TrackScriptStatus.Up, TrackScriptCounter.Start(3, 3, false).Record(true).Status);
        Assert.Equal(TrackScriptStatus.Down, TrackScriptCounter.Start(3, 3, false).Record(false).Status);
    }

    [Fact]
    public void Counter_InitFail_StartsDownAndNeedsRiseSuccesses()
    {
        var c = TrackScriptCounter.Start(rise: 2, fall: 2, initFail: true);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
        c = c.Record(true);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
        c = c.Record(true);
        Assert.Equal(TrackScriptStatus.Up, c.Status);
        // A failure in between resets the climb.
        c = c.Record(false).Record(false);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
        c = c.Record(true).Record(false).Record(true);
        Assert.Equal(TrackScriptStatus.Down, c.Status);
    }

    [Theory]
    [InlineData("5", 5L)]
    [InlineData("  -12\n", -12L)]
    [InlineData("0x10", 16L)]
    [InlineData("010", 8L)]
    [InlineData("42abc", 42L)]
    [InlineData("abc", 0L)]
    [InlineData("", 0L)]
    [InlineData("+7", 7L)]
    [InlineData("99999999999999999999999", null)]
    public void ParseLikeStrtol_KeepalivedTrackFileValues(string text, long? expected) =>
        Assert.Equal(expected, TrackFileWatcher.ParseLikeStrtol(text));

    private static DaemonConfig Config()
    {
        var c = Specs.Config(Specs.Instance(100, "10.0.0.100"));
        c.Scripts.Add(new ScriptSpec { Name = "s", Script = "true", Weight = -2 });
        c.Scripts.Add(new ScriptSpec { Name = "z", Script = "true", Weight = 0 });
        c.TrackFiles.Add(new TrackFileSpec { Name = "f", File = "/tmp/x", Weight = 3 });
        c.Instances[0].TrackScripts.Add(new TrackScript { Script = "s" });
        c.Instances[0].TrackScripts.Add(new TrackScript { Script = "z" });
        c.Instances[0].TrackFiles.Add(new TrackFile { TrackFile_ = "f" });
        c.Instances[0].TrackInterfaces.Add(new TrackInterface { Interface = "eth1", Weight = 10 });
        return ConfigMapper.ToDaemonConfig(c);
    }

    [Fact]
    public void Tracking_WeightsAndFaults_PostedOnChangeOnly()
    {
        var up = true;
        var scripts = new Dictionary<string, TrackScriptStatus> { ["s"] = TrackScriptStatus.Init, ["z"] = TrackScriptStatus.Init };
        long file = 0;
        var posts = new List<(string, TrackersChangedEvent)>();
        var t = new Tracking(_ => up, n => scripts[n], _ => file, (n, e) => posts.Add((n, e)));
        t.SetConfig(Config(), ["VI_1"]);
        Assert.True(t.IsStartPending("VI_1"));

        t.Recompute();
        Assert.Equal(("VI_1", new TrackersChangedEvent(10, 0)), Assert.Single(posts));
        t.Recompute();
        Assert.Single(posts);

        scripts["z"] = TrackScriptStatus.Up;
        Assert.False(t.IsStartPending("VI_1"));
        scripts["s"] = TrackScriptStatus.Down;
        file = 4;
        up = false;
        t.Recompute();
        Assert.Equal(new TrackersChangedEvent(-2 + 12, 0), posts[^1].Item2);

        scripts["z"] = TrackScriptStatus.Down;
        t.Recompute();
        Assert.Equal(new TrackersChangedEvent(10, 1), posts[^1].Item2);
        Assert.Equal(["VI_1"], t.TrackingScript("z"));
        Assert.Equal(["VI_1"], t.TrackingInterface("eth1"));
        Assert.Empty(t.TrackingInterface("eth0"));
    }
}
