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

    /// <summary>
    /// Puts the first <paramref name="count"/> diagnostics in reading order (stable; one whose
    /// position has no order stays after the one before it), as keepalived reports while it reads.
    /// </summary>
    public void SortByReadingOrder(int count, Func<SourcePosition, int?> order)
    {
        var keyed = new List<(int Key, int Index, Diagnostic D)>(count);
        var last = -1;
        for (var i = 0; i < count; i++)
        {
            var key = order(_items[i].Position) ?? last;
            last = key;
            keyed.Add((key, i, _items[i]));
        }
        keyed.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Index.CompareTo(b.Index));
        for (var i = 0; i < count; i++) _items[i] = keyed[i].D;
    }

    public void Add(Diagnostic d)
    {
        if (!Muted) _items.Add(d);
    }
}
