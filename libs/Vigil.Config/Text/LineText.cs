using Vigil.Config.Diagnostics;

namespace Vigil.Config.Text;

/// <summary>
/// A line of configuration text being preprocessed, which remembers for every character the
/// column it came from in the source line, so tokens keep their positions through comment
/// removal, substitution and brace splitting. Text produced by a substitution maps to the
/// column of the "$" that was replaced.
/// </summary>
internal sealed class LineText
{
    private int[]? _columns;
    private int _baseColumn;

    public LineText(string file, int line, string text, int baseColumn = 1)
    {
        File = file;
        Line = line;
        Text = text;
        _baseColumn = baseColumn;
    }

    private LineText(string file, int line, string text, int[]? columns, int baseColumn)
    {
        File = file;
        Line = line;
        Text = text;
        _columns = columns;
        _baseColumn = baseColumn;
    }

    public string File { get; }

    public int Line { get; }

    public string Text { get; private set; }

    public int Length => Text.Length;

    public char this[int index] => Text[index];

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
        if (_columns is null) return new LineText(File, Line, Text.Substring(start, length), null, _baseColumn + start);
        return new LineText(File, Line, Text.Substring(start, length), _columns[start..(start + length)], 0);
    }

    public LineText Slice(int start) => Slice(start, Text.Length - start);

    public LineText Clone() => new(File, Line, Text, _columns, _baseColumn);

    /// <summary>Removes leading spaces and tabs.</summary>
    public void TrimStartBlanks()
    {
        var i = 0;
        while (i < Text.Length && (Text[i] == ' ' || Text[i] == '\t')) i++;
        if (i > 0) RemoveRange(0, i);
    }

    /// <summary>Removes trailing spaces and tabs.</summary>
    public void TrimEndBlanks()
    {
        var n = Text.Length;
        while (n > 0 && (Text[n - 1] == ' ' || Text[n - 1] == '\t')) n--;
        Truncate(n);
    }

    public void Truncate(int length)
    {
        if (length >= Text.Length) return;
        Text = Text[..length];
        if (_columns is not null) _columns = _columns[..length];
    }

    public void RemoveRange(int start, int count)
    {
        if (count == 0) return;
        if (start == 0 && _columns is null)
        {
            Text = Text[count..];
            _baseColumn += count;
            return;
        }
        if (start + count == Text.Length)
        {
            Truncate(start);
            return;
        }
        var cols = Materialize();
        Text = Text.Remove(start, count);
        _columns = [.. cols.AsSpan(0, start), .. cols.AsSpan(start + count)];
    }

    /// <summary>Replaces a range with text whose characters all map to <paramref name="column"/>.</summary>
    public void Replace(int start, int count, string value, int column)
    {
        var cols = Materialize();
        Text = string.Concat(Text.AsSpan(0, start), value, Text.AsSpan(start + count));
        var newCols = new int[cols.Length - count + value.Length];
        cols.AsSpan(0, start).CopyTo(newCols);
        newCols.AsSpan(start, value.Length).Fill(column);
        cols.AsSpan(start + count).CopyTo(newCols.AsSpan(start + value.Length));
        _columns = newCols;
    }

    public void Append(char c)
    {
        var column = ColumnAt(Text.Length);
        if (_columns is not null) _columns = [.. _columns, column];
        Text += c;
    }

    private int[] Materialize()
    {
        if (_columns is not null) return _columns;
        var cols = new int[Text.Length];
        for (var i = 0; i < cols.Length; i++) cols[i] = _baseColumn + i;
        _columns = cols;
        return cols;
    }

    public override string ToString() => Text;
}
