using System.CommandLine;
using System.Globalization;
using Vigil.Check.V1;

namespace Vigil.Ctl.Commands;

/// <summary>`vigilctl checks`: every virtual server of the node with its real servers' health,
/// weight, last result, latency and reason, read from vigil-checkd.</summary>
internal static class ChecksCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var command = new Command("checks", "show the health checks: virtual servers, real servers' health, weight, last result, latency, reason") { json };
        command.SetAction(async (r, token) =>
        {
            var read = await GlobalOptions.ReadAsync(r, "checkd", "the checks",
                (invoker, call) => new CheckService.CheckServiceClient(invoker).ListVirtualServersAsync(new ListVirtualServersRequest(), call), token);
            if (read.Value is not { } list) return read.Exit;
            if (r.GetValue(json))
            {
                GlobalOptions.PrintJson(list);
                return 0;
            }
            var table = new Table("VIRTUAL SERVER", "QUORUM", "REAL SERVER", "HEALTH", "WEIGHT", "RESULT", "LATENCY", "REASON");
            foreach (var vs in list.VirtualServers)
            {
                var quorum = vs.Suspended ? "suspended" : vs.QuorumUp ? $"up ({vs.LiveWeight}/{vs.Quorum})" : $"down ({vs.LiveWeight}/{vs.Quorum})";
                if (vs.RealServers.Count == 0) table.Add(vs.Name, quorum, "-", "-", "-", "-", "-", "-");
                foreach (var rs in vs.RealServers)
                {
                    var health = rs.Health == Health.Up ? "UP" : "DOWN";
                    if (rs.Drained) health += " (drained)";
                    var weight = rs.DesiredWeight == rs.ConfiguredWeight ? $"{rs.DesiredWeight}" : $"{rs.DesiredWeight} (conf {rs.ConfiguredWeight})";
                    table.Add(vs.Name, quorum, rs.Name, health, weight, Outcome(rs.LastResult), Latency(rs.LastResult), rs.Reason.Length == 0 ? "-" : rs.Reason);
                }
                foreach (var d in vs.Destinations?.Destinations.Where(d => d.Role == DestinationRole.SorryServer) ?? [])
                {
                    table.Add(vs.Name, quorum, $"[{d.Endpoint.Address}]:{d.Endpoint.Port}", "sorry server", d.Weight.ToString(CultureInfo.InvariantCulture), "-", "-", "quorum lost");
                }
            }
            Console.Out.Write(table);
            return 0;
        });
        return command;
    }

    private static string Outcome(CheckResult? r) => r?.Outcome switch
    {
        CheckOutcome.Success => "success",
        CheckOutcome.Failure => "failure",
        CheckOutcome.LocalError => "local error",
        _ => "-",
    };

    private static string Latency(CheckResult? r) =>
        r?.Latency is { } d ? (d.ToTimeSpan().TotalMilliseconds).ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-";
}
