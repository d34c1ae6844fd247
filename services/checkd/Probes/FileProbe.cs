using System.Globalization;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>FILE_CHECK</c>: reads the tracked file's number (keepalived's track_file). The text is read
/// like strtol with base 0 (leading blanks, a sign, 0x hex, 0 octal, stop at the first other
/// character); a missing or empty file reads as 0; a number outside the 32-bit range is an error
/// and the previous value stays. The policy turns the value into up/down and a weight.
/// </summary>
public sealed class FileProbe(string path, TimeProvider time) : IProbe
{
    public Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        string text;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            var buffer = new byte[127];
            var n = stream.Read(buffer, 0, buffer.Length);
            text = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(new ProbeResult(ProbeOutcome.Success, $"{path} does not exist: value 0", time.GetElapsedTime(started)) { Value = 0 });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(new ProbeResult(ProbeOutcome.Success, $"{path} cannot be read ({e.Message}): value 0", time.GetElapsedTime(started)) { Value = 0 });
        }
        var value = ParseStrtol(text);
        if (value < int.MinValue || value > (long)int.MaxValue + 1)
        {
            return Task.FromResult(ProbeResult.Local($"invalid number {value} read from {path} - ignoring", time.GetElapsedTime(started)));
        }
        return Task.FromResult(new ProbeResult(ProbeOutcome.Success, $"{path} reads {value}", time.GetElapsedTime(started)) { Value = value });
    }

    /// <summary>strtol(text, NULL, 0) without the undefined parts: a number too large saturates.</summary>
    public static long ParseStrtol(string text)
    {
        var i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        var negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }
        var radix = 10;
        if (i + 1 < text.Length && text[i] == '0' && text[i + 1] is 'x' or 'X' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 2]))
        {
            radix = 16;
            i += 2;
        }
        else if (i < text.Length && text[i] == '0')
        {
            radix = 8;
        }
        long value = 0;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            int digit;
            if (char.IsAsciiDigit(c)) digit = c - '0';
            else if (radix == 16 && Uri.IsHexDigit(c)) digit = int.Parse(c.ToString(), NumberStyles.HexNumber);
            else break;
            if (digit >= radix) break;
            if (value > (long.MaxValue - digit) / radix) return negative ? long.MinValue : long.MaxValue;
            value = value * radix + digit;
        }
        return negative ? -value : value;
    }
}
