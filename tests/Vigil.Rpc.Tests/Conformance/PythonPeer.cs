using Vigil.Testing;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>Debian's python3-grpcio as an independent peer (<see cref="PythonGrpc"/>): grpc_peer.py as client or server.</summary>
public static class PythonPeer
{
    public static string Script => Path.Combine(AppContext.BaseDirectory, "Conformance", "grpc_peer.py");

    public static Task<string> StubsAsync() => PythonGrpc.StubsAsync();

    /// <summary>Runs one client case of grpc_peer.py against the socket, optionally as another user.</summary>
    public static async Task<CommandResult> RunClientCaseAsync(string socket, string testCase, string[]? asUser = null)
    {
        var stubs = await StubsAsync();
        var args = new List<string>();
        string program;
        if (asUser is null)
        {
            program = RepoPaths.DebianPython;
        }
        else
        {
            program = Shell.Require("setpriv");
            args.AddRange(asUser);
            args.Add(RepoPaths.DebianPython);
        }
        args.AddRange([Script, "client", socket, testCase]);
        var env = $"PYTHONPATH={stubs}";
        return await Shell.RunAsync("/usr/bin/env", [env, program, .. args], TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts grpc_peer.py as a server on the socket and waits until it is ready.</summary>
    public static async Task<LabProcess> StartServerAsync(string socket)
    {
        var stubs = await StubsAsync();
        var p = LabProcess.Start("python-grpc-server", RepoPaths.DebianPython, [Script, "server", socket], new Dictionary<string, string> { ["PYTHONPATH"] = stubs });
        await Poll.UntilAsync(() => p.Stdout.Contains("READY") || p.HasExited, TimeSpan.FromSeconds(20), "the Python gRPC server to start", () => p.Output);
        if (p.HasExited) throw new InvalidOperationException("the Python gRPC server failed: " + p.Output);
        return p;
    }
}
