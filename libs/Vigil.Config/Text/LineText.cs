using Vigil.Config.Diagnostics;

namespace Vigil.Config.Text;

/// <summary>
/// A line of configuration text being preprocessed, which remembers for every character the
/// column it came from in the source line, so tokens keep their positions through comment
/// removal, substitution and brace splitting. Text produced by a substitution maps to the
/// column of the "$" that was replaced.
/// </summary>
/// <remarks>
/// The text is a window on a larger string (a whole file, usually): trimming and brace
/// splitting move the window instead of copying, and <see cref="Text"/> is only made when asked.
/// </remarks>
internal sealed class LineText
{
    private string _source;
    private int _start;
    private int _length;
    private string? _text;
    private int[]? _columns;
    private int _baseColumn;

    public LineText(string file, int line, string text, int baseColumn = 1)
        : this(file, line, text, 0, text.Length, baseColumn)
    {
    }

    /// <summary>The characters [start, start + length) of <paramref name="source"/>, the first at <paramref name="baseColumn"/>.</summary>
    public LineText(string file, int line, string source, int start, int length, int baseColumn = 1)
    {
        File = file;
        Line = line;
        _source = source;
        _start = start;
        _length = length;
        _baseColumn = baseColumn;
    }

    private LineText(string file, int line, string text, int[]? columns, int baseColumn)
        : this(file, line, text, 0, text.Length, baseColumn)
    {
        _columns = columns;
    }

    public string File { get; }

    public int Line { get; }

    public string Text => _text ??= _start == 0 && _length == _source.Length ? _source : _source.Substring(_start, _length);

    public ReadOnlySpan<char> Span => _source.AsSpan(_start, _length);

    public int Length => _length;

    public char this[int index] => _source[_start + index];

    /// <summary>The source column of character <paramref name="index"/> (the end of line for index == Length).</summary>
    public int ColumnAt(int index)
    {
        if (_columns is null) return _baseColumn + index;
        if (index < _columns.Length) return _columns[index];
        return _columns.Length == 0 ? _baseColumn : _columns[^1] + 1 + (index - _columns.Length);
    }

    public SourcePosition PositionAt(int index) => new(File, Line, ColumnAt(index));

    public LineText Slice(int start, int length)
    {
        if (_columns is null) return new LineText(File, Line, _source, _start + start, length, _baseColumn + start);
        return new LineText(File, Line, Text.Substring(start, length), _columns[start..(start + length)], 0);
    }

    public LineText Slice(int start) => Slice(start, _length - start);

    public LineText Clone() => new(File, Line, _source, _start, _length, _baseColumn) { _columns = _columns, _text = _text };

    /// <summary>Removes leading spaces and tabs.</summary>
    public void TrimStartBlanks()
    {
        var i = 0;
        while (i < _length && this[i] is ' ' or '\t') i++;
        if (i > 0) RemoveRange(0, i);
    }

    /// <summary>Removes trailing spaces and tabs.</summary>
    public void TrimEndBlanks()
    {
        var n = _length;
        while (n > 0 && this[n - 1] is ' ' or '\t') n--;
        Truncate(n);
    }

    public void Truncate(int length)
    {
        if (length >= _length) return;
        if (_columns is not null) _columns = _columns[..length];
        _length = length;
        _text = null;
    }

    public void RemoveRange(int start, int count)
    {
        if (count == 0) return;
        if (start == 0)
        {
            if (_columns is null) _baseColumn += count;
            else _columns = _columns[count..];
            _start += count;
            _length -= count;
            _text = null;
            return;
        }
        if (start + count == _length)
        {
            Truncate(start);
            return;
        }
        var cols = Materialize();
        SetText(Text.Remove(start, count));
        _columns = [.. cols.AsSpan(0, start), .. cols.AsSpan(start + count)];
    }

    /// <summary>Replaces a range with text whose characters all map to <paramref name="column"/>.</summary>
    public void Replace(int start, int count, string value, int column)
    {
        var cols = Materialize();
        SetText(string.Concat(Span[..start], value, Span[(start + count)..]));
        var newCols = new int[cols.Length - count + value.Length];
        cols.AsSpan(0, start).CopyTo(newCols);
        newCols.AsSpan(start, value.Length).Fill(column);
        cols.AsSpan(start + count).CopyTo(newCols.AsSpan(start + value.Length));
        _columns = newCols;
    }

    public void Append(char c)
    {
        var column = ColumnAt(_length);
        if (_columns is not null) _columns = [.. _columns, column];
        SetText(string.Concat(Span, new ReadOnlySpan<char>(in c)));
    }

    private void SetText(string text)
    {
        _source = text;
        _start = 0;
        _length = text.Length;
        _text = text;
    }

    private int[] Materialize()
    {
        if (_columns is not null) return _columns;
        var cols = new int[_length];
        for (var i = 0; i < cols.Length; i++) cols[i] = _baseColumn + i;
        _columns = cols;
        return cols;
    }

    public override string ToString() => Text;
}
