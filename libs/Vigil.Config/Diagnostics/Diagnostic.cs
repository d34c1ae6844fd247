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

    /// <summary>keepalived stops reading at once (a word a keyword needs is missing; an include loops).</summary>
    Aborted,

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
    /// The status keepalived -t gives: a configuration keepalived stops reading (a missing file, a
    /// missing word) cannot run; otherwise, like keepalived, the most severe class in
    /// keepalived's order decides (script security above errors above "cannot run", so a later
    /// general error hides a bad interface, exactly as in keepalived). keepalived 2.2.7's binary
    /// returns these as 4/5/6 and 0 for a missing main file; Vigil uses the 3/4/5 its man page
    /// documents. Whether the model can run is <see cref="CannotRun"/>, not this number.
    /// </summary>
    public static int For(IEnumerable<Diagnostic> diagnostics)
    {
        var max = ConfigErrorClass.None;
        foreach (var d in diagnostics)
        {
            if (d.Class is ConfigErrorClass.Aborted or ConfigErrorClass.FileNotFound) return CannotRun;
            if (d.Class > max) max = d.Class;
        }
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
