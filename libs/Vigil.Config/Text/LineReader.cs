using System.Globalization;
using System.Text;
using Vigil.Config.Diagnostics;

namespace Vigil.Config.Text;

/// <summary>include_check bits (keepalived's include_t).</summary>
[Flags]
internal enum IncludeChecks
{
    None = 0,
    /// <summary>Error if a match is a directory or not a readable, regular, non-executable file.</summary>
    Readable = 1,
    /// <summary>Error if nothing matches a name without wildcards.</summary>
    Match = 2,
    /// <summary>Error if nothing matches, even with wildcards.</summary>
    WildcardMatch = 4,
    /// <summary>Error if an alternative of a {a,b} brace matches nothing.</summary>
    BraceMatch = 8,
    All = Readable | Match | WildcardMatch | BraceMatch,
}

/// <summary>
/// Reads configuration text the way keepalived's read_line() does and hands out logical lines:
/// comments removed; "include" files read in place; "@id" / "@^id" lines kept or dropped by the
/// config id; "$NAME=value" definitions (multi-line with a trailing backslash) recorded and
/// "$NAME" / "${NAME}" substituted; "~SEQ(...)" and "~LST(...)" lines repeated; every "{" and
/// "}" split onto a line of its own. Each character remembers its file, line and column.
/// </summary>
internal sealed class LineReader
{
    /// <summary>A bound on substitution, far above any real configuration (keepalived limits lines to 1 KiB).</summary>
    private const int MaxLineLength = 1 << 20;
    private const int MaxSubstitutionsPerLine = 100_000;
    private const int MaxIncludeDepth = 64;

    private readonly IConfigFileSystem _fs;
    private readonly DiagnosticBag _diagnostics;
    private readonly string? _configId;
    private readonly Dictionary<string, Definition> _definitions = new(StringComparer.Ordinal);
    private readonly List<Sequence> _sequences = [];
    private readonly Stack<(MultilineCursor Cursor, int SeqDepth)> _multilineStack = new();
    private readonly List<IncludeFrame> _frames = [];
    private readonly List<string> _filesRead = [];
    private Random _random;
    private IncludeChecks _includeCheck;
    private LineText? _residue;
    private MultilineCursor? _multiline;
    private int _multilineSeqDepth;
    private Definition? _definingMultiline;

    public LineReader(IConfigFileSystem fs, DiagnosticBag diagnostics, string? configId, int? randomSeed)
    {
        _fs = fs;
        _diagnostics = diagnostics;
        _configId = configId;
        _random = randomSeed is int seed ? new Random(seed) : new Random();
        AddBuiltin("_PWD", (_, _) => CurrentDirectory);
        AddBuiltin("_INSTANCE", (_, _) => _configId ?? "");
        AddBuiltin("_RANDOM", RandomValue, maxParams: 2);
        _definitions["_HASH"] = new Definition("_HASH") { Value = "#" };
        _definitions["_BANG"] = new Definition("_BANG") { Value = "!" };
    }

    /// <summary>Every file opened, in order (the main file first).</summary>
    public IReadOnlyList<string> FilesRead => _filesRead;

    /// <summary>
    /// The order in which physical lines were read, as runs of consecutive lines of one file
    /// (an include interrupts its includer's run).
    /// </summary>
    private readonly List<(string File, int FirstLine, int LastLine, int FirstOrder)> _runs = [];
    private int _linesRead;

    private void NoteLineRead(string file, int line)
    {
        if (_runs.Count > 0 && _runs[^1] is var run && ReferenceEquals(run.File, file) && run.LastLine + 1 == line)
        {
            _runs[^1] = run with { LastLine = line };
        }
        else
        {
            _runs.Add((file, line, line, _linesRead));
        }
        _linesRead++;
    }

    /// <summary>Where a position comes in reading order; null if it is not a line that was read.</summary>
    public int? OrderOf(SourcePosition at)
    {
        foreach (var run in _runs)
        {
            if (run.FirstLine <= at.Line && at.Line <= run.LastLine && run.File == at.File) return run.FirstOrder + at.Line - run.FirstLine;
        }
        return null;
    }

    private string CurrentDirectory
    {
        get
        {
            for (var i = _frames.Count - 1; i >= 0; i--)
            {
                if (_frames[i].CurrentPath is { } path) return ConfigPath.DirectoryOf(path);
            }
            return _fs.CurrentDirectory;
        }
    }

    private string? CurrentPath
    {
        get
        {
            for (var i = _frames.Count - 1; i >= 0; i--)
            {
                if (_frames[i].CurrentPath is { } path) return path;
            }
            return null;
        }
    }

    /// <summary>Opens the main configuration file; false (after reporting) if nothing can be read.</summary>
    public bool Open(string path)
    {
        var full = ConfigPath.Normalize(ConfigPath.Combine(_fs.CurrentDirectory, path));
        var at = SourcePosition.WholeFile(path);
        var glob = Glob.Expand(_fs, full);
        if (glob.Matches.Count == 0)
        {
            _diagnostics.Fatal(at, $"Configuration file '{path}' not found", ConfigErrorClass.FileNotFound);
            return false;
        }
        if (glob.Matches.Count > 1)
        {
            _diagnostics.Warning(at, $"WARNING, multiple configuration file matches of {path}, starting with {glob.Matches[0]}", ConfigErrorClass.MultipleFiles);
        }
        var frame = new IncludeFrame(path, glob.Matches, IncludeChecks.Readable | IncludeChecks.Match | IncludeChecks.WildcardMatch, _includeCheck, at)
        {
            DisplayMainAs = glob.Matches.Count == 1 && !HasWildcard(path) ? path : null,
        };
        _frames.Add(frame);
        if (!OpenNextFile(frame))
        {
            _frames.RemoveAt(_frames.Count - 1);
            _diagnostics.Fatal(at, "Failed to open configuration file", ConfigErrorClass.FileNotFound);
            return false;
        }
        return true;
    }

    /// <summary>Reads configuration from a string, as if it were the file <paramref name="displayName"/>.</summary>
    public void OpenText(string displayName, string text)
    {
        var full = ConfigPath.Normalize(ConfigPath.Combine(_fs.CurrentDirectory, displayName));
        var frame = new IncludeFrame(displayName, [full], IncludeChecks.None, _includeCheck, SourcePosition.WholeFile(displayName))
        {
            DisplayMainAs = displayName,
            Next = 1,
        };
        frame.SetFile(full, text, displayName);
        _filesRead.Add(full);
        _frames.Add(frame);
    }

    /// <summary>Applies global_defs include_check (it takes effect for later includes).</summary>
    public void SetIncludeCheck(IReadOnlyList<ConfigToken> args)
    {
        if (args.Count == 0)
        {
            _includeCheck = IncludeChecks.All;
            return;
        }
        for (var i = 0; i < args.Count; i++)
        {
            var word = args[i].Text;
            var mode = 0;
            var offset = 1;
            if (word.StartsWith('-')) mode = -1;
            else if (word.StartsWith('+')) mode = 1;
            else
            {
                offset = 0;
                if (i == 0) _includeCheck = IncludeChecks.None;
                else
                {
                    _diagnostics.Error(args[i].Position, $"Duplicate include_check '{word}' specified - ignoring");
                    continue;
                }
            }
            var flag = word[offset..] switch
            {
                "read" => IncludeChecks.Readable,
                "match" => IncludeChecks.Match,
                "wildcard_match" => IncludeChecks.WildcardMatch,
                "brace_match" => IncludeChecks.BraceMatch,
                _ => IncludeChecks.None,
            };
            if (flag == IncludeChecks.None)
            {
                _diagnostics.Error(args[i].Position, $"Unknown include_check type '{word[offset..]}' - ignoring");
                continue;
            }
            _includeCheck = mode switch
            {
                0 => IncludeChecks.Readable | flag,
                1 => _includeCheck | flag,
                _ => _includeCheck & ~flag,
            };
        }
    }

    /// <summary>Applies global_defs random_seed to later ${_RANDOM} expansions.</summary>
    public void SetRandomSeed(int seed) => _random = new Random(seed);

    /// <summary>The next logical line, or null at the end of the configuration.</summary>
    public LineText? ReadLine()
    {
        LineText buf;
        while (true)
        {
            if (_residue is not null)
            {
                buf = _residue;
                _residue = null;
            }
            else if (_sequences.Count > 0 && _sequences.Count > _multilineSeqDepth)
            {
                buf = NextSequenceLine();
            }
            else if (_multiline is not null)
            {
                buf = NextMultilineLine();
            }
            else
            {
                var line = ReadPhysicalLine();
                if (line is null)
                {
                    EndOfInput();
                    return null;
                }
                buf = line;
            }

            if (_definingMultiline is not null)
            {
                ContinueMultilineDefinition(buf);
                continue;
            }
            if (buf.Length == 0) continue;
            if (!ProcessDirectives(ref buf) || buf.Length == 0) continue;
            if (TryInclude(buf)) continue;
            break;
        }

        SplitBraces(buf);
        return buf;
    }

    private void EndOfInput()
    {
        if (_sequences.Count > 0)
        {
            // keepalived frees unfinished sequences silently; nothing is lost that was not read.
            _sequences.Clear();
        }
    }

    // ---------------------------------------------------------------- files and lines

    private LineText? ReadPhysicalLine()
    {
        while (_frames.Count > 0)
        {
            var frame = _frames[^1];
            if (frame.Content is { } content && frame.Offset < content.Length)
            {
                // The next line of the file: a window on its text, no copy.
                var start = frame.Offset;
                var newline = content.IndexOf('\n', start);
                var end = newline < 0 ? content.Length : newline;
                frame.Offset = newline < 0 ? content.Length : newline + 1;
                frame.LineIndex++;
                NoteLineRead(frame.DisplayPath, frame.LineIndex);
                var nul = content.AsSpan(start, end - start).IndexOf('\0');
                if (nul >= 0) end = start + nul;
                while (end > start && content[end - 1] is '\r' or '\n') end--;
                if (end == start)
                {
                    if (_definingMultiline is { } def)
                    {
                        // A blank line ends a multi-line definition.
                        if (def.Value.Length == 0) def.Multiline = false;
                        _definingMultiline = null;
                    }
                    continue;
                }
                var text = new LineText(frame.DisplayPath, frame.LineIndex, content, start, end - start);
                Decomment(text);
                if (text.Length == 0) continue;
                return text;
            }
            if (!OpenNextFile(frame))
            {
                _frames.RemoveAt(_frames.Count - 1);
                // Leaving an included glob restores the include_check in force when it was opened.
                _includeCheck = frame.SavedIncludeCheck;
            }
        }
        return null;
    }

    private bool OpenNextFile(IncludeFrame frame)
    {
        frame.ClearFile();
        while (frame.Next < frame.Matches.Count)
        {
            var path = frame.Matches[frame.Next++];
            var required = (_includeCheck | frame.Type) & IncludeChecks.Readable;
            if (path.EndsWith('/'))
            {
                IncludeProblem(frame.At, required, $"Configuration file '{path}' is a directory - skipping");
                continue;
            }
            if (!_fs.FileExists(path) || _fs.IsExecutable(path))
            {
                IncludeProblem(frame.At, required, $"Configuration file '{path}' is not a regular non-executable file - skipping");
                continue;
            }
            if (IsOpen(path))
            {
                // keepalived follows the cycle until it runs out of file descriptors (then status 5,
                // thousands of "already defined" lines); Vigil stops there: cannot run (status 4).
                _diagnostics.Fatal(frame.At, $"Configuration file '{path}' includes itself (include cycle: {string.Join(" -> ", OpenFiles().Append(path))}) - skipping", ConfigErrorClass.FileNotFound);
                continue;
            }
            byte[] bytes;
            try
            {
                bytes = _fs.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                IncludeProblem(frame.At, required, $"Configuration file '{path}' open problem ({e.Message}) - skipping");
                continue;
            }
            var display = frame.DisplayMainAs ?? path;
            frame.SetFile(path, Encoding.UTF8.GetString(bytes), display);
            _filesRead.Add(path);
            return true;
        }
        return false;
    }

    private bool IsOpen(string path) => _frames.Any(f => f.CurrentPath == path);

    private IEnumerable<string> OpenFiles() => _frames.Where(f => f.CurrentPath is not null).Select(f => f.CurrentPath!);


    private void IncludeProblem(SourcePosition at, IncludeChecks required, string message)
    {
        if (required != IncludeChecks.None) _diagnostics.Fatal(at, message, ConfigErrorClass.FileNotFound);
        else _diagnostics.Note(at, message);
    }

    private static bool HasWildcard(string pattern) => pattern.IndexOfAny(['*', '?', '[', '{']) >= 0;

    // ---------------------------------------------------------------- comments

    /// <summary>
    /// keepalived's decomment(): drops leading blanks, a comment from the first '#' or '!' not in
    /// double quotes, the backslash of "\#" and "\!" outside quotes, and trailing blanks; a line
    /// ending in a backslash keeps it (it continues a multi-line definition).
    /// </summary>
    private void Decomment(LineText line)
    {
        line.TrimStartBlanks();
        var quote = false;
        var cont = false;
        var skip = -1;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '"')
            {
                if (skip < 0) quote = !quote;
                i++;
                continue;
            }
            if (c == '\\')
            {
                if (i + 1 < line.Length)
                {
                    if (!quote && (line[i + 1] == '#' || line[i + 1] == '!'))
                    {
                        line.RemoveRange(i, 1);
                        i++;
                    }
                    else
                    {
                        i += 2;
                    }
                    continue;
                }
                line.Truncate(i);
                cont = true;
                break;
            }
            if (!quote && skip < 0 && (c == '!' || c == '#')) skip = i;
            i++;
        }
        if (quote)
        {
            _diagnostics.Error(line.PositionAt(0), $"Unterminated quote '{line.Text}'");
        }
        if (skip >= 0) line.Truncate(skip);
        line.TrimEndBlanks();
        if (cont) line.Append('\\');
    }

    // ---------------------------------------------------------------- @id, $definitions, ~SEQ, ~LST

    /// <summary>Returns false if the line was consumed (a definition, a sequence, a line for another id).</summary>
    private bool ProcessDirectives(ref LineText buf)
    {
        var rounds = 0;
        bool recheck;
        do
        {
            recheck = false;
            if (++rounds > 1000)
            {
                _diagnostics.Error(buf.PositionAt(0), $"Parameter substitution on line '{Shorten(buf.Text)}' does not terminate - ignoring the line");
                return false;
            }
            if (buf.Length > 0 && buf[0] == '@')
            {
                var reverse = buf.Length > 1 && buf[1] == '^';
                var ofs = reverse ? 2 : 1;
                var end = buf.Text.IndexOfAny([' ', '\t'], ofs);
                if (end < 0) return false;
                var id = buf.Text[ofs..end];
                var matches = _configId is not null && id == _configId;
                if (matches == reverse) return false;
                while (end < buf.Length && (buf[end] == ' ' || buf[end] == '\t')) end++;
                buf.RemoveRange(0, end);
            }
            if (buf.Length > 0 && buf[0] == '$' && TryDefinition(buf)) return false;
            if (buf.Text.StartsWith("~SEQ", StringComparison.Ordinal) || buf.Text.StartsWith("~LST", StringComparison.Ordinal))
            {
                if (buf[1] == 'S')
                {
                    if (!AddSequence(buf)) _diagnostics.Error(buf.PositionAt(0), $"Invalid ~SEQ specification '{buf.Text}'");
                }
                else if (!AddList(buf))
                {
                    _diagnostics.Error(buf.PositionAt(0), $"Invalid ~LST specification '{buf.Text}'");
                }
                return false;
            }
            if (buf.Length > 0 && buf[0] == '~') return true;
            if (buf.Text.Contains('$'))
            {
                if (!ReplaceParameters(buf)) return true;
                Decomment(buf);
                if ((buf.Length > 0 && buf[0] == '@') || buf.Text.Contains('$')) recheck = true;
            }
        } while (recheck);
        return true;
    }

    /// <summary>A definition line "$NAME=value" (no blank before '='); multi-line if it ends with '\'.</summary>
    private bool TryDefinition(LineText buf)
    {
        var text = buf.Text;
        if (text.Length < 2 || !(char.IsAsciiLetter(text[1]) || text[1] == '_')) return false;
        var p = 2;
        while (p < text.Length && text[p] != '=')
        {
            if (!(char.IsAsciiLetterOrDigit(text[p]) || text[p] == '_')) return false;
            p++;
        }
        if (p >= text.Length) return false;
        var name = text[1..p];
        p++;
        while (p < text.Length && (text[p] == ' ' || text[p] == '\t')) p++;
        var value = text[p..];
        var multiline = false;
        if (value.EndsWith('\\'))
        {
            multiline = true;
            var v = value[..^1].TrimEnd(' ', '\t');
            value = v.Length == 0 ? "" : v + "\n";
        }
        if (!_definitions.TryGetValue(name, out var def))
        {
            def = new Definition(name);
            _definitions[name] = def;
        }
        def.Function = null;
        def.MaxParams = 0;
        def.Value = value;
        def.Multiline = multiline;
        if (multiline) _definingMultiline = def;
        return true;
    }

    private void ContinueMultilineDefinition(LineText buf)
    {
        var def = _definingMultiline!;
        var text = buf.Text;
        var last = true;
        if (text.EndsWith('\\'))
        {
            text = text[..^1].TrimEnd(' ', '\t') + "\n";
            last = false;
        }
        // Lines holding nothing but the continuation backslash add nothing.
        if (text.Length >= 2 || (text.Length > 0 && last)) def.Value += text;
        if (last)
        {
            if (def.Value.Length == 0) def.Multiline = false;
            _definingMultiline = null;
        }
    }

    private void SetDefinition(string name, string value)
    {
        if (!_definitions.TryGetValue(name, out var def))
        {
            def = new Definition(name);
            _definitions[name] = def;
        }
        def.Function = null;
        def.MaxParams = 0;
        def.Multiline = false;
        def.Value = value;
    }

    private void AddBuiltin(string name, Func<Definition, string?, string> function, int maxParams = 0) =>
        _definitions[name] = new Definition(name) { Function = function, MaxParams = maxParams };

    private string RandomValue(Definition def, string? parameters)
    {
        long min = 0, max = 32767;
        if (parameters is not null)
        {
            var words = parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0) min = ParseULong(words[0]);
            if (words.Length > 1) max = ParseULong(words[1]);
            if (words.Length > 2) _diagnostics.Note(CurrentPosition(), $"Too many parameters or extra text for ${{_RANDOM {parameters}}}");
        }
        if (max < min) (min, max) = (max, min);
        return _random.NextInt64(min, max + 1).ToString(CultureInfo.InvariantCulture);

        static long ParseULong(string s) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? Math.Min(v, uint.MaxValue) : 0;
    }

    private SourcePosition CurrentPosition()
    {
        var frame = _frames.LastOrDefault(f => f.CurrentPath is not null);
        return frame is null ? SourcePosition.WholeFile("") : new SourcePosition(frame.DisplayPath, frame.LineIndex, 1);
    }

    /// <summary>
    /// keepalived's replace_param(): replaces every "$NAME" / "${NAME}" that names a definition,
    /// rescanning the replacement (so definitions may use definitions). A multi-line definition
    /// only expands at the end of a line; its first line replaces the reference and the other
    /// lines follow as lines of their own.
    /// </summary>
    private bool ReplaceParameters(LineText buf)
    {
        var multilinePtr = _multiline;
        MultilineCursor? nextPtr = null;
        var found = false;
        var substitutions = 0;
        var cur = 0;
        while ((cur = buf.Text.IndexOf('$', cur)) >= 0 && cur + 1 < buf.Length)
        {
            var def = FindDefinition(buf.Text, cur + 1, out var end, out var parameters);
            if (def is null)
            {
                cur++;
                continue;
            }
            if (++substitutions > MaxSubstitutionsPerLine || buf.Length > MaxLineLength)
            {
                _diagnostics.Error(buf.PositionAt(cur), $"Parameter substitution on line '{Shorten(buf.Text)}' would exceed maximum line length");
                buf.Truncate(0);
                return true;
            }
            found = true;
            nextPtr = multilinePtr;
            var origin = buf.PositionAt(cur);
            if (def.Multiline && multilinePtr is not null) _multilineStack.Push((multilinePtr, _multilineSeqDepth));
            if (def.Multiline) _multilineSeqDepth = _sequences.Count;
            var value = def.Function is { } fn ? fn(def, parameters) : def.Value;
            string replacement;
            if (def.Multiline)
            {
                var nl = value.IndexOf('\n');
                replacement = nl < 0 ? value : value[..nl];
                nextPtr = new MultilineCursor(value, nl < 0 ? value.Length : nl + 1, origin);
                multilinePtr = nextPtr;
            }
            else
            {
                replacement = value;
            }
            buf.Replace(cur, end - cur, replacement, origin.Column);
            if (value.AsSpan().TrimStart(" \t").StartsWith("~", StringComparison.Ordinal)) break;
        }
        if (found) _multiline = nextPtr;
        return found;
    }

    /// <summary>
    /// keepalived's find_definition() for a reference starting at <paramref name="start"/> (just
    /// after '$'). <paramref name="end"/> is the index after the reference.
    /// </summary>
    private Definition? FindDefinition(string text, int start, out int end, out string? parameters)
    {
        end = start;
        parameters = null;
        var braces = start < text.Length && text[start] == '{';
        var nameStart = braces ? start + 1 : start;
        if (nameStart >= text.Length || !(char.IsAsciiLetter(text[nameStart]) || text[nameStart] == '_')) return null;
        var p = nameStart + 1;
        while (p < text.Length && (char.IsAsciiLetterOrDigit(text[p]) || text[p] == '_')) p++;
        var name = text[nameStart..p];
        var afterName = p;
        int paramStart = -1, paramEnd = -1;
        if (braces)
        {
            while (p < text.Length && (text[p] == ' ' || char.IsAsciiDigit(text[p])))
            {
                if (text[p] != ' ')
                {
                    if (paramStart < 0) paramStart = p;
                    paramEnd = p;
                }
                p++;
            }
            if (paramStart >= 0 && paramEnd + 1 != p) return null;
            if (p >= text.Length || text[p] != '}') return null;
            end = p + 1;
        }
        else
        {
            if (p < text.Length && text[p] is not (' ' or '\t' or ',' or ')')) return null;
            end = p;
        }
        var allowMultiline = braces ? afterName + 1 == text.Length : afterName == text.Length;
        if (!_definitions.TryGetValue(name, out var def)) return null;
        if (def.Multiline && !allowMultiline) return null;
        if (paramStart >= 0)
        {
            if (def.MaxParams == 0) return null;
            parameters = text[paramStart..(paramEnd + 1)];
        }
        return def;
    }

    private LineText NextMultilineLine()
    {
        var cursor = _multiline!;
        var value = cursor.Value;
        string text;
        if (cursor.Offset >= value.Length)
        {
            text = "";
            EndMultiline();
        }
        else
        {
            var nl = value.IndexOf('\n', cursor.Offset);
            if (nl < 0)
            {
                text = value[cursor.Offset..];
                EndMultiline();
            }
            else
            {
                text = value[cursor.Offset..nl];
                cursor.Offset = nl + 1;
            }
        }
        var line = new LineText(cursor.Origin.File, cursor.Origin.Line, text);
        line.Replace(0, line.Length, text, cursor.Origin.Column);
        return line;

        void EndMultiline()
        {
            if (_multilineStack.Count > 0)
            {
                (_multiline, _multilineSeqDepth) = _multilineStack.Pop();
            }
            else
            {
                _multiline = null;
                _multilineSeqDepth = 0;
            }
        }
    }

    private LineText NextSequenceLine()
    {
        var seq = _sequences[^1];
        if (seq.Parameters is null)
        {
            SetDefinition(seq.Variable, seq.Hex
                ? ((ulong)seq.Next).ToString("x", CultureInfo.InvariantCulture)
                : seq.Next.ToString(CultureInfo.InvariantCulture));
            seq.Next += seq.Step;
            if ((seq.Step > 0 && seq.Next > seq.Last) || (seq.Step < 0 && seq.Next < seq.Last)) _sequences.RemoveAt(_sequences.Count - 1);
        }
        else
        {
            var values = seq.ValueSets![seq.NextSet];
            for (var i = 0; i < seq.Parameters.Count; i++) SetDefinition(seq.Parameters[i], values[i]);
            if (++seq.NextSet >= seq.ValueSets.Count) _sequences.RemoveAt(_sequences.Count - 1);
        }
        return seq.Text.Clone();
    }

    /// <summary>"~SEQ(var, start, step, end) text", "~SEQ(var, start, end)", "~SEQ(var, end)"; "~SEQx" for hex.</summary>
    private bool AddSequence(LineText buf)
    {
        var text = buf.Text;
        var p = 4;
        var hex = false;
        if (p < text.Length && text[p] == 'x')
        {
            hex = true;
            p++;
        }
        p = SkipBlanks(text, p);
        if (p >= text.Length || text[p++] != '(') return false;
        p = SkipBlanks(text, p);
        var varStart = p;
        while (p < text.Length && text[p] is not (' ' or '\t' or ',' or ')')) p++;
        var variable = text[varStart..p];
        p = SkipBlanks(text, p);
        if (p >= text.Length || text[p] == ')' || p == varStart)
        {
            _diagnostics.Error(buf.PositionAt(0), $"Invalid ~SEQ definition '{text}'");
            return false;
        }
        p = SkipBlanks(text, p + 1);
        var close = text.IndexOf(')', p);
        if (close < 0)
        {
            _diagnostics.Error(buf.PositionAt(0), $"Invalid ~SEQ definition '{text}'");
            return false;
        }
        if (close + 1 - p + 1 > 64)
        {
            _diagnostics.Error(buf.PositionAt(0), $"~SEQ parameter strings too long '{text}'");
            return false;
        }
        // Parameters may be definitions. A multi-line definition can never match here: it only
        // expands at the end of a line, and the parameters end with ')'.
        var paramText = buf.Slice(p, close + 1 - p);
        if (paramText.Text.Contains('$')) ReplaceParameters(paramText);
        var numbers = new List<long>();
        var s = paramText.Text;
        var q = 0;
        while (true)
        {
            q = SkipBlanks(s, q);
            numbers.Add(ParseCLong(s, ref q));
            q = SkipBlanks(s, q);
            if (q < s.Length && s[q] == ')') break;
            if (q >= s.Length || s[q] != ',' || numbers.Count == 3)
            {
                _diagnostics.Error(buf.PositionAt(0), $"Invalid ~SEQ definition '{text}'");
                return false;
            }
            q++;
        }
        long start, step, last;
        switch (numbers.Count)
        {
            case 1:
                last = numbers[0];
                step = last < 1 ? -1 : 1;
                start = last < 0 ? -1 : 1;
                break;
            case 2:
                start = numbers[0];
                last = numbers[1];
                step = start <= last ? 1 : -1;
                break;
            default:
                (start, step, last) = (numbers[0], numbers[1], numbers[2]);
                if (step == 0 || (start < last && step < 0) || (start > last && step > 0))
                {
                    _diagnostics.Error(buf.PositionAt(0), $"Invalid ~SEQ values '{text}'");
                    return false;
                }
                break;
        }
        if (hex && (start < 0 || last < 0))
        {
            _diagnostics.Error(buf.PositionAt(0), $"~SEQx is only valid for positive numbers '{text}'");
            return false;
        }
        var textStart = SkipBlanks(text, close + 1);
        _sequences.Add(new Sequence(variable, buf.Slice(textStart)) { Next = start, Step = step, Last = last, Hex = hex });
        return true;
    }

    /// <summary>"~LST(var, v1, v2) text" or "~LST({a, b}, {1, 2}, {3, 4}) text".</summary>
    private bool AddList(LineText buf)
    {
        var text = buf.Text;
        var p = SkipBlanks(text, 4);
        if (p >= text.Length || text[p++] != '(') return false;
        p = SkipBlanks(text, p);
        var endChar = ',';
        if (p < text.Length && text[p] == '{')
        {
            endChar = '}';
            p = SkipBlanks(text, p + 1);
        }
        var parameters = new List<string>();
        while (true)
        {
            var start = p;
            while (p < text.Length && text[p] is not (' ' or '\t' or ',' or '}')) p++;
            parameters.Add(text[start..p]);
            p = SkipBlanks(text, p);
            if (p < text.Length && text[p] == endChar) break;
            if (p >= text.Length || text[p] != ',') return false;
            p = SkipBlanks(text, p + 1);
        }
        if (p < text.Length && text[p] == '}') p = SkipBlanks(text, p + 1);
        if (p >= text.Length || text[p++] != ',') return false;
        p = SkipBlanks(text, p);

        var sets = new List<string[]>();
        while (true)
        {
            endChar = ',';
            if (p < text.Length && text[p] == '{')
            {
                endChar = '}';
                p = SkipBlanks(text, p + 1);
            }
            var values = new List<string>();
            while (true)
            {
                var start = p;
                while (p < text.Length && text[p] is not (' ' or '\t' or ',' or '}' or ')')) p++;
                values.Add(text[start..p]);
                p = SkipBlanks(text, p);
                if (p < text.Length && (text[p] == endChar || (text[p] == ')' && endChar == ','))) break;
                if (p >= text.Length || text[p] != ',') return false;
                p = SkipBlanks(text, p + 1);
                if (values.Count >= parameters.Count)
                {
                    _diagnostics.Error(buf.PositionAt(0), $"~LST specification has too many values '{text}'");
                    return false;
                }
            }
            while (values.Count < parameters.Count) values.Add("");
            sets.Add([.. values]);
            if (p < text.Length && text[p] == '}' && endChar == '}') p = SkipBlanks(text, p + 1);
            if (p < text.Length && text[p] == ')') break;
            if (p >= text.Length || text[p] != ',') return false;
            p = SkipBlanks(text, p + 1);
        }
        if (parameters.Count == 0 || sets.Count == 0) return false;
        var textStart = SkipBlanks(text, p + 1);
        _sequences.Add(new Sequence("", buf.Slice(Math.Min(textStart, text.Length))) { Parameters = parameters, ValueSets = sets });
        return true;
    }

    /// <summary>strtol(s, &amp;end, 0): optional sign, then 0x.. hex, 0.. octal or decimal; no digits gives 0.</summary>
    private static long ParseCLong(string s, ref int i)
    {
        var start = i;
        var negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }
        var radix = 10;
        if (i + 1 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < s.Length && Uri.IsHexDigit(s[i + 2]))
        {
            radix = 16;
            i += 2;
        }
        else if (i < s.Length && s[i] == '0')
        {
            radix = 8;
        }
        var digitsStart = i;
        long value = 0;
        while (i < s.Length)
        {
            var d = s[i] switch
            {
                >= '0' and <= '9' => s[i] - '0',
                >= 'a' and <= 'f' => s[i] - 'a' + 10,
                >= 'A' and <= 'F' => s[i] - 'A' + 10,
                _ => 99,
            };
            if (d >= radix) break;
            value = unchecked(value * radix + d);
            i++;
        }
        if (i == digitsStart)
        {
            i = start;
            return 0;
        }
        return negative ? -value : value;
    }

    private static int SkipBlanks(string s, int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t')) i++;
        return i;
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..117] + "...";

    // ---------------------------------------------------------------- include

    private bool TryInclude(LineText buf)
    {
        var text = buf.Text;
        if (!text.StartsWith("include", StringComparison.Ordinal) || text.Length < 8) return false;
        IncludeChecks type;
        int p;
        if (Tokenizer.IsWhiteSpace(text[7]))
        {
            type = IncludeChecks.None;
            p = 8;
        }
        else if (text.Length > 8 && Tokenizer.IsWhiteSpace(text[8]) && "rmwba".Contains(text[7]))
        {
            type = text[7] switch
            {
                'r' => IncludeChecks.Readable,
                'a' => IncludeChecks.All,
                'w' => IncludeChecks.Readable | IncludeChecks.Match | IncludeChecks.WildcardMatch,
                'm' => IncludeChecks.Readable | IncludeChecks.Match,
                _ => IncludeChecks.Readable | IncludeChecks.BraceMatch,
            };
            p = 9;
        }
        else
        {
            return false;
        }
        p = SkipBlanks(text, p);
        var pattern = text[p..];
        var at = buf.PositionAt(0);
        if (_frames.Count >= MaxIncludeDepth)
        {
            // As for a cycle: keepalived would go on until out of descriptors; Vigil cannot run it.
            _diagnostics.Fatal(at, $"Includes nested more than {MaxIncludeDepth} deep at '{pattern}' - skipping", ConfigErrorClass.FileNotFound);
            return true;
        }
        var full = ConfigPath.Normalize(ConfigPath.Combine(CurrentDirectory, pattern.Length == 0 ? "." : pattern));
        var glob = Glob.Expand(_fs, full);
        var checks = _includeCheck | type;
        if (glob.Matches.Count == 0)
        {
            if (glob.MissingFiles > 0 || glob.MissingDirectories > 0)
            {
                IncludeProblem(at, checks & (glob.HasBrace ? IncludeChecks.BraceMatch : IncludeChecks.Match), $"Config files missing '{pattern}'.");
            }
            else if (glob.HadWildcards && (checks & IncludeChecks.WildcardMatch) != 0)
            {
                IncludeProblem(at, IncludeChecks.WildcardMatch, $"No config files matched '{pattern}'.");
            }
            return true;
        }
        if (glob.MissingFiles > 0 || glob.MissingDirectories > 0)
        {
            IncludeProblem(at, checks & IncludeChecks.BraceMatch, $"Some config files missing: \"{pattern}\".");
            if ((checks & IncludeChecks.BraceMatch) != 0) return true;
        }
        var frame = new IncludeFrame(pattern, glob.Matches, type, _includeCheck, at);
        _frames.Add(frame);
        if (!OpenNextFile(frame))
        {
            _frames.RemoveAt(_frames.Count - 1);
            _includeCheck = frame.SavedIncludeCheck;
        }
        return true;
    }

    // ---------------------------------------------------------------- braces

    /// <summary>Puts the first '{' or '}' not inside double quotes (and what follows it) on a line of its own.</summary>
    private void SplitBraces(LineText buf)
    {
        var text = buf.Text;
        var p = 0;
        if (text[0] != '{' && text[0] != '}')
        {
            while (true)
            {
                var i = text.IndexOfAny(['{', '}', '"'], p);
                if (i < 0)
                {
                    p = -1;
                    break;
                }
                if (text[i] != '"')
                {
                    p = i;
                    break;
                }
                var close = text.IndexOf('"', i + 1);
                if (close < 0)
                {
                    p = -1;
                    break;
                }
                p = close + 1;
            }
        }
        if (p >= 0 && p < text.Length && (text[p] == '{' || text[p] == '}'))
        {
            var skip = 0;
            if (p == 0)
            {
                skip = 1;
                while (skip < text.Length && (text[skip] == ' ' || text[skip] == '\t')) skip++;
            }
            if (p + skip < text.Length)
            {
                var residue = buf.Slice(p + skip);
                residue.TrimEndBlanks();
                if (residue.Length > 0) _residue = residue;
                buf.Truncate(p == 0 ? 1 : p);
            }
        }
        buf.TrimEndBlanks();
    }

    // ---------------------------------------------------------------- state types

    private sealed class Definition(string name)
    {
        public string Name { get; } = name;
        public string Value { get; set; } = "";
        public bool Multiline { get; set; }
        public Func<Definition, string?, string>? Function { get; set; }
        public int MaxParams { get; set; }
    }

    private sealed class MultilineCursor(string value, int offset, SourcePosition origin)
    {
        public string Value { get; } = value;
        public int Offset { get; set; } = offset;
        public SourcePosition Origin { get; } = origin;
    }

    private sealed class Sequence(string variable, LineText text)
    {
        public string Variable { get; } = variable;
        public LineText Text { get; } = text;
        public long Next { get; set; }
        public long Step { get; set; }
        public long Last { get; set; }
        public bool Hex { get; set; }
        public List<string>? Parameters { get; init; }
        public List<string[]>? ValueSets { get; init; }
        public int NextSet { get; set; }
    }

    private sealed class IncludeFrame(string pattern, List<string> matches, IncludeChecks type, IncludeChecks savedIncludeCheck, SourcePosition at)
    {
        public string Pattern { get; } = pattern;
        public List<string> Matches { get; } = matches;
        public IncludeChecks Type { get; } = type;
        public IncludeChecks SavedIncludeCheck { get; } = savedIncludeCheck;
        public SourcePosition At { get; } = at;
        public int Next { get; set; }
        public string? DisplayMainAs { get; init; }
        public string? CurrentPath { get; private set; }
        public string DisplayPath { get; private set; } = "";
        /// <summary>The file's text, read line by line from <see cref="Offset"/>.</summary>
        public string? Content { get; private set; }
        public int Offset { get; set; }
        public int LineIndex { get; set; }

        public void SetFile(string path, string content, string? display = null)
        {
            CurrentPath = path;
            DisplayPath = display ?? path;
            Content = content;
            Offset = 0;
            LineIndex = 0;
        }

        public void ClearFile()
        {
            CurrentPath = null;
            Content = null;
            Offset = 0;
            LineIndex = 0;
        }
    }
}
