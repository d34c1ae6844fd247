namespace Vigil.Config.Diagnostics;

/// <summary>
/// Where a token came from: the file (as opened, after include resolution), 1-based line and
/// column. Line 0 means "the file as a whole" (for example a file that cannot be opened).
/// </summary>
public readonly record struct SourcePosition(string File, int Line, int Column)
{
    public static SourcePosition WholeFile(string file) => new(file, 0, 0);

    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
