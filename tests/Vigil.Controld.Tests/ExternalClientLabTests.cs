using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// Vigil's control API driven from outside, as README "Driving Vigil from outside" says: the
/// generated Python client (clients/python) and the README's `buf curl` commands, run as written
/// against a real vigil-controld.
/// </summary>
[Trait("Category", "Lab")]
public sealed partial class ExternalClientLabTests : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-ext-").FullName;
    private Lab _lab = null!;
    private ControldNode _node = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        var r1 = await _lab.AddHostAsync("r1", lan, "10.77.0.1/24");
        _node = await ControldNode.StartAsync(r1, Configs.Router("MASTER", 150, "10.77.0.10/24").Replace("VI_1", "VI_EXT"), _work);
        await Poll.UntilAsync(async () => (await _node.StatusAsync()).Instances.Any(i => i.Name == "VI_EXT" && i.State == InstanceState.Master),
            TimeSpan.FromSeconds(15), "VI_EXT MASTER", () => Task.FromResult(_node.Process.Output));
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    private string Socket => Path.Combine(_node.RunDir, "controld.sock");

    [Fact]
    public async Task PythonClient_GeneratedFromProtos_PrintsTheInstance()
    {
        var build = Path.Combine(_work, "py");
        var make = await Shell.RunAsync("make", ["-C", Path.Combine(RepoPaths.Root, "clients/python"), "--no-print-directory", "stubs", $"BUILD={build}"], TimeSpan.FromMinutes(2));
        Assert.True(make.Ok, make.Stdout + make.Stderr);
        Assert.True(File.Exists(Path.Combine(build, "vigil/control/v1/control_pb2_grpc.py")));

        var script = Path.Combine(RepoPaths.Root, "clients/python/vigil_status.py");
        var run = await Shell.RunAsync("env", ["VIGIL_PY_STUBS=" + build, RepoPaths.DebianPython, script, "unix:" + Socket], TimeSpan.FromSeconds(30));
        Assert.True(run.Ok, run.Stdout + run.Stderr);
        Assert.Contains($"config {_node.ConfigPath}", run.Stdout);
        Assert.Matches(@"instance VI_EXT vrid 51 MASTER priority 150", run.Stdout);
        Assert.Matches(@"daemon vigil-vrrpd pid \d+ ready", run.Stdout);

        // controld not reachable: exit 4, as vigilctl.
        var gone = await Shell.RunAsync("env", ["VIGIL_PY_STUBS=" + build, RepoPaths.DebianPython, script, "unix:" + Path.Combine(_work, "none.sock")], TimeSpan.FromSeconds(30));
        Assert.Equal(4, gone.ExitCode);
        Assert.Contains("UNAVAILABLE", gone.Stderr);
    }

    /// <summary>The README's fenced `sh buf-example` commands (joined at their trailing backslashes).</summary>
    private static List<string> ReadmeCommands(string kind)
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var blocks = FencedBlock().Matches(readme).Where(m => m.Groups[1].Value == kind).Select(m => m.Groups[2].Value).ToList();
        return blocks.SelectMany(b => b.Replace("\\\n", " ").Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => l.Trim()).Where(l => l.StartsWith("buf ", StringComparison.Ordinal)).ToList();
    }

    [GeneratedRegex(@"^```sh (buf-example(?:-stream)?)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    /// <summary>The command as the README has it, with this node's socket and the repository's buf.</summary>
    private string[] AsHere(string command) =>
        ["-c", "exec " + command.Replace("/run/vigil/controld.sock", Socket, StringComparison.Ordinal)
            .Replace("buf curl", RepoPaths.Buf + " curl", StringComparison.Ordinal)];

    [Fact]
    public async Task ReadmeBufCurlExamples_RunAgainstControld()
    {
        var unary = ReadmeCommands("buf-example");
        Assert.Contains(unary, c => c.Contains("/GetStatus", StringComparison.Ordinal));
        Assert.Contains(unary, c => c.Contains("/ReloadConfig", StringComparison.Ordinal) && c.Contains("dryRun", StringComparison.Ordinal));
        foreach (var command in unary)
        {
            var r = await Shell.RunAsync("bash", AsHere(command), TimeSpan.FromSeconds(60));
            Assert.True(r.Ok, $"{command}\n{r.Stdout}{r.Stderr}");
            using var json = JsonDocument.Parse(r.Stdout);
            if (command.Contains("/GetStatus", StringComparison.Ordinal))
            {
                Assert.Equal(_node.ConfigPath, json.RootElement.GetProperty("configFile").GetString());
                Assert.Contains(json.RootElement.GetProperty("instances").EnumerateArray(), i => i.GetProperty("name").GetString() == "VI_EXT");
                Assert.Contains(json.RootElement.GetProperty("children").EnumerateArray(), c => c.GetProperty("name").GetString() == "vigil-vrrpd");
            }
            else
            {
                // The file is unchanged: a dry run has no errors and no changes to report.
                Assert.False(json.RootElement.TryGetProperty("errors", out _), r.Stdout);
            }
        }

        // WatchEvents streams: the snapshot, then caughtUp, read for a moment, then stopped.
        var stream = Assert.Single(ReadmeCommands("buf-example-stream"));
        Assert.Contains("/WatchEvents", stream);
        await using var watch = LabProcess.Start("buf-watch", "bash", AsHere(stream));
        await Poll.UntilAsync(() => watch.Stdout.Contains("caughtUp", StringComparison.Ordinal) || watch.HasExited, TimeSpan.FromSeconds(30), "the snapshot and caughtUp", () => watch.Output);
        Assert.False(watch.HasExited, watch.Output);
        Assert.Contains("\"snapshot\"", watch.Stdout);
        Assert.Contains("\"VI_EXT\"", watch.Stdout);
        Assert.Contains("\"sequence\"", watch.Stdout);
    }

    [Fact]
    public async Task Vigilctl_ReloadDryRun_ConfigErrorsExitOne_StatusAll_ExitCodes()
    {
        var ctl = RepoPaths.Program("vigilctl");
        var dry = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "reload", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("a reload would change nothing", dry.Stdout);

        await File.WriteAllTextAsync(_node.ConfigPath, Configs.Router("MASTER", 170, "10.77.0.10/24").Replace("VI_1", "VI_EXT"));
        dry = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "reload", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("priority 150 -> 170", dry.Stdout);

        await File.WriteAllTextAsync(_node.ConfigPath, "vrrp_instance VI_EXT {\n    state MASTER\n    interface eth0\n    virtual_router_id 300\n    priority 150\n}\n");
        dry = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "reload", "--dry-run", "--json");
        Assert.Equal(1, dry.ExitCode);
        using (var json = JsonDocument.Parse(dry.Stdout))
            Assert.NotEmpty(json.RootElement.GetProperty("errors").EnumerateArray());
        var reload = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "reload");
        Assert.Equal(1, reload.ExitCode);
        Assert.Contains("FAILED_PRECONDITION", reload.Stderr);
        // The running configuration stays.
        Assert.Contains((await _node.StatusAsync()).Instances, i => i.Name == "VI_EXT" && i.BasePriority == 150);

        var all = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "status", "--all");
        Assert.True(all.Ok, all.Stderr);
        Assert.Matches(@"vigil-vrrpd\s+\d+\s+yes", all.Stdout);
        Assert.Matches(@"VI_EXT\s+51\s+eth0\s+MASTER", all.Stdout);

        // No checkd on this node: the real-server verbs get UNAVAILABLE (4); bad targets are usage errors (2).
        var drain = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "rs", "drain", "10.78.0.1:80", "10.79.0.1:8080");
        Assert.Equal(4, drain.ExitCode);
        Assert.Contains("UNAVAILABLE", drain.Stderr);
        var bad = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "rs", "drain", "10.78.0.1", "10.79.0.1:8080");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("VIRTUAL_SERVER 10.78.0.1: no port", bad.Stderr);
        var usage = await Shell.RunAsync(ctl, "--run-dir", _node.RunDir, "rs", "weight", "10.78.0.1:80", "10.79.0.1:8080");
        Assert.Equal(2, usage.ExitCode);
        var down = await Shell.RunAsync(ctl, "--run-dir", Path.Combine(_work, "nothing"), "reload");
        Assert.Equal(4, down.ExitCode);
    }
}
