using System.Text.Json;
using Vigil.Testing;
using Vigil.Testing.Otlp;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// The metrics { } block on a running node (vigil-controld supervising vigil-vrrpd in a lab
/// namespace): Debian's Prometheus server scrapes it and its query API returns the VRRP state
/// series; OTLP export reaches a receiver in this process (through tcp_to_unix.py inside the
/// namespace) with the VRRP state metric, the resource's service.name, and the failover and
/// reload spans.
/// </summary>
[Trait("Category", "Lab")]
public sealed class TelemetryLabTests : IAsyncLifetime
{
    private const string Vip = "10.77.0.10";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-telemetry-lab-").FullName;
    private Lab _lab = null!;
    private LabHost _r1 = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _r1 = await _lab.AddHostAsync("r1", lan, "10.77.0.1/24");
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    private static string Config(string metrics) => Configs.Router("MASTER", 150, Vip + "/24") + "\nmetrics {\n" + metrics + "\n}\n";

    [Fact]
    public async Task Prometheus_ScrapesTheNode_QueryReturnsVrrpStateMaster()
    {
        // controld on 19650, vrrpd on the next port (the block's documented layout).
        var node = await ControldNode.StartAsync(_r1, Config("    prometheus_address 127.0.0.1:19650"), _work);
        await node.WaitStateAsync("VI_1", InstanceState.Master, Patience);

        var storage = Directory.CreateDirectory(Path.Combine(_work, "prometheus-data")).FullName;
        var config = Path.Combine(_work, "prometheus.yml");
        await File.WriteAllTextAsync(config, """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: vigil
                static_configs:
                  - targets: ['127.0.0.1:19650', '127.0.0.1:19651']
            """);
        var prometheus = _r1.Start("prometheus", "/usr/bin/prometheus",
            [$"--config.file={config}", $"--storage.tsdb.path={storage}", "--web.listen-address=127.0.0.1:19090", "--log.level=warn"]);

        JsonElement[] series = [];
        await Poll.UntilAsync(async () =>
        {
            series = await QueryAsync("keepalived_vrrp_state");
            return series.Length > 0;
        }, Patience, "prometheus to return keepalived_vrrp_state", () => Task.FromResult($"{prometheus.Output}\n{node.Process.Output}"));
        var s = Assert.Single(series);
        var labels = s.GetProperty("metric");
        Assert.Equal("VI_1", labels.GetProperty("iname").GetString());
        Assert.Equal("eth0", labels.GetProperty("intf").GetString());
        Assert.Equal("51", labels.GetProperty("vrid").GetString());
        Assert.Equal(Vip, labels.GetProperty("ip_address").GetString());
        Assert.Equal("127.0.0.1:19651", labels.GetProperty("instance").GetString());
        Assert.Equal("2", s.GetProperty("value")[1].GetString());

        // Both daemons' endpoints are up (controld's own on the port given).
        JsonElement[] up = [];
        await Poll.UntilAsync(async () => (up = await QueryAsync("up")).Length == 2 && up.All(u => u.GetProperty("value")[1].GetString() == "1"),
            Patience, "both targets up", () => Task.FromResult(string.Join("\n", up.Select(u => u.ToString())) + prometheus.Output));
        var adverts = await QueryAsync("keepalived_advertisements_sent_total");
        Assert.Contains(adverts, a => a.GetProperty("metric").GetProperty("iname").GetString() == "VI_1");
        await prometheus.StopAsync();
    }

    /// <summary>Prometheus's HTTP API, asked from inside the namespace (where it listens on loopback).</summary>
    private async Task<JsonElement[]> QueryAsync(string query)
    {
        var r = await _r1.ExecAsync("curl", "-sf", "--max-time", "2", "http://127.0.0.1:19090/api/v1/query?query=" + Uri.EscapeDataString(query));
        if (!r.Ok) return [];
        using var doc = JsonDocument.Parse(r.Stdout);
        if (doc.RootElement.GetProperty("status").GetString() != "success") return [];
        return [.. doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.Clone())];
    }

    [Theory]
    [InlineData("http/protobuf", 4318)]
    [InlineData("grpc", 4317)]
    public async Task Otlp_ReceivesVrrpState_ServiceName_FailoverAndReloadSpans(string protocol, int port)
    {
        await using var receiver = new OtlpReceiver
        {
            HttpSocketPath = Path.Combine(_work, "otlp-http.sock"),
            GrpcSocketPath = Path.Combine(_work, "otlp-grpc.sock"),
        };
        await receiver.StartAsync();
        var socket = protocol == "grpc" ? receiver.GrpcSocketPath! : receiver.HttpSocketPath;
        var relay = _r1.Start("otlp-relay", "/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "tcp_to_unix.py"), "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), socket]);
        await Poll.UntilAsync(() => relay.Output.Contains("relaying", StringComparison.Ordinal) || relay.HasExited, TimeSpan.FromSeconds(10), "the relay", () => relay.Output);
        Assert.False(relay.HasExited, relay.Output);

        var node = await ControldNode.StartAsync(_r1, Config($"""
                otlp_endpoint http://127.0.0.1:{port}
                otlp_protocol {protocol}
                otlp_interval 500ms
            """), _work);
        await node.WaitStateAsync("VI_1", InstanceState.Master, Patience);
        string Diagnostics() => string.Join("\n", receiver.Requests.TakeLast(20)) + "\n" + node.Process.Output;

        // The VRRP state gauge, from vrrpd (service.name), with keepalived-exporter's attributes, 2 = MASTER.
        await Poll.UntilAsync(() => receiver.Points("keepalived_vrrp_state").Any(p => p.Point.AsInt == 2), Patience, "keepalived_vrrp_state 2 by OTLP", Diagnostics);
        var (resource, point) = receiver.Points("keepalived_vrrp_state").Last(p => p.Point.AsInt == 2);
        Assert.Equal("vigil-vrrpd", OtlpReceiver.Attribute(resource.Attributes, "service.name"));
        Assert.Equal("VI_1", OtlpReceiver.Attribute(point.Attributes, "iname"));
        Assert.Equal("eth0", OtlpReceiver.Attribute(point.Attributes, "intf"));
        Assert.Equal(Vip, OtlpReceiver.Attribute(point.Attributes, "ip_address"));

        // The failover to MASTER is a span of vrrpd's; controld's push of the configuration an RPC span on both sides.
        await Poll.UntilAsync(() => receiver.AllSpans().Any(s => s.Span.Name == "vrrp.transition BACKUP -> MASTER"), Patience, "the transition span", Diagnostics);
        var transition = receiver.AllSpans().First(s => s.Span.Name == "vrrp.transition BACKUP -> MASTER");
        Assert.Equal("vigil-vrrpd", OtlpReceiver.Attribute(transition.Resource.Attributes, "service.name"));
        Assert.Equal("VI_1", OtlpReceiver.Attribute(transition.Span.Attributes, "vrrp.instance"));
        await Poll.UntilAsync(() => receiver.AllSpans().Any(s => s.Span.Name.Contains("ApplyConfig", StringComparison.Ordinal)
            && OtlpReceiver.Attribute(s.Resource.Attributes, "service.name") == "vigil-vrrpd"), Patience, "vrrpd's ApplyConfig RPC span", Diagnostics);

        // A reload (SIGHUP to controld) is a span of controld's own.
        node.Process.Signal(1);
        await Poll.UntilAsync(() => receiver.AllSpans().Any(s => s.Span.Name == "config.reload"), Patience, "the reload span", Diagnostics);
        var reload = receiver.AllSpans().First(s => s.Span.Name == "config.reload");
        Assert.Equal("vigil-controld", OtlpReceiver.Attribute(reload.Resource.Attributes, "service.name"));
        Assert.Equal(node.ConfigPath, OtlpReceiver.Attribute(reload.Span.Attributes, "vigil.config.file"));
    }
}
