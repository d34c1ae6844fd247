using System.Net;
using Vigil.Checkd.Probes;
using Vigil.Testing;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>
/// The checker's lab: a LAN switch with the director ("lb", where checkd's sockets live) and the
/// real servers' hosts, running real peers: nginx (HTTP on 80 and 8001..8009, HTTPS on 443 with a
/// certificate made at start), Python's smtpd (alerts on mail:25, a check target on mail:2525),
/// dnsmasq (dns:53), a UDP echo service (web:7). Services can be stopped and started again.
/// </summary>
public sealed class CheckdLab : IAsyncLifetime
{
    public const string LbAddress = "10.77.0.1";
    public const string WebAddress = "10.77.0.10";
    public const string MailAddress = "10.77.0.20";
    public const string DnsAddress = "10.77.0.30";
    public const string IndexPage = "<html><body>vigil lab page</body></html>\n";

    private Vigil.Testing.Lab? _lab;

    public Vigil.Testing.Lab Lab => _lab!;
    public LabSwitch Lan { get; private set; } = null!;
    public LabHost Lb { get; private set; } = null!;
    public LabHost Web { get; private set; } = null!;
    public LabHost Mail { get; private set; } = null!;
    public LabHost Dns { get; private set; } = null!;
    public NamespaceSocketFactory LbSockets { get; private set; } = null!;
    public string Dir { get; } = Directory.CreateTempSubdirectory("vigil-checkd-lab-").FullName;
    public string MailDir => Path.Combine(Dir, "mail");
    public string AccessLog => Path.Combine(Dir, "access.log");
    public LabProcess? Nginx { get; private set; }
    public LabProcess? SmtpAlerts { get; private set; }
    public LabProcess? SmtpTarget { get; private set; }
    public LabProcess? Dnsmasq { get; private set; }
    public LabProcess? UdpEcho { get; private set; }

    public static string Asset(string name) => Path.Combine(AppContext.BaseDirectory, "Lab", "assets", name);

    public async Task InitializeAsync()
    {
        _lab = await Vigil.Testing.Lab.CreateAsync();
        Lan = await Lab.AddSwitchAsync();
        Lb = await Lab.AddHostAsync("lb", Lan, LbAddress + "/24");
        Web = await Lab.AddHostAsync("web", Lan, WebAddress + "/24");
        Mail = await Lab.AddHostAsync("mail", Lan, MailAddress + "/24");
        Dns = await Lab.AddHostAsync("dns", Lan, DnsAddress + "/24");
        LbSockets = NamespaceSocketFactory.ForNamed(Lb.Namespace);

        Directory.CreateDirectory(MailDir);
        Directory.CreateDirectory(Path.Combine(Dir, "www"));
        Directory.CreateDirectory(Path.Combine(Dir, "tmp"));
        await File.WriteAllTextAsync(Path.Combine(Dir, "www", "index.html"), IndexPage);
        await File.WriteAllTextAsync(Path.Combine(Dir, "www", "big.html"), string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i} of a page larger than one read\n")));
        await Shell.CheckAsync(Shell.Require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", Path.Combine(Dir, "key.pem"), "-out", Path.Combine(Dir, "cert.pem"),
            "-subj", "/CN=web.vigil.test", "-addext", "subjectAltName=DNS:web.vigil.test");
        await File.WriteAllTextAsync(Path.Combine(Dir, "nginx.conf"), NginxConfig());

        await StartNginxAsync();
        await StartSmtpAlertsAsync();
        await StartSmtpTargetAsync();
        await StartDnsmasqAsync();
        await StartUdpEchoAsync();
    }

    private string NginxConfig()
    {
        var listens = string.Join("\n", Enumerable.Range(8001, 9).Append(8099).Select(p => $"    listen {WebAddress}:{p};"));
        return $$"""
            user root root;
            worker_processes 1;
            pid {{Dir}}/nginx.pid;
            error_log {{Dir}}/nginx-error.log;
            events { worker_connections 4096; }
            http {
              log_format vigil '$msec $server_port "$ssl_server_name" "$request" "$http_host" "$http_user_agent"';
              access_log {{AccessLog}} vigil;
              client_body_temp_path {{Dir}}/tmp/body;
              proxy_temp_path {{Dir}}/tmp/proxy;
              fastcgi_temp_path {{Dir}}/tmp/fastcgi;
              uwsgi_temp_path {{Dir}}/tmp/uwsgi;
              scgi_temp_path {{Dir}}/tmp/scgi;
              default_type text/html;
              server {
                listen {{WebAddress}}:80;
                listen {{WebAddress}}:443 ssl;
            {{listens}}
                ssl_certificate {{Dir}}/cert.pem;
                ssl_certificate_key {{Dir}}/key.pem;
                root {{Dir}}/www;
              }
            }
            """;
    }

    public async Task StartNginxAsync()
    {
        Nginx = Web.Start("nginx", Shell.Require("nginx"), ["-e", Path.Combine(Dir, "nginx-error.log"), "-c", Path.Combine(Dir, "nginx.conf"), "-g", "daemon off;"]);
        await WaitTcpAsync(WebAddress, 80, () => Nginx.Output + File.ReadAllText(Path.Combine(Dir, "nginx-error.log")));
    }

    public async Task StopNginxAsync()
    {
        if (Nginx is not null) await Nginx.StopAsync();
    }

    public async Task StartSmtpAlertsAsync()
    {
        SmtpAlerts = Mail.Start("smtp-alerts", "/usr/bin/python3", [Asset("smtp_sink.py"), MailAddress, "25", MailDir]);
        await Poll.UntilAsync(() => SmtpAlerts.Stdout.Contains("ready"), TimeSpan.FromSeconds(15), "the alert SMTP server", () => SmtpAlerts.Output);
    }

    public async Task StartSmtpTargetAsync()
    {
        var sink = Path.Combine(Dir, "mail-2525");
        Directory.CreateDirectory(sink);
        SmtpTarget = Mail.Start("smtp-target", "/usr/bin/python3", [Asset("smtp_sink.py"), MailAddress, "2525", sink]);
        await Poll.UntilAsync(() => SmtpTarget.Stdout.Contains("ready"), TimeSpan.FromSeconds(15), "the SMTP check target", () => SmtpTarget.Output);
    }

    public async Task StartDnsmasqAsync()
    {
        Dnsmasq = Dns.Start("dnsmasq", Shell.Require("dnsmasq"), ["--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
            $"--listen-address={DnsAddress}", "--port=53", "--user=root", $"--pid-file={Path.Combine(Dir, "dnsmasq.pid")}",
            $"--address=/vigil.test/{WebAddress}", "--log-facility=-"]);
        await Poll.UntilAsync(async () => (await Dns.ExecAsync("ss", "-lun")).Stdout.Contains($"{DnsAddress}:53"), TimeSpan.FromSeconds(15), "dnsmasq", () => Task.FromResult(Dnsmasq.Output));
    }

    public async Task StartUdpEchoAsync()
    {
        UdpEcho = Web.Start("udp-echo", "/usr/bin/python3", [Asset("udp_echo.py"), WebAddress, "7"]);
        await Poll.UntilAsync(() => UdpEcho.Stdout.Contains("ready"), TimeSpan.FromSeconds(15), "the UDP echo service", () => UdpEcho.Output);
    }

    /// <summary>Waits until a TCP port answers, connecting from the director.</summary>
    public async Task WaitTcpAsync(string address, int port, Func<string>? diagnostics = null)
    {
        var probe = new TcpProbe(new ProbeTarget(new IPEndPoint(IPAddress.Parse(address), port), TimeSpan.FromSeconds(1)), LbSockets, TimeProvider.System);
        await Poll.UntilAsync(async () => (await probe.RunAsync(0, default)).IsSuccess, TimeSpan.FromSeconds(15), $"{address}:{port} to accept connections",
            diagnostics is null ? null : () => Task.FromResult(diagnostics()));
    }

    /// <summary>The mails received so far: (subject, body).</summary>
    public IReadOnlyList<(string Subject, string Body, string Raw)> Mails()
    {
        var list = new List<(string, string, string)>();
        foreach (var file in Directory.GetFiles(MailDir, "*.eml").Order())
        {
            var raw = File.ReadAllText(file);
            var split = raw.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", 2);
            var subject = split[0].Split('\n').FirstOrDefault(l => l.StartsWith("Subject: ", StringComparison.Ordinal))?["Subject: ".Length..] ?? "";
            list.Add((subject, split.Length > 1 ? split[1].Trim() : "", raw));
        }
        return list;
    }

    public async Task DisposeAsync()
    {
        LbSockets?.Dispose();
        if (_lab is not null) await _lab.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
