using System.CommandLine;
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
}
