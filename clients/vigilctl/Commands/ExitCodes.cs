using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Grpc.Core;

namespace Vigil.Ctl.Commands;

/// <summary>
/// vigilctl's exit codes, the same for every command so scripts can branch on them (listed in
/// `vigilctl --help`): 0 done, 1 the operation failed, 2 bad usage or an argument the daemon
/// refused, 3 no such thing, 4 the daemon is not reachable, 5 already exists, 6 permission denied.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The operation ran and failed: the configuration has errors, a precondition does not hold.</summary>
    public const int Failed = 1;
    /// <summary>Bad command line, or INVALID_ARGUMENT / OUT_OF_RANGE from the daemon.</summary>
    public const int Usage = 2;
    /// <summary>NOT_FOUND: no such virtual server, real server or instance.</summary>
    public const int NotFound = 3;
    /// <summary>The daemon does not run (no socket), or UNAVAILABLE / DEADLINE_EXCEEDED.</summary>
    public const int Unavailable = 4;
    /// <summary>ALREADY_EXISTS: the real server is there already (rs add).</summary>
    public const int AlreadyExists = 5;
    /// <summary>Refused for want of permission: the Consul agent refused the ACL token (403), or PERMISSION_DENIED / UNAUTHENTICATED.</summary>
    public const int PermissionDenied = 6;

    public const string Help = """
        Exit codes (every command):
          0  done
          1  the operation failed (the configuration has errors, a precondition does not hold)
          2  bad usage, or an argument the daemon refused (INVALID_ARGUMENT)
          3  not found (no such virtual or real server: NOT_FOUND)
          4  the daemon is not reachable (not running, UNAVAILABLE, timed out)
          5  already exists (rs add of a real server that is there: ALREADY_EXISTS)
          6  permission denied (the Consul agent refused the ACL token: cluster; PERMISSION_DENIED)
        """;

    /// <summary>Appends <see cref="Help"/> to the root command's --help.</summary>
    public static void Document(RootCommand root)
    {
        foreach (var help in root.Options.OfType<HelpOption>())
        {
            if (help.Action is SynchronousCommandLineAction inner) help.Action = new WithEpilog(inner);
        }
    }

    private sealed class WithEpilog(SynchronousCommandLineAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var code = inner.Invoke(parseResult);
            if (parseResult.CommandResult.Command is RootCommand)
                parseResult.InvocationConfiguration.Output.Write(Help + "\n");
            return code;
        }
    }

    public static int FromStatus(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => Usage,
        StatusCode.NotFound => NotFound,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.AlreadyExists => AlreadyExists,
        StatusCode.PermissionDenied or StatusCode.Unauthenticated => PermissionDenied,
        _ => Failed,
    };
}
