using Vigil.Config.Diagnostics;
using Vigil.Config.Output;

namespace Vigil.Config;

/// <summary>
/// The configuration check of vigil-controld, argument for argument like keepalived's:
/// "-t" / "--config-test[=FILE]" checks, "--dump-config" prints the model as JSON, "-f" /
/// "--use-file FILE" picks the file (default /etc/keepalived/keepalived.conf), "-i" /
/// "--config-id ID" sets the id for "@id" lines (default: the short host name).
/// Diagnostics are written as "FILE:LINE:COL: error|warning: message".
/// </summary>
public static class ConfigCheck
{
    private const string Usage =
        "usage: vigil-controld (-t|--config-test[=LOGFILE] | --dump-config) [-f|--use-file FILE] [-i|--config-id ID] [--no-host-checks]";

    /// <summary>True if the arguments ask for a check or a dump (so Main should call <see cref="Run"/>).</summary>
    public static bool IsRequested(IReadOnlyList<string> args) =>
        args.Any(a => a is "-t" or "--config-test" or "--dump-config" || a.StartsWith("--config-test=", StringComparison.Ordinal));

    /// <summary>Runs the check; returns keepalived 2.2.7's statuses: 0 ok, 2 a missing word (or bad arguments), 4 cannot run, 5 errors but would run, 6 scripts without script security.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, ConfigLoadOptions? baseOptions = null)
    {
        var test = false;
        var dump = false;
        string? logFile = null;
        var file = ConfigLoader.DefaultPath;
        string? configId = null;
        var hostChecks = true;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string? Value(string name)
            {
                var eq = a.IndexOf('=');
                if (a.StartsWith("--", StringComparison.Ordinal) && eq > 0) return a[(eq + 1)..];
                if (i + 1 < args.Count) return args[++i];
                stderr.WriteLine($"vigil-controld: {name} needs a value");
                return null;
            }
            switch (a)
            {
                case "-t" or "--config-test":
                    test = true;
                    break;
                case var s when s.StartsWith("--config-test=", StringComparison.Ordinal):
                    test = true;
                    logFile = s["--config-test=".Length..];
                    break;
                case "--dump-config":
                    dump = true;
                    break;
                case "-f" or "--use-file":
                case var s2 when s2.StartsWith("--use-file=", StringComparison.Ordinal):
                    if (Value(a) is not { } f) return 2;
                    file = f;
                    break;
                case "-i" or "--config-id":
                case var s3 when s3.StartsWith("--config-id=", StringComparison.Ordinal):
                    if (Value(a) is not { } id) return 2;
                    configId = id;
                    break;
                case "--no-host-checks":
                    hostChecks = false;
                    break;
                case "-l" or "--log-console" or "-D" or "--log-detail" or "-n" or "--dont-fork":
                    // keepalived's logging and foreground flags: a check always writes to stderr.
                    break;
                case "-S" or "--log-facility":
                    if (Value(a) is null) return 2;
                    break;
                default:
                    stderr.WriteLine($"vigil-controld: unknown argument '{a}'");
                    stderr.WriteLine(Usage);
                    return 2;
            }
        }
        if (!test && !dump)
        {
            stderr.WriteLine(Usage);
            return 2;
        }

        // --dump-config alone shows what the file says, wherever it is run (a seed config names
        // another node's eth1): no host checks. -t checks the host as keepalived -t does.
        var options = (baseOptions ?? new ConfigLoadOptions()) with
        {
            Host = hostChecks && test ? (baseOptions?.Host ?? SystemHostEnvironment.Instance) : null,
        };
        if (configId is not null) options = options with { ConfigId = configId };
        var result = ConfigLoader.Load(file, options);

        TextWriter log = stderr;
        StreamWriter? logWriter = null;
        if (logFile is { Length: > 0 })
        {
            try
            {
                logWriter = new StreamWriter(logFile, append: false);
                log = logWriter;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"vigil-controld: cannot write {logFile}: {e.Message}");
            }
        }
        try
        {
            foreach (var d in result.Diagnostics) log.WriteLine(d.ToString());
        }
        finally
        {
            logWriter?.Dispose();
        }

        if (dump && result.Config is { } config)
        {
            stdout.WriteLine(ConfigJson.Serialize(config));
        }
        return result.ExitCode;
    }
}
