using Vigil.Scripts;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>MISC_CHECK</c>: runs <c>misc_path</c> through <see cref="ScriptRunner"/> (own process group,
/// direct exec or /bin/sh -c like keepalived) as <c>user</c>, killing the group after
/// <c>misc_timeout</c> (SIGTERM, then SIGKILL 2 s later). Exit 0 is a success; with
/// <c>misc_dynamic</c> so is 2..255 (the weight becomes status - 2); 1, other statuses, a signal or
/// a timeout are failures. The exit status is passed on for the weight.
/// </summary>
public sealed class MiscProbe(ScriptCommand command, bool dynamic, TimeSpan timeout, ResolvedScriptUser? user,
    IReadOnlyDictionary<string, string> environment, ScriptRunner runner, TimeProvider time) : IProbe
{
    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var result = await runner.RunAsync(new ScriptRequest(command)
        {
            Timeout = timeout,
            User = user,
            Environment = environment,
            MaxOutputBytes = 1024,
        }, cancellationToken).ConfigureAwait(false);
        var latency = time.GetElapsedTime(started);
        var output = result.Output.Trim();
        var detail = output.Length == 0 ? "" : $": {FirstLine(output)}";
        if (result.StartError is not null)
        {
            return ProbeResult.Fail($"{command.Program} {result.Describe()}", latency);
        }
        if (result.TimedOut)
        {
            return new ProbeResult(ProbeOutcome.Failure, $"{command.Program} timed out after {timeout.TotalSeconds:0.###} s ({result.Describe()})", latency) { TimedOut = true };
        }
        if (result.Signal is int signal)
        {
            return ProbeResult.Fail($"{command.Program} failed due to signal {signal}{detail}", latency);
        }
        var status = result.ExitCode!.Value;
        var ok = status == 0 || (dynamic && status >= 2);
        return new ProbeResult(ok ? ProbeOutcome.Success : ProbeOutcome.Failure,
            $"{command.Program} exited with status {status}{detail}", latency) { ExitStatus = status };
    }

    private static string FirstLine(string text)
    {
        var nl = text.IndexOf('\n');
        var line = nl < 0 ? text : text[..nl];
        return line.Length > 200 ? line[..200] : line;
    }
}
