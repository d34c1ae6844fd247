using System.CommandLine;
using System.Globalization;
using Vigil.Control.V1;
using Vigil.Vrrp.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl priority set INSTANCE PRIORITY` / `vigilctl priority clear INSTANCE`: a runtime
/// priority for a VRRP instance, applied by vrrpd without a restart, until cleared or the next
/// reload.
/// </summary>
internal static class PriorityCommand
{
    public static Command Create()
    {
        var command = new Command("priority", "override a VRRP instance's priority at runtime (until cleared or the next reload)");
        command.Subcommands.Add(Set());
        command.Subcommands.Add(Clear());
        return command;
    }

    private static Command Set()
    {
        var instance = new Argument<string>("instance") { Description = "the vrrp_instance name" };
        var priority = new Argument<string>("priority") { Description = "1..254 (255 only for the address owner)" };
        var json = GlobalOptions.Json();
        var command = new Command("set", "use PRIORITY instead of the configured priority") { instance, priority, json };
        command.SetAction(async (r, token) =>
        {
            var text = r.GetValue(priority)!;
            if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > 255)
            {
                Console.Error.WriteLine($"vigilctl: priority: '{text}' is not a priority 1..254 (255 only for the address owner)");
                return ExitCodes.Usage;
            }
            return await RunAsync(r, r.GetValue(instance)!, value, r.GetValue(json), token);
        });
        return command;
    }

    private static Command Clear()
    {
        var instance = new Argument<string>("instance") { Description = "the vrrp_instance name" };
        var json = GlobalOptions.Json();
        var command = new Command("clear", "back to the configured priority") { instance, json };
        command.SetAction((r, token) => RunAsync(r, r.GetValue(instance)!, null, r.GetValue(json), token));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult r, string instance, uint? priority, bool json, CancellationToken token)
    {
        var (reply, exit) = await ControlCall.RunAsync(r, $"set the priority of {instance}",
            (client, call) => client.SetPriorityAsync(new SetPriorityRequest { Instance = instance, Priority = priority }, call), token);
        if (reply is null) return exit;
        if (json)
        {
            GlobalOptions.PrintJson(reply);
            return ExitCodes.Ok;
        }
        Console.Out.Write(Row(reply.Instance));
        return ExitCodes.Ok;
    }

    internal static string Row(Instance i)
    {
        var table = new Table("INSTANCE", "STATE", "CONFIGURED", "OVERRIDE", "EFFECTIVE");
        table.Add(i.Name, i.State.ToString().ToUpperInvariant(), i.BasePriority.ToString(CultureInfo.InvariantCulture),
            i.PriorityOverride is { } o ? o.ToString(CultureInfo.InvariantCulture) : "-", i.EffectivePriority.ToString(CultureInfo.InvariantCulture));
        return table.ToString();
    }
}
