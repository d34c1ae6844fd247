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
    /// One unary read from a daemon on its socket: null (the reason printed to stderr) when the
    /// daemon is not running or the call fails, naming the daemon and what was read.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(ParseResult r, string daemon, string what, Func<CallInvoker, CallOptions, AsyncUnaryCall<T>> call, CancellationToken token)
        where T : class
    {
        var socket = Socket(r, daemon);
        if (!File.Exists(socket))
        {
            Console.Error.WriteLine($"vigilctl: vigil-{daemon} is not running (no {socket})");
            return null;
        }
        using var channel = UnixChannel.Open(socket);
        try
        {
            return await call(channel.Invoker, Call(r, token));
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"vigilctl: cannot read {what} from vigil-{daemon}: {e.StatusCode}: {e.Status.Detail}");
            return null;
        }
    }
}
