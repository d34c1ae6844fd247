using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Bench.Failover;

/// <summary>Which implementation runs a router.</summary>
internal enum Implementation
{
    Vigil,
    Keepalived,
}

/// <summary>One VRRP router of a lab: Vigil or keepalived, started on the same keepalived.conf text.</summary>
internal interface IRouter : IAsyncDisposable
{
    Implementation Implementation { get; }

    /// <summary>The instance's state as the daemon itself reports it ("MASTER", "BACKUP", "FAULT", ...), or null.</summary>
    Task<string?> StateAsync();

    /// <summary>Process ids worth watching (for diagnostics).</summary>
    IReadOnlyList<int> Pids { get; }

    /// <summary>The process that runs the VRRP instance (vigil-vrrpd, or keepalived's VRRP child), when known.</summary>
    int? VrrpPid { get; }

    /// <summary>Stops the daemon (SIGTERM, by pid) and starts a fresh one on the same configuration.</summary>
    Task RestartAsync();

    string Output { get; }
}

/// <summary>The configuration both implementations read.</summary>
internal static class RouterConfig
{
    public const string Instance = "VI_1";

    public static string Text(string routerId, bool master, VrrpSetup setup, string vip) => $$"""
        global_defs {
            router_id {{routerId}}
        }
        vrrp_instance {{Instance}} {
            state {{(master ? "MASTER" : "BACKUP")}}
            interface eth0
            virtual_router_id 51
            version {{setup.Version}}
            priority {{(master ? setup.MasterPriority : setup.BackupPriority)}}
            advert_int {{setup.AdvertIntText}}
        {{(setup.Version == 2 ? """
                authentication {
                    auth_type PASS
                    auth_pass vigil
                }
            """ : "")}}
            virtual_ipaddress {
                {{vip}}/24
            }
        }

        """;
}

/// <summary>
/// vigil-controld -P (VRRP plane only) on a lab host; it starts vigil-vrrpd itself. The state
/// comes from vrrpd's GetInstance over its socket.
/// </summary>
internal sealed class VigilRouter : IRouter
{
    private readonly LabHost _host;
    private readonly string _conf;
    private readonly string _runDir;
    private readonly UnixChannel _vrrpd;
    private readonly VrrpService.VrrpServiceClient _client;
    private LabProcess _process;

    private VigilRouter(LabHost host, string conf, LabProcess process, string runDir)
    {
        _host = host;
        _conf = conf;
        _process = process;
        _runDir = runDir;
        _vrrpd = UnixChannel.Open(Path.Combine(runDir, "vrrpd.sock"));
        _client = new VrrpService.VrrpServiceClient(_vrrpd.Invoker);
    }

    public Implementation Implementation => Implementation.Vigil;

    public static async Task<VigilRouter> StartAsync(LabHost host, string config, string workDir)
    {
        var runDir = Path.Combine(workDir, host.Name);
        Directory.CreateDirectory(runDir);
        var conf = Path.Combine(workDir, host.Name + ".conf");
        await File.WriteAllTextAsync(conf, config);
        var p = host.Start("vigil", RepoPaths.Program("vigil-controld"), ["-P", "-f", conf, "--run-dir", runDir]);
        var router = new VigilRouter(host, conf, p, runDir);
        await router.WaitRunningAsync();
        return router;
    }

    private async Task WaitRunningAsync()
    {
        var p = _process;
        await Poll.UntilAsync(async () => p.HasExited || await StateAsync() is not null, TimeSpan.FromSeconds(60),
            $"vigil-vrrpd on {_host.Name} to run {RouterConfig.Instance}", () => Task.FromResult(p.Output));
        if (p.HasExited) throw new InvalidOperationException($"vigil-controld on {_host.Name} exited: {p.Output}");
    }

    public async Task RestartAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(15));
        // controld removes its sockets on the way out; wait for vrrpd's to go so the new one is the one answering.
        await Poll.UntilAsync(() => !File.Exists(Path.Combine(_runDir, "vrrpd.sock")), TimeSpan.FromSeconds(15), $"vigil-vrrpd on {_host.Name} to stop");
        _process = _host.Start("vigil", RepoPaths.Program("vigil-controld"), ["-P", "-f", _conf, "--run-dir", _runDir]);
        await WaitRunningAsync();
    }

    public async Task<string?> StateAsync()
    {
        if (!File.Exists(Path.Combine(_runDir, "vrrpd.sock"))) return null;
        try
        {
            var r = await _client.GetInstanceAsync(new GetInstanceRequest { Name = RouterConfig.Instance }, Deadline.In(TimeSpan.FromSeconds(5)));
            return r.Instance?.State switch
            {
                InstanceState.Master => "MASTER",
                InstanceState.Backup => "BACKUP",
                InstanceState.Fault => "FAULT",
                null => null,
                var s => s.ToString()!.ToUpperInvariant(),
            };
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The whole instance as vrrpd reports it (counters, timestamps).</summary>
    public async Task<Instance?> InstanceAsync()
    {
        try
        {
            return (await _client.GetInstanceAsync(new GetInstanceRequest { Name = RouterConfig.Instance }, Deadline.In(TimeSpan.FromSeconds(5)))).Instance;
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>controld and the daemons it started.</summary>
    public IReadOnlyList<int> Pids => [_process.Pid, .. ProcFs.Children(_process.Pid)];

    private int? _vrrpPid;
    private int _vrrpPidOf;

    public int? VrrpPid
    {
        get
        {
            if (_vrrpPidOf != _process.Pid || _vrrpPid is not { } known || !Directory.Exists($"/proc/{known}"))
            {
                _vrrpPid = ProcFs.Children(_process.Pid).FirstOrDefault(c => ProcFs.Comm(c) == "vigil-vrrpd") is var c and > 0 ? c : null;
                _vrrpPidOf = _process.Pid;
            }
            return _vrrpPid;
        }
    }

    public string Output => _process.Output;

    /// <summary>The lab stops the process (it owns it); this only closes the channel.</summary>
    public ValueTask DisposeAsync()
    {
        _vrrpd.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Debian's keepalived in the foreground (-n), VRRP only (-P), console log (-l -D), its own pid
/// files; the state is the last "(VI_1) Entering X STATE" it logged.
/// </summary>
internal sealed class KeepalivedRouter : IRouter
{
    private readonly LabHost _host;
    private readonly string _conf;
    private readonly string _dir;
    private LabProcess _process;

    private KeepalivedRouter(LabHost host, string conf, string dir, LabProcess process)
    {
        _host = host;
        _conf = conf;
        _dir = dir;
        _process = process;
    }

    public Implementation Implementation => Implementation.Keepalived;

    public static async Task<KeepalivedRouter> StartAsync(LabHost host, string config, string workDir)
    {
        var keepalived = Shell.Require("keepalived");
        var dir = Path.Combine(workDir, host.Name);
        Directory.CreateDirectory(dir);
        var conf = Path.Combine(workDir, host.Name + ".conf");
        await File.WriteAllTextAsync(conf, config);
        var check = await Shell.RunAsync(keepalived, "-t", "-f", conf);
        if (!check.Ok) throw new InvalidOperationException($"keepalived -t rejected {conf}: {check.Stderr}{check.Stdout}");
        return new KeepalivedRouter(host, conf, dir, await LaunchAsync(host, conf, dir));
    }

    private static async Task<LabProcess> LaunchAsync(LabHost host, string conf, string dir)
    {
        var p = host.Start("keepalived", Shell.Require("keepalived"),
            ["-n", "-l", "-D", "-P", "-f", conf, "-p", Path.Combine(dir, "keepalived.pid"), "-r", Path.Combine(dir, "vrrp.pid")]);
        await Poll.UntilAsync(() => p.Stdout.Contains("Startup complete", StringComparison.Ordinal) || p.Stderr.Contains("Startup complete", StringComparison.Ordinal) || p.HasExited,
            TimeSpan.FromSeconds(30), $"keepalived on {host.Name} to start", () => p.Output);
        if (p.HasExited) throw new InvalidOperationException($"keepalived on {host.Name} exited: {p.Output}");
        return p;
    }

    public async Task RestartAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(15));
        _process = await LaunchAsync(_host, _conf, _dir);
    }

    /// <summary>keepalived's VRRP child, from the pid file it was told to write (-r).</summary>
    public int? VrrpPid =>
        File.Exists(Path.Combine(_dir, "vrrp.pid")) && int.TryParse(File.ReadAllText(Path.Combine(_dir, "vrrp.pid")).Trim(), out var pid) && ProcFs.Children(_process.Pid).Contains(pid)
            ? pid : null;

    public Task<string?> StateAsync()
    {
        var marker = $"({RouterConfig.Instance}) Entering ";
        var log = _process.Stdout + _process.Stderr;
        var at = log.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return Task.FromResult<string?>(null);
        var rest = log[(at + marker.Length)..];
        return Task.FromResult<string?>(rest.Split(' ', '\n')[0]);
    }

    public IReadOnlyList<int> Pids => [_process.Pid, .. ProcFs.Children(_process.Pid)];

    public string Output => _process.Output;

    /// <summary>The lab stops the process (it owns it).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Small readers of /proc.</summary>
internal static class ProcFs
{
    public static IReadOnlyList<int> Children(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent) children.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process went away while we looked.
            }
        }
        return children;
    }

    public static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Per-thread scheduler accounting of a process from /proc/PID/task/TID/schedstat: time on a
    /// CPU and time runnable but waiting on a run queue (nanoseconds), by thread id.
    /// </summary>
    public static Dictionary<int, (long RunNs, long WaitNs)> SchedStats(int pid)
    {
        var result = new Dictionary<int, (long, long)>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var f = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                    result[int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture)] =
                        (long.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
                {
                    // A thread that ended while we looked.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone.
        }
        return result;
    }
}
