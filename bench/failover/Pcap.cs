using System.Buffers.Binary;
using System.Net;

namespace Vigil.Bench.Failover;

/// <summary>What the benchmark cares about in one captured frame.</summary>
internal enum WireKind
{
    /// <summary>A VRRP advertisement (IP protocol 112).</summary>
    Advert,

    /// <summary>An ICMP echo reply.</summary>
    EchoReply,

    /// <summary>A gratuitous ARP (sender IP = target IP).</summary>
    Garp,
}

/// <summary>
/// One classified frame with the kernel's capture timestamp, in microseconds since the Unix
/// epoch (CLOCK_REALTIME, the clock <see cref="Clock.NowMicros"/> reads).
/// </summary>
internal readonly record struct WireEvent(long Micros, WireKind Kind, uint SourceIp, ulong SourceMac, byte Priority, byte Version);

/// <summary>
/// Reads a classic pcap file (microsecond or nanosecond timestamps, Ethernet link type) while
/// tcpdump is still writing it: each <see cref="Poll"/> returns the frames completed since the
/// last call and leaves a partly written record for the next one.
/// </summary>
internal sealed class PcapTail
{
    private const uint MagicMicros = 0xa1b2c3d4;
    private const uint MagicNanos = 0xa1b23c4d;
    private const int GlobalHeaderLength = 24;
    private const int RecordHeaderLength = 16;
    private const int LinkTypeEthernet = 1;

    private readonly string _path;
    private long _offset;
    private bool _headerRead;
    private bool _nanos;
    private bool _swapped;
    private byte[] _pending = [];

    public PcapTail(string path) => _path = path;

    /// <summary>Frames that could not be classified (other protocols) are skipped; this counts records read.</summary>
    public long Records { get; private set; }

    public List<WireEvent> Poll()
    {
        var events = new List<WireEvent>();
        byte[] fresh;
        using (var f = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (f.Length <= _offset) return events;
            f.Seek(_offset, SeekOrigin.Begin);
            fresh = new byte[f.Length - _offset];
            f.ReadExactly(fresh);
            _offset += fresh.Length;
        }
        var data = _pending.Length == 0 ? fresh : [.. _pending, .. fresh];
        var pos = 0;
        if (!_headerRead)
        {
            if (data.Length < GlobalHeaderLength)
            {
                _pending = data;
                return events;
            }
            var magic = BinaryPrimitives.ReadUInt32LittleEndian(data);
            (_nanos, _swapped) = magic switch
            {
                MagicMicros => (false, false),
                MagicNanos => (true, false),
                _ when BinaryPrimitives.ReverseEndianness(magic) == MagicMicros => (false, true),
                _ when BinaryPrimitives.ReverseEndianness(magic) == MagicNanos => (true, true),
                _ => throw new InvalidDataException($"{_path}: not a pcap file (magic 0x{magic:x8})"),
            };
            var link = U32(data, 20) & 0xffff;
            if (link != LinkTypeEthernet) throw new InvalidDataException($"{_path}: link type {link}, expected Ethernet (1)");
            _headerRead = true;
            pos = GlobalHeaderLength;
        }
        while (data.Length - pos >= RecordHeaderLength)
        {
            var seconds = U32(data, pos);
            var fraction = U32(data, pos + 4);
            var captured = (int)U32(data, pos + 8);
            if (data.Length - pos - RecordHeaderLength < captured) break;
            var micros = seconds * 1_000_000L + (_nanos ? fraction / 1000 : fraction);
            if (Classify(data.AsSpan(pos + RecordHeaderLength, captured), micros) is { } e) events.Add(e);
            pos += RecordHeaderLength + captured;
            Records++;
        }
        _pending = data[pos..];
        return events;
    }

    private uint U32(byte[] data, int at) => _swapped
        ? BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at))
        : BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at));

    /// <summary>Ethernet II + IPv4 (VRRP, ICMP echo reply) or ARP; anything else is null.</summary>
    internal static WireEvent? Classify(ReadOnlySpan<byte> frame, long micros)
    {
        if (frame.Length < 14) return null;
        var sourceMac = Mac(frame[6..12]);
        var etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var l3 = frame[14..];
        if (etherType == 0x0800)
        {
            if (l3.Length < 20 || l3[0] >> 4 != 4) return null;
            var ihl = (l3[0] & 0x0f) * 4;
            if (ihl < 20 || l3.Length < ihl) return null;
            var protocol = l3[9];
            var source = BinaryPrimitives.ReadUInt32BigEndian(l3[12..]);
            var payload = l3[ihl..];
            if (protocol == 112 && payload.Length >= 4)
            {
                // VRRP: version (high nibble) | type, VRID, priority, ...
                return new WireEvent(micros, WireKind.Advert, source, sourceMac, payload[2], (byte)(payload[0] >> 4));
            }
            if (protocol == 1 && payload.Length >= 8 && payload[0] == 0)
            {
                return new WireEvent(micros, WireKind.EchoReply, source, sourceMac, 0, 0);
            }
            return null;
        }
        if (etherType == 0x0806 && l3.Length >= 28)
        {
            // ARP for IPv4 over Ethernet: sender IP at 14, target IP at 24.
            var sender = BinaryPrimitives.ReadUInt32BigEndian(l3[14..]);
            var target = BinaryPrimitives.ReadUInt32BigEndian(l3[24..]);
            if (sender == target) return new WireEvent(micros, WireKind.Garp, sender, Mac(l3[8..14]), 0, 0);
        }
        return null;
    }

    private static ulong Mac(ReadOnlySpan<byte> b)
    {
        ulong v = 0;
        foreach (var x in b[..6]) v = (v << 8) | x;
        return v;
    }

    public static uint Ip(string address) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());

    public static ulong Mac(string mac) => Convert.ToUInt64(mac.Replace(":", "", StringComparison.Ordinal), 16);
}

/// <summary>Wall-clock microseconds, the clock tcpdump stamps packets with.</summary>
internal static class Clock
{
    public static long NowMicros() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;

    public static string Iso(long micros) => DateTime.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
}
