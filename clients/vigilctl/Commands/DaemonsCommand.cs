using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Health.V1;
using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;

namespace Vigil.Ctl.Commands;

/// <summary>`vigilctl daemons`: which daemons run, their health, version, pid and uptime.</summary>
internal static class DaemonsCommand
{
    private static readonly string[] Names = ["controld", "vrrpd", "checkd", "ipvsd"];

    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var command = new Command("daemons", "show the Vigil daemons: health, version, pid, uptime") { json };
        command.SetAction(async (r, token) =>
        {
            var rows = await Task.WhenAll(Names.Select(n => ProbeAsync(r, n, token)));
            if (r.GetValue(json))
            {
                var array = new JsonArray(rows.Select(row => (JsonNode)new JsonObject
                {
                    ["daemon"] = row.Name,
                    ["socket"] = row.Socket,
                    ["health"] = row.Health,
                    ["version"] = row.Version,
                    ["pid"] = row.Pid,
                    ["uptime_seconds"] = row.Uptime?.TotalSeconds,
                    ["error"] = row.Error,
                }).ToArray());
                Console.Out.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                var table = new Table("DAEMON", "HEALTH", "VERSION", "PID", "UPTIME", "SOCKET");
                foreach (var row in rows)
                {
                    table.Add(row.Name, row.Error is null ? row.Health : $"down ({row.Error})", row.Version ?? "-", row.Pid?.ToString() ?? "-",
                        row.Uptime is { } u ? Format(u) : "-", row.Socket);
                }
                Console.Out.Write(table);
            }
            // Exit 0 only when every daemon that has a socket answers; 4 (unreachable) when one
            // does not, or when none runs at all.
            var down = rows.Any(row => row.Error is not null && row.Error != "not running") || rows.All(row => row.Error is not null);
            return down ? ExitCodes.Unavailable : ExitCodes.Ok;
        });
        return command;
    }

    private sealed record Row(string Name, string Socket, string Health, string? Version, int? Pid, TimeSpan? Uptime, string? Error);

    private static async Task<Row> ProbeAsync(ParseResult r, string name, CancellationToken token)
    {
        var socket = GlobalOptions.Socket(r, name);
        if (!File.Exists(socket)) return new Row("vigil-" + name, socket, "down", null, null, null, "not running");
        using var channel = UnixChannel.Open(socket);
        try
        {
            var health = await new Grpc.Health.V1.Health.HealthClient(channel.Invoker).CheckAsync(new HealthCheckRequest(), GlobalOptions.Call(r, token));
            var info = name switch
            {
                "controld" => (await new Control.V1.ControlService.ControlServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), GlobalOptions.Call(r, token))).Daemon,
                "vrrpd" => (await new Vrrp.V1.VrrpService.VrrpServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), GlobalOptions.Call(r, token))).Daemon,
                "checkd" => (await new Check.V1.CheckService.CheckServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), GlobalOptions.Call(r, token))).Daemon,
                _ => (await new Ipvs.V1.IpvsService.IpvsServiceClient(channel.Invoker).GetDaemonInfoAsync(new(), GlobalOptions.Call(r, token))).Daemon,
            };
            return new Row(info.Name, socket, health.Status.ToString().ToLowerInvariant(), info.Version, info.Pid,
                DateTime.UtcNow - info.StartedAt.ToDateTime(), null);
        }
        catch (RpcException e)
        {
            return new Row("vigil-" + name, socket, "down", null, null, null, $"{e.StatusCode}: {e.Status.Detail}");
        }
    }

    private static string Format(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t.Hours}h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds}s" : $"{t.Seconds}s";
}
