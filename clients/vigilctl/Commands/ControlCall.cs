using System.CommandLine;
using Grpc.Core;
using Vigil.Control.V1;
using Vigil.Rpc.Client;

namespace Vigil.Ctl.Commands;

/// <summary>The answer of one control call, or the exit code it failed with (the reason already on stderr).</summary>
internal readonly record struct CallResult<T>(T? Value, int Exit) where T : class;

/// <summary>Unary calls to vigil-controld's ControlService, with failures mapped to <see cref="ExitCodes"/>.</summary>
internal static class ControlCall
{
    public static Task<CallResult<T>> RunAsync<T>(ParseResult r, string what,
        Func<ControlService.ControlServiceClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken token) where T : class =>
        RunAsync(r, what, (c, options) => call(c, options).ResponseAsync, token);

    public static async Task<CallResult<T>> RunAsync<T>(ParseResult r, string what,
        Func<ControlService.ControlServiceClient, CallOptions, Task<T>> call, CancellationToken token) where T : class
    {
        var socket = GlobalOptions.Socket(r, "controld");
        if (!File.Exists(socket))
        {
            Console.Error.WriteLine($"vigilctl: vigil-controld is not running (no {socket})");
            return new(null, ExitCodes.Unavailable);
        }
        using var channel = UnixChannel.Open(socket);
        try
        {
            return new(await call(new ControlService.ControlServiceClient(channel.Invoker), GlobalOptions.Call(r, token)), ExitCodes.Ok);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"vigilctl: cannot {what}: {Describe(e)}");
            return new(null, ExitCodes.FromStatus(e.StatusCode));
        }
    }

    /// <summary>"NOT_FOUND: no real server 10.0.0.2:80 in ...".</summary>
    public static string Describe(RpcException e) => $"{StatusName(e.StatusCode)}: {e.Status.Detail}";

    /// <summary>The canonical gRPC name, as grpcurl and buf curl print it.</summary>
    public static string StatusName(StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
}
