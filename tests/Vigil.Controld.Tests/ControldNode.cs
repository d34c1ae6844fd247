using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>vigil-controld (and through it vigil-vrrpd) running on a lab host with its own run dir.</summary>
public sealed class ControldNode
{
    private ControldNode(LabHost host, string runDir, string configPath, LabProcess process)
    {
        Host = host;
        RunDir = runDir;
        ConfigPath = configPath;
        Process = process;
    }

    public LabHost Host { get; }
    public string RunDir { get; }
    public string ConfigPath { get; }
    public LabProcess Process { get; private set; }

    public static async Task<ControldNode> StartAsync(LabHost host, string config, string workDir, params string[] extraArgs)
    {
        var runDir = Path.Combine(workDir, host.Name);
        Directory.CreateDirectory(runDir);
        var configPath = Path.Combine(workDir, host.Name + ".conf");
        await File.WriteAllTextAsync(configPath, config);
        var p = host.Start("controld", RepoPaths.Program("vigil-controld"), ["-f", configPath, "--run-dir", runDir, .. extraArgs]);
        var node = new ControldNode(host, runDir, configPath, p);
        await Poll.UntilAsync(() => File.Exists(Path.Combine(runDir, "controld.sock")) || p.HasExited, TimeSpan.FromSeconds(30), "controld's socket", () => p.Output);
        return node;
    }

    /// <summary>Starts another controld on the same run dir (after the first was killed).</summary>
    public void Restart() => Process = Host.Start("controld-2", RepoPaths.Program("vigil-controld"), ["-f", ConfigPath, "--run-dir", RunDir]);

    public async Task<Control.V1.GetStatusResponse> StatusAsync()
    {
        using var channel = UnixChannel.Open(Path.Combine(RunDir, "controld.sock"));
        return await new Control.V1.ControlService.ControlServiceClient(channel.Invoker).GetStatusAsync(new(), Deadline.In(TimeSpan.FromSeconds(5)));
    }

    /// <summary>The instance straight from vrrpd (null when vrrpd does not answer).</summary>
    public async Task<Instance?> InstanceAsync(string name)
    {
        using var channel = UnixChannel.Open(Path.Combine(RunDir, "vrrpd.sock"));
        try
        {
            return (await new VrrpService.VrrpServiceClient(channel.Invoker).GetInstanceAsync(new GetInstanceRequest { Name = name }, Deadline.In(TimeSpan.FromSeconds(5)))).Instance;
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The child as controld reports it (null while controld does not answer).</summary>
    public async Task<Control.V1.ChildDaemon?> ChildAsync(string name)
    {
        try
        {
            return (await StatusAsync()).Children.SingleOrDefault(c => c.Name == name);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    public Task WaitStateAsync(string instance, InstanceState state, TimeSpan timeout) =>
        Poll.UntilAsync(async () => (await InstanceAsync(instance))?.State == state, timeout, $"{Host.Name} {instance} {state}",
            async () => $"{(await InstanceAsync(instance))?.State}\n{Process.Output}");
}

/// <summary>Configuration text for the lab tests.</summary>
public static class Configs
{
    /// <summary>A virtual server (so controld starts checkd) with TCP_CHECKs of real servers.</summary>
    public static string VirtualServers(int count, int realServers = 1, string checker = "TCP_CHECK { connect_timeout 1 }")
    {
        var sb = new System.Text.StringBuilder();
        for (var v = 0; v < count; v++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"virtual_server 10.78.{v / 250}.{v % 250 + 1} 80 {{\n    delay_loop 5\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n");
            for (var r = 0; r < realServers; r++)
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"    real_server 10.79.{r}.{v % 250 + 1} 8080 {{\n        weight 1\n        {checker}\n    }}\n");
            }
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    public static string Router(string state, int priority, string vip, int vrid = 51, string extra = "") => $$"""
        global_defs {
            router_id lab
        }
        vrrp_instance VI_1 {
            state {{state}}
            interface eth0
            virtual_router_id {{vrid}}
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass labpass
            }
            virtual_ipaddress {
                {{vip}}
            }
            {{extra}}
        }
        """;
}
