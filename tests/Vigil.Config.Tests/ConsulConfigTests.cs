using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Output;

namespace Vigil.Config.Tests;

/// <summary>The top-level consul { } block (a Vigil extension).</summary>
public sealed class ConsulConfigTests
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
    public void NoBlock_NoConsul()
    {
        var r = TestSupport.Parse(Instance);
        Assert.Null(r.Config!.Consul);
        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void EmptyBlock_EnablesWithDefaults_OnlyANote()
    {
        var r = TestSupport.Parse(Instance + "consul {\n}\n");
        var c = r.Config!.Consul;
        Assert.NotNull(c);
        Assert.Equal(new ConsulSettings(), c);
        Assert.Null(c.Address);
        Assert.Null(c.Token);
        Assert.Equal(TimeSpan.FromSeconds(15), c.Ttl);
        Assert.Equal(TimeSpan.FromMinutes(1), c.DeregisterCriticalAfter);
        Assert.Equal("vigil-vi-1", c.ServiceNameFor("VI_1"));
        Assert.Equal(0, r.ExitCode);
        var note = Assert.Single(r.Diagnostics);
        Assert.False(note.CountsForExitCode);
        Assert.Contains("'consul' is a Vigil extension", note.Message);
    }

    [Fact]
    public void FullBlock_ReadsEveryKeyword()
    {
        var r = TestSupport.Parse(Instance + """
            consul {
                address https://consul.example:8501
                token 0b1e-77
                datacenter dc2
                tls {
                    ca_file /etc/consul/ca.pem
                    cert_file /etc/consul/client.pem
                    key_file /etc/consul/client-key.pem
                    server_name server.dc2.consul
                }
                service_name edge-vip
                tags prod edge
                tags lb
                ttl 9s
                deregister_critical_after 5m
                virtual_servers off
            }

            """);
        Assert.Equal(0, r.ExitCode);
        var c = r.Config!.Consul!;
        Assert.Equal(("https://consul.example:8501", "0b1e-77", "dc2", true), (c.Address, c.Token, c.Datacenter, c.Tls));
        Assert.Equal(("/etc/consul/ca.pem", "/etc/consul/client.pem", "/etc/consul/client-key.pem", "server.dc2.consul"), (c.CaFile, c.CertFile, c.KeyFile, c.TlsServerName));
        Assert.Equal("edge-vip", c.ServiceNameFor("VI_1"));
        Assert.Equal(["prod", "edge", "lb"], c.Tags);
        Assert.Equal((TimeSpan.FromSeconds(9), TimeSpan.FromMinutes(5), false), (c.Ttl, c.DeregisterCriticalAfter, c.RegisterVirtualServers));
    }

    [Theory]
    [InlineData("ttl 20", 20_000)]
    [InlineData("ttl 1m30s", 90_000)]
    [InlineData("ttl 1500ms", 1500)]
    public void Ttl_SecondsOrGoDuration(string line, double ms)
    {
        var r = TestSupport.Parse(Instance + $"consul {{\n    {line}\n}}\n");
        Assert.Equal(TimeSpan.FromMilliseconds(ms), r.Config!.Consul!.Ttl);
    }

    [Theory]
    [InlineData("address unix:///run/consul.sock", 13, "consul address 'unix:///run/consul.sock': not host:port or http(s)://host:port - ignoring")]
    [InlineData("address ftp://h:21", 13, "consul address 'ftp://h:21': scheme 'ftp' is not http or https - ignoring")]
    [InlineData("address http://h:8500/v1", 13, "consul address 'http://h:8500/v1': only a scheme, host and port are allowed - ignoring")]
    [InlineData("ttl soon", 9, "consul ttl 'soon' is not a duration (seconds, or like 15s, 1m30s, 500ms) - ignoring")]
    [InlineData("ttl 2h", 9, "consul ttl '2h' must be between 1s and 1h - ignoring")]
    [InlineData("service_name my_service", 18, "consul service_name 'my_service' must be letters, digits and '-' (a DNS name) - ignoring")]
    [InlineData("token", 5, "consul token requires a value - ignoring")]
    [InlineData("virtual_servers maybe", 21, "Invalid value 'maybe' for consul virtual_servers specified")]
    public void BadValue_IsAnErrorAtItsLine_AndIgnored(string line, int column, string message)
    {
        var r = TestSupport.Parse(Instance + $"consul {{\n    {line}\n}}\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal($"{TestSupport.MainFile}:10:{column}: error: {message}", e.ToString());
        Assert.Equal(ConfigExitCode.ErrorsButWouldRun, r.ExitCode);
        Assert.Equal(new ConsulSettings(), r.Config!.Consul);
    }

    [Fact]
    public void UnknownKeywordInBlock_IsUnknownKeyword()
    {
        var r = TestSupport.Parse(Instance + "consul {\n    adress 1.2.3.4\n}\n");
        var w = Assert.Single(r.Reported());
        Assert.Equal($"{TestSupport.MainFile}:10:5: warning: Unknown keyword 'adress'", w.ToString());
    }

    [Fact]
    public void TwoBlocks_SecondIgnored()
    {
        var r = TestSupport.Parse(Instance + "consul {\n    token a\n}\nconsul {\n    token b\n}\n");
        Assert.Equal("a", r.Config!.Consul!.Token);
        Assert.Equal($"{TestSupport.MainFile}:12:1: error: consul block given twice - ignoring this one", Assert.Single(r.Errors).ToString());
    }

    [Fact]
    public void TlsCertWithoutKey_IsAnError()
    {
        var r = TestSupport.Parse(Instance + "consul {\n    tls {\n        cert_file /c.pem\n    }\n}\n");
        Assert.Contains("needs both cert_file and key_file", Assert.Single(r.Errors).Message);
        Assert.Null(r.Config!.Consul!.CertFile);
        Assert.True(r.Config.Consul.Tls);
    }

    [Fact]
    public void ShortDeregister_IsANote()
    {
        var r = TestSupport.Parse(Instance + "consul {\n    deregister_critical_after 30s\n}\n");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Diagnostics, d => d.Message.Contains("below Consul's minimum of 1m", StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(30), r.Config!.Consul!.DeregisterCriticalAfter);
    }

    [Fact]
    public void Writer_RoundTrips()
    {
        var r = TestSupport.Parse(Instance + """
            consul {
                address 10.1.1.1:8500
                token "a b"
                tls {
                    ca_file /ca.pem
                }
                tags x y
                ttl 2.5s
                deregister_critical_after 10m
                virtual_servers false
            }

            """);
        var text = ConfigWriter.Write(r.Config!);
        var back = TestSupport.Parse(text);
        Assert.Equal(r.Config!.Consul, back.Config!.Consul);
    }

    [Fact]
    public void Json_HasTheBlock()
    {
        var r = TestSupport.Parse(Instance + "consul {\n    token t\n}\n");
        var json = ConfigJson.Serialize(r.Config!);
        Assert.Contains("\"consul\"", json);
        Assert.Equal(r.Config!.Consul, ConfigJson.Deserialize(json)!.Consul);
    }

    [Fact]
    public void ConfigTest_ReportsFileAndLine()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vigil-consul-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, Instance + "consul {\n    ttl never\n}\n");
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = ConfigCheck.Run(["-t", "-f", file, "--no-host-checks"], stdout, stderr);
            Assert.Equal(ConfigExitCode.ErrorsButWouldRun, code);
            Assert.Contains($"{file}:10:9: error: consul ttl 'never' is not a duration", stdout.ToString() + stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
