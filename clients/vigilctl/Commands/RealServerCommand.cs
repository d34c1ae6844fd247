using System.CommandLine;
using System.Globalization;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Vigil.Control.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl rs add VS RS [--weight N] [--tcp-check [--connect-port P] [--connect-timeout S]]` and
/// `vigilctl rs remove VS RS`: real servers added to or removed from an existing virtual server at
/// runtime, through checkd to the load balancer, until the next reload. VS is ADDRESS:PORT[/tcp|udp|sctp]
/// ("10.0.0.1:80", "[fd00::1]:443/tcp") or fwmark:N; RS is ADDRESS:PORT.
/// </summary>
/// (The `rs` group itself, with weight/drain/enable, is RealServerCommands.)
internal static class RealServerCommand
{
    private static readonly Argument<string> VsArg = new("virtual-server") { Description = "ADDRESS:PORT[/tcp|udp|sctp] or fwmark:N" };
    private static readonly Argument<string> RsArg = new("real-server") { Description = "ADDRESS:PORT" };

    public static Command Add()
    {
        var weight = new Option<int?>("--weight") { Description = "0..2147483647 (default: the virtual server's default weight)" };
        var tcp = new Option<bool>("--tcp-check") { Description = "check it with TCP_CHECK (without a checker it is up at once)" };
        var port = new Option<int?>("--connect-port") { Description = "TCP_CHECK connect_port (default: the real server's port)" };
        var timeout = new Option<double?>("--connect-timeout") { Description = "TCP_CHECK connect_timeout in seconds (default: the virtual server's)" };
        var json = GlobalOptions.Json();
        var command = new Command("add", "add a real server (with a TCP_CHECK if asked)") { VsArg, RsArg, weight, tcp, port, timeout, json };
        command.SetAction(async (r, token) =>
        {
            if (!TryVirtualServer(r.GetValue(VsArg)!, out var vs, out var error) || !TryEndpoint(r.GetValue(RsArg)!, "real-server", out var rs, out error))
                return Usage(error);
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
        var command = new Command("remove", "remove a real server") { VsArg, RsArg, json };
        command.SetAction(async (r, token) =>
        {
            if (!TryVirtualServer(r.GetValue(VsArg)!, out var vs, out var error) || !TryEndpoint(r.GetValue(RsArg)!, "real-server", out var rs, out error))
                return Usage(error);
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

    /// <summary>"10.0.0.1:80", "10.0.0.1:80/udp", "[fd00::1]:80/tcp", "fwmark:7".</summary>
    internal static bool TryVirtualServer(string text, out VirtualServerKey key, out string? error)
    {
        key = new VirtualServerKey();
        if (text.StartsWith("fwmark:", StringComparison.Ordinal))
        {
            if (!uint.TryParse(text["fwmark:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var mark) || mark == 0)
            {
                error = $"virtual-server: '{text}': fwmark:N needs a mark 1..4294967295";
                return false;
            }
            key.Fwmark = mark;
            error = null;
            return true;
        }
        var protocol = Protocol.Tcp;
        var slash = text.LastIndexOf('/');
        if (slash > 0 && !text[slash..].Contains(']', StringComparison.Ordinal) && !text[slash..].Contains(':', StringComparison.Ordinal))
        {
            switch (text[(slash + 1)..].ToLowerInvariant())
            {
                case "tcp": protocol = Protocol.Tcp; break;
                case "udp": protocol = Protocol.Udp; break;
                case "sctp": protocol = Protocol.Sctp; break;
                default:
                    error = $"virtual-server: '{text}': the protocol is tcp, udp or sctp";
                    return false;
            }
            text = text[..slash];
        }
        if (!TryEndpoint(text, "virtual-server", out var endpoint, out error)) return false;
        key.Endpoint = endpoint;
        key.Protocol = protocol;
        return true;
    }

    internal static bool TryEndpoint(string text, string what, out Endpoint endpoint, out string? error)
    {
        endpoint = new Endpoint();
        error = null;
        if (IPEndPoint.TryParse(text, out var ep) && text.Contains(':', StringComparison.Ordinal) && (ep.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || text.StartsWith('[')))
        {
            endpoint.Address = ep.Address.ToString();
            endpoint.Port = (uint)ep.Port;
            return true;
        }
        error = $"{what}: '{text}' is not ADDRESS:PORT (\"10.0.0.2:80\", \"[fd00::2]:80\")";
        return false;
    }
}
