using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using Vigil.Rpc.Client;

namespace Vigil.Ctl.Commands;

/// <summary>Options every command takes, and the shared way to reach a daemon.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string> RunDir = new("--run-dir")
    {
        Description = "directory of the daemons' sockets",
        DefaultValueFactory = _ => "/run/vigil",
        Recursive = true,
    };

    public static readonly Option<double> Timeout = new("--timeout")
    {
        Description = "seconds to wait for each daemon",
        DefaultValueFactory = _ => 5.0,
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "print JSON instead of a table" };

    public static string Socket(ParseResult r, string daemon) =>
        Path.Combine(r.GetValue(RunDir)!, daemon + ".sock");

    public static CallOptions Call(ParseResult r, CancellationToken token) =>
        Deadline.In(TimeSpan.FromSeconds(r.GetValue(Timeout)), token);

    /// <summary>Prints a response as --json does: every field, defaults included, indented.</summary>
    public static void PrintJson(IMessage message) =>
        Console.Out.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation()).Format(message));

    /// <summary>
    /// One unary read from a daemon on its socket, or the exit code it failed with (the reason
    /// printed to stderr, naming the daemon and what was read): <see cref="ExitCodes.Unavailable"/>
    /// when the daemon is not running, else the call's status mapped by <see cref="ExitCodes.FromStatus"/>.
    /// </summary>
    public static async Task<CallResult<T>> ReadAsync<T>(ParseResult r, string daemon, string what, Func<CallInvoker, CallOptions, AsyncUnaryCall<T>> call, CancellationToken token)
        where T : class
    {
        var socket = Socket(r, daemon);
        if (!File.Exists(socket))
        {
            Console.Error.WriteLine($"vigilctl: vigil-{daemon} is not running (no {socket})");
            return new(null, ExitCodes.Unavailable);
        }
        using var channel = UnixChannel.Open(socket);
        try
        {
            return new(await call(channel.Invoker, Call(r, token)), ExitCodes.Ok);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"vigilctl: cannot read {what} from vigil-{daemon}: {ControlCall.Describe(e)}");
            return new(null, ExitCodes.FromStatus(e.StatusCode));
        }
    }
}
