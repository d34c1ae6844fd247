using System.Diagnostics;
using Vigil.Scripts;

namespace Vigil.Scripts.Tests;

/// <summary>Runs real processes (/bin/sh, coreutils); no root needed except for the user test.</summary>
public sealed class ScriptRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-scripts-").FullName;
    private readonly ScriptRunner _runner = new(new ScriptRunnerOptions { TerminationGrace = TimeSpan.FromMilliseconds(500) });

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteScript(string name, string body, bool executable = true)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, body);
        if (executable) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    private Task<ScriptResult> Run(string command, TimeSpan? timeout = null, IReadOnlyList<string>? extra = null) =>
        _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse(command)) { Timeout = timeout, ExtraArguments = extra ?? [] });

    [Fact]
    public void Plan_ExecutableOnPath_ExecsDirectlyWithSplitWords()
    {
        var launch = _runner.Plan(ScriptCommand.Parse("[ -f '/tmp/a b' ]"));

        Assert.False(launch.UsesShell);
        Assert.EndsWith("/[", launch.Executable);
        Assert.Equal(["-f", "/tmp/a b", "]"], launch.Arguments);
    }

    [Fact]
    public void Plan_NotAnExecutable_RunsThroughShellWithOriginalText()
    {
        var launch = _runner.Plan(ScriptCommand.Parse("exit 3"));

        Assert.True(launch.UsesShell);
        Assert.Equal("/bin/sh", launch.Executable);
        Assert.Equal(["-c", "exit 3"], launch.Arguments);
    }

    [Fact]
    public void Plan_ScriptWithoutShebang_RunsThroughShell()
    {
        var path = WriteScript("noshebang", "exit 4\n");

        var launch = _runner.Plan(ScriptCommand.Parse(path + " arg"), ["x y"]);

        Assert.True(launch.UsesShell);
        Assert.Equal(["-c", path + " arg 'x y'"], launch.Arguments);
    }

    [Fact]
    public void Plan_ScriptWithShebang_ExecsDirectly()
    {
        var path = WriteScript("withshebang", "#!/bin/sh\nexit 0\n");

        var launch = _runner.Plan(ScriptCommand.Parse($"'{path}' a"), ["b"]);

        Assert.False(launch.UsesShell);
        Assert.Equal(path, launch.Executable);
        Assert.Equal(["a", "b"], launch.Arguments);
    }

    [Fact]
    public void Plan_NotExecutableFile_RunsThroughShell()
    {
        var path = WriteScript("plain", "#!/bin/sh\nexit 0\n", executable: false);

        Assert.True(_runner.Plan(ScriptCommand.Parse(path)).UsesShell);
    }

    [Fact]
    public async Task RunAsync_ExitStatus_Reported()
    {
        var path = WriteScript("exit7", "#!/bin/sh\nexit 7\n");

        var result = await Run(path);

        Assert.Equal(7, result.ExitCode);
        Assert.Null(result.Signal);
        Assert.False(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.Equal("exit status 7", result.Describe());
    }

    [Fact]
    public async Task RunAsync_ShellExpression_RunsInShell()
    {
        var file = Path.Combine(_dir, "hehe");

        Assert.Equal(1, (await Run($"[ -f {file} ]")).ExitCode);
        File.WriteAllText(file, "");
        Assert.Equal(0, (await Run($"[ -f {file} ]")).ExitCode);
        // Like keepalived: "test" is on PATH, so it is executed directly and "||" is just an
        // argument (test reports a usage error, 2); a shell is used only when the program is not
        // an executable.
        var direct = await Run("test -f /nonexistent || exit 5");
        Assert.False(direct.Launch.UsesShell);
        Assert.Equal(2, direct.ExitCode);
        Assert.Equal(6, (await Run("exit 6")).ExitCode);
    }

    [Fact]
    public async Task RunAsync_ArgumentsWithQuotes_PassedIntact()
    {
        var path = WriteScript("args", "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>' \"$a\"; done\n");

        var result = await Run($"{path} 'a b' \"c'd\" e\\ f", extra: ["g h"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("<a b><c'd><e f><g h>", result.Output);
    }

    [Fact]
    public async Task RunAsync_KilledBySignal_ReportsSignalNotExitCode()
    {
        var path = WriteScript("selfkill", "#!/bin/sh\nkill -USR1 $$\nsleep 5\n");

        var result = await Run(path);

        Assert.Null(result.ExitCode);
        Assert.Equal(10, result.Signal);
        Assert.Equal("signal 10", result.Describe());
    }

    [Fact]
    public async Task RunAsync_Timeout_KillsWholeProcessGroup()
    {
        var pidFile = Path.Combine(_dir, "child.pid");
        // The script starts a grandchild and waits; a timeout must take both down.
        var path = WriteScript("hang", $"#!/bin/sh\nsleep 300 &\necho $! > {pidFile}\nwait\n");

        var sw = Stopwatch.StartNew();
        var result = await Run(path, TimeSpan.FromMilliseconds(300));
        sw.Stop();

        Assert.True(result.TimedOut);
        Assert.Equal(15, result.Signal);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim());
        await WaitGoneAsync(grandchild);
    }

    [Fact]
    public async Task RunAsync_TermIgnored_KilledAfterGrace()
    {
        var path = WriteScript("stubborn", "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.05; done\n");

        var sw = Stopwatch.StartNew();
        var result = await Run(path, TimeSpan.FromMilliseconds(200));

        Assert.True(result.TimedOut);
        Assert.Equal(9, result.Signal);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task RunAsync_OwnProcessGroup_LeaderIsScript()
    {
        var path = WriteScript("pgid", "#!/bin/sh\nps -o pgid= -p $$\necho $$\n");

        var result = await Run(path);

        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(lines[1], lines[0]);
        Assert.Equal(result.Pid.ToString(), lines[1]);
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsAndThrows()
    {
        var path = WriteScript("long", "#!/bin/sh\nsleep 300\n");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse(path)), cts.Token));
    }

    [Fact]
    public async Task RunAsync_ManyConcurrent_DoNotBlockEachOther()
    {
        var sw = Stopwatch.StartNew();
        var runs = Enumerable.Range(0, 40).Select(_ => Run("/bin/sleep 1")).ToArray();
        var results = await Task.WhenAll(runs);
        sw.Stop();

        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task RunAsync_Environment_AddedAndDangerousOnesDropped()
    {
        Environment.SetEnvironmentVariable("LD_PRELOAD", "/nonexistent.so");
        try
        {
            var result = await _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse("/bin/sh -c 'echo \"$VIGIL_X:${LD_PRELOAD-unset}\"'"))
            {
                Environment = new Dictionary<string, string> { ["VIGIL_X"] = "42" },
            });

            Assert.Equal("42:unset", result.Output.Trim());
        }
        finally
        {
            Environment.SetEnvironmentVariable("LD_PRELOAD", null);
        }
    }

    [Fact]
    public async Task RunAsync_MissingProgram_ShellReports127()
    {
        var result = await Run("/nonexistent/vigil-script");

        Assert.True(result.Launch.UsesShell);
        Assert.Equal(127, result.ExitCode);
    }

    [Fact]
    [Trait("Category", "Lab")] // needs root to switch user
    public async Task RunAsync_WithUser_RunsAsThatUser()
    {
        if (Environment.UserName != "root") Assert.Fail("this test needs root (to switch user)");
        var nobody = new ScriptUser("nobody").Resolve();

        var result = await _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse("/usr/bin/id -u")) { User = nobody });

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(nobody.Uid.ToString(), result.Output.Trim());
    }

    [Fact]
    public async Task RunAsync_OutputLimit_Truncates()
    {
        var result = await _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse("/usr/bin/seq 1 100000")) { MaxOutputBytes = 100 });

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(100, result.Output.Length);
        Assert.True(result.OutputTruncated);
    }

    private static async Task WaitGoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"process {pid} of the killed group is still alive");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// A script run as another user outlives the thread that started it: a thread-pool thread may
    /// retire while the script runs, and setpriv's --pdeathsig used to kill it with SIGTERM then.
    /// </summary>
    [Fact]
    [Trait("Category", "Lab")] // needs root to switch users
    public async Task RunAsync_AsOtherUser_SpawningThreadExits_ScriptRunsToItsEnd()
    {
        Assert.True(System.Environment.UserName == "root", "running a script as another user needs root");
        Task<ScriptResult>? task = null;
        var spawner = new Thread(() => task = _runner.RunAsync(new ScriptRequest(ScriptCommand.Parse("/bin/sleep 1"))
        {
            User = new ScriptUser("nobody").Resolve(),
        }));
        spawner.Start();
        spawner.Join(); // RunAsync spawned the script before its first await; this thread is gone now
        var result = await task!;
        Assert.Null(result.Signal);
        Assert.Equal(0, result.ExitCode);
    }
}
