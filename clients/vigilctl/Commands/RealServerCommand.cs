using System.CommandLine;
using System.Globalization;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Vigil.Control.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl rs add VS RS [-p PROTO] [--weight N] [--tcp-check [--connect-port P] [--connect-timeout S]]`
/// and `vigilctl rs remove VS RS [-p PROTO]`: real servers added to or removed from an existing virtual
/// server at runtime, through checkd to the load balancer, until the next reload. VS and RS are
/// written as for `rs weight` (RealServerCommands.TryParseTarget).
/// </summary>
/// (The `rs` group itself, with weight/drain/enable, is RealServerCommands.)
internal static class RealServerCommand
{

    public static Command Add()
    {
        var weight = new Option<int?>("--weight") { Description = "0..2147483647 (default: the virtual server's default weight)" };
        var tcp = new Option<bool>("--tcp-check") { Description = "check it with TCP_CHECK (without a checker it is up at once)" };
        var port = new Option<int?>("--connect-port") { Description = "TCP_CHECK connect_port (default: the real server's port)" };
        var timeout = new Option<double?>("--connect-timeout") { Description = "TCP_CHECK connect_timeout in seconds (default: the virtual server's)" };
        var json = GlobalOptions.Json();
        var (VsArg, RsArg, protocol) = (RealServerCommands.VirtualServerArgument(), RealServerCommands.RealServerArgument(), RealServerCommands.ProtocolOption());
        var command = new Command("add", "add a real server (with a TCP_CHECK if asked)") { VsArg, RsArg, protocol, weight, tcp, port, timeout, json };
        command.SetAction(async (r, token) =>
        {
            if (!RealServerCommands.TryParseTarget(r.GetValue(VsArg)!, r.GetValue(RsArg)!, r.GetValue(protocol)!, out var target, out var error))
                return Usage(error);
            var (vs, rs) = (target.VirtualServer, target.RealServer);
            var spec = new RealServerSpec { Endpoint = rs };
            if (r.GetValue(weight) is { } w) spec.Weight = w;
            if (!r.GetValue(tcp) && (r.GetValue(port) is not null || r.GetValue(timeout) is not null))
                return Usage("--connect-port and --connect-timeout need --tcp-check");
            if (r.GetValue(tcp))
            {
                var checker = new CheckerSpec { Tcp = new TcpCheck() };
                if (r.GetValue(port) is { } p)
                {
                    if (p is < 1 or > 65535) return Usage($"--connect-port: {p} is outside 1..65535");
                    checker.Connection = new ConnectionOptions { ConnectPort = (uint)p };
                }
                if (r.GetValue(timeout) is { } t)
                {
                    if (t is <= 0 or > 3600) return Usage($"--connect-timeout: {t} is not a number of seconds in (0, 3600]");
                    checker.Timings = new CheckTimings { ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(t)) };
                }
                spec.Checkers.Add(checker);
            }
            var (reply, exit) = await ControlCall.RunAsync(r, "add the real server",
                (client, call) => client.AddRealServerAsync(new Control.V1.AddRealServerRequest { VirtualServer = vs, RealServer = spec }, call), token);
            if (reply is null) return exit;
            if (r.GetValue(json))
            {
                GlobalOptions.PrintJson(reply);
                return ExitCodes.Ok;
            }
            var table = new Table("REAL SERVER", "HEALTH", "IN POOL", "WEIGHT", "CHECKERS");
            var s = reply.RealServer;
            table.Add(s.Name, s.Health.ToString().ToUpperInvariant(), s.InPool ? "yes" : "no", s.DesiredWeight.ToString(CultureInfo.InvariantCulture),
                s.Checkers.Count == 0 ? "-" : string.Join(",", s.Checkers.Select(c => c.Keyword)));
            Console.Out.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Remove()
    {
        var json = GlobalOptions.Json();
        var (VsArg, RsArg, protocol) = (RealServerCommands.VirtualServerArgument(), RealServerCommands.RealServerArgument(), RealServerCommands.ProtocolOption());
        var command = new Command("remove", "remove a real server") { VsArg, RsArg, protocol, json };
        command.SetAction(async (r, token) =>
        {
            if (!RealServerCommands.TryParseTarget(r.GetValue(VsArg)!, r.GetValue(RsArg)!, r.GetValue(protocol)!, out var target, out var error))
                return Usage(error);
            var (vs, rs) = (target.VirtualServer, target.RealServer);
            var (reply, exit) = await ControlCall.RunAsync(r, "remove the real server",
                (client, call) => client.RemoveRealServerAsync(new Control.V1.RemoveRealServerRequest { Target = new RealServerRef { VirtualServer = vs, RealServer = rs } }, call), token);
            if (reply is null) return exit;
            if (r.GetValue(json)) GlobalOptions.PrintJson(reply);
            else Console.Out.WriteLine($"removed {r.GetValue(RsArg)} from {r.GetValue(VsArg)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int Usage(string? error)
    {
        Console.Error.WriteLine($"vigilctl: {error}");
        return ExitCodes.Usage;
    }
}
