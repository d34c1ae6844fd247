using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Vigil.Check.V1;
using Vigil.Client;
using Vigil.Rpc.Client;
using Vigil.Testing;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>
/// A director ("lb", where vigil-controld and its vigil-checkd run) and two web servers (web1,
/// web2), each running nginx with HTTP on 80 and HTTPS on 443 (a certificate made at start), on
/// one LAN. Each web server's nginx can be stopped and started again.
/// </summary>
public sealed class ControldChecksLab : IAsyncDisposable
{
    public const string LbAddress = "10.77.0.1";
    public const string Web1 = "10.77.0.11";
    public const string Web2 = "10.77.0.12";
    public const string Vip = "10.77.0.100";
    public const string IndexPage = "<html><body>vigil checks lab</body></html>\n";

    private readonly Dictionary<string, (LabHost Host, LabProcess? Nginx)> _web = [];

    private ControldChecksLab(Vigil.Testing.Lab lab, string dir)
    {
        Lab = lab;
        Dir = dir;
    }

    public Vigil.Testing.Lab Lab { get; }
    public LabHost Lb { get; private set; } = null!;
    public LabSwitch Lan { get; private set; } = null!;
    public string Dir { get; }
    public string RunDir => Path.Combine(Dir, "run");
    public string ConfigPath => Path.Combine(Dir, "keepalived.conf");
    public LabProcess? Controld { get; private set; }

    /// <summary>The MD5 of the index page, as genhash prints it.</summary>
    public static string IndexDigest => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(IndexPage)));

    public static async Task<ControldChecksLab> CreateAsync()
    {
        var lab = await Vigil.Testing.Lab.CreateAsync();
        var result = new ControldChecksLab(lab, Directory.CreateTempSubdirectory("vigil-checks-lab-").FullName);
        try
        {
            var lan = await lab.AddSwitchAsync();
            result.Lan = lan;
            result.Lb = await lab.AddHostAsync("lb", lan, LbAddress + "/24");
            var www = Path.Combine(result.Dir, "www");
            Directory.CreateDirectory(www);
            await File.WriteAllTextAsync(Path.Combine(www, "index.html"), IndexPage);
            await File.WriteAllTextAsync(Path.Combine(www, "big.html"), string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i} of a page larger than one read\n")));
            await Shell.CheckAsync(Shell.Require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", Path.Combine(result.Dir, "key.pem"), "-out", Path.Combine(result.Dir, "cert.pem"),
                "-subj", "/CN=web.vigil.test", "-addext", "subjectAltName=DNS:web.vigil.test");
            foreach (var (name, address) in new[] { ("web1", Web1), ("web2", Web2) })
            {
                var host = await lab.AddHostAsync(name, lan, address + "/24");
                result._web[address] = (host, null);
                await File.WriteAllTextAsync(Path.Combine(result.Dir, $"nginx-{name}.conf"), result.NginxConfig(name, address));
                await result.StartWebAsync(address);
            }
            return result;
        }
        catch
        {
            await result.DisposeAsync();
            throw;
        }
    }

    private string NginxConfig(string name, string address) => $$"""
        user root root;
        worker_processes 1;
        pid {{Dir}}/nginx-{{name}}.pid;
        error_log {{Dir}}/nginx-{{name}}-error.log;
        events { worker_connections 1024; }
        http {
          access_log {{Dir}}/nginx-{{name}}-access.log;
          client_body_temp_path {{Dir}}/tmp-{{name}}/body;
          proxy_temp_path {{Dir}}/tmp-{{name}}/proxy;
          fastcgi_temp_path {{Dir}}/tmp-{{name}}/fastcgi;
          uwsgi_temp_path {{Dir}}/tmp-{{name}}/uwsgi;
          scgi_temp_path {{Dir}}/tmp-{{name}}/scgi;
          default_type text/html;
          server {
            listen {{address}}:80;
            listen {{address}}:443 ssl;
            ssl_certificate {{Dir}}/cert.pem;
            ssl_certificate_key {{Dir}}/key.pem;
            root {{Dir}}/www;
          }
        }
        """;

    public async Task StartWebAsync(string address)
    {
        var (host, _) = _web[address];
        Directory.CreateDirectory(Path.Combine(Dir, $"tmp-{host.Name}"));
        var errorLog = Path.Combine(Dir, $"nginx-{host.Name}-error.log");
        var nginx = host.Start("nginx", Shell.Require("nginx"), ["-e", errorLog, "-c", Path.Combine(Dir, $"nginx-{host.Name}.conf"), "-g", "daemon off;"]);
        _web[address] = (host, nginx);
        // Ready when the director can connect (ss in the web server's namespace shows the listener).
        await Poll.UntilAsync(async () => (await host.ExecAsync("ss", "-ltn")).Stdout.Contains($"{address}:443"), TimeSpan.FromSeconds(15),
            $"nginx on {address}", () => Task.FromResult(nginx.Output + (File.Exists(errorLog) ? File.ReadAllText(errorLog) : "")));
    }

    /// <summary>SIGSTOP (or SIGCONT) to the web server's nginx master and its workers: the kernel
    /// still accepts connections, nothing answers.</summary>
    public async Task SignalWebAsync(string address, string signal)
    {
        var nginx = _web[address].Nginx ?? throw new InvalidOperationException($"nginx on {address} is not running");
        await Shell.RunAsync("pkill", $"-{signal}", "-P", nginx.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Shell.RunAsync("kill", $"-{signal}", nginx.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task StopWebAsync(string address)
    {
        if (_web[address].Nginx is { } nginx) await nginx.StopAsync();
    }

    /// <summary>Writes the configuration and starts vigil-controld on the director.</summary>
    public async Task StartControldAsync(string config, params string[] extra)
    {
        Directory.CreateDirectory(RunDir);
        await File.WriteAllTextAsync(ConfigPath, config);
        var p = Lb.Start("controld", RepoPaths.Program("vigil-controld"), ["-f", ConfigPath, "--run-dir", RunDir, .. extra]);
        Controld = p;
        await Poll.UntilAsync(() => File.Exists(Path.Combine(RunDir, "controld.sock")) || p.HasExited, TimeSpan.FromSeconds(30), "controld's socket", () => p.Output);
        Assert.False(p.HasExited, p.Output);
    }

    public Task<CommandResult> VigilctlAsync(params string[] args) => Shell.RunAsync(RepoPaths.Program("vigilctl"), ["--run-dir", RunDir, .. args], TimeSpan.FromSeconds(30));

    /// <summary>The virtual server of that port from `vigilctl checks --json` (null when absent).</summary>
    public static JsonElement? VirtualServer(JsonDocument doc, int vsPort)
    {
        foreach (var vs in doc.RootElement.GetProperty("virtualServers").EnumerateArray())
        {
            if (vs.GetProperty("key").GetProperty("endpoint").GetProperty("port").GetInt32() == vsPort) return vs;
        }
        return null;
    }

    /// <summary>`vigilctl checks --json`, parsed; null when checkd does not answer yet.</summary>
    public async Task<JsonDocument?> ChecksJsonAsync()
    {
        var r = await VigilctlAsync("checks", "--json");
        return r.Ok ? JsonDocument.Parse(r.Stdout) : null;
    }

    /// <summary>A real server from `vigilctl checks --json` (null when absent).</summary>
    public static JsonElement? RealServer(JsonDocument doc, int vsPort, string address, int port)
    {
        foreach (var vs in doc.RootElement.GetProperty("virtualServers").EnumerateArray())
        {
            if (vs.GetProperty("key").GetProperty("endpoint").GetProperty("port").GetInt32() != vsPort) continue;
            foreach (var rs in vs.GetProperty("realServers").EnumerateArray())
            {
                var e = rs.GetProperty("endpoint");
                if (e.GetProperty("address").GetString() == address && e.GetProperty("port").GetInt32() == port) return rs;
            }
        }
        return null;
    }

    public async Task<string> HealthAsync(int vsPort, string address, int port)
    {
        using var doc = await ChecksJsonAsync();
        return doc is null ? "no answer" : RealServer(doc, vsPort, address, port)?.GetProperty("health").GetString() ?? "absent";
    }

    /// <summary>The outcome of the real server's last check (CHECK_OUTCOME_*), as HealthAsync.</summary>
    public async Task<string> LastOutcomeAsync(int vsPort, string address, int port)
    {
        using var doc = await ChecksJsonAsync();
        return doc is null ? "no answer" : RealServer(doc, vsPort, address, port)?.GetProperty("lastResult").GetProperty("outcome").GetString() ?? "absent";
    }

    public async Task<ListDestinationsResponse> DestinationsAsync()
    {
        using var channel = UnixChannel.Open(Path.Combine(RunDir, "checkd.sock"));
        return await new CheckService.CheckServiceClient(channel.Invoker).ListDestinationsAsync(new ListDestinationsRequest(), Deadline.In(TimeSpan.FromSeconds(10)));
    }

    public async Task<IReadOnlyList<string>> DestinationsOfAsync(int vsPort) =>
        (await DestinationsAsync()).VirtualServers.Single(v => v.Key.Endpoint.Port == vsPort).Destinations
            .Select(d => $"{d.Endpoint.Address}:{d.Endpoint.Port}/{d.Weight}").Order(StringComparer.Ordinal).ToList();

    public async Task<Control.V1.GetStatusResponse> StatusAsync()
    {
        using var channel = UnixChannel.Open(Path.Combine(RunDir, "controld.sock"));
        return await new Control.V1.ControlService.ControlServiceClient(channel.Invoker).GetStatusAsync(new(), Deadline.In(TimeSpan.FromSeconds(10)));
    }

    public string Diagnostics() => Controld?.Output ?? "";

    public async ValueTask DisposeAsync()
    {
        await Lab.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
