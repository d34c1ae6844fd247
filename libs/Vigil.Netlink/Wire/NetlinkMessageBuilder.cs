using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Netlink.Wire;

/// <summary>
/// Builds one netlink message: the 16-byte header, a fixed family header (ifaddrmsg, rtmsg, ...)
/// and attributes, each padded to 4 bytes as NLMSG_ALIGN / NLA_ALIGN require. Padding bytes are
/// zero, so equal requests are equal byte for byte (which the tests against iproute2 rely on).
/// The sequence number and port id are filled in when the socket sends it.
/// </summary>
public sealed class NetlinkMessageBuilder
{
    private byte[] _buffer;
    private int _length;

    public NetlinkMessageBuilder(ushort type, NetlinkMessageFlags flags, int capacity = 256)
    {
        Type = type;
        Flags = flags;
        _buffer = new byte[Math.Max(capacity, 64)];
        _length = NetlinkHeader.Size;
    }

    public ushort Type { get; }
    public NetlinkMessageFlags Flags { get; }

    /// <summary>Bytes written so far, header included.</summary>
    public int Length => _length;

    /// <summary>Appends <paramref name="size"/> zeroed bytes (plus padding) and returns them to fill in.</summary>
    public Span<byte> Append(int size)
    {
        var start = _length;
        Grow(NetlinkAttribute.Align(size));
        _length = start + NetlinkAttribute.Align(size);
        return _buffer.AsSpan(start, size);
    }

    public void AddAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        var span = Append(NetlinkAttribute.HeaderSize + value.Length);
        var length = (ushort)(NetlinkAttribute.HeaderSize + value.Length);
        MemoryMarshal.Write(span, in length);
        MemoryMarshal.Write(span[2..], in type);
        value.CopyTo(span[NetlinkAttribute.HeaderSize..]);
    }

    public void AddU8(ushort type, byte value) => AddAttribute(type, [value]);

    public void AddU16(ushort type, ushort value) => AddAttribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<ushort>(in value)));

    /// <summary>A 16-bit value in network byte order (IPVS ports).</summary>
    public void AddU16BigEndian(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        AddAttribute(type, b);
    }

    public void AddU32(ushort type, uint value) => AddAttribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(in value)));

    public void AddS32(ushort type, int value) => AddAttribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<int>(in value)));

    public void AddU64(ushort type, ulong value) => AddAttribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in value)));

    /// <summary>A NUL-terminated string (NLA_NUL_STRING, and what the kernel expects for names).</summary>
    public void AddString(ushort type, string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        Span<byte> b = bytes < 256 ? stackalloc byte[bytes + 1] : new byte[bytes + 1];
        Encoding.UTF8.GetBytes(value, b);
        b[bytes] = 0;
        AddAttribute(type, b);
    }

    /// <summary>A string without the terminating NUL (iproute2 sends IFLA_INFO_KIND so).</summary>
    public void AddStringWithoutNul(ushort type, string value) => AddAttribute(type, Encoding.UTF8.GetBytes(value));

    /// <summary>An address in network byte order: 4 bytes for IPv4, 16 for IPv6.</summary>
    public void AddAddress(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var written);
        AddAttribute(type, b[..written]);
    }

    public void AddFlag(ushort type) => AddAttribute(type, []);

    /// <summary>Starts a nested attribute; close it with <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        var span = Append(NetlinkAttribute.HeaderSize);
        MemoryMarshal.Write(span[2..], in type);
        return start;
    }

    /// <summary>Closes a nested attribute: its length covers everything (padding included) since it began.</summary>
    public void EndNested(int token)
    {
        var length = (ushort)(_length - token);
        MemoryMarshal.Write(_buffer.AsSpan(token), in length);
    }

    /// <summary>The finished message with the given sequence number and port id.</summary>
    public byte[] ToArray(uint sequence = 0, uint portId = 0)
    {
        var result = _buffer.AsSpan(0, _length).ToArray();
        new NetlinkHeader((uint)_length, Type, Flags, sequence, portId).Write(result);
        return result;
    }

    private void Grow(int extra)
    {
        if (_length + extra <= _buffer.Length)
        {
            return;
        }
        var bigger = new byte[Math.Max(_buffer.Length * 2, _length + extra)];
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }
}
