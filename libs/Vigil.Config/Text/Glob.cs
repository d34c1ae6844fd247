namespace Vigil.Config.Text;

/// <summary>What a glob found, with the counts keepalived uses to word its include messages.</summary>
internal sealed class GlobResult
{
    public List<string> Matches { get; } = [];

    /// <summary>Named files (no wildcard) that do not exist.</summary>
    public int MissingFiles { get; set; }

    /// <summary>Directories a wildcard had to be matched in that do not exist.</summary>
    public int MissingDirectories { get; set; }

    /// <summary>True if a directory was listed to match a wildcard.</summary>
    public bool HadWildcards { get; set; }

    public bool HasBrace { get; set; }
}

/// <summary>
/// glob(3) as keepalived calls it (GLOB_BRACE | GLOB_MARK): "*", "?", "[...]", "{a,b}", a
/// backslash escapes; a wildcard does not match a leading "."; directories are returned with a
/// trailing "/"; matches of each brace alternative are sorted, alternatives keep their order.
/// </summary>
internal static class Glob
{
    public static GlobResult Expand(IConfigFileSystem fs, string absolutePattern)
    {
        var result = new GlobResult { HasBrace = HasBrace(absolutePattern) };
        var alternatives = ExpandBraces(absolutePattern);
        foreach (var alternative in alternatives)
        {
            var found = new List<string>();
            ExpandOne(fs, alternative, found, result);
            found.Sort(StringComparer.Ordinal);
            result.Matches.AddRange(found);
        }
        return result;
    }

    private static void ExpandOne(IConfigFileSystem fs, string pattern, List<string> found, GlobResult result)
    {
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { "" };
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            var next = new List<string>();
            if (HasMagic(segment))
            {
                foreach (var dir in current)
                {
                    var dirPath = dir.Length == 0 ? "/" : dir;
                    result.HadWildcards = true;
                    if (!fs.DirectoryExists(dirPath))
                    {
                        result.MissingDirectories++;
                        continue;
                    }
                    var names = fs.EnumerateEntries(dirPath).Where(n => Matches(segment, n)).ToList();
                    names.Sort(StringComparer.Ordinal);
                    foreach (var name in names)
                    {
                        var path = dir + "/" + name;
                        if (!last && !fs.DirectoryExists(path)) continue;
                        next.Add(path);
                    }
                }
            }
            else
            {
                var name = Unescape(segment);
                foreach (var dir in current)
                {
                    var path = dir + "/" + name;
                    if (last)
                    {
                        if (fs.FileExists(path) || fs.DirectoryExists(path)) next.Add(path);
                        else result.MissingFiles++;
                    }
                    else if (fs.DirectoryExists(path))
                    {
                        next.Add(path);
                    }
                    else
                    {
                        result.MissingFiles++;
                    }
                }
            }
            current = next;
            if (current.Count == 0) return;
        }
        foreach (var path in current)
        {
            var p = path.Length == 0 ? "/" : path;
            found.Add(fs.DirectoryExists(p) && !p.EndsWith('/') ? p + "/" : p);
        }
    }

    public static bool HasBrace(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\') i++;
            else if (pattern[i] == '{') return true;
        }
        return false;
    }

    /// <summary>Expands the first balanced {..} (then recursively the rest); unbalanced braces are literal.</summary>
    internal static List<string> ExpandBraces(string pattern)
    {
        var open = -1;
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\') { i++; continue; }
            if (pattern[i] == '{') { open = i; break; }
        }
        if (open < 0) return [pattern];

        var depth = 0;
        var close = -1;
        var commas = new List<int>();
        for (var i = open; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\') { i++; continue; }
            if (c == '{') depth++;
            else if (c == '}')
            {
                if (--depth == 0) { close = i; break; }
            }
            else if (c == ',' && depth == 1) commas.Add(i);
        }
        if (close < 0) return [pattern];

        var prefix = pattern[..open];
        var suffix = pattern[(close + 1)..];
        var results = new List<string>();
        var start = open + 1;
        foreach (var end in commas.Append(close))
        {
            results.AddRange(ExpandBraces(prefix + pattern[start..end] + suffix));
            start = end + 1;
        }
        return results;
    }

    private static bool HasMagic(string segment)
    {
        for (var i = 0; i < segment.Length; i++)
        {
            switch (segment[i])
            {
                case '\\': i++; break;
                case '*' or '?' or '[': return true;
            }
        }
        return false;
    }

    private static string Unescape(string segment)
    {
        if (!segment.Contains('\\')) return segment;
        var sb = new System.Text.StringBuilder(segment.Length);
        for (var i = 0; i < segment.Length; i++)
        {
            if (segment[i] == '\\' && i + 1 < segment.Length) i++;
            sb.Append(segment[i]);
        }
        return sb.ToString();
    }

    /// <summary>fnmatch(3) without flags, except that a wildcard never matches a leading ".".</summary>
    internal static bool Matches(string pattern, string name)
    {
        if (name.StartsWith('.') && !pattern.StartsWith('.') && !pattern.StartsWith("\\.", StringComparison.Ordinal)) return false;
        return Match(pattern, 0, name, 0);
    }

    private static bool Match(string p, int pi, string s, int si)
    {
        while (pi < p.Length)
        {
            var c = p[pi];
            switch (c)
            {
                case '*':
                    while (pi < p.Length && p[pi] == '*') pi++;
                    if (pi == p.Length) return true;
                    for (var k = si; k <= s.Length; k++)
                    {
                        if (Match(p, pi, s, k)) return true;
                    }
                    return false;
                case '?':
                    if (si >= s.Length) return false;
                    pi++; si++;
                    break;
                case '[':
                    if (si >= s.Length) return false;
                    var end = ClassEnd(p, pi);
                    if (end < 0)
                    {
                        // An unterminated class is an ordinary '['.
                        if (s[si] != '[') return false;
                        pi++; si++;
                        break;
                    }
                    if (!ClassMatches(p, pi + 1, end, s[si])) return false;
                    pi = end + 1; si++;
                    break;
                case '\\' when pi + 1 < p.Length:
                    if (si >= s.Length || s[si] != p[pi + 1]) return false;
                    pi += 2; si++;
                    break;
                default:
                    if (si >= s.Length || s[si] != c) return false;
                    pi++; si++;
                    break;
            }
        }
        return si == s.Length;
    }

    private static int ClassEnd(string p, int open)
    {
        var i = open + 1;
        if (i < p.Length && (p[i] == '!' || p[i] == '^')) i++;
        if (i < p.Length && p[i] == ']') i++;
        for (; i < p.Length; i++)
        {
            if (p[i] == ']') return i;
        }
        return -1;
    }

    private static bool ClassMatches(string p, int start, int end, char c)
    {
        var negate = false;
        if (start < end && (p[start] == '!' || p[start] == '^'))
        {
            negate = true;
            start++;
        }
        var matched = false;
        for (var i = start; i < end; i++)
        {
            var lo = p[i];
            if (i + 2 < end && p[i + 1] == '-')
            {
                var hi = p[i + 2];
                if (c >= lo && c <= hi) matched = true;
                i += 2;
            }
            else if (c == lo)
            {
                matched = true;
            }
        }
        return matched != negate;
    }
}
