using System.Net;
using System.Text.Json.Nodes;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Controld.Consul;
using Vigil.Ctl.Commands;
using Vigil.Testing.Consul;

namespace Vigil.Consul.Tests;

/// <summary>
/// `vigilctl cluster` against the fake agent holding two nodes' registrations as controld's
/// registrar writes them (<see cref="ConsulServicePlan"/>): lb1's through the agent's own API
/// (node fake-node), lb2's as another node of the catalog.
/// </summary>
public sealed class ClusterCommandTests : IAsyncLifetime
{
    private const string Lb2Node = "lb2-node";
    private readonly FakeConsulAgent _agent = new();

    public Task InitializeAsync() => _agent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    private static KeepalivedConfig Config(string routerId)
    {
        var text = $$"""
            global_defs {
                router_id {{routerId}}
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                priority 100
                virtual_ipaddress {
                    10.0.0.10/24
                }
            }
            vrrp_instance VI_2 {
                interface eth0
                virtual_router_id 52
                priority 100
                virtual_ipaddress {
                    10.0.0.20/24
                }
            }
            virtual_server 10.0.0.10 80 {
                protocol TCP
                real_server 192.168.1.2 80 {
                    TCP_CHECK {
                    }
                }
            }
            consul {
            }

            """;
        var r = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new Vigil.Config.Text.InMemoryFileSystem() });
        return r.Config ?? throw new InvalidOperationException(string.Join('\n', r.Diagnostics));
    }

    private static IReadOnlyList<AgentServiceRegistration> Plan(string routerId, params (string Instance, uint Vrid, string Vip)[] masters)
    {
        var config = Config(routerId);
        return ConsulServicePlan.For(config, config.Consul!, masters.Select(m => new VrrpInstanceView(m.Instance, true, m.Vrid, [IPAddress.Parse(m.Vip)])));
    }

    /// <summary>lb1 registers on the fake agent's own node, as its controld would.</summary>
    private async Task RegisterLb1Async(params (string Instance, uint Vrid, string Vip)[] masters)
    {
        using var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address });
        foreach (var r in Plan("lb1", masters)) await client.RegisterServiceAsync(r);
    }

    /// <summary>lb2's registrations, seen in the catalog from another node.</summary>
    private void AddLb2(string checkStatus, params (string Instance, uint Vrid, string Vip)[] masters)
    {
        foreach (var r in Plan("lb2", masters))
            _agent.AddRemoteService(Lb2Node, "192.0.2.2", r.Id!, r.Name, r.Address!, r.Port ?? 0, r.Tags!, r.Meta!, checkStatus);
    }

    private ConsulClientOptions Options(string? token = null) => new() { Address = _agent.Address, Token = token, RequestTimeout = TimeSpan.FromSeconds(2) };

    private static async Task<(int Code, string Out, string Err)> RunAsync(ConsulClientOptions options, bool json = false)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var code = await ClusterCommand.RunAsync(options, json, output, errors, CancellationToken.None);
        return (code, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task OneMasterPerVip_Table_ExitZero()
    {
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"));
        AddLb2("passing", ("VI_2", 52, "10.0.0.20"));
        // Another team's service in the same catalog is not Vigil's.
        _agent.AddRemoteService("db-node", "192.0.2.9", "pg", "postgres", "10.9.9.9", 5432, ["primary"], new Dictionary<string, string>());

        var (code, output, errors) = await RunAsync(Options());
        Assert.Equal("", errors);
        Assert.Equal(0, code);
        var lines = output.Split('\n');
        Assert.Matches(@"^VIP\s+STATUS\s+NODE\s+ROUTER_ID\s+INSTANCE\s+VRID\s+SERVICES\s+CHECKS$", lines[0]);
        // The VIP's service and the virtual server on it fold into one master.
        Assert.Matches(@"^10\.0\.0\.10\s+MASTER\s+fake-node\s+lb1\s+VI_1\s+51\s+2\s+passing$", lines[1]);
        Assert.Matches(@"^10\.0\.0\.20\s+MASTER\s+lb2-node\s+lb2\s+VI_2\s+52\s+1\s+passing$", lines[2]);
        Assert.Contains("2 VIP(s): 2 with one MASTER\n", output);
        Assert.DoesNotContain("10.9.9.9", output);
    }

    [Fact]
    public async Task Split_TwoMastersForOneVip_ExitOne_TableAndJson()
    {
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"), ("VI_2", 52, "10.0.0.20"));
        AddLb2("passing", ("VI_1", 51, "10.0.0.10"));

        var (code, output, _) = await RunAsync(Options());
        Assert.Equal(1, code);
        Assert.Matches(@"(?m)^10\.0\.0\.10\s+SPLIT\s+fake-node\s+lb1\s+VI_1\s+51\s", output);
        Assert.Matches(@"(?m)^10\.0\.0\.10\s+SPLIT\s+lb2-node\s+lb2\s+VI_1\s+51\s", output);
        Assert.Matches(@"(?m)^10\.0\.0\.20\s+MASTER\s+fake-node\s+lb1\s+VI_2\s+52\s", output);
        Assert.Contains("2 VIP(s): 1 with one MASTER, 1 split (10.0.0.10: fake-node, lb2-node)", output);

        var (jsonCode, text, _) = await RunAsync(Options(), json: true);
        Assert.Equal(1, jsonCode);
        var o = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(_agent.Address.ToString(), (string?)o["agent"]);
        Assert.Equal(1, (int)o["splits"]!);
        var vips = o["vips"]!.AsArray();
        Assert.Equal(["10.0.0.10", "10.0.0.20"], vips.Select(v => (string)v!["vip"]!));
        var split = vips[0]!;
        Assert.Equal("split", (string?)split["status"]);
        Assert.Equal(["lb1", "lb2"], split["masters"]!.AsArray().Select(m => (string)m!["router_id"]!));
        var lb1 = split["masters"]![0]!;
        Assert.Equal(("fake-node", "VI_1", 51u), ((string)lb1["node"]!, (string)lb1["instance"]!, (uint)lb1["vrid"]!));
        Assert.Equal(["vigil:lb1:VI_1:10.0.0.10", "vigil:lb1:VI_1:10.0.0.10:tcp:80"], lb1["services"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("ok", (string?)vips[1]!["status"]);
    }

    [Fact]
    public async Task DeadNodesRegistration_Stale_NotASplit()
    {
        // lb2 died while MASTER: its registration stays in the catalog with its node's serfHealth critical.
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"));
        AddLb2("passing", ("VI_1", 51, "10.0.0.10"));
        _agent.SetNodeHealth(Lb2Node, "critical");

        var (code, output, _) = await RunAsync(Options());
        Assert.Equal(0, code);
        Assert.Matches(@"(?m)^10\.0\.0\.10\s+MASTER\s+fake-node\s+lb1\s", output);
        Assert.Matches(@"(?m)^10\.0\.0\.10\s+stale\s+lb2-node\s+lb2\s+VI_1\s+51\s+2\s+serfHealth critical$", output);
        Assert.Contains("1 VIP(s): 1 with one MASTER\n", output);
    }

    [Fact]
    public async Task OnlyStaleRegistrations_NoLiveMaster_ExitOne()
    {
        AddLb2("critical", ("VI_2", 52, "10.0.0.20"));
        var (code, output, _) = await RunAsync(Options(), json: true);
        Assert.Equal(1, code);
        var vip = JsonNode.Parse(output)!["vips"]![0]!;
        Assert.Equal("no_master", (string?)vip["status"]);
        Assert.Equal("service:vigil:lb2:VI_2:10.0.0.20 critical", (string?)vip["stale"]![0]!["checks"]);
    }

    [Fact]
    public async Task NothingRegistered_ExitZero_SaysSo()
    {
        var (code, output, _) = await RunAsync(Options());
        Assert.Equal(0, code);
        Assert.StartsWith("no VIPs registered in Consul", output);
    }

    [Fact]
    public async Task AgentDown_ExitFour()
    {
        await _agent.StopAsync();
        var (code, output, errors) = await RunAsync(Options());
        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Equal(4, code);
        Assert.Equal("", output);
        Assert.StartsWith($"vigilctl: the Consul agent is not reachable: consul agent {_agent.Address}: GET /v1/catalog/services: ConnectionRefused", errors);
    }

    [Fact]
    public async Task NoLeader_ExitFour()
    {
        _agent.FailWith500 = true;
        var (code, _, errors) = await RunAsync(Options());
        Assert.Equal(4, code);
        Assert.Contains("500 No cluster leader", errors);
    }

    [Fact]
    public async Task AclRefused_ExitSix_NamesTheToken()
    {
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"));
        _agent.RequiredToken = "ops-token";
        _agent.RefuseUnknownTokens = true;
        var (code, output, errors) = await RunAsync(Options(token: "stale-token"));
        Assert.Equal(ExitCodes.PermissionDenied, code);
        Assert.Equal(6, code);
        Assert.Equal("", output);
        Assert.Contains("refused the ACL token (consul GET /v1/catalog/services: 403 ACL not found)", errors);
        Assert.Contains("CONSUL_HTTP_TOKEN", errors);
        // The right token reads it.
        Assert.Equal(0, (await RunAsync(Options(token: "ops-token"))).Code);
        Assert.Equal("ops-token", _agent.RequestsTo("GET", "/v1/health/service/")[^1].Token);
    }

    [Fact]
    public async Task TokenMayNotReadEverything_FilteredAnswer_ExitSix()
    {
        // A known token without service:read: Consul answers 200 with the entries left out, and says so in a header.
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"));
        _agent.RequiredToken = "ops-token";
        var (code, output, errors) = await RunAsync(Options(token: "read-nothing"), json: true);
        Assert.Equal(6, code);
        Assert.Equal(true, (bool?)JsonNode.Parse(output)!["filtered_by_acls"]);
        Assert.Contains("left part of the answer out (X-Consul-Results-Filtered-By-ACLs)", errors);
    }

    [Fact]
    public async Task ThroughTheCommandLine_ConsulAddrAndTokenFromTheEnvironment()
    {
        await RegisterLb1Async(("VI_1", 51, "10.0.0.10"));
        AddLb2("passing", ("VI_1", 51, "10.0.0.10"));
        _agent.RequiredToken = "ops-token";
        _agent.RefuseUnknownTokens = true;
        var output = new StringWriter();
        var old = Console.Out;
        var oldToken = Environment.GetEnvironmentVariable("CONSUL_HTTP_TOKEN");
        var none = Path.Combine(Path.GetTempPath(), "vigil-no-config-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(none, "global_defs {\n}\n");
        Console.SetOut(output);
        Environment.SetEnvironmentVariable("CONSUL_HTTP_TOKEN", "ops-token");
        int code, refused;
        try
        {
            code = await Vigil.Ctl.Program.Main(["cluster", "--config", none, "--consul-addr", _agent.HostPort, "--json"]);
            Environment.SetEnvironmentVariable("CONSUL_HTTP_TOKEN", "wrong");
            refused = await Vigil.Ctl.Program.Main(["cluster", "--config", none, "--consul-addr", _agent.HostPort]);
            Assert.Equal(2, await Vigil.Ctl.Program.Main(["cluster", "--config", none, "--consul-addr", "ftp://x:1"]));
        }
        finally
        {
            Console.SetOut(old);
            Environment.SetEnvironmentVariable("CONSUL_HTTP_TOKEN", oldToken);
            File.Delete(none);
        }
        Assert.Equal(1, code);
        Assert.Equal("split", (string?)JsonNode.Parse(output.ToString())!["vips"]![0]!["status"]);
        Assert.Equal(6, refused);
    }

    [Fact]
    public void ResolveOptions_FlagOverBlockOverEnvironment()
    {
        var file = Path.Combine(Path.GetTempPath(), "vigil-cluster-" + Guid.NewGuid().ToString("N") + ".conf");
        File.WriteAllText(file, """
            consul {
                address 10.1.1.1:8501
                token block-token
                datacenter dc7
                tls {
                    ca_file /etc/consul/ca.pem
                    server_name server.dc7.consul
                }
            }

            """);
        try
        {
            Func<string, string?> env = n => n switch { "CONSUL_HTTP_ADDR" => "10.9.9.9:8500", "CONSUL_HTTP_TOKEN" => "env-token", _ => null };
            var fromBlock = ClusterCommand.ResolveOptions(file, null, null, env, out var error, out _);
            Assert.Null(error);
            Assert.Equal(("https://10.1.1.1:8501/", "block-token", "dc7", "/etc/consul/ca.pem", "server.dc7.consul"),
                (fromBlock!.Address.ToString(), fromBlock.Token, fromBlock.Datacenter, fromBlock.CaFile, fromBlock.TlsServerName));
            var flag = ClusterCommand.ResolveOptions(file, "10.2.2.2:9500", "dc9", env, out _, out _);
            Assert.Equal(("https://10.2.2.2:9500/", "dc9"), (flag!.Address.ToString(), flag.Datacenter));

            File.WriteAllText(file, "global_defs {\n}\n");
            var fromEnv = ClusterCommand.ResolveOptions(file, null, null, env, out _, out _);
            Assert.Equal(("http://10.9.9.9:8500/", "env-token"), (fromEnv!.Address.ToString(), fromEnv.Token));

            Assert.Null(ClusterCommand.ResolveOptions(file, "h:notaport", null, env, out error, out var exit));
            Assert.Equal(2, exit);
            Assert.StartsWith("--consul-addr 'h:notaport': ", error);
            Assert.Null(ClusterCommand.ResolveOptions(file + ".missing", null, null, env, out error, out exit));
            Assert.Equal(1, exit);
            Assert.StartsWith($"cannot read {file}.missing", error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
