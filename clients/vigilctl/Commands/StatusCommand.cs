using System.CommandLine;
using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Ctl.Commands;

/// <summary>`vigilctl status`: every VRRP instance of the node, with its state and who the master is.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var command = new Command("status", "show every VRRP instance: state, priority, master address") { json };
        command.SetAction(async (r, token) =>
        {
            IReadOnlyList<Instance> instances;
            try
            {
                instances = await ReadAsync(r, token);
            }
            catch (RpcException e)
            {
                Console.Error.WriteLine($"vigilctl: cannot read the VRRP state: {e.Status.Detail}");
                return 1;
            }
            if (r.GetValue(json))
            {
                var list = new ListInstancesResponse();
                list.Instances.AddRange(instances);
                GlobalOptions.PrintJson(list);
                return 0;
            }
            var table = new Table("INSTANCE", "VRID", "INTERFACE", "STATE", "PRIORITY", "MASTER", "VIPS");
            foreach (var i in instances)
            {
                var priority = i.EffectivePriority == i.BasePriority ? $"{i.BasePriority}" : $"{i.EffectivePriority} (base {i.BasePriority})";
                table.Add(i.Name, i.VirtualRouterId.ToString(), i.Interface, State(i.State), priority,
                    i.MasterAddress.Length == 0 ? "-" : i.MasterAddress + (i.State == InstanceState.Master ? " (this node)" : ""),
                    string.Join(",", i.VirtualAddresses));
            }
            Console.Out.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>From controld when it runs (the node's view), else straight from vrrpd.</summary>
    private static async Task<IReadOnlyList<Instance>> ReadAsync(ParseResult r, CancellationToken token)
    {
        var controld = GlobalOptions.Socket(r, "controld");
        if (File.Exists(controld))
        {
            using var channel = UnixChannel.Open(controld);
            try
            {
                var status = await new Control.V1.ControlService.ControlServiceClient(channel.Invoker).GetStatusAsync(new(), GlobalOptions.Call(r, token));
                if (status.Instances.Count > 0 || status.Children.Count == 0) return status.Instances;
            }
            catch (RpcException) { /* fall back to vrrpd */ }
        }
        using var vrrpd = UnixChannel.Open(GlobalOptions.Socket(r, "vrrpd"));
        return (await new Vrrp.V1.VrrpService.VrrpServiceClient(vrrpd.Invoker).ListInstancesAsync(new(), GlobalOptions.Call(r, token))).Instances;
    }

    private static string State(InstanceState s) => s switch
    {
        InstanceState.Init => "INIT",
        InstanceState.Backup => "BACKUP",
        InstanceState.Master => "MASTER",
        InstanceState.Fault => "FAULT",
        InstanceState.Stop => "STOP",
        _ => "?",
    };
}
