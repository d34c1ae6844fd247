using Vigil.Client;
using Vigil.Rpc;
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
    private readonly LabProcess _process;
    private readonly string _runDir;
    private readonly RpcChannel _vrrpd;
    private readonly VrrpClient _client;

    private VigilRouter(LabProcess process, string runDir)
    {
        _process = process;
        _runDir = runDir;
        _vrrpd = RpcChannel.ForUnixSocket(Path.Combine(runDir, "vrrpd.sock"));
        _client = new VrrpClient(_vrrpd);
    }

    public Implementation Implementation => Implementation.Vigil;

    public static async Task<VigilRouter> StartAsync(LabHost host, string config, string workDir)
    {
        var runDir = Path.Combine(workDir, host.Name);
        Directory.CreateDirectory(runDir);
        var conf = Path.Combine(workDir, host.Name + ".conf");
        await File.WriteAllTextAsync(conf, config);
        var p = host.Start("vigil", RepoPaths.Program("vigil-controld"), ["-P", "-f", conf, "--run-dir", runDir]);
        var router = new VigilRouter(p, runDir);
        await Poll.UntilAsync(async () => p.HasExited || await router.StateAsync() is not null, TimeSpan.FromSeconds(60),
            $"vigil-vrrpd on {host.Name} to run {RouterConfig.Instance}", () => Task.FromResult(p.Output));
        if (p.HasExited) throw new InvalidOperationException($"vigil-controld on {host.Name} exited: {p.Output}");
        return router;
    }

    public async Task<string?> StateAsync()
    {
        if (!File.Exists(Path.Combine(_runDir, "vrrpd.sock"))) return null;
        try
        {
            var r = await _client.GetInstanceAsync(new GetInstanceRequest { Name = RouterConfig.Instance }, CallOptions.WithTimeout(TimeSpan.FromSeconds(5)));
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
            return (await _client.GetInstanceAsync(new GetInstanceRequest { Name = RouterConfig.Instance }, CallOptions.WithTimeout(TimeSpan.FromSeconds(5)))).Instance;
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>controld and the vrrpd it started (vrrpd's pid from its pid file or /proc).</summary>
    public IReadOnlyList<int> Pids
    {
        get
        {
            var pids = new List<int> { _process.Pid };
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(fields[1]) == _process.Pid) pids.Add(pid); // ppid
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
                {
                }
            }
            return pids;
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
    private readonly LabProcess _process;

    private KeepalivedRouter(LabProcess process) => _process = process;

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
        var p = host.Start("keepalived", keepalived,
            ["-n", "-l", "-D", "-P", "-f", conf, "-p", Path.Combine(dir, "keepalived.pid"), "-r", Path.Combine(dir, "vrrp.pid")]);
        await Poll.UntilAsync(() => p.Stdout.Contains("Startup complete", StringComparison.Ordinal) || p.Stderr.Contains("Startup complete", StringComparison.Ordinal) || p.HasExited,
            TimeSpan.FromSeconds(30), $"keepalived on {host.Name} to start", () => p.Output);
        if (p.HasExited) throw new InvalidOperationException($"keepalived on {host.Name} exited: {p.Output}");
        return new KeepalivedRouter(p);
    }

    public Task<string?> StateAsync()
    {
        var marker = $"({RouterConfig.Instance}) Entering ";
        var log = _process.Stdout + _process.Stderr;
        var at = log.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return Task.FromResult<string?>(null);
        var rest = log[(at + marker.Length)..];
        return Task.FromResult<string?>(rest.Split(' ', '\n')[0]);
    }

    public IReadOnlyList<int> Pids => [_process.Pid];

    public string Output => _process.Output;

    /// <summary>The lab stops the process (it owns it).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
