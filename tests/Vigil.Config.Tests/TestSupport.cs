using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>Shared helpers: parse text, find the repository, describe diagnostics.</summary>
internal static class TestSupport
{
    public const string MainFile = "/etc/keepalived/keepalived.conf";

    /// <summary>Parses text as /etc/keepalived/keepalived.conf with no config id and no host checks.</summary>
    public static ConfigLoadResult Parse(string text, string? configId = null, IConfigFileSystem? fs = null, int? seed = 1) =>
        ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = configId, FileSystem = fs ?? new InMemoryFileSystem(), RandomSeed = seed }, MainFile);

    /// <summary>The repository root (the directory holding Vigil.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Vigil.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static string ConfigDir => Path.Combine(RepoRoot, "tests", "Config");

    public static string Describe(IEnumerable<Diagnostic> diagnostics) => string.Join("\n", diagnostics.Select(d => d.ToString()));

    /// <summary>Diagnostics keepalived would report (they set the exit status).</summary>
    public static List<Diagnostic> Reported(this ConfigLoadResult r) => r.Diagnostics.Where(d => d.CountsForExitCode).ToList();
}
