namespace Vigil.Checkd.Model;

/// <summary>
/// keepalived's free-form hex strings (UDP_CHECK <c>payload</c> and <c>require_reply</c>): blanks
/// separate groups; each pair of hex digits is an octet and a lone digit before a blank or the end
/// is an octet of its own, so "Ab12f 3 456" is AB 12 0F 03 45 06. In reply data an x or X is a
/// wildcard nibble, returned as set bits in the mask.
/// </summary>
public static class HexString
{
    /// <summary>Parses; throws <see cref="FormatException"/> naming the offending character.</summary>
    public static (byte[] Data, byte[] Mask) Parse(string text, bool allowWildcards)
    {
        ArgumentNullException.ThrowIfNull(text);
        var data = new List<byte>();
        var mask = new List<byte>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && text[i] is ' ' or '\t') i++;
            if (i >= text.Length) break;

            var (hi, hiMask) = Nibble(text, i++, allowWildcards);
            int value = hi, valueMask = hiMask;
            if (i < text.Length && text[i] is not (' ' or '\t'))
            {
                var (lo, loMask) = Nibble(text, i++, allowWildcards);
                value = (hi << 4) | lo;
                valueMask = (hiMask << 4) | loMask;
            }
            data.Add((byte)value);
            mask.Add((byte)valueMask);
        }
        if (data.Count == 0) throw new FormatException("hex string is empty");
        return ([.. data], mask.Any(m => m != 0) ? [.. mask] : []);
    }

    private static (int Value, int Mask) Nibble(string text, int i, bool allowWildcards)
    {
        var c = text[i];
        if (Uri.IsHexDigit(c)) return (Convert.ToInt32(c.ToString(), 16), 0);
        if (allowWildcards && c is 'x' or 'X') return (0, 0xf);
        throw new FormatException($"invalid character '{c}' at offset {i} in hex string '{text}'");
    }
}
