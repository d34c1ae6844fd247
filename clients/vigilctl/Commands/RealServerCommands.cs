using System.CommandLine;
using System.Globalization;
using System.Net;
using Vigil.Check.V1;
using Vigil.Control.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl rs VERB VIRTUAL_SERVER REAL_SERVER ...`: a real server at runtime, through controld
/// to vigil-checkd and the load balancer: `weight` (SetWeight), `drain` (weight 0, connections
/// finish), `enable` (undo drain). Other real-server verbs join the group through
/// <see cref="Create"/>'s argument and share <see cref="ParseTarget"/>'s syntax:
/// VIRTUAL_SERVER is ADDR:PORT, [V6ADDR]:PORT, fwmark:N or group:NAME (with --protocol),
/// REAL_SERVER is ADDR:PORT or [V6ADDR]:PORT.
/// </summary>
internal static class RealServerCommands
{
    public static Command Create(params Command[] more)
    {
        var group = new Command("rs", "change a real server at runtime: weight, drain, enable");
        var weight = new Argument<int?>("WEIGHT") { Description = "0..2147483647 (absent with --reset)", Arity = ArgumentArity.ZeroOrOne };
        var reset = new Option<bool>("--reset") { Description = "back to the configured weight" };
        var weightCommand = Verb("weight", "set a real server's weight (kept across reloads while the real server stays)",
            async (r, c, target, call) => (await c.SetWeightAsync(new SetWeightRequest { Target = target, Weight = r.GetValue(reset) ? null : r.GetValue(weight) }, call)).RealServer);
        weightCommand.Arguments.Add(weight);
        weightCommand.Options.Add(reset);
        weightCommand.Validators.Add(v =>
        {
            var w = v.GetValue(weight);
            if (w is null == !v.GetValue(reset)) v.AddError("give either WEIGHT or --reset");
            else if (w < 0) v.AddError($"WEIGHT {w}: must be 0..2147483647");
        });
        group.Subcommands.Add(weightCommand);
        group.Subcommands.Add(Verb("drain", "drain a real server: weight 0 in the load balancer, established connections finish, checks go on",
            async (_, c, target, call) => (await c.DrainAsync(new DrainRequest { Target = target }, call)).RealServer));
        group.Subcommands.Add(Verb("enable", "undo drain: the real server gets its weight back",
            async (_, c, target, call) => (await c.EnableAsync(new EnableRequest { Target = target }, call)).RealServer));
        foreach (var c in more) group.Subcommands.Add(c);
        return group;
    }

    public static Argument<string> VirtualServerArgument() => new("VIRTUAL_SERVER") { Description = "ADDR:PORT, [V6ADDR]:PORT, fwmark:N or group:NAME" };

    public static Argument<string> RealServerArgument() => new("REAL_SERVER") { Description = "ADDR:PORT or [V6ADDR]:PORT" };

    public static Option<string> ProtocolOption() => new("--protocol", "-p")
    {
        Description = "the virtual server's protocol",
        DefaultValueFactory = _ => "tcp",
        HelpName = "tcp|udp|sctp",
    };

    private delegate Task<Check.V1.RealServer> Call(ParseResult r, ControlService.ControlServiceClient client, RealServerRef target, Grpc.Core.CallOptions options);

    private static Command Verb(string name, string description, Call call)
    {
        var vsArgument = VirtualServerArgument();
        var rsArgument = RealServerArgument();
        var protocol = ProtocolOption();
        var json = GlobalOptions.Json();
        var command = new Command(name, description) { vsArgument, rsArgument, protocol, json };
        command.SetAction(async (r, token) =>
        {
            var vs = r.GetValue(vsArgument)!;
            var rs = r.GetValue(rsArgument)!;
            if (!TryParseTarget(vs, rs, r.GetValue(protocol)!, out var target, out var error))
            {
                Console.Error.WriteLine($"vigilctl: {error}");
                return ExitCodes.Usage;
            }
            var result = await ControlCall.RunAsync(r, $"{name} {rs} of {vs}", (c, options) => call(r, c, target, options), token);
            if (result.Value is not { } answer) return result.Exit;
            if (r.GetValue(json)) GlobalOptions.PrintJson(answer);
            else Console.Out.Write(Format(answer));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The real server after the change, as one table row.</summary>
    public static string Format(Check.V1.RealServer rs)
    {
        var table = new Table("REAL_SERVER", "HEALTH", "WEIGHT", "CONFIGURED", "OVERRIDE", "DRAINED", "IN_POOL");
        table.Add(EventsCommand.Endpoint(rs.Endpoint), rs.Health switch { Health.Up => "up", Health.Down => "down", _ => "-" },
            rs.EffectiveWeight.ToString(CultureInfo.InvariantCulture), rs.ConfiguredWeight.ToString(CultureInfo.InvariantCulture),
            rs.WeightOverride is { } w ? w.ToString(CultureInfo.InvariantCulture) : "-", rs.Drained ? "yes" : "no", rs.InPool ? "yes" : "no");
        return table.ToString();
    }

    /// <summary>Parses the command line's virtual and real server; the error names the argument and what is wrong.</summary>
    public static bool TryParseTarget(string virtualServer, string realServer, string protocol, out RealServerRef target, out string error)
    {
        target = new RealServerRef();
        Protocol p;
        switch (protocol.ToLowerInvariant())
        {
            case "tcp": p = Protocol.Tcp; break;
            case "udp": p = Protocol.Udp; break;
            case "sctp": p = Protocol.Sctp; break;
            default: error = $"--protocol {protocol}: must be tcp, udp or sctp"; return false;
        }
        var key = new VirtualServerKey { Protocol = p };
        if (virtualServer.StartsWith("fwmark:", StringComparison.OrdinalIgnoreCase))
        {
            if (!uint.TryParse(virtualServer.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var mark) || mark == 0)
            {
                error = $"VIRTUAL_SERVER {virtualServer}: fwmark must be 1..4294967295";
                return false;
            }
            key.Fwmark = mark;
        }
        else if (virtualServer.StartsWith("group:", StringComparison.OrdinalIgnoreCase))
        {
            if (virtualServer.Length == 6) { error = $"VIRTUAL_SERVER {virtualServer}: the group name is missing"; return false; }
            key.Group = virtualServer[6..];
        }
        else if (TryParseEndpoint(virtualServer, out var vse, out var why)) key.Endpoint = vse;
        else { error = $"VIRTUAL_SERVER {virtualServer}: {why} (ADDR:PORT, [V6ADDR]:PORT, fwmark:N or group:NAME)"; return false; }
        if (!TryParseEndpoint(realServer, out var rse, out var rsWhy)) { error = $"REAL_SERVER {realServer}: {rsWhy} (ADDR:PORT or [V6ADDR]:PORT)"; return false; }
        target = new RealServerRef { VirtualServer = key, RealServer = rse };
        error = "";
        return true;
    }

    private static bool TryParseEndpoint(string text, out Check.V1.Endpoint endpoint, out string error)
    {
        endpoint = new Check.V1.Endpoint();
        string host, port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) { error = "no port after the ]"; return false; }
            (host, port) = (text[1..close], text[(close + 2)..]);
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0) { error = "no port"; return false; }
            (host, port) = (text[..colon], text[(colon + 1)..]);
            if (host.Contains(':', StringComparison.Ordinal)) { error = "an IPv6 address goes in brackets"; return false; }
        }
        if (!IPAddress.TryParse(host, out var address)) { error = $"{host} is not an IP address"; return false; }
        if (!ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) { error = $"port {port}: must be 0..65535"; return false; }
        endpoint = new Check.V1.Endpoint { Address = address.ToString(), Port = n };
        error = "";
        return true;
    }
}
