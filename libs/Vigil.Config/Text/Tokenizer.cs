using System.Globalization;
using Vigil.Config.Diagnostics;

namespace Vigil.Config.Text;

/// <summary>Splits lines into words the two ways keepalived does.</summary>
internal static class Tokenizer
{
    private const string WhiteSpace = " \t\f\n\r\v";

    private static bool IsWhite(char c) => c is ' ' or '\t' or '\f' or '\n' or '\r' or '\v';

    /// <summary>
    /// Ordinary keyword lines (keepalived's alloc_strvec): words are separated by white space; a
    /// word starting with a double quote runs to the next double quote, which is removed. There
    /// are no escapes and single quotes are ordinary characters.
    /// </summary>
    public static ConfigToken[] Split(LineText line, DiagnosticBag diagnostics)
    {
        var text = line.Span;
        var tokens = t_tokens ??= new List<ConfigToken>(8);
        tokens.Clear();
        var i = 0;
        while (true)
        {
            while (i < text.Length && IsWhite(text[i])) i++;
            if (i >= text.Length) break;
            var start = i;
            string word;
            if (text[i] == '"')
            {
                var close = text[(i + 1)..].IndexOf('"');
                if (close < 0)
                {
                    diagnostics.Error(line.PositionAt(i), $"Unmatched quote: '{line.Text}'", ConfigErrorClass.UnmatchedQuote);
                    break;
                }
                word = new string(text.Slice(i + 1, close));
                i += close + 2;
            }
            else
            {
                while (i < text.Length && !IsWhite(text[i]) && text[i] != '"') i++;
                word = Word(text[start..i]);
            }
            tokens.Add(new ConfigToken(word, line.PositionAt(start)));
        }
        return tokens.Count == 0 ? [] : [.. tokens];
    }

    [ThreadStatic]
    private static List<ConfigToken>? t_tokens;

    /// <summary>Keywords and the commonest values, shared rather than copied for every occurrence.</summary>
    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Common = BuildCommon();

    private static Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> BuildCommon()
    {
        var words = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var k in Parsing.KeywordTable.AllNames) words[k] = k;
        foreach (var w in new[] { "{", "}", "MASTER", "BACKUP", "PASS", "TCP", "UDP", "NAT", "DR", "TUN", "rr", "wrr", "lc", "wlc", "sh", "mh", "true", "false", "on", "off", "dev", "via", "/" })
        {
            words[w] = w;
        }
        for (var n = 0; n <= 300; n++)
        {
            var s = n.ToString(CultureInfo.InvariantCulture);
            words[s] = s;
        }
        return words.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private static string Word(ReadOnlySpan<char> span) => Common.TryGetValue(span, out var shared) ? shared : new string(span);

    /// <summary>
    /// Script and regex lines (keepalived's alloc_strvec_quoted_escaped): double or single quotes
    /// group text (a quoted part may be glued to unquoted text), and backslash escapes work as in
    /// the shell: \a \b \E \f \n \r \t \v, \nnn octal, \xHH hex, \cC control, \C is C.
    /// Returns null (after reporting) if a quote is not closed or the line ends with a backslash.
    /// </summary>
    public static ConfigToken[]? SplitQuotedEscaped(LineText line, DiagnosticBag diagnostics)
    {
        var text = line.Text;
        var tokens = new List<ConfigToken>();
        var i = 0;
        var sb = new System.Text.StringBuilder();
        while (i < text.Length)
        {
            while (i < text.Length && IsWhite(text[i])) i++;
            if (i >= text.Length) break;
            var start = i;
            sb.Clear();
            char quote = '\0';
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '\\')
                {
                    i++;
                    if (i >= text.Length)
                    {
                        diagnostics.Note(line.PositionAt(i - 1), $"Missing escape char at end: '{text}'");
                        return null;
                    }
                    i = ReadEscape(text, i, sb);
                    continue;
                }
                if (quote != '\0')
                {
                    if (c == quote) quote = '\0';
                    else sb.Append(c);
                    i++;
                    continue;
                }
                if (c is '"' or '\'')
                {
                    quote = c;
                    i++;
                    continue;
                }
                if (IsWhite(c)) break;
                sb.Append(c);
                i++;
            }
            if (quote != '\0')
            {
                diagnostics.Error(line.PositionAt(start), $"String '{text}': missing terminating {quote}", ConfigErrorClass.UnmatchedQuote);
                return null;
            }
            tokens.Add(new ConfigToken(sb.ToString(), line.PositionAt(start)));
        }
        return [.. tokens];
    }

    /// <summary>Reads the escape starting at <paramref name="i"/> (after the backslash).</summary>
    private static int ReadEscape(string text, int i, System.Text.StringBuilder sb)
    {
        var c = text[i];
        if (c == 'x' && i + 1 < text.Length && Uri.IsHexDigit(text[i + 1]))
        {
            i++;
            var value = 0;
            while (i < text.Length && Uri.IsHexDigit(text[i]))
            {
                value = ((value << 4) | int.Parse(text.AsSpan(i, 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture)) & 0xff;
                i++;
            }
            sb.Append((char)value);
            return i;
        }
        if (c == 'c' && i + 1 < text.Length)
        {
            sb.Append((char)(text[i + 1] & 0x1f));
            return i + 2;
        }
        if (c is >= '0' and <= '7')
        {
            var value = c - '0';
            i++;
            for (var k = 0; k < 2 && i < text.Length && text[i] is >= '0' and <= '7'; k++, i++)
            {
                value = (value << 3) + (text[i] - '0');
            }
            sb.Append((char)(value & 0xff));
            return i;
        }
        sb.Append(c switch
        {
            'a' => '\a',
            'b' => '\b',
            'E' => '\x1b',
            'f' => '\f',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\v',
            _ => c,
        });
        return i + 1;
    }

    public static bool IsWhiteSpace(char c) => WhiteSpace.Contains(c);
}
