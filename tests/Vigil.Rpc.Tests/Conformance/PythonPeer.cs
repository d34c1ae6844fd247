using Vigil.Testing;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>
/// Debian's python3-grpcio as an independent peer: stubs generated from protos/ with
/// python3-grpc-tools once per test run, and grpc_peer.py as client or server.
/// </summary>
public static class PythonPeer
{
    private static readonly Lazy<Task<string>> Generated = new(GenerateAsync);

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Conformance", "grpc_peer.py");

    /// <summary>The folder with the generated Python modules (PYTHONPATH).</summary>
    public static Task<string> StubsAsync() => Generated.Value;

    private static async Task<string> GenerateAsync()
    {
        Shell.Require(RepoPaths.DebianPython);
        var check = await Shell.RunAsync(RepoPaths.DebianPython, "-c", "import grpc, grpc_tools");
        if (!check.Ok) throw new InvalidOperationException("python3-grpcio and python3-grpc-tools are needed (make deps): " + check.Stderr);
        var dir = Path.Combine(Path.GetTempPath(), "vigil-pystubs-" + Guid.NewGuid().ToString("N")[..8]);
        var std = Path.Combine(dir, "std");
        // Standard protos go under other folder names: a top-level "grpc" package would shadow grpcio.
        foreach (var (src, dst) in new[] { ("grpc/health/v1/health.proto", "grpc_health_v1/health.proto"), ("grpc/reflection/v1/reflection.proto", "grpc_reflection_v1/reflection.proto") })
        {
            Directory.CreateDirectory(Path.Combine(std, Path.GetDirectoryName(dst)!));
            File.Copy(Path.Combine(RepoPaths.Protos, src), Path.Combine(std, dst));
        }
        var outDir = Path.Combine(dir, "py");
        Directory.CreateDirectory(outDir);
        var vigilProtos = Directory.GetFiles(Path.Combine(RepoPaths.Protos, "vigil"), "*.proto", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Protos, f));
        (await Shell.RunAsync(RepoPaths.DebianPython, ["-m", "grpc_tools.protoc", "-I", RepoPaths.Protos, "-I", std, "--python_out=" + outDir, "--grpc_python_out=" + outDir,
            .. vigilProtos, "grpc_health_v1/health.proto", "grpc_reflection_v1/reflection.proto"], TimeSpan.FromSeconds(60))).EnsureOk();
        // Readable by the unprivileged peers of the permission tests.
        foreach (var d in Directory.GetDirectories(dir, "*", SearchOption.AllDirectories).Append(dir))
        {
            File.SetUnixFileMode(d, (UnixFileMode)0b111_101_101);
        }
        return outDir;
    }

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
