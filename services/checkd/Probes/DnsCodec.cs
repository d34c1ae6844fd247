using System.Buffers.Binary;
using System.Text;

namespace Vigil.Checkd.Probes;

/// <summary>
/// The fixed DNS message header (RFC 1035 section 4.1.1):
/// <code>
///                                 1  1  1  1  1  1
///   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                      ID                       |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                    QDCOUNT                    |
/// |                    ANCOUNT                    |
/// |                    NSCOUNT                    |
/// |                    ARCOUNT                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// </code>
/// </summary>
public readonly record struct DnsHeader(ushort Id, ushort Flags, ushort QuestionCount, ushort AnswerCount, ushort AuthorityCount, ushort AdditionalCount)
{
    public const int Size = 12;

    public bool IsResponse => (Flags & 0x8000) != 0;
    public int Opcode => (Flags >> 11) & 0xf;
    public bool Truncated => (Flags & 0x0200) != 0;
    public bool RecursionDesired => (Flags & 0x0100) != 0;
    public int ResponseCode => Flags & 0xf;
}

public sealed record DnsQuestion(string Name, ushort Type, ushort Class);

public sealed record DnsRecord(string Name, ushort Type, ushort Class, uint Ttl, byte[] Data);

public sealed record DnsMessage(DnsHeader Header, IReadOnlyList<DnsQuestion> Questions, IReadOnlyList<DnsRecord> Answers, IReadOnlyList<DnsRecord> Authorities, IReadOnlyList<DnsRecord> Additionals);

/// <summary>
/// DNS_CHECK's own codec: encodes the query keepalived sends (one question, class IN, RD set)
/// and decodes answers, rejecting malformed ones with a reason (truncated sections, bad label
/// lengths, compression loops, names over 255 octets) instead of throwing.
/// </summary>
public static class DnsCodec
{
    public const ushort ClassIn = 1;
    private const int MaxNameLength = 255;
    private const int MaxLabelLength = 63;

    /// <summary>Writes a query; "" or "." is the root. Returns the length written.</summary>
    /// <exception cref="ArgumentException">an empty or over-long label, or a name over 255 octets.</exception>
    public static int WriteQuery(Span<byte> destination, ushort id, string name, ushort type)
    {
        var offset = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], 0x0100); // RD
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 4)..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(offset + 6)..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 10)..], 0);
        offset = DnsHeader.Size;
        offset += WriteName(destination[offset..], name);
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], ClassIn);
        return offset + 4;
    }

    /// <summary>Encoded length of a query for the name.</summary>
    public static int QueryLength(string name) => DnsHeader.Size + EncodedNameLength(name) + 4;

    private static int EncodedNameLength(string name)
    {
        var labels = SplitName(name);
        return labels.Sum(l => l.Length + 1) + 1;
    }

    private static string[] SplitName(string name)
    {
        if (name is "" or ".") return [];
        var trimmed = name.EndsWith('.') ? name[..^1] : name;
        var labels = trimmed.Split('.');
        foreach (var label in labels)
        {
            if (label.Length == 0) throw new ArgumentException($"DNS name '{name}' has an empty label");
            if (Encoding.ASCII.GetByteCount(label) > MaxLabelLength) throw new ArgumentException($"DNS name '{name}' has a label longer than {MaxLabelLength} octets");
        }
        if (labels.Sum(l => l.Length + 1) + 1 > MaxNameLength) throw new ArgumentException($"DNS name '{name}' is longer than {MaxNameLength} octets");
        return labels;
    }

    private static int WriteName(Span<byte> destination, string name)
    {
        var offset = 0;
        foreach (var label in SplitName(name))
        {
            destination[offset++] = (byte)label.Length;
            offset += Encoding.ASCII.GetBytes(label, destination[offset..]);
        }
        destination[offset++] = 0;
        return offset;
    }

    /// <summary>Reads just the header (enough to match the id); false when shorter than 12 octets.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> packet, out DnsHeader header)
    {
        header = default;
        if (packet.Length < DnsHeader.Size) return false;
        header = new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(packet),
            BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(packet[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(packet[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(packet[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(packet[10..]));
        return true;
    }

    /// <summary>Decodes a whole message; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out DnsMessage? message, out string? error)
    {
        message = null;
        if (!TryReadHeader(packet, out var header))
        {
            error = $"message of {packet.Length} octets is shorter than the 12-octet header";
            return false;
        }
        var offset = DnsHeader.Size;
        var questions = new List<DnsQuestion>();
        for (var i = 0; i < header.QuestionCount; i++)
        {
            if (!TryReadName(packet, ref offset, out var name, out error)) { error = $"question {i + 1}: {error}"; return false; }
            if (offset + 4 > packet.Length) { error = $"question {i + 1}: truncated type/class"; return false; }
            questions.Add(new DnsQuestion(name, BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]), BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..])));
            offset += 4;
        }
        if (!TryReadRecords(packet, ref offset, header.AnswerCount, "answer", out var answers, out error)
            || !TryReadRecords(packet, ref offset, header.AuthorityCount, "authority", out var authorities, out error)
            || !TryReadRecords(packet, ref offset, header.AdditionalCount, "additional", out var additionals, out error))
        {
            return false;
        }
        message = new DnsMessage(header, questions, answers!, authorities!, additionals!);
        error = null;
        return true;
    }

    private static bool TryReadRecords(ReadOnlySpan<byte> packet, ref int offset, int count, string section, out List<DnsRecord>? records, out string? error)
    {
        records = new List<DnsRecord>(count);
        for (var i = 0; i < count; i++)
        {
            if (!TryReadName(packet, ref offset, out var name, out error)) { error = $"{section} {i + 1}: {error}"; return false; }
            if (offset + 10 > packet.Length) { error = $"{section} {i + 1}: truncated record header"; return false; }
            var type = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            var cls = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(packet[(offset + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 8)..]);
            offset += 10;
            if (offset + length > packet.Length) { error = $"{section} {i + 1}: RDATA of {length} octets runs past the end"; return false; }
            records.Add(new DnsRecord(name, type, cls, ttl, packet.Slice(offset, length).ToArray()));
            offset += length;
        }
        error = null;
        return true;
    }

    /// <summary>Reads a possibly compressed name (RFC 1035 4.1.4): pointers must point backwards,
    /// which also rules out loops.</summary>
    public static bool TryReadName(ReadOnlySpan<byte> packet, ref int offset, out string name, out string? error)
    {
        var sb = new StringBuilder();
        var position = offset;
        var jumped = false;
        var length = 1;
        var lowestPointer = offset;
        while (true)
        {
            if (position >= packet.Length) { name = ""; error = "name runs past the end of the message"; return false; }
            var b = packet[position];
            if ((b & 0xc0) == 0xc0)
            {
                if (position + 1 >= packet.Length) { name = ""; error = "truncated compression pointer"; return false; }
                var target = ((b & 0x3f) << 8) | packet[position + 1];
                if (target >= lowestPointer) { name = ""; error = $"compression pointer to {target} does not point backwards"; return false; }
                lowestPointer = target;
                if (!jumped) offset = position + 2;
                jumped = true;
                position = target;
                continue;
            }
            if ((b & 0xc0) != 0) { name = ""; error = $"reserved label type 0x{b & 0xc0:x2}"; return false; }
            if (b == 0)
            {
                if (!jumped) offset = position + 1;
                name = sb.Length == 0 ? "." : sb.ToString();
                error = null;
                return true;
            }
            length += b + 1;
            if (length > MaxNameLength) { name = ""; error = $"name longer than {MaxNameLength} octets"; return false; }
            if (position + 1 + b > packet.Length) { name = ""; error = "label runs past the end of the message"; return false; }
            sb.Append(Encoding.Latin1.GetString(packet.Slice(position + 1, b))).Append('.');
            position += 1 + b;
        }
    }
}
