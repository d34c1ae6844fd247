namespace Vigil.Testing;

/// <summary>
/// Debian's python3-grpcio as an independent gRPC peer: Python modules generated from protos/ with
/// python3-grpc-tools once per test run (vigil.* plus grpc.health.v1 and grpc.reflection.v1, the
/// standard ones under grpc_health_v1/ and grpc_reflection_v1/: a top-level "grpc" package would
/// shadow grpcio itself).
/// </summary>
public static class PythonGrpc
{
    private static readonly Lazy<Task<string>> Generated = new(GenerateAsync);

    /// <summary>The folder with the generated Python modules (PYTHONPATH).</summary>
    public static Task<string> StubsAsync() => Generated.Value;

    private static async Task<string> GenerateAsync()
    {
        Shell.Require(RepoPaths.DebianPython);
        var check = await Shell.RunAsync(RepoPaths.DebianPython, "-c", "import grpc, grpc_tools");
        if (!check.Ok) throw new InvalidOperationException("python3-grpcio and python3-grpc-tools are needed (make deps): " + check.Stderr);
        var dir = Path.Combine(Path.GetTempPath(), "vigil-pystubs-" + Guid.NewGuid().ToString("N")[..8]);
        var std = Path.Combine(dir, "std");
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
}
