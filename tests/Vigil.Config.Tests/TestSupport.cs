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

    /// <summary>The first lines where the two models' JSON differ, with some context.</summary>
    public static string JsonDifference(Model.KeepalivedConfig a, Model.KeepalivedConfig b)
    {
        var x = Output.ConfigJson.Serialize(a).Split('\n');
        var y = Output.ConfigJson.Serialize(b).Split('\n');
        var i = 0;
        while (i < x.Length && i < y.Length && x[i] == y[i]) i++;
        if (i == x.Length && i == y.Length) return "(same JSON; the models differ in a way JSON does not show)";
        var from = Math.Max(0, i - 8);
        return "expected JSON:\n" + string.Join('\n', x.Skip(from).Take(14)) + "\n--- read back:\n" + string.Join('\n', y.Skip(from).Take(14));
    }

    public static string Describe(IEnumerable<Diagnostic> diagnostics) => string.Join("\n", diagnostics.Select(d => d.ToString()));

    /// <summary>Diagnostics keepalived would report (they set the exit status).</summary>
    public static List<Diagnostic> Reported(this ConfigLoadResult r) => r.Diagnostics.Where(d => d.CountsForExitCode).ToList();
}
