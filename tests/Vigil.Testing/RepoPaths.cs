namespace Vigil.Testing;

/// <summary>Where things are in the repository and its build output, found from the test binary.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "protos", "buf.yaml")) && File.Exists(Path.Combine(dir.FullName, "Makefile"))) return dir.FullName;
        }
        throw new InvalidOperationException($"cannot find the repository root above {AppContext.BaseDirectory}");
    });

    public static string Root => RootLazy.Value;
    public static string Protos => Path.Combine(Root, "protos");

    /// <summary>The built programs (make build): $VIGIL_OUT or out/ in the repository.</summary>
    public static string Out => Environment.GetEnvironmentVariable("VIGIL_OUT") is { Length: > 0 } o ? o : Path.Combine(Root, "out");

    /// <summary>A program from out/; fails with a clear message when `make build` has not run.</summary>
    public static string Program(string name)
    {
        var path = Path.Combine(Out, name);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} does not exist: run `make build` first");
    }

    /// <summary>buf from npm (make deps): $VIGIL_BUF or .tools/node_modules/.bin/buf.</summary>
    public static string Buf
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("VIGIL_BUF") is { Length: > 0 } b ? b : Path.Combine(Root, ".tools", "node_modules", ".bin", "buf");
            return File.Exists(path) ? path : throw new InvalidOperationException($"buf is not installed at {path}: run `make deps`");
        }
    }

    /// <summary>Debian's Python, which has python3-grpcio (the python3 first on PATH may not).</summary>
    public const string DebianPython = "/usr/bin/python3";
}
