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

    public static async Task<ControldNode> StartAsync(LabHost host, string config, string workDir)
    {
        var runDir = Path.Combine(workDir, host.Name);
        Directory.CreateDirectory(runDir);
        var configPath = Path.Combine(workDir, host.Name + ".conf");
        await File.WriteAllTextAsync(configPath, config);
        var p = host.Start("controld", RepoPaths.Program("vigil-controld"), ["-f", configPath, "--run-dir", runDir]);
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

    public Task WaitStateAsync(string instance, InstanceState state, TimeSpan timeout) =>
        Poll.UntilAsync(async () => (await InstanceAsync(instance))?.State == state, timeout, $"{Host.Name} {instance} {state}",
            async () => $"{(await InstanceAsync(instance))?.State}\n{Process.Output}");
}

/// <summary>Configuration text for the lab tests.</summary>
public static class Configs
{
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
