namespace Vigil.Config.Diagnostics;

/// <summary>Collects diagnostics in the order they are found.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    /// <summary>While set, diagnostics are dropped (keepalived has stopped checking that part).</summary>
    public bool Muted { get; set; }

    /// <summary>An error keepalived reports as a general configuration error.</summary>
    public void Error(SourcePosition at, string message, ConfigErrorClass cls = ConfigErrorClass.GeneralError) =>
        Add(new Diagnostic(DiagnosticSeverity.Error, cls, at, message));

    /// <summary>A problem keepalived reports (it sets the exit status) but that is only a warning.</summary>
    public void Warning(SourcePosition at, string message, ConfigErrorClass cls = ConfigErrorClass.GeneralError) =>
        Add(new Diagnostic(DiagnosticSeverity.Warning, cls, at, message));

    /// <summary>A note keepalived would not report; it never changes the exit status.</summary>
    public void Note(SourcePosition at, string message) =>
        Add(new Diagnostic(DiagnosticSeverity.Warning, ConfigErrorClass.None, at, message));

    public void Fatal(SourcePosition at, string message, ConfigErrorClass cls = ConfigErrorClass.Fatal) =>
        Add(new Diagnostic(DiagnosticSeverity.Error, cls, at, message));

    public void Add(Diagnostic d)
    {
        if (!Muted) _items.Add(d);
    }
}
