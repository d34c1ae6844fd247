using System.Collections;
using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Scripts;

/// <summary>One script run: what to run, as whom, for how long.</summary>
public sealed record ScriptRequest(ScriptCommand Command)
{
    /// <summary>Words appended after the configured ones (vrrpd's generic notify adds
    /// <c>INSTANCE name state priority</c>).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Killed (process group: SIGTERM, then SIGKILL after the grace) when it runs longer.
    /// Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Run as this user (needs root); null runs as the caller.</summary>
    public ResolvedScriptUser? User { get; init; }

    /// <summary>Variables added to (or replacing those of) the caller's environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Keep this much of stdout+stderr (0: send both to /dev/null).</summary>
    public int MaxOutputBytes { get; init; } = 4096;

    public string? WorkingDirectory { get; init; }
}

/// <summary>How a script ended.</summary>
public sealed record ScriptResult
{
    /// <summary>Process id it had (0 when it could not be started).</summary>
    public int Pid { get; init; }

    /// <summary>Exit status when it exited normally.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Signal number when a signal ended it.</summary>
    public int? Signal { get; init; }

    /// <summary>It ran past its timeout and was killed.</summary>
    public bool TimedOut { get; init; }

    /// <summary>Why it could not be started (then neither ExitCode nor Signal is set).</summary>
    public string? StartError { get; init; }

    /// <summary>The start of what it wrote on stdout and stderr.</summary>
    public string Output { get; init; } = "";

    public bool OutputTruncated { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary>What was executed (after resolution, without the user-switch wrapper).</summary>
    public required ScriptLaunch Launch { get; init; }

    public bool Succeeded => ExitCode == 0;

    /// <summary>"exit status 1", "signal 9 (timed out)", "not started: ...".</summary>
    public string Describe() =>
        StartError is not null ? $"not started: {StartError}"
        : Signal is int s ? $"signal {s}{(TimedOut ? " (timed out)" : "")}"
        : $"exit status {ExitCode}{(TimedOut ? " (timed out)" : "")}";
}

/// <summary>What a command line turns into: a program and its arguments, or a shell.</summary>
public sealed record ScriptLaunch(string Executable, IReadOnlyList<string> Arguments, bool UsesShell)
{
    public override string ToString() => UsesShell
        ? $"{Executable} -c {Arguments[^1]}"
        : string.Join(' ', new[] { Executable }.Concat(Arguments));
}

/// <summary>Options of a <see cref="ScriptRunner"/>.</summary>
public sealed record ScriptRunnerOptions
{
    /// <summary>Between SIGTERM and SIGKILL to the group (keepalived waits 2 s).</summary>
    public TimeSpan TerminationGrace { get; init; } = TimeSpan.FromSeconds(2);

    public string ShellPath { get; init; } = "/bin/sh";

    /// <summary>util-linux setpriv, used to change user (posix_spawn cannot).</summary>
    public string SetprivPath { get; init; } = "/usr/bin/setpriv";
}

/// <summary>
/// Runs scripts the way keepalived does, for checkd (MISC_CHECK, notify_up/down, quorum_up/down)
/// and vrrpd (track and notify scripts):
/// <list type="bullet">
/// <item>the first word is looked up (PATH search when it has no slash); an executable ELF file or
/// <c>#!</c> script is executed directly with the split words as arguments; anything else (a
/// shell expression such as <c>[ -f /tmp/x ] &amp;&amp; exit 1</c> whose first word is not on
/// PATH, a file without a shebang, a redirection) runs as <c>/bin/sh -c TEXT</c>;</item>
/// <item>each run is a new process group (posix_spawn with POSIX_SPAWN_SETPGROUP), with default
/// signal dispositions and stdin from /dev/null; on timeout or cancellation the whole group gets
/// SIGTERM, then SIGKILL after the grace period, like keepalived's MISC_CHECK;</item>
/// <item>an optional user/group (via setpriv, with the user's supplementary groups);</item>
/// <item>exit status and terminating signal are reported separately;</item>
/// <item>nothing blocks: the caller awaits a task, one background thread reaps all children.</item>
/// </list>
/// IFS, LD_PRELOAD and LD_LIBRARY_PATH are removed from the environment, as keepalived does.
/// </summary>
public sealed class ScriptRunner
{
    private static readonly string[] s_droppedVariables = ["IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"];
    private readonly ScriptRunnerOptions _options;
    private readonly TimeProvider _time;

    public ScriptRunner(ScriptRunnerOptions? options = null, TimeProvider? time = null)
    {
        _options = options ?? new ScriptRunnerOptions();
        _time = time ?? TimeProvider.System;
    }

    public static ScriptRunner Default { get; } = new();

    /// <summary>Decides how a command runs (direct exec or through the shell), without running it.</summary>
    public ScriptLaunch Plan(ScriptCommand command, IReadOnlyList<string>? extraArguments = null, string? pathVariable = null)
    {
        extraArguments ??= [];
        var program = command.Program;
        if (program[0] is not ('<' or '>'))
        {
            var resolved = program.Contains('/') ? program : SearchPath(program, pathVariable ?? System.Environment.GetEnvironmentVariable("PATH"));
            if (resolved is not null && IsDirectlyExecutable(resolved))
            {
                return new ScriptLaunch(resolved, [.. command.Words.Skip(1), .. extraArguments], UsesShell: false);
            }
        }
        var text = command.Text;
        if (extraArguments.Count > 0) text += " " + string.Join(' ', extraArguments.Select(ShellQuote));
        return new ScriptLaunch(_options.ShellPath, ["-c", text], UsesShell: true);
    }

    /// <summary>Runs the script and reports how it ended. Cancellation kills its process group
    /// (SIGTERM, then SIGKILL) and throws <see cref="OperationCanceledException"/>.</summary>
    public async Task<ScriptResult> RunAsync(ScriptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var env = BuildEnvironment(request.Environment);
        env.TryGetValue("PATH", out var path);
        var launch = Plan(request.Command, request.ExtraArguments, path);
        var started = _time.GetTimestamp();

        var argv = new List<string>();
        var executable = launch.Executable;
        if (request.User is { } user && (user.Uid != Native.geteuid() || user.Gid != Native.getegid()))
        {
            // posix_spawn cannot change ids; setpriv does it (and initgroups, like keepalived's
            // set_script_env) and then execs the script, so the pid and process group stay the same.
            // No --pdeathsig: it fires when the spawning *thread* exits, and a thread-pool thread
            // may retire while the script still runs (seen as scripts killed by SIGTERM at random).
            argv.AddRange([_options.SetprivPath, $"--reuid={user.Uid}", $"--regid={user.Gid}",
                user.Name.All(char.IsAsciiDigit) ? "--clear-groups" : "--init-groups", "--", launch.Executable]);
            executable = _options.SetprivPath;
        }
        else
        {
            argv.Add(launch.Executable);
        }
        argv.AddRange(launch.Arguments);

        int pid;
        int outputFd;
        try
        {
            (pid, outputFd) = Spawn(executable, argv, env, request.MaxOutputBytes > 0, request.WorkingDirectory);
        }
        catch (ScriptStartException e)
        {
            return new ScriptResult { Launch = launch, StartError = e.Message, Duration = _time.GetElapsedTime(started) };
        }

        var exitTask = ChildReaper.Instance.Watch(pid, outputFd, Math.Max(request.MaxOutputBytes, 0));
        var timedOut = false;
        var killedByUs = false;
        try
        {
            if (request.Timeout is { } timeout && timeout != Timeout.InfiniteTimeSpan)
            {
                await exitTask.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await exitTask.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            timedOut = true;
        }
        catch (OperationCanceledException)
        {
        }

        if (!exitTask.IsCompleted)
        {
            killedByUs = true;
            await TerminateGroupAsync(pid, exitTask).ConfigureAwait(false);
        }
        var exit = await exitTask.ConfigureAwait(false);
        if (killedByUs)
        {
            // The leader is gone; make sure nothing it started survives (keepalived does the same).
            Native.kill(-pid, Native.SIGKILL);
        }
        cancellationToken.ThrowIfCancellationRequested();

        return new ScriptResult
        {
            Launch = launch,
            Pid = pid,
            ExitCode = Native.WIfExited(exit.WaitStatus) ? Native.WExitStatus(exit.WaitStatus) : null,
            Signal = Native.WIfSignaled(exit.WaitStatus) ? Native.WTermSig(exit.WaitStatus) : null,
            TimedOut = timedOut,
            Output = exit.Output,
            OutputTruncated = exit.OutputTruncated,
            Duration = _time.GetElapsedTime(started),
        };
    }

    private async Task TerminateGroupAsync(int pid, Task<ChildExit> exitTask)
    {
        Native.kill(-pid, Native.SIGTERM);
        try
        {
            await exitTask.WaitAsync(_options.TerminationGrace, _time).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
        }
        Native.kill(-pid, Native.SIGKILL);
        // SIGKILL cannot be caught; the reaper reports the exit promptly.
        await exitTask.ConfigureAwait(false);
    }

    private static Dictionary<string, string> BuildEnvironment(IReadOnlyDictionary<string, string>? extra)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? "";
        }
        foreach (var name in s_droppedVariables) env.Remove(name);
        if (extra is not null)
        {
            foreach (var (k, v) in extra) env[k] = v;
        }
        return env;
    }

    internal static string? SearchPath(string program, string? path)
    {
        if (string.IsNullOrEmpty(path)) path = "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, program);
            if (IsExecutableFile(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsExecutableFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || (info.Attributes & FileAttributes.Directory) != 0) return false;
            var mode = File.GetUnixFileMode(path);
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // keepalived asks libmagic whether the file is an executable; the kernel's own test is the
    // same in practice: an ELF image or a "#!" interpreter line. Anything else goes to the shell.
    private static bool IsDirectlyExecutable(string path)
    {
        if (!IsExecutableFile(path)) return false;
        try
        {
            Span<byte> head = stackalloc byte[4];
            using var f = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            var n = RandomAccess.Read(f, head, 0);
            if (n >= 2 && head[0] == '#' && head[1] == '!') return true;
            return n == 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Executable but not readable by us: the kernel may still run it.
            return true;
        }
    }

    private static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static unsafe (int Pid, int OutputFd) Spawn(string executable, List<string> argv, Dictionary<string, string> env, bool captureOutput, string? workingDirectory)
    {
        var attr = NativeMemory.AllocZeroed(Native.SpawnAttrSize);
        var actions = NativeMemory.AllocZeroed(Native.FileActionsSize);
        var sigdef = NativeMemory.AllocZeroed(Native.SigSetSize);
        var sigmask = NativeMemory.AllocZeroed(Native.SigSetSize);
        var strings = new List<nint>();
        var pipe = stackalloc int[2] { -1, -1 };
        try
        {
            Check(Native.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(Native.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            // Own process group, so a timeout can kill everything the script started; default
            // dispositions and an empty mask, since the runtime ignores or blocks some signals.
            Native.sigfillset(sigdef);
            Native.sigemptyset(sigmask);
            Check(Native.posix_spawnattr_setsigdefault(attr, sigdef), "posix_spawnattr_setsigdefault");
            Check(Native.posix_spawnattr_setsigmask(attr, sigmask), "posix_spawnattr_setsigmask");
            Check(Native.posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup");
            Check(Native.posix_spawnattr_setflags(attr, (short)(Native.POSIX_SPAWN_SETPGROUP | Native.POSIX_SPAWN_SETSIGDEF | Native.POSIX_SPAWN_SETSIGMASK)), "posix_spawnattr_setflags");

            var devNull = Utf8("/dev/null", strings);
            Check(Native.posix_spawn_file_actions_addopen(actions, 0, devNull, Native.O_RDONLY, 0), "addopen stdin");
            if (captureOutput)
            {
                if (Native.pipe2(pipe, Native.O_CLOEXEC) != 0) throw new ScriptStartException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
                Check(Native.posix_spawn_file_actions_adddup2(actions, pipe[1], 1), "adddup2 stdout");
                Check(Native.posix_spawn_file_actions_adddup2(actions, pipe[1], 2), "adddup2 stderr");
            }
            else
            {
                Check(Native.posix_spawn_file_actions_addopen(actions, 1, devNull, Native.O_WRONLY, 0), "addopen stdout");
                Check(Native.posix_spawn_file_actions_addopen(actions, 2, devNull, Native.O_WRONLY, 0), "addopen stderr");
            }
            if (workingDirectory is not null)
            {
                Check(Native.posix_spawn_file_actions_addchdir_np(actions, Utf8(workingDirectory, strings)), "addchdir");
            }

            var argvPtr = stackalloc byte*[argv.Count + 1];
            for (var i = 0; i < argv.Count; i++) argvPtr[i] = Utf8(argv[i], strings);
            argvPtr[argv.Count] = null;
            var envList = env.Select(kv => kv.Key + "=" + kv.Value).ToList();
            var envPtr = (byte**)NativeMemory.Alloc((nuint)(envList.Count + 1), (nuint)sizeof(byte*));
            strings.Add((nint)envPtr);
            for (var i = 0; i < envList.Count; i++) envPtr[i] = Utf8(envList[i], strings);
            envPtr[envList.Count] = null;

            int pid;
            var rc = Native.posix_spawn(&pid, Utf8(executable, strings), actions, attr, argvPtr, envPtr);
            if (rc != 0)
            {
                throw new ScriptStartException($"cannot execute {executable}: {new System.ComponentModel.Win32Exception(rc).Message} (errno {rc})");
            }
            var outputFd = -1;
            if (captureOutput)
            {
                Native.close(pipe[1]);
                pipe[1] = -1;
                outputFd = pipe[0];
                pipe[0] = -1;
            }
            return (pid, outputFd);
        }
        finally
        {
            if (pipe[0] >= 0) Native.close(pipe[0]);
            if (pipe[1] >= 0) Native.close(pipe[1]);
            Native.posix_spawn_file_actions_destroy(actions);
            Native.posix_spawnattr_destroy(attr);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(sigdef);
            NativeMemory.Free(sigmask);
            foreach (var p in strings) NativeMemory.Free((void*)p);
        }
    }

    private static unsafe byte* Utf8(string s, List<nint> owned)
    {
        var count = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)count + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, count));
        p[count] = 0;
        return p;
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0) throw new ScriptStartException($"{what} failed: errno {rc}");
    }

    private sealed class ScriptStartException(string message) : Exception(message);
}
