using System.Text;

namespace Vigil.Scripts;

/// <summary>
/// A script command line as written in keepalived.conf (<c>misc_path</c>, <c>notify_up</c>,
/// <c>quorum_down</c>, <c>vrrp_script { script ... }</c>, ...), split into words the way keepalived
/// splits it: words are separated by blanks; single and double quotes group (they do not nest and
/// are removed); a backslash escapes the next character, with C escapes (\n, \t, \x41, \101, \cA,
/// ...) decoded. The original text is kept: when the first word is not an executable, the text is
/// what <c>/bin/sh -c</c> runs.
/// </summary>
public sealed class ScriptCommand : IEquatable<ScriptCommand>
{
    private ScriptCommand(string text, IReadOnlyList<string> words)
    {
        Text = text;
        Words = words;
    }

    /// <summary>The command line as configured.</summary>
    public string Text { get; }

    /// <summary>The words after keepalived's quote and escape processing; never empty.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The program (first word).</summary>
    public string Program => Words[0];

    /// <summary>Splits a command line; throws <see cref="FormatException"/> naming the problem.</summary>
    public static ScriptCommand Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text, out var command, out var error)) throw new FormatException(error);
        return command!;
    }

    /// <summary>Splits a command line; on failure returns false with the reason.</summary>
    public static bool TryParse(string text, out ScriptCommand? command, out string? error)
    {
        command = null;
        error = null;
        var words = new List<string>();
        var word = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && IsBlank(text[i])) i++;
            if (i >= text.Length) break;

            word.Clear();
            char quote = '\0';
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '\\')
                {
                    if (i + 1 >= text.Length)
                    {
                        error = $"script '{text}': backslash at the end with nothing to escape";
                        return false;
                    }
                    i = DecodeEscape(text, i + 1, word);
                    continue;
                }
                if (quote != '\0')
                {
                    if (c == quote) quote = '\0';
                    else word.Append(c);
                    i++;
                    continue;
                }
                if (c is '"' or '\'')
                {
                    quote = c;
                    i++;
                    continue;
                }
                if (IsBlank(c)) break;
                word.Append(c);
                i++;
            }
            if (quote != '\0')
            {
                error = $"script '{text}': missing terminating {quote}";
                return false;
            }
            words.Add(word.ToString());
        }
        if (words.Count == 0 || words[0].Length == 0)
        {
            error = words.Count == 0 ? "script command is empty" : $"script '{text}': the program name is empty";
            return false;
        }
        command = new ScriptCommand(text, words);
        return true;
    }

    private static bool IsBlank(char c) => c is ' ' or '\t' or '\r' or '\n' or '\f' or '\v';

    // Decodes the escape starting at text[i] (the character after the backslash) and returns the
    // index after it. Same set as keepalived's quoted-escaped string reader.
    private static int DecodeEscape(string text, int i, StringBuilder word)
    {
        var c = text[i];
        if (c == 'x' && i + 1 < text.Length && Uri.IsHexDigit(text[i + 1]))
        {
            var value = 0;
            var j = i + 1;
            for (var n = 0; n < 2 && j < text.Length && Uri.IsHexDigit(text[j]); n++, j++)
            {
                value = (value << 4) | Convert.ToInt32(text[j].ToString(), 16);
            }
            word.Append((char)value);
            return j;
        }
        if (c == 'c' && i + 1 < text.Length)
        {
            word.Append((char)(text[i + 1] & 0x1f));
            return i + 2;
        }
        if (c is >= '0' and <= '7')
        {
            var value = c - '0';
            var j = i + 1;
            for (var n = 0; n < 2 && j < text.Length && text[j] is >= '0' and <= '7'; n++, j++)
            {
                value = (value << 3) + (text[j] - '0');
            }
            word.Append((char)(value & 0xff));
            return j;
        }
        word.Append(c switch
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

    public bool Equals(ScriptCommand? other) => other is not null && other.Text == Text;

    public override bool Equals(object? obj) => Equals(obj as ScriptCommand);

    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Text;
}
