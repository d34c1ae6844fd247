using System.CommandLine;
using Grpc.Core;
using Vigil.Control.V1;
using Vigil.Rpc.Client;

namespace Vigil.Ctl.Commands;

/// <summary>One call to controld's control API for a command that changes something, with its exit status.</summary>
internal static class ControlCall
{
    /// <summary>Runs <paramref name="call"/>; on failure prints the daemon's reason and returns the exit status of its code (<see cref="ExitCodes"/>).</summary>
    public static async Task<(T? Reply, int Exit)> RunAsync<T>(ParseResult r, string what,
        Func<ControlService.ControlServiceClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken token) where T : class
    {
        var socket = GlobalOptions.Socket(r, "controld");
        if (!File.Exists(socket))
        {
            Console.Error.WriteLine($"vigilctl: vigil-controld is not running (no {socket})");
            return (null, ExitCodes.Unavailable);
        }
        using var channel = UnixChannel.Open(socket);
        try
        {
            return (await call(new ControlService.ControlServiceClient(channel.Invoker), GlobalOptions.Call(r, token)), ExitCodes.Ok);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"vigilctl: {what}: {e.StatusCode}: {e.Status.Detail}");
            return (null, ExitCodes.Of(e.StatusCode));
        }
    }
}
