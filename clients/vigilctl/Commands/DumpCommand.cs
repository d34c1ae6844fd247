using System.CommandLine;
using Vigil.Control.V1;

namespace Vigil.Ctl.Commands;

/// <summary>`vigilctl dump [data|stats|json]`: keepalived's state dumps (what SIGUSR1, SIGUSR2 and SIGJSON write), printed.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var format = new Argument<string>("format")
        {
            Description = "data (keepalived.data, SIGUSR1), stats (keepalived.stats, SIGUSR2) or json (keepalived.json, SIGJSON)",
            DefaultValueFactory = _ => "data",
        };
        var command = new Command("dump", "print keepalived's data, stats or json dump of the node") { format };
        command.SetAction(async (r, token) =>
        {
            var text = r.GetValue(format)!;
            DumpFormat? f = text switch
            {
                "data" => DumpFormat.Data,
                "stats" => DumpFormat.Stats,
                "json" => DumpFormat.Json,
                _ => null,
            };
            if (f is null)
            {
                Console.Error.WriteLine($"vigilctl: format: '{text}' is none of data, stats, json");
                return ExitCodes.Usage;
            }
            var (reply, exit) = await ControlCall.RunAsync(r, "dump the state",
                (client, call) => client.DumpStateAsync(new DumpStateRequest { Format = f.Value }, call), token);
            if (reply is null) return exit;
            Console.Out.Write(reply.Text);
            return ExitCodes.Ok;
        });
        return command;
    }
}
