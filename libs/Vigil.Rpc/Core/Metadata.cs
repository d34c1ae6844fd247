using System.Collections;
using System.Text;

namespace Vigil.Rpc;

/// <summary>
/// Custom call metadata (HTTP/2 headers or trailers). Keys are lowercase ASCII; keys ending in
/// "-bin" carry bytes (base64 on the wire), others printable ASCII strings.
/// </summary>
public sealed class Metadata : IEnumerable<Metadata.Entry>
{
    private readonly List<Entry> _entries = [];

    public sealed record Entry
    {
        internal Entry(string key, string? value, byte[]? bytes)
        {
            Key = key;
            Value = value;
            ValueBytes = bytes;
        }

        public string Key { get; }
        /// <summary>The value of a text key (null for "-bin" keys).</summary>
        public string? Value { get; }
        /// <summary>The value of a "-bin" key (null for text keys).</summary>
        public byte[]? ValueBytes { get; }
        public bool IsBinary => ValueBytes is not null;
    }

    public int Count => _entries.Count;

    public Metadata Add(string key, string value)
    {
        key = ValidateKey(key);
        if (key.EndsWith("-bin", StringComparison.Ordinal))
        {
            throw new ArgumentException($"metadata key '{key}' ends in -bin: add its value as bytes", nameof(key));
        }
        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E) throw new ArgumentException($"metadata value of '{key}' has a non-printable or non-ASCII character", nameof(value));
        }
        _entries.Add(new Entry(key, value, null));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        key = ValidateKey(key);
        if (!key.EndsWith("-bin", StringComparison.Ordinal))
        {
            throw new ArgumentException($"binary metadata key '{key}' must end in -bin", nameof(key));
        }
        _entries.Add(new Entry(key, null, (byte[])value.Clone()));
        return this;
    }

    /// <summary>The last text value of the key, or null.</summary>
    public string? Get(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key) return _entries[i].Value;
        }
        return null;
    }

    /// <summary>The last binary value of the key, or null.</summary>
    public byte[]? GetBytes(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key) return _entries[i].ValueBytes;
        }
        return null;
    }

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        key = key.ToLowerInvariant();
        foreach (var c in key)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.';
            if (!ok) throw new ArgumentException($"metadata key '{key}' has an invalid character '{c}'", nameof(key));
        }
        if (key.StartsWith("grpc-", StringComparison.Ordinal) || key.StartsWith(':'))
        {
            throw new ArgumentException($"metadata key '{key}' is reserved for the protocol", nameof(key));
        }
        return key;
    }

    /// <summary>Headers the protocol owns; they never appear as custom metadata.</summary>
    internal static bool IsReserved(string key) =>
        key.StartsWith(':') || key.StartsWith("grpc-", StringComparison.Ordinal) ||
        key is "content-type" or "te" or "user-agent" or "content-length" or "host" or "accept-encoding";

    /// <summary>Adds a header value received from the wire (base64-decodes "-bin" keys; accepts padded and unpadded).</summary>
    internal void AddFromWire(string key, string value)
    {
        key = key.ToLowerInvariant();
        if (key.EndsWith("-bin", StringComparison.Ordinal))
        {
            // Several values of one -bin key may arrive joined by commas.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                _entries.Add(new Entry(key, null, Base64.DecodeLenient(part)));
            }
        }
        else
        {
            _entries.Add(new Entry(key, value, null));
        }
    }

    /// <summary>The wire value of an entry: text as is, bytes as unpadded base64.</summary>
    internal static string WireValue(Entry e) => e.ValueBytes is { } b ? Base64.EncodeUnpadded(b) : e.Value!;

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var e in _entries) sb.Append(e.Key).Append('=').Append(e.IsBinary ? Convert.ToBase64String(e.ValueBytes!) : e.Value).Append(' ');
        return sb.ToString().TrimEnd();
    }
}

internal static class Base64
{
    public static string EncodeUnpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    public static byte[] DecodeLenient(string s)
    {
        s = s.Trim();
        var pad = (4 - s.Length % 4) % 4;
        if (pad == 3) throw new FormatException("invalid base64 length");
        return Convert.FromBase64String(s + new string('=', pad));
    }
}
