using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Parsing;

/// <summary>
/// One keyword line of the configuration with its block, if any. For a value block
/// ("virtual_ipaddress { ... }") the children are the value lines (their <see cref="Info"/> is null).
/// </summary>
public sealed class ConfigNode
{
    internal ConfigNode(ConfigLine line, KeywordInfo? info, BlockContext context)
    {
        Line = line;
        Info = info;
        Context = context;
    }

    public ConfigLine Line { get; }

    public KeywordInfo? Info { get; }

    /// <summary>The block this line appears in.</summary>
    public BlockContext Context { get; }

    public List<ConfigNode> Children { get; } = [];

    public SourcePosition? OpenBrace { get; internal set; }

    public SourcePosition? CloseBrace { get; internal set; }

    /// <summary>Where keepalived reports end-of-block checks: the closing '}' (the keyword when there is none).</summary>
    public SourcePosition End => CloseBrace ?? Position;

    public string Keyword => Line.Keyword;

    public SourcePosition Position => Line.Position;

    public IReadOnlyList<ConfigToken> Tokens => Line.Tokens;

    /// <summary>The words after the keyword.</summary>
    public IReadOnlyList<ConfigToken> Args => Line.Tokens.Count > 1 ? Line.Tokens.Skip(1).ToArray() : [];

    public int ArgCount => Math.Max(0, Line.Tokens.Count - 1);

    /// <summary>The word at <paramref name="index"/> (0 is the keyword), or null.</summary>
    public ConfigToken? Token(int index) => index < Line.Tokens.Count ? Line.Tokens[index] : null;

    public string? Arg(int index) => index + 1 < Line.Tokens.Count ? Line.Tokens[index + 1].Text : null;

    /// <summary>The position of argument <paramref name="index"/>, or of the end of the line if it is missing.</summary>
    public SourcePosition ArgPosition(int index) =>
        index + 1 < Line.Tokens.Count ? Line.Tokens[index + 1].Position : Line.Source.PositionAt(Line.Source.Length);

    public override string ToString() => Line.Text;
}
