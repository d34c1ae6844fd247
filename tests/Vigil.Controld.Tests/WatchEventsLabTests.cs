using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// WatchEvents on a running node, driven through `vigilctl events`: the snapshot first, then a
/// VRRP transition (the peer master stops) and a reload, in increasing sequence; resuming with
/// --after gives only the later events; -f follows a controld that restarts; Ctrl-C ends it cleanly.
/// </summary>
[Trait("Category", "Lab")]
public sealed partial class WatchEventsLabTests : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-events-").FullName;
    private Lab _lab = null!;
    private LabHost _r1 = null!;
    private LabHost _r2 = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _r1 = await _lab.AddHostAsync("r1", lan, "10.77.0.1/24");
        _r2 = await _lab.AddHostAsync("r2", lan, "10.77.0.2/24");
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    /// <summary>"SEQ TIME KIND details" lines of vigilctl events.</summary>
    private static List<(ulong Seq, string Kind, string Line)> Events(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => (Match: EventLine().Match(l), Line: l))
            .Where(x => x.Match.Success)
            .Select(x => (ulong.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture), x.Match.Groups[2].Value, x.Line))
            .ToList();

    [GeneratedRegex(@"^(\d+) \d{4}-\d\d-\d\dT\S+Z (\w+)")]
    private static partial Regex EventLine();

    [Fact]
    public async Task FollowedStream_SnapshotThenTransitionThenReload_InSequence_ResumeGivesOnlyLater()
    {
        var n1 = await ControldNode.StartAsync(_r1, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        var n2 = await ControldNode.StartAsync(_r2, Configs.Router("BACKUP", 100, "10.77.0.10/24"), _work);
        await n1.WaitStateAsync("VI_1", InstanceState.Master, TimeSpan.FromSeconds(15));
        await n2.WaitStateAsync("VI_1", InstanceState.Backup, TimeSpan.FromSeconds(15));
        await Poll.UntilAsync(async () => (await n2.StatusAsync()).Instances.Any(i => i.State == InstanceState.Backup), TimeSpan.FromSeconds(10), "controld to relay BACKUP");

        await using var follow = LabProcess.Start("vigilctl-events", RepoPaths.Program("vigilctl"), ["--run-dir", n2.RunDir, "events", "-f"]);
        await Poll.UntilAsync(() => Events(follow.Stdout).Any(e => e.Kind == "snapshot"), TimeSpan.FromSeconds(10), "the snapshot", () => follow.Output);
        Assert.Matches(@"snapshot instances=1 .* VI_1=BACKUP", follow.Stdout);

        // The master stops: r2 takes over (a VRRP transition event).
        n1.Process.Signal(15);
        Assert.Equal(0, await n1.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        await Poll.UntilAsync(() => Events(follow.Stdout).Any(e => e.Kind == "vrrp_transition" && e.Line.Contains("VI_1 BACKUP -> MASTER")),
            TimeSpan.FromSeconds(10), "the transition to MASTER", () => follow.Output);

        // A reload with a new priority (a reload event, with the change).
        await File.WriteAllTextAsync(n2.ConfigPath, Configs.Router("BACKUP", 120, "10.77.0.10/24"));
        var reload = await Shell.RunAsync(RepoPaths.Program("vigilctl"), "--run-dir", n2.RunDir, "reload");
        Assert.True(reload.Ok, reload.Stdout + reload.Stderr);
        Assert.Contains("priority 100 -> 120", reload.Stdout);
        await Poll.UntilAsync(() => Events(follow.Stdout).Any(e => e.Kind == "config_reloaded"), TimeSpan.FromSeconds(10), "the reload event", () => follow.Output);

        var events = Events(follow.Stdout);
        Assert.Equal("snapshot", events[0].Kind);
        var transition = events.FindIndex(e => e.Kind == "vrrp_transition" && e.Line.Contains("BACKUP -> MASTER"));
        var reloaded = events.FindIndex(e => e.Kind == "config_reloaded");
        Assert.True(transition > 0 && reloaded > transition, follow.Stdout);
        Assert.Contains("applied", events[reloaded].Line);
        Assert.Contains("priority 100 -> 120", events[reloaded].Line);
        // After the snapshot, each event one larger than the one before.
        var live = events.Skip(1).Select(e => e.Seq).ToList();
        Assert.Equal(Enumerable.Range(0, live.Count).Select(i => live[0] + (ulong)i), live);
        Assert.True(live[0] > events[0].Seq, follow.Stdout);

        // Resuming after the transition: only what came later (the reload), no snapshot.
        var after = events[transition].Seq;
        var resumed = await Shell.RunAsync(RepoPaths.Program("vigilctl"), "--run-dir", n2.RunDir, "events", "--after", after.ToString(CultureInfo.InvariantCulture));
        Assert.True(resumed.Ok, resumed.Stdout + resumed.Stderr);
        var replay = Events(resumed.Stdout);
        Assert.NotEmpty(replay);
        Assert.All(replay, e => Assert.True(e.Seq > after, resumed.Stdout));
        Assert.DoesNotContain(replay, e => e.Kind is "snapshot" or "vrrp_transition" && e.Line.Contains("BACKUP -> MASTER"));
        Assert.Contains(replay, e => e.Kind == "config_reloaded");
        Assert.Equal(events.Where(e => e.Seq > after).Select(e => e.Line), replay.Select(e => e.Line));

        // A sequence not given out yet: INVALID_ARGUMENT, exit 2, naming the field.
        var beyond = await Shell.RunAsync(RepoPaths.Program("vigilctl"), "--run-dir", n2.RunDir, "events", "--after", "999999");
        Assert.Equal(2, beyond.ExitCode);
        Assert.Contains("after_sequence", beyond.Stderr);

        // controld restarts while followed: vigilctl reconnects and starts again from a snapshot.
        var lines = events.Count;
        n2.Process.Signal(15);
        Assert.Equal(0, await n2.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        n2.Restart();
        await Poll.UntilAsync(() => Events(follow.Stdout).Skip(lines).Any(e => e.Kind == "snapshot"), TimeSpan.FromSeconds(30), "a new snapshot after the restart", () => follow.Output);
        Assert.Contains("restarted", follow.Stderr);
        Assert.False(follow.HasExited);

        // Ctrl-C: a clean exit.
        follow.Signal(2);
        Assert.Equal(0, await follow.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain("Unhandled", follow.Stderr);
    }
}
