using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Parsing;

/// <summary>
/// Groups logical lines into keyword blocks the way keepalived's process_stream() does, using
/// the keyword table to know which keywords open a block of keywords, which a block of values,
/// and which are single lines. Brace mistakes are reported with keepalived's wording; the
/// contents of a block under an unknown keyword are skipped.
/// </summary>
internal sealed class TreeBuilder
{
    private readonly LineReader _reader;
    private readonly DiagnosticBag _diagnostics;
    private ConfigLine? _peeked;
    private bool _eof;
    private int _openBraces;
    private SourcePosition? _outermostOpen;
    private SourcePosition _lastPosition;

    public TreeBuilder(LineReader reader, DiagnosticBag diagnostics, string mainFile)
    {
        _reader = reader;
        _diagnostics = diagnostics;
        _lastPosition = SourcePosition.WholeFile(mainFile);
    }

    public List<ConfigNode> Build()
    {
        var nodes = ParseBlock(BlockContext.Root, nested: false, needOpen: false, owner: null);
        if (_openBraces > 0)
        {
            _diagnostics.Error(_outermostOpen ?? _lastPosition, $"There are {_openBraces} missing '}}'s or extra '{{'s", ConfigErrorClass.MissingBlockEnd);
        }
        return nodes;
    }

    private ConfigLine? Next()
    {
        if (_peeked is not null)
        {
            var p = _peeked;
            _peeked = null;
            return p;
        }
        while (!_eof)
        {
            var text = _reader.ReadLine();
            if (text is null)
            {
                _eof = true;
                return null;
            }
            var tokens = Tokenizer.Split(text, _diagnostics);
            if (tokens.Length == 0) continue;
            var line = new ConfigLine(text, tokens);
            _lastPosition = line.Position;
            return line;
        }
        return null;
    }

    private ConfigLine? Peek() => _peeked ??= Next();

    private static bool IsOpen(ConfigLine? line) => line is not null && line.Keyword == "{";

    private static bool IsClose(ConfigLine? line) => line is not null && line.Keyword == "}";

    private void Opened(SourcePosition at)
    {
        if (_openBraces++ == 0) _outermostOpen = at;
    }

    /// <summary>Accounts for a '}' line; reports it if no '{' is open.</summary>
    private void Closed(SourcePosition at)
    {
        if (_openBraces == 0)
        {
            _diagnostics.Error(at, "Extra '}' found", ConfigErrorClass.UnexpectedBlockEnd);
            return;
        }
        _openBraces--;
    }

    private List<ConfigNode> ParseBlock(BlockContext context, bool nested, bool needOpen, ConfigNode? owner)
    {
        var nodes = new List<ConfigNode>();
        while (Next() is { } line)
        {
            var keyword = line.Keyword;
            if (needOpen)
            {
                needOpen = false;
                if (keyword == "{" && nested)
                {
                    Opened(line.Position);
                    if (owner is not null) owner.OpenBrace = line.Position;
                    continue;
                }
                _diagnostics.Error(line.Position, "Missing '{' at beginning of configuration block", ConfigErrorClass.MissingBlockStart);
            }
            else if (keyword == "{")
            {
                // keepalived ignores the brace only: what follows is read at this level, and the
                // matching '}' closes the enclosing block.
                _diagnostics.Error(line.Position, "Unexpected '{' - ignoring", ConfigErrorClass.UnexpectedBlockStart);
                Opened(line.Position);
                continue;
            }

            if (keyword == "}")
            {
                Closed(line.Position);
                if (nested)
                {
                    if (owner is not null) owner.CloseBrace = line.Position;
                    return nodes;
                }
                // At the top level keepalived then looks '}' up as a keyword.
                _diagnostics.Warning(line.Position, "Unknown keyword '}'", ConfigErrorClass.UnknownKeyword);
                continue;
            }

            var info = KeywordTable.Lookup(context, keyword);
            if (info is null)
            {
                _diagnostics.Warning(line.Position, $"Unknown keyword '{keyword}'", ConfigErrorClass.UnknownKeyword);
                if (keyword.Contains('\u00a0'))
                {
                    // Configurations copied from web pages often carry these; keepalived only skips ASCII blanks.
                    _diagnostics.Note(line.Position, "the line holds non-breaking spaces (U+00A0), which are not blanks to keepalived");
                }
                // As in keepalived, a block after an unknown keyword is not skipped: its '{' is
                // "unexpected" and its lines are read as keywords of this level.
                continue;
            }

            var node = new ConfigNode(line, info, context);
            nodes.Add(node);
            ApplyReaderKeyword(node);
            switch (info.Shape)
            {
                case KeywordShape.Block:
                    var child = info.Child!.Value;
                    if (IsOpen(Peek()))
                    {
                        var open = Next()!;
                        Opened(open.Position);
                        node.OpenBrace = open.Position;
                        node.Children.AddRange(ParseBlock(child, nested: true, needOpen: false, node));
                    }
                    else
                    {
                        // keepalived reports the missing '{' and reads the following lines as the block.
                        node.Children.AddRange(ParseBlock(child, nested: true, needOpen: true, node));
                    }
                    break;
                case KeywordShape.ValueBlock:
                    ParseValues(node);
                    break;
                default:
                    // A '{' after a keyword without a block is "unexpected" on the next line.
                    break;
            }
        }
        return nodes;
    }

    /// <summary>keepalived's alloc_value_block(): every line up to the closing '}' is a value.</summary>
    private void ParseValues(ConfigNode node)
    {
        var named = node.Keyword == "virtual_server_group";
        var extra = named ? 2 : 1;
        if (node.Tokens.Count > extra)
        {
            _diagnostics.Error(node.Tokens[extra].Position, $"Block {node.Keyword} has extra parameters {node.Tokens[extra].Text} ...");
        }
        if (IsOpen(Peek()))
        {
            var open = Next()!;
            Opened(open.Position);
            node.OpenBrace = open.Position;
        }
        else
        {
            _diagnostics.Note(Peek()?.Position ?? node.Position, $"'{{' missing from beginning of block {node.Keyword}");
        }
        while (Next() is { } line)
        {
            if (IsClose(line))
            {
                Closed(line.Position);
                node.CloseBrace = line.Position;
                return;
            }
            if (IsOpen(line)) Opened(line.Position);
            node.Children.Add(new ConfigNode(line, null, node.Context));
        }
    }

    /// <summary>Keywords that change how the rest of the configuration is read take effect at once.</summary>
    private void ApplyReaderKeyword(ConfigNode node)
    {
        if (node.Context != BlockContext.GlobalDefs) return;
        if (node.Keyword == "include_check")
        {
            _reader.SetIncludeCheck(node.Args);
        }
        else if (node.Keyword == "random_seed" && node.Arg(0) is { } s && uint.TryParse(s, out var seed))
        {
            _reader.SetRandomSeed(unchecked((int)seed));
        }
    }
}
