using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Hosting.Telemetry;

namespace Vigil.Controld.Tests.Supervisor;

/// <summary>What each child is started with from the metrics { } block, and what a reload that changes it says.</summary>
public sealed class ChildTelemetryTests
{
    private const string Instance = """
        vrrp_instance VI_1 {
            interface lo
            virtual_router_id 51
            priority 100
            virtual_ipaddress { 10.0.0.10/24 }
        }

        """;

    private static KeepalivedConfig Model(string text) =>
        ConfigLoader.Parse(text, new ConfigLoadOptions { FileSystem = new InMemoryFileSystem() }).Config
        ?? throw new InvalidOperationException("the test configuration does not load");

    private static readonly KeepalivedConfig Full = Model(Instance + """
        metrics {
            prometheus_address 127.0.0.1:9650
            otlp_endpoint http://10.0.0.5:4318
            otlp_protocol http/protobuf
            otlp_headers "x-tenant=a"
            otlp_interval 5s
        }
        """);

    [Theory]
    [InlineData("vigil-vrrpd", "127.0.0.1:9651")]
    [InlineData("vigil-checkd", "127.0.0.1:9652")]
    [InlineData("vigil-ipvsd", "127.0.0.1:9653")]
    public void Child_GetsItsScrapePort_AndTheOtlpVariables(string daemon, string scrape)
    {
        var (args, env) = Controller.TelemetryFor(daemon, Full.Metrics);
        Assert.Equal(["--prometheus-address", scrape], args);
        Assert.Equal(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://10.0.0.5:4318",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-tenant=a",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
        }, env);

        // The child reads them back as the same settings controld uses for itself.
        var t = TelemetryOptions.FromEnvironment(name => env.GetValueOrDefault(name));
        Assert.Equal(new Uri("http://10.0.0.5:4318/v1/metrics"), t.SignalUrl("metrics"));
        Assert.Equal(new Uri("http://10.0.0.5:4318/v1/traces"), t.SignalUrl("traces"));
        Assert.Equal(TimeSpan.FromSeconds(5), t.OtlpInterval);
        Assert.Equal("x-tenant=a", t.OtlpHeaders);
    }

    [Fact]
    public void NoBlock_NothingAdded()
    {
        var (args, env) = Controller.TelemetryFor("vigil-vrrpd", Model(Instance).Metrics);
        Assert.Empty(args);
        Assert.Empty(env);
    }

    [Fact]
    public void Grpc_EndpointUsedAsGiven()
    {
        var t = TelemetryOptions.FromEnvironment(name => name == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://127.0.0.1:4317" : null);
        Assert.Equal(new Uri("http://127.0.0.1:4317"), t.SignalUrl("metrics"));
        Assert.True(t.Otlp);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "5s")]
    public void BadVariable_NamesIt(string name, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => TelemetryOptions.FromEnvironment(n => n == name ? value : null));
        Assert.StartsWith(name + ": '" + value + "'", e.Message);
    }

    [Fact]
    public void Reload_ChangingTheBlock_SaysItIsNotApplied()
    {
        var changed = Model(Instance + "metrics {\n    prometheus_address 127.0.0.1:9700\n}\n");
        Assert.Equal(["metrics: changed: not applied by a reload; takes effect when vigil-controld restarts"], ReloadChanges.Describe(Full, changed));
        Assert.Empty(ReloadChanges.Describe(Full, Full));
    }
}
