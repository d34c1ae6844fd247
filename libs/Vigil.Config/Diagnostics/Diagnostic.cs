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

    // keepalived cannot run the configuration.
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

/// <summary>Exit statuses of a configuration check, as documented for keepalived -t.</summary>
public static class ConfigExitCode
{
    public const int Ok = 0;
    public const int CannotRun = 3;
    public const int ErrorsButWouldRun = 4;
    public const int ScriptSecurity = 5;

    /// <summary>
    /// The status for a set of diagnostics. A configuration that cannot run wins over everything;
    /// then scripts without script security; then any other problem keepalived reports.
    /// (keepalived's own binary keeps the numerically highest config_err_t, which lets a later
    /// general error hide a missing file, and its -t returns 4/5/6 instead of the 3/4/5 its man
    /// page documents; Vigil follows the documented meaning.)
    /// </summary>
    public static int For(IEnumerable<Diagnostic> diagnostics)
    {
        var fatal = false;
        var security = false;
        var errors = false;
        foreach (var d in diagnostics)
        {
            switch (d.Class)
            {
                case ConfigErrorClass.None:
                    break;
                case ConfigErrorClass.FileNotFound or ConfigErrorClass.BadInterface or ConfigErrorClass.Fatal:
                    fatal = true;
                    break;
                case ConfigErrorClass.SecurityError:
                    security = true;
                    break;
                default:
                    errors = true;
                    break;
            }
        }
        return fatal ? CannotRun : security ? ScriptSecurity : errors ? ErrorsButWouldRun : Ok;
    }
}
