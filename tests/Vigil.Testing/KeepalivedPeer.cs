namespace Vigil.Testing;

/// <summary>
/// Debian's keepalived (2.2.7 here) in a lab host: the independent judge of Vigil's VRRP. Runs
/// in the foreground (-n) with console logging (-l -D), VRRP only (-P), its own config and pid
/// files in a temporary directory; stopped by its own pid.
/// </summary>
public sealed class KeepalivedPeer : IAsyncDisposable
{
    private readonly string _dir;
    private readonly LabProcess _process;

    private KeepalivedPeer(string dir, LabProcess process)
    {
        _dir = dir;
        _process = process;
    }

    public static async Task<KeepalivedPeer> StartAsync(LabHost host, string config)
    {
        var keepalived = Shell.Require("keepalived");
        var dir = Directory.CreateTempSubdirectory("vigil-ka-").FullName;
        var conf = Path.Combine(dir, "keepalived.conf");
        await File.WriteAllTextAsync(conf, config);
        var check = await Shell.RunAsync(keepalived, "-t", "-f", conf);
        if (!check.Ok) throw new InvalidOperationException($"keepalived -t rejected the test config: {check.Stderr}{check.Stdout}");
        var p = host.Start("keepalived", keepalived,
            ["-n", "-l", "-D", "-P", "-f", conf, "-p", Path.Combine(dir, "keepalived.pid"), "-r", Path.Combine(dir, "vrrp.pid")]);
        var peer = new KeepalivedPeer(dir, p);
        await Poll.UntilAsync(() => peer.Log.Contains("Startup complete") || p.HasExited, TimeSpan.FromSeconds(15), "keepalived to start", () => p.Output);
        if (p.HasExited) throw new InvalidOperationException("keepalived exited: " + p.Output);
        return peer;
    }

    public string Log => _process.Stdout + _process.Stderr;

    /// <summary>The last "Entering X STATE" keepalived logged for the instance.</summary>
    public string? State(string instance)
    {
        var marker = $"({instance}) Entering ";
        var line = Log.Split('\n').LastOrDefault(l => l.Contains(marker, StringComparison.Ordinal));
        return line?[(line.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Split(' ')[0];
    }

    /// <summary>How many "Entering X STATE" lines keepalived logged for the instance so far.</summary>
    public int Transitions(string instance) =>
        Log.Split('\n').Count(l => l.Contains($"({instance}) Entering ", StringComparison.Ordinal));

    public Task WaitForStateAsync(string instance, string state, TimeSpan timeout) =>
        Poll.UntilAsync(() => State(instance) == state, timeout, $"keepalived {instance} to enter {state}", () => Log);

    /// <summary>SIGTERM to its pid: keepalived sends priority 0 and removes its VIPs.</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
