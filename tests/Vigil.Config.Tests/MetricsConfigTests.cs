using System.Net;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Output;

namespace Vigil.Config.Tests;

/// <summary>The top-level metrics { } block (a Vigil extension): Prometheus scrape endpoints and OTLP export.</summary>
public sealed class MetricsConfigTests
{
    private const string Instance = """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                10.0.0.10/24
            }
        }

        """;

    [Fact]
    public void NoBlock_NoMetrics()
    {
        var r = TestSupport.Parse(Instance);
        Assert.Null(r.Config!.Metrics);
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void FullBlock_ReadsEveryKeyword_AndNotesThePorts()
    {
        var r = TestSupport.Parse(Instance + """
            metrics {
                prometheus_address 127.0.0.1:9650
                otlp_endpoint http://collector.example:4318
                otlp_protocol http/protobuf
                otlp_headers "authorization=Bearer x,tenant=a"
                otlp_interval 15s
            }

            """);
        Assert.Equal(0, r.ExitCode);
        var m = r.Config!.Metrics!;
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9650"), m.PrometheusAddress);
        Assert.Equal(new Uri("http://collector.example:4318"), m.OtlpEndpoint);
        Assert.Equal(OtlpProtocol.HttpProtobuf, m.OtlpProtocol);
        Assert.Equal("authorization=Bearer x,tenant=a", m.OtlpHeaders);
        Assert.Equal(TimeSpan.FromSeconds(15), m.OtlpInterval);
        Assert.Equal(["127.0.0.1:9650", "127.0.0.1:9651", "127.0.0.1:9652", "127.0.0.1:9653"],
            MetricsSettings.PortOrder.Select(d => m.PrometheusAddressOf(d)!.ToString()));
        Assert.Equal(["vigil-controld", "vigil-vrrpd", "vigil-checkd", "vigil-ipvsd"], MetricsSettings.PortOrder.ToArray());
        var note = Assert.Single(r.Diagnostics, d => d.Message.StartsWith("metrics: Prometheus", StringComparison.Ordinal));
        Assert.False(note.CountsForExitCode);
        Assert.Contains("vigil-controld 127.0.0.1:9650, vigil-vrrpd 127.0.0.1:9651, vigil-checkd 127.0.0.1:9652, vigil-ipvsd 127.0.0.1:9653", note.Message);
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("'metrics' is a Vigil extension", StringComparison.Ordinal));
    }

    [Fact]
    public void PortZero_FreePortForEachDaemon()
    {
        var r = TestSupport.Parse(Instance + "metrics {\n    prometheus_address [::1]:0\n}\n");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(IPEndPoint.Parse("[::1]:0"), r.Config!.Metrics!.PrometheusAddressOf("vigil-ipvsd"));
    }

    [Theory]
    [InlineData("prometheus_address 127.0.0.1", 24, "metrics prometheus_address '127.0.0.1': not ADDRESS:PORT (for example 127.0.0.1:9650 or [::1]:9650) - ignoring")]
    [InlineData("prometheus_address ::1:9650", 24, "metrics prometheus_address '::1:9650': not ADDRESS:PORT (for example 127.0.0.1:9650 or [::1]:9650) - ignoring")]
    [InlineData("prometheus_address localhost:9650", 24, "metrics prometheus_address 'localhost:9650': not ADDRESS:PORT (for example 127.0.0.1:9650 or [::1]:9650) - ignoring")]
    [InlineData("prometheus_address 127.0.0.1:65534", 24, "metrics prometheus_address '127.0.0.1:65534': port 65534 leaves no room for the daemons' ports after it (at most 65532, or 0 for free ports) - ignoring")]
    [InlineData("otlp_endpoint ftp://h:21", 19, "metrics otlp_endpoint 'ftp://h:21' is not an http:// or https:// URL (for example http://127.0.0.1:4317) - ignoring")]
    [InlineData("otlp_endpoint 127.0.0.1:4317", 19, "metrics otlp_endpoint '127.0.0.1:4317' is not an http:// or https:// URL (for example http://127.0.0.1:4317) - ignoring")]
    [InlineData("otlp_protocol http/json", 19, "metrics otlp_protocol 'http/json' is neither grpc nor http/protobuf - ignoring")]
    [InlineData("otlp_headers =x", 18, "metrics otlp_headers: '=x' is not key=value (the form is key=value,key2=value2) - ignoring")]
    [InlineData("otlp_interval soon", 19, "metrics otlp_interval 'soon' is not a duration (seconds, or like 15s, 1m30s, 500ms) - ignoring")]
    [InlineData("otlp_interval 2h", 19, "metrics otlp_interval '2h' must be between 100ms and 1h - ignoring")]
    [InlineData("prometheus_address", 5, "metrics prometheus_address requires a value - ignoring")]
    public void BadValue_IsAnErrorAtItsLine_AndIgnored(string line, int column, string message)
    {
        var r = TestSupport.Parse(Instance + $"metrics {{\n    otlp_endpoint http://127.0.0.1:4317\n    {line}\n}}\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal($"{TestSupport.MainFile}:11:{column}: error: {message}", e.ToString());
        Assert.Equal(ConfigExitCode.ErrorsButWouldRun, r.ExitCode);
        Assert.NotNull(r.Config!.Metrics);
        Assert.Null(r.Config.Metrics.PrometheusAddress);
    }

    [Fact]
    public void OtlpSettingsWithoutEndpoint_AreANote()
    {
        var r = TestSupport.Parse(Instance + "metrics {\n    otlp_protocol grpc\n}\n");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("apply only with otlp_endpoint", StringComparison.Ordinal) && !d.CountsForExitCode);
    }

    [Fact]
    public void UnknownKeywordInBlock_IsUnknownKeyword()
    {
        var r = TestSupport.Parse(Instance + "metrics {\n    prometheus_port 9650\n}\n");
        var w = Assert.Single(r.Reported());
        Assert.Equal($"{TestSupport.MainFile}:10:5: warning: Unknown keyword 'prometheus_port'", w.ToString());
    }

    [Fact]
    public void TwoBlocks_SecondIgnored()
    {
        var r = TestSupport.Parse(Instance + "metrics {\n    otlp_endpoint http://a:4317\n}\nmetrics {\n    otlp_endpoint http://b:4317\n}\n");
        Assert.Equal(new Uri("http://a:4317"), r.Config!.Metrics!.OtlpEndpoint);
        Assert.Equal($"{TestSupport.MainFile}:12:1: error: metrics block given twice - ignoring this one", Assert.Single(r.Errors).ToString());
    }

    private const string Full = """
        metrics {
            prometheus_address [::1]:9700
            otlp_endpoint https://otel.example/base/
            otlp_protocol grpc
            otlp_headers "a=b c,d=e"
            otlp_interval 2.5s
        }

        """;

    [Fact]
    public void Writer_RoundTrips()
    {
        var r = TestSupport.Parse(Instance + Full);
        var back = TestSupport.Parse(ConfigWriter.Write(r.Config!));
        Assert.Equal(r.Config!.Metrics, back.Config!.Metrics);
        Assert.NotNull(back.Config.Metrics);
    }

    [Fact]
    public void Json_HasTheBlock()
    {
        var r = TestSupport.Parse(Instance + Full);
        var json = ConfigJson.Serialize(r.Config!);
        Assert.Contains("\"prometheusAddress\": \"[::1]:9700\"", json);
        Assert.Equal(r.Config!.Metrics, ConfigJson.Deserialize(json)!.Metrics);
    }

    [Fact]
    public void ConfigTest_ReportsFileAndLine_AndThePorts()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vigil-metrics-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, Instance + "metrics {\n    prometheus_address 10.0.0.1:9650\n    otlp_protocol grpc/json\n}\n");
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = ConfigCheck.Run(["-t", "-f", file, "--no-host-checks"], stdout, stderr);
            var output = stdout.ToString() + stderr;
            Assert.Equal(ConfigExitCode.ErrorsButWouldRun, code);
            Assert.Contains($"{file}:11:19: error: metrics otlp_protocol 'grpc/json' is neither grpc nor http/protobuf", output);
            Assert.Contains("vigil-vrrpd 10.0.0.1:9651", output);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
