using Vigil.Config.Building;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config;

/// <summary>How a configuration is read.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary>
    /// The config id that "@id" / "@^id" lines are compared with (keepalived's -i). keepalived's
    /// default is the host name up to the first dot; null matches no "@id" line.
    /// </summary>
    public string? ConfigId { get; init; } = DefaultConfigId();

    /// <summary>Where files (and includes) are read from.</summary>
    public IConfigFileSystem FileSystem { get; init; } = PhysicalFileSystem.Instance;

    /// <summary>
    /// The machine to check interfaces, scripts and users against, as keepalived -t does; null
    /// skips those checks (a pure parse, e.g. of a configuration meant for another node).
    /// </summary>
    public IHostEnvironment? Host { get; init; }

    /// <summary>Seed for ${_RANDOM} (null: random); global_defs random_seed overrides it.</summary>
    public int? RandomSeed { get; init; }

    public static string DefaultConfigId() => Environment.MachineName.Split('.')[0];
}

/// <summary>The outcome of reading a configuration.</summary>
public sealed class ConfigLoadResult
{
    internal ConfigLoadResult(KeepalivedConfig? readModel, bool stops, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<string> files)
    {
        Diagnostics = diagnostics;
        Files = files;
        ExitCode = ConfigExitCode.For(diagnostics);
        ReadModel = readModel;
        Config = stops || ConfigExitCode.CannotRunWith(diagnostics) ? null : readModel;
    }

    /// <summary>
    /// The model as far as it could be read, also when keepalived would not run it (for
    /// inspection); instances keepalived rejects are left out. Null only when the main file cannot be read.
    /// </summary>
    public KeepalivedConfig? ReadModel { get; }

    /// <summary>
    /// The model keepalived would run, or null when it cannot run: a file or a needed word is
    /// missing, an interface does not exist, keepalived reports a fatal error, or its VRRP process
    /// would stop on an instance (no virtual_router_id, no interface, no VIP where one is required,
    /// duplicate VRIDs) - keepalived -t reports those as plain errors (status 5), yet keepalived
    /// then exits.
    /// </summary>
    public KeepalivedConfig? Config { get; }

    /// <summary>Every error and warning, in the order found.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    /// <summary>keepalived 2.2.7 -t's status: 0 ok, 2 a missing word, 4 cannot run, 5 errors but would run, 6 scripts without enable_script_security.</summary>
    public int ExitCode { get; }

    /// <summary>The files read, the main file first.</summary>
    public IReadOnlyList<string> Files { get; }

    public bool IsValid => ExitCode == ConfigExitCode.Ok;

    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}

/// <summary>Reads keepalived.conf into the typed model, reporting problems as keepalived -t does.</summary>
public static class ConfigLoader
{
    public const string DefaultPath = "/etc/keepalived/keepalived.conf";

    /// <summary>Reads a configuration file (and what it includes).</summary>
    public static ConfigLoadResult Load(string path, ConfigLoadOptions? options = null)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var reader = new LineReader(options.FileSystem, diagnostics, options.ConfigId, options.RandomSeed);
        if (!reader.Open(path))
        {
            return new ConfigLoadResult(null, false, diagnostics.Items, reader.FilesRead);
        }
        return Finish(reader, diagnostics, options, path);
    }

    /// <summary>
    /// Reads configuration text (a reload request, a test). Relative includes are resolved against
    /// the directory of <paramref name="fileName"/> in the options' file system.
    /// </summary>
    public static ConfigLoadResult Parse(string text, ConfigLoadOptions? options = null, string fileName = DefaultPath)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var reader = new LineReader(options.FileSystem, diagnostics, options.ConfigId, options.RandomSeed);
        reader.OpenText(fileName, text);
        return Finish(reader, diagnostics, options, fileName);
    }

    private static ConfigLoadResult Finish(LineReader reader, DiagnosticBag diagnostics, ConfigLoadOptions options, string mainFile)
    {
        var tree = new TreeBuilder(reader, diagnostics, mainFile).Build();
        var builder = new ConfigBuilder(diagnostics, options.Host, mainFile);
        builder.NoteScriptNames(tree);
        var config = builder.Build(tree);
        diagnostics.SortByReadingOrder(builder.CompletionStart, reader.OrderOf);
        return new ConfigLoadResult(config, builder.VrrpStopped, diagnostics.Items, reader.FilesRead);
    }
}
