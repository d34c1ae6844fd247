using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Netlink.Wire;

/// <summary>
/// One attribute (<c>struct nlattr</c>): a 4-byte header, the value, then padding to 4 bytes.
/// <code>
/// +-------------------------------+---+---+-----------------------+
/// |     nla_len (hdr + value)     | N | O |   nla_type (14 bits)  |
/// +-------------------------------+---+---+-----------------------+
/// |                  value ... (+ padding to 4)                   |
/// +---------------------------------------------------------------+
/// </code>
/// N = NLA_F_NESTED, O = NLA_F_NET_BYTEORDER. The getters check the value's size and name the
/// attribute in the <see cref="NetlinkDecodeException"/> they throw when it is wrong.
/// </summary>
public readonly ref struct NetlinkAttribute
{
    public const int HeaderSize = 4;
    public const ushort NestedFlag = 0x8000;
    public const ushort NetByteOrderFlag = 0x4000;
    public const ushort TypeMask = 0x3fff;

    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> value)
    {
        RawType = rawType;
        Value = value;
    }

    public ushort RawType { get; }
    public ushort Type => (ushort)(RawType & TypeMask);
    public bool IsNested => (RawType & NestedFlag) != 0;
    public ReadOnlySpan<byte> Value { get; }

    public static int Align(int length) => (length + 3) & ~3;

    public byte GetU8(string name)
    {
        Expect(name, 1);
        return Value[0];
    }

    public ushort GetU16(string name)
    {
        Expect(name, 2);
        return MemoryMarshal.Read<ushort>(Value);
    }

    /// <summary>A 16-bit value in network byte order (ports in IPVS).</summary>
    public ushort GetU16BigEndian(string name)
    {
        Expect(name, 2);
        return BinaryPrimitives.ReadUInt16BigEndian(Value);
    }

    public uint GetU32(string name)
    {
        Expect(name, 4);
        return MemoryMarshal.Read<uint>(Value);
    }

    public int GetS32(string name)
    {
        Expect(name, 4);
        return MemoryMarshal.Read<int>(Value);
    }

    public ulong GetU64(string name)
    {
        Expect(name, 8);
        return MemoryMarshal.Read<ulong>(Value);
    }

    /// <summary>A string, NUL-terminated or not; stops at the first NUL.</summary>
    public string GetString()
    {
        var nul = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? Value[..nul] : Value);
    }

    /// <summary>An IPv4 or IPv6 address, by its length (4 or 16 bytes).</summary>
    public IPAddress GetAddress(string name)
    {
        if (Value.Length != 4 && Value.Length != 16)
        {
            throw new NetlinkDecodeException($"{name}: address of {Value.Length} bytes, expected 4 or 16");
        }
        return new IPAddress(Value);
    }

    /// <summary>An address of the given family; IPVS sends a 16-byte union for both families.</summary>
    public IPAddress GetAddress(string name, AddressFamily family)
    {
        var size = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        if (Value.Length < size)
        {
            throw new NetlinkDecodeException($"{name}: address of {Value.Length} bytes, expected at least {size} for {family}");
        }
        return new IPAddress(Value[..size]);
    }

    /// <summary>Reads the value as a sequence of attributes (for nested attributes).</summary>
    public AttributeReader Nested(string name) => new(Value, name);

    private void Expect(string name, int size)
    {
        if (Value.Length < size)
        {
            throw new NetlinkDecodeException($"{name}: value of {Value.Length} bytes, expected {size}");
        }
    }
}

/// <summary>
/// Walks a run of attributes. Each step checks that the attribute's length covers its header and
/// fits in what is left, so a hostile length can neither loop nor read past the buffer.
/// </summary>
public ref struct AttributeReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _context;
    private int _offset;

    public AttributeReader(ReadOnlySpan<byte> data, string context)
    {
        _data = data;
        _context = context;
        _offset = 0;
        Current = default;
    }

    public NetlinkAttribute Current { get; private set; }

    public readonly AttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        var left = _data.Length - _offset;
        // Fewer than a header's worth of bytes can only be padding after the last attribute.
        if (left < NetlinkAttribute.HeaderSize)
        {
            return false;
        }
        var rest = _data[_offset..];
        var length = MemoryMarshal.Read<ushort>(rest);
        var type = MemoryMarshal.Read<ushort>(rest[2..]);
        if (length < NetlinkAttribute.HeaderSize)
        {
            throw new NetlinkDecodeException($"{_context}: attribute type {type & NetlinkAttribute.TypeMask} at offset {_offset} has length {length}, shorter than its 4-byte header");
        }
        if (length > left)
        {
            throw new NetlinkDecodeException($"{_context}: attribute type {type & NetlinkAttribute.TypeMask} at offset {_offset} has length {length} but only {left} bytes are left");
        }
        Current = new NetlinkAttribute(type, rest[NetlinkAttribute.HeaderSize..length]);
        _offset += Math.Min(NetlinkAttribute.Align(length), left);
        return true;
    }
}
