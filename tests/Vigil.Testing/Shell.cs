using System.Diagnostics;
using System.Text;

namespace Vigil.Testing;

/// <summary>The result of a finished command.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;

    public CommandResult EnsureOk() => Ok
        ? this
        : throw new InvalidOperationException($"'{Command}' exited {ExitCode}: {Stderr.Trim()} {Stdout.Trim()}".Trim());
}

/// <summary>Runs programs without a shell (arguments are passed as they are).</summary>
public static class Shell
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null)
    {
        var argList = args.ToList();
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in argList) psi.ArgumentList.Add(a);
        var display = program + " " + string.Join(' ', argList);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"'{display}' did not finish within {timeout ?? TimeSpan.FromSeconds(60)}");
        }
        return new CommandResult(display, p.ExitCode, await outTask, await errTask);
    }

    public static Task<CommandResult> RunAsync(string program, params string[] args) => RunAsync(program, args, null);

    /// <summary>Runs and throws when the exit code is not 0.</summary>
    public static async Task<CommandResult> CheckAsync(string program, params string[] args) =>
        (await RunAsync(program, args, null)).EnsureOk();

    /// <summary>Throws with a clear message when a program the test needs is missing.</summary>
    public static string Require(string program)
    {
        if (program.Contains('/'))
        {
            return File.Exists(program) ? program : throw new InvalidOperationException($"required program {program} is not installed (make deps installs it)");
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"required program '{program}' is not installed (make deps installs it)");
    }
}

/// <summary>A long-running process started by a test; killed (by its own pid) on dispose.</summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    internal LabProcess(string name, ProcessStartInfo psi)
    {
        Name = name;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        _process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static LabProcess Start(string name, string program, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(program);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return new LabProcess(name, psi);
    }

    public string Stdout { get { lock (_gate) return _stdout.ToString(); } }
    public string Stderr { get { lock (_gate) return _stderr.ToString(); } }
    /// <summary>Everything the process printed so far, for failure messages.</summary>
    public string Output => $"--- {Name} stdout ---\n{Stdout}--- {Name} stderr ---\n{Stderr}";

    /// <summary>Sends a signal to this process only (by pid).</summary>
    public void Signal(int signal) => _ = Native.kill(_process.Id, signal);

    /// <summary>Waits for the process itself to exit. (Process.WaitForExitAsync also waits for the
    /// end of its output, which never comes while a child it started still holds the pipes.)</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_process.HasExited)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} (pid {Pid}) did not exit within {timeout.TotalSeconds:0.#} s");
            await Task.Delay(20);
        }
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then SIGKILL after the grace period.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (_process.HasExited) return;
        Signal(Native.SIGTERM);
        try
        {
            await WaitForExitAsync(grace ?? TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}

internal static class Native
{
    public const int SIGTERM = 15;
    public const int SIGKILL = 9;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);
}
