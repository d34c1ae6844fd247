using Vigil.Config.Diagnostics;

namespace Vigil.Config.Text;

/// <summary>One word of a configuration line (quotes removed) and where it starts.</summary>
public readonly record struct ConfigToken(string Text, SourcePosition Position)
{
    public override string ToString() => Text;
}

/// <summary>A logical configuration line after preprocessing: its words and its text.</summary>
public sealed class ConfigLine
{
    internal ConfigLine(LineText text, ConfigToken[] tokens)
    {
        Source = text;
        Tokens = tokens;
    }

    internal LineText Source { get; }

    /// <summary>The line's text after comment removal, substitution and brace splitting.</summary>
    public string Text => Source.Text;

    public IReadOnlyList<ConfigToken> Tokens { get; }

    public SourcePosition Position => Tokens.Count > 0 ? Tokens[0].Position : Source.PositionAt(0);

    public string Keyword => Tokens.Count > 0 ? Tokens[0].Text : "";

    public override string ToString() => Text;
}
