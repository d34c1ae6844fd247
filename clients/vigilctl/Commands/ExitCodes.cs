using Grpc.Core;

namespace Vigil.Ctl.Commands;

/// <summary>
/// vigilctl's exit statuses for the commands that change things (priority, rs, dump): what a
/// script can branch on. 1 stays "failed otherwise", as the read commands use it.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    /// <summary>Bad usage or an argument the daemon refused (INVALID_ARGUMENT).</summary>
    public const int InvalidArgument = 2;
    /// <summary>No such instance, virtual or real server (NOT_FOUND).</summary>
    public const int NotFound = 3;
    /// <summary>The daemon that does it is not running (UNAVAILABLE, or no socket).</summary>
    public const int Unavailable = 4;
    /// <summary>The real server is there already (ALREADY_EXISTS).</summary>
    public const int AlreadyExists = 5;

    public static int Of(StatusCode code) => code switch
    {
        StatusCode.OK => Ok,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InvalidArgument,
        StatusCode.NotFound => NotFound,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.AlreadyExists => AlreadyExists,
        _ => Failed,
    };
}
