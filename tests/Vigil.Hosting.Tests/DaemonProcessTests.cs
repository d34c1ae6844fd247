using System.Net.Sockets;
using System.Text;
using Grpc.Health.V1;
using Vigil.Client;
using Vigil.Rpc.Client;
using Vigil.Testing;

namespace Vigil.Hosting.Tests;

/// <summary>A datagram socket standing in for systemd's NOTIFY_SOCKET or syslog's /dev/log.</summary>
public sealed class DatagramSink : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<string> _messages = [];
    private readonly Thread _reader;

    public DatagramSink(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _reader = new Thread(Read) { IsBackground = true };
        _reader.Start();
    }

    public string Path { get; }

    public IReadOnlyList<string> Messages { get { lock (_messages) return [.. _messages]; } }

    private void Read()
    {
        var buf = new byte[65536];
        try
        {
            while (true)
            {
                var n = _socket.Receive(buf);
                lock (_messages) _messages.Add(Encoding.UTF8.GetString(buf, 0, n));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>The built daemons (out/) as a user runs them: socket, health, reflection, systemd, signals, syslog.</summary>
[Trait("Category", "Daemon")]
public sealed class DaemonProcessTests
{
    public static readonly TheoryData<string, string> Daemons = new()
    {
        { "vigil-controld", "vigil.control.v1.ControlService" },
        { "vigil-vrrpd", "vigil.vrrp.v1.VrrpService" },
        { "vigil-checkd", "vigil.check.v1.CheckService" },
        { "vigil-ipvsd", "vigil.ipvs.v1.IpvsService" },
    };

    private static string TempDir() => Directory.CreateTempSubdirectory("vigil-d-").FullName;

    [Theory]
    [MemberData(nameof(Daemons))]
    public async Task Daemon_StartServeStop_AsSystemdExpects(string daemon, string service)
    {
        var dir = TempDir();
        using var notify = new DatagramSink(Path.Combine(dir, "notify"));
        var runDir = Path.Combine(dir, "run");
        var socket = Path.Combine(runDir, daemon["vigil-".Length..] + ".sock");
        // controld needs a configuration: an empty one (no instances, no virtual servers) runs no children.
        var config = Path.Combine(dir, "keepalived.conf");
        await File.WriteAllTextAsync(config, "global_defs {\n    router_id test\n}\n");
        string[] extra = daemon == "vigil-controld" ? ["-f", config] : [];
        await using var p = LabProcess.Start(daemon, RepoPaths.Program(daemon), ["--run-dir", runDir, .. extra],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path, ["WATCHDOG_USEC"] = "200000" });
        await Poll.UntilAsync(() => notify.Messages.Any(m => m.Contains("READY=1")) || p.HasExited, TimeSpan.FromSeconds(30), $"{daemon} READY=1", () => p.Output);
        Assert.False(p.HasExited, p.Output);

        Assert.Equal((UnixFileMode)0b110_110_000, File.GetUnixFileMode(socket));
        using (var channel = UnixChannel.Open(socket))
        {
            var health = await new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new HealthCheckRequest());
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
            health = await new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new HealthCheckRequest { Service = service });
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        }
        var buf = await Shell.RunAsync(RepoPaths.Buf, "curl", "--unix-socket", socket, "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", "http://localhost");
        Assert.True(buf.Ok, buf.Stderr);
        Assert.Contains(service, buf.Stdout);
        var info = await Shell.RunAsync(RepoPaths.Buf, "curl", "--unix-socket", socket, "--protocol", "grpc", "--http2-prior-knowledge", $"http://localhost/{service}/GetDaemonInfo");
        Assert.True(info.Ok, info.Stderr);
        Assert.Contains($"\"name\": \"{daemon}\"", info.Stdout);
        Assert.Contains($"\"pid\": {p.Pid}", info.Stdout);

        // The watchdog is fed at half the interval systemd asked for.
        await Poll.UntilAsync(() => notify.Messages.Count(m => m == "WATCHDOG=1") >= 3, TimeSpan.FromSeconds(5), "three WATCHDOG=1");

        p.Signal(15);
        Assert.Equal(0, await p.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("STOPPING=1", notify.Messages);
        Assert.False(File.Exists(socket), "the socket is removed on stop");
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Daemon_SyslogFacility3_LogsAsLocal3()
    {
        var dir = TempDir();
        using var syslog = new DatagramSink(Path.Combine(dir, "log"));
        await using var p = LabProcess.Start("ipvsd", RepoPaths.Program("vigil-ipvsd"), ["--run-dir", Path.Combine(dir, "run"), "-S", "3", "--syslog-socket", syslog.Path]);
        // local3 = facility 19; informational = 6; PRI = 19 * 8 + 6.
        await Poll.UntilAsync(() => syslog.Messages.Any(m => m.StartsWith("<158>", StringComparison.Ordinal) && m.Contains($"vigil-ipvsd[{p.Pid}]: ") && m.Contains("started")),
            TimeSpan.FromSeconds(30), "a local3.info line from vigil-ipvsd", () => string.Join("\n", syslog.Messages) + p.Output);
        await p.StopAsync();
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Daemon_UnknownOption_ExitCode2WithMessage()
    {
        var r = await Shell.RunAsync(RepoPaths.Program("vigil-ipvsd"), "--bogus");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown option '--bogus'", r.Stderr);
    }

    [Fact]
    public async Task Daemon_SecondInstanceSameRunDir_RefusesAndFirstKeepsServing()
    {
        var dir = TempDir();
        var runDir = Path.Combine(dir, "run");
        await using var first = LabProcess.Start("first", RepoPaths.Program("vigil-ipvsd"), ["--run-dir", runDir]);
        var socket = Path.Combine(runDir, "ipvsd.sock");
        await Poll.UntilAsync(() => File.Exists(socket), TimeSpan.FromSeconds(30), "the first daemon's socket", () => first.Output);
        var second = await Shell.RunAsync(RepoPaths.Program("vigil-ipvsd"), ["--run-dir", runDir], TimeSpan.FromSeconds(30));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already listening", second.Stderr);
        using var channel = UnixChannel.Open(socket);
        Assert.Equal("vigil-ipvsd", (await new Ipvs.V1.IpvsService.IpvsServiceClient(channel.Invoker).GetDaemonInfoAsync(new())).Daemon.Name);
        await first.StopAsync();
        Directory.Delete(dir, true);
    }
}
