using Vigil.Testing;

namespace Vigil.Ipvsd.Tests.Scenarios;

/// <summary>
/// Scenario S6 (LVS-NAT, article 003 example 5) in namespaces: a client on the outside LAN, two
/// directors on both LANs running vigil-controld with the outside VIP and the inside gateway VIP
/// in one sync group, and two real servers (nginx, each answering its own name) on the inside
/// LAN whose default route is the inside VIP. The kernel here has no IPVS, so ipvsd programs
/// nftables: the proof is the client's traffic.
/// </summary>
public sealed class LvsNatLab : IAsyncDisposable
{
    public const string Vip = "10.200.6.131";
    public static readonly string[] RealServers = ["10.200.16.130", "10.200.16.131"];

    private readonly Testing.Lab _lab;
    private readonly string _dir;

    private LvsNatLab(Testing.Lab lab, string dir)
    {
        _lab = lab;
        _dir = dir;
    }

    public LabHost Client { get; private set; } = null!;
    public LabHost[] Directors { get; private set; } = [];
    public LabHost[] Servers { get; private set; } = [];
    public LabProcess?[] Controld { get; } = new LabProcess?[2];
    public LabProcess?[] Nginx { get; } = new LabProcess?[2];

    public string RunDir(int director) => Path.Combine(_dir, $"run{director}");

    /// <summary>The scenario's configuration with this director's state and priority, and faster checks.</summary>
    public static string Config(int director)
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Config", "scenarios", "s6-lvs-nat-sync-group.conf"));
        if (director == 1) text = text.Replace("state MASTER", "state BACKUP").Replace("priority 100", "priority 90");
        return text.Replace("delay_loop 6", "delay_loop 1");
    }

    public static async Task<LvsNatLab> CreateAsync()
    {
        var lab = await Testing.Lab.CreateAsync();
        var dir = Directory.CreateTempSubdirectory("vigil-lvs-nat-").FullName;
        var l = new LvsNatLab(lab, dir);
        try
        {
            var outside = await lab.AddSwitchAsync("out");
            var inside = await lab.AddSwitchAsync("in");
            l.Client = await lab.AddHostAsync("client", outside, "10.200.6.10/24");
            l.Directors = [await lab.AddHostAsync("d1"), await lab.AddHostAsync("d2")];
            for (var i = 0; i < 2; i++)
            {
                await l.Directors[i].ConnectAsync(outside, "eth1", $"10.200.6.{11 + i}/24");
                await l.Directors[i].ConnectAsync(inside, "eth2", $"10.200.16.{11 + i}/24");
                await l.Directors[i].CheckAsync("sysctl", "-qw", "net.ipv4.ip_forward=1");
            }
            l.Servers = [await lab.AddHostAsync("rs1", inside, RealServers[0] + "/24"), await lab.AddHostAsync("rs2", inside, RealServers[1] + "/24")];
            for (var i = 0; i < 2; i++)
            {
                await l.Servers[i].CheckAsync("ip", "route", "add", "default", "via", "10.200.16.135");
                await l.StartNginxAsync(i);
            }
            return l;
        }
        catch
        {
            await l.DisposeAsync();
            throw;
        }
    }

    public async Task StartNginxAsync(int server)
    {
        var d = Path.Combine(_dir, $"rs{server + 1}");
        Directory.CreateDirectory(Path.Combine(d, "www"));
        Directory.CreateDirectory(Path.Combine(d, "tmp"));
        await File.WriteAllTextAsync(Path.Combine(d, "www", "index.html"), $"rs{server + 1}\n");
        await File.WriteAllTextAsync(Path.Combine(d, "nginx.conf"), $$"""
            user root root;
            worker_processes 1;
            pid {{d}}/nginx.pid;
            error_log {{d}}/error.log;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{d}}/tmp/body;
              proxy_temp_path {{d}}/tmp/proxy;
              fastcgi_temp_path {{d}}/tmp/fastcgi;
              uwsgi_temp_path {{d}}/tmp/uwsgi;
              scgi_temp_path {{d}}/tmp/scgi;
              server { listen {{RealServers[server]}}:80; root {{d}}/www; }
            }
            """);
        Nginx[server] = Servers[server].Start("nginx", Shell.Require("nginx"), ["-e", Path.Combine(d, "error.log"), "-c", Path.Combine(d, "nginx.conf"), "-g", "daemon off;"]);
        await Poll.UntilAsync(async () => (await Servers[server].ExecAsync("curl", "-s", "-m", "1", $"http://{RealServers[server]}/")).Stdout.Trim() == $"rs{server + 1}",
            TimeSpan.FromSeconds(10), $"nginx on rs{server + 1}", () => Task.FromResult(Nginx[server]!.Output));
    }

    public async Task StopNginxAsync(int server)
    {
        if (Nginx[server] is { } p) await p.StopAsync();
        Nginx[server] = null;
    }

    public async Task StartDirectorAsync(int director)
    {
        Directory.CreateDirectory(RunDir(director));
        var conf = Path.Combine(_dir, $"d{director + 1}.conf");
        await File.WriteAllTextAsync(conf, Config(director));
        Controld[director] = Directors[director].Start("controld", RepoPaths.Program("vigil-controld"), ["-f", conf, "--run-dir", RunDir(director)]);
    }

    public async Task StopDirectorAsync(int director)
    {
        if (Controld[director] is { } p) await p.StopAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>One HTTP GET of the VIP from the client: the real server's name, or null.</summary>
    public async Task<string?> FetchAsync()
    {
        var r = await Client.ExecAsync(TimeSpan.FromSeconds(5), "curl", "-s", "-m", "2", $"http://{Vip}/");
        return r.ExitCode == 0 ? r.Stdout.Trim() : null;
    }

    /// <summary>N fetches, counted by who answered ("none" for failures).</summary>
    public async Task<Dictionary<string, int>> FetchManyAsync(int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var who = await FetchAsync() ?? "none";
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }
        return counts;
    }

    public async Task<string> VigilctlAsync(int director, params string[] args) =>
        (await Directors[director].ExecAsync([RepoPaths.Program("vigilctl"), "--run-dir", RunDir(director), .. args])).Stdout;

    public string Output() => string.Join("\n", Controld.OfType<LabProcess>().Select(p => p.Output));

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            try { await StopDirectorAsync(i); } catch (InvalidOperationException) { }
        }
        await _lab.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
