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
        var all = new Option<bool>("--all", "-a") { Description = "the whole node from controld: also its daemons, the virtual and real servers, and the load balancer's table" };
        var command = new Command("status", "show every VRRP instance: state, priority, master address") { json, all };
        command.SetAction(async (r, token) =>
        {
            if (r.GetValue(all)) return await AllAsync(r, r.GetValue(json), token);
            var read = await ReadAsync(r, token);
            if (read.Value is not { } instances) return read.Exit;
            if (r.GetValue(json))
            {
                var list = new ListInstancesResponse();
                list.Instances.AddRange(instances);
                GlobalOptions.PrintJson(list);
                return 0;
            }
            Console.Out.Write(InstanceTable(instances));
            return 0;
        });
        return command;
    }

    private static string InstanceTable(IEnumerable<Instance> instances)
    {
        var table = new Table("INSTANCE", "VRID", "INTERFACE", "STATE", "PRIORITY", "MASTER", "VIPS");
        foreach (var i in instances)
        {
            var priority = i.EffectivePriority == i.BasePriority ? $"{i.BasePriority}" : $"{i.EffectivePriority} (base {i.BasePriority})";
            table.Add(i.Name, i.VirtualRouterId.ToString(), i.Interface, State(i.State), priority,
                i.MasterAddress.Length == 0 ? "-" : i.MasterAddress + (i.State == InstanceState.Master ? " (this node)" : ""),
                string.Join(",", i.VirtualAddresses));
        }
        return table.ToString();
    }

    /// <summary>`status --all`: GetStatus with the virtual servers and the LVS table.</summary>
    private static async Task<int> AllAsync(ParseResult r, bool json, CancellationToken token)
    {
        var result = await ControlCall.RunAsync(r, "read the status",
            (c, call) => c.GetStatusAsync(new Control.V1.GetStatusRequest { IncludeVirtualServers = true, IncludeLvs = true }, call), token);
        if (result.Value is not { } status) return result.Exit;
        if (json) GlobalOptions.PrintJson(status);
        else Console.Out.Write(FormatAll(status));
        return ExitCodes.Ok;
    }

    /// <summary>The sections of `status --all`: configuration, daemons, instances, virtual servers, LVS table, planes that did not answer.</summary>
    public static string FormatAll(Control.V1.GetStatusResponse status)
    {
        var s = new System.Text.StringBuilder();
        s.Append("config: ").Append(status.ConfigFile.Length > 0 ? status.ConfigFile : "-");
        if (status.ConfigLoadedAt is { } at) s.Append(" (loaded ").Append(at.ToDateTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)).Append(')');
        s.Append("\n\n");
        var daemons = new Table("DAEMON", "PID", "READY", "HEALTHY", "RESTARTS", "HEARTBEAT", "LAST_RESTART");
        foreach (var d in status.Children)
        {
            daemons.Add(d.Name, d.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Ready ? "yes" : "no", d.Healthy ? "yes" : "no",
                d.Restarts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                d.HeartbeatAge is { } age ? age.ToTimeSpan().TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "s" : "-",
                d.LastRestartReason.Length > 0 ? d.LastRestartReason : "-");
        }
        s.Append(daemons).Append('\n').Append(InstanceTable(status.Instances));
        if (status.VirtualServers.Count > 0)
        {
            var vss = new Table("VIRTUAL_SERVER", "QUORUM", "REAL_SERVER", "HEALTH", "WEIGHT", "STATE");
            foreach (var v in status.VirtualServers)
            {
                if (v.RealServers.Count == 0) vss.Add(v.Name, v.QuorumUp ? "up" : "down", "-", "-", "-", "-");
                foreach (var rs in v.RealServers)
                {
                    vss.Add(v.Name, v.QuorumUp ? "up" : "down", EventsCommand.Endpoint(rs.Endpoint),
                        rs.Health switch { Check.V1.Health.Up => "up", Check.V1.Health.Down => "down", _ => "-" },
                        rs.EffectiveWeight.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        rs.Drained ? "drained" : rs.InPool ? "in pool" : "out of pool");
                }
            }
            s.Append('\n').Append(vss);
        }
        if (status.Lvs is { } lvs)
        {
            LvsCommand.SortAsIpvsadm(lvs);
            s.Append('\n').Append(LvsCommand.Format(lvs));
        }
        if (status.Consul is { } consul) s.Append('\n').Append(FormatConsul(consul));
        foreach (var u in status.Unavailable) s.Append("unavailable: ").Append(u).Append('\n');
        return s.ToString();
    }

    /// <summary>The consul section: the agent, the counts (ACL refusals first: they need a person), the last error, what is registered.</summary>
    public static string FormatConsul(Control.V1.ConsulStatus c)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var s = new System.Text.StringBuilder();
        s.Append("consul: agent ").Append(c.Agent)
            .Append(", acl refusals ").Append(c.AclRefusals.ToString(inv))
            .Append(", failures ").Append(c.Failures.ToString(inv))
            .Append(", registrations ").Append(c.Registrations.ToString(inv))
            .Append(", deregistrations ").Append(c.Deregistrations.ToString(inv)).Append('\n');
        s.Append("consul: last error: ");
        if (c.LastError.Length > 0) s.Append(c.LastError);
        else s.Append(c.LastErrorAt is null ? "none" : "none since the agent answered again");
        if (c.LastErrorAt is { } at) s.Append(" (at ").Append(at.ToDateTime().ToString("yyyy-MM-ddTHH:mm:ssZ", inv)).Append(')');
        s.Append('\n');
        s.Append("consul: registered: ").Append(c.RegisteredServices.Count == 0 ? "-" : string.Join(", ", c.RegisteredServices)).Append('\n');
        return s.ToString();
    }

    /// <summary>From controld when it runs (the node's view), else straight from vrrpd; the exit code when neither answers.</summary>
    private static async Task<CallResult<IReadOnlyList<Instance>>> ReadAsync(ParseResult r, CancellationToken token)
    {
        var controld = GlobalOptions.Socket(r, "controld");
        if (File.Exists(controld))
        {
            using var channel = UnixChannel.Open(controld);
            try
            {
                var status = await new Control.V1.ControlService.ControlServiceClient(channel.Invoker).GetStatusAsync(new(), GlobalOptions.Call(r, token));
                if (status.Instances.Count > 0 || status.Children.Count == 0) return new(status.Instances, ExitCodes.Ok);
            }
            catch (RpcException) { /* fall back to vrrpd */ }
        }
        var vrrpd = await GlobalOptions.ReadAsync(r, "vrrpd", "the VRRP state",
            (invoker, call) => new VrrpService.VrrpServiceClient(invoker).ListInstancesAsync(new ListInstancesRequest(), call), token);
        return new(vrrpd.Value?.Instances, vrrpd.Exit);
    }

    internal static string State(InstanceState s) => s switch
    {
        InstanceState.Init => "INIT",
        InstanceState.Backup => "BACKUP",
        InstanceState.Master => "MASTER",
        InstanceState.Fault => "FAULT",
        InstanceState.Stop => "STOP",
        _ => "?",
    };
}
