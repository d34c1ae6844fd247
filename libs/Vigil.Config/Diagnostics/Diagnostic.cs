namespace Vigil.Config.Diagnostics;

/// <summary>How a diagnostic is labelled when printed.</summary>
public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>
/// keepalived's classification of configuration problems (its config_err_t), which decides the
/// exit status of a configuration check. <see cref="None"/> marks Vigil's own notes (for example
/// "not supported yet"), which keepalived would not report and which never change the status.
/// </summary>
public enum ConfigErrorClass
{
    None = 0,

    /// <summary>keepalived stops reading at once: a word a keyword needs is missing (exit status 2).</summary>
    Aborted,

    // keepalived cannot run the configuration. (Vigil also files an include cycle or too deep
    // includes here, which keepalived follows until it runs out of file descriptors.)
    FileNotFound,
    BadInterface,
    Fatal,

    // Errors, but keepalived would run (after ignoring or correcting the bad part).
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBlockStart,
    MissingBlockStart,
    UnexpectedBlockEnd,
    MissingBlockEnd,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    GeneralError,
    Warning,
    Deprecated,

    // Scripts would be run without enable_script_security.
    SecurityError,
}

/// <summary>One error or warning, always with the place it refers to.</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, ConfigErrorClass Class, SourcePosition Position, string Message)
{
    /// <summary>True for problems keepalived itself reports (they set the exit status).</summary>
    public bool CountsForExitCode => Class != ConfigErrorClass.None;

    /// <summary>FILE:LINE:COL: error|warning: message (FILE: ... when there is no line).</summary>
    public override string ToString() =>
        $"{Position}: {(Severity == DiagnosticSeverity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>
/// Exit statuses of a configuration check, the numbers keepalived 2.2.7's binary returns
/// (lib/scheduler.h chk_exit_code; its man page still says 3/4/5, the code says 4/5/6 "to maintain
/// backward compatibility"), so scripts written for keepalived -t work unchanged.
/// </summary>
public static class ConfigExitCode
{
    public const int Ok = 0;

    /// <summary>keepalived exits at once (KEEPALIVED_EXIT_CONFIG) when a keyword's word is missing (parser.c null_strvec).</summary>
    public const int Aborted = 2;

    public const int CannotRun = 4;
    public const int ErrorsButWouldRun = 5;
    public const int ScriptSecurity = 6;

    /// <summary>
    /// The status keepalived -t gives: a configuration keepalived stops reading (a missing word)
    /// exits 2 at once; one that misses a required file cannot run; otherwise, like keepalived
    /// (main.c config_test_exit), the most severe class in keepalived's order decides (script
    /// security above errors above "cannot run", so a later general error hides a bad interface,
    /// exactly as in keepalived). One difference on purpose: keepalived 2.2.7 exits 0 when the
    /// main file itself is missing; Vigil says it cannot run. Whether the model can run is
    /// <see cref="CannotRunWith"/>, not this number.
    /// </summary>
    public static int For(IEnumerable<Diagnostic> diagnostics)
    {
        var max = ConfigErrorClass.None;
        var fileMissing = false;
        foreach (var d in diagnostics)
        {
            if (d.Class is ConfigErrorClass.Aborted) return Aborted;
            if (d.Class is ConfigErrorClass.FileNotFound) fileMissing = true;
            if (d.Class > max) max = d.Class;
        }
        if (fileMissing) return CannotRun;
        return max switch
        {
            ConfigErrorClass.None => Ok,
            ConfigErrorClass.SecurityError => ScriptSecurity,
            ConfigErrorClass.BadInterface or ConfigErrorClass.Fatal => CannotRun,
            _ => ErrorsButWouldRun,
        };
    }

    /// <summary>True if a diagnostic means keepalived would not run the configuration (or part of it).</summary>
    public static bool CannotRunWith(IEnumerable<Diagnostic> diagnostics) =>
        diagnostics.Any(d => d.Class is ConfigErrorClass.Aborted or ConfigErrorClass.FileNotFound or ConfigErrorClass.BadInterface or ConfigErrorClass.Fatal);
}
