using System.Runtime.InteropServices;

namespace Vigil.Netlink.Wire;

// The fixed headers that follow nlmsghdr in each rtnetlink / generic netlink message, in host byte
// order, as laid out in the uapi headers. Read() rejects a payload too short to hold them.

/// <summary><c>struct ifaddrmsg</c> (linux/if_addr.h), 8 bytes.
/// <code>
/// +--------+-----------+--------+--------+--------------------------------+
/// | family | prefixlen | flags  | scope  |         index (u32)            |
/// +--------+-----------+--------+--------+--------------------------------+
/// </code></summary>
public readonly record struct IfAddrMsg(byte Family, byte PrefixLength, byte Flags, byte Scope, uint Index)
{
    public const int Size = 8;

    public static IfAddrMsg Read(ReadOnlySpan<byte> s)
    {
        Check(s, Size, "ifaddrmsg");
        return new IfAddrMsg(s[0], s[1], s[2], s[3], MemoryMarshal.Read<uint>(s[4..]));
    }

    public void Write(Span<byte> d)
    {
        d[0] = Family;
        d[1] = PrefixLength;
        d[2] = Flags;
        d[3] = Scope;
        var index = Index;
        MemoryMarshal.Write(d[4..], in index);
    }

    internal static void Check(ReadOnlySpan<byte> s, int size, string what)
    {
        if (s.Length < size)
        {
            throw new NetlinkDecodeException($"{what} needs {size} bytes, the message has {s.Length}");
        }
    }
}

/// <summary><c>struct ifinfomsg</c> (linux/rtnetlink.h), 16 bytes.
/// <code>
/// +--------+--------+---------------+-------------------------------+
/// | family |  pad   |  type (u16)   |          index (s32)          |
/// +--------+--------+---------------+-------------------------------+
/// |          flags (u32)            |         change (u32)          |
/// +---------------------------------+-------------------------------+
/// </code></summary>
public readonly record struct IfInfoMsg(byte Family, ushort DeviceType, int Index, uint Flags, uint Change)
{
    public const int Size = 16;

    public static IfInfoMsg Read(ReadOnlySpan<byte> s)
    {
        IfAddrMsg.Check(s, Size, "ifinfomsg");
        return new IfInfoMsg(s[0], MemoryMarshal.Read<ushort>(s[2..]), MemoryMarshal.Read<int>(s[4..]),
            MemoryMarshal.Read<uint>(s[8..]), MemoryMarshal.Read<uint>(s[12..]));
    }

    public void Write(Span<byte> d)
    {
        d[0] = Family;
        d[1] = 0;
        var type = DeviceType;
        var index = Index;
        var flags = Flags;
        var change = Change;
        MemoryMarshal.Write(d[2..], in type);
        MemoryMarshal.Write(d[4..], in index);
        MemoryMarshal.Write(d[8..], in flags);
        MemoryMarshal.Write(d[12..], in change);
    }
}

/// <summary><c>struct rtmsg</c> (linux/rtnetlink.h), 12 bytes.
/// <code>
/// +--------+---------+---------+--------+--------+----------+-------+------+
/// | family | dst_len | src_len |  tos   | table  | protocol | scope | type |
/// +--------+---------+---------+--------+--------+----------+-------+------+
/// |                          flags (u32)                                   |
/// +------------------------------------------------------------------------+
/// </code></summary>
public readonly record struct RtMsg(byte Family, byte DestinationLength, byte SourceLength, byte Tos, byte Table,
    byte Protocol, byte Scope, byte Type, uint Flags)
{
    public const int Size = 12;

    public static RtMsg Read(ReadOnlySpan<byte> s)
    {
        IfAddrMsg.Check(s, Size, "rtmsg");
        return new RtMsg(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], MemoryMarshal.Read<uint>(s[8..]));
    }

    public void Write(Span<byte> d)
    {
        d[0] = Family;
        d[1] = DestinationLength;
        d[2] = SourceLength;
        d[3] = Tos;
        d[4] = Table;
        d[5] = Protocol;
        d[6] = Scope;
        d[7] = Type;
        var flags = Flags;
        MemoryMarshal.Write(d[8..], in flags);
    }
}

/// <summary><c>struct fib_rule_hdr</c> (linux/fib_rules.h), 12 bytes.
/// <code>
/// +--------+---------+---------+--------+--------+------+------+--------+
/// | family | dst_len | src_len |  tos   | table  | res1 | res2 | action |
/// +--------+---------+---------+--------+--------+------+------+--------+
/// |                          flags (u32)                                |
/// +---------------------------------------------------------------------+
/// </code></summary>
public readonly record struct FibRuleHdr(byte Family, byte DestinationLength, byte SourceLength, byte Tos, byte Table,
    byte Action, uint Flags)
{
    public const int Size = 12;

    public static FibRuleHdr Read(ReadOnlySpan<byte> s)
    {
        IfAddrMsg.Check(s, Size, "fib_rule_hdr");
        return new FibRuleHdr(s[0], s[1], s[2], s[3], s[4], s[7], MemoryMarshal.Read<uint>(s[8..]));
    }

    public void Write(Span<byte> d)
    {
        d[0] = Family;
        d[1] = DestinationLength;
        d[2] = SourceLength;
        d[3] = Tos;
        d[4] = Table;
        d[5] = 0;
        d[6] = 0;
        d[7] = Action;
        var flags = Flags;
        MemoryMarshal.Write(d[8..], in flags);
    }
}

/// <summary><c>struct genlmsghdr</c> (linux/genetlink.h), 4 bytes: cmd, version, reserved (u16).</summary>
public readonly record struct GenlMsgHdr(byte Command, byte Version)
{
    public const int Size = 4;

    public static GenlMsgHdr Read(ReadOnlySpan<byte> s)
    {
        IfAddrMsg.Check(s, Size, "genlmsghdr");
        return new GenlMsgHdr(s[0], s[1]);
    }

    public void Write(Span<byte> d)
    {
        d[0] = Command;
        d[1] = Version;
        d[2] = 0;
        d[3] = 0;
    }
}

/// <summary><c>struct rtnexthop</c> (linux/rtnetlink.h), 8 bytes, each followed by its own attributes
/// inside RTA_MULTIPATH: len (u16, incl. attributes), flags, hops (weight - 1), ifindex (s32).</summary>
public readonly record struct RtNextHop(ushort Length, byte Flags, byte Hops, int InterfaceIndex)
{
    public const int Size = 8;

    public static RtNextHop Read(ReadOnlySpan<byte> s)
    {
        IfAddrMsg.Check(s, Size, "rtnexthop");
        return new RtNextHop(MemoryMarshal.Read<ushort>(s), s[2], s[3], MemoryMarshal.Read<int>(s[4..]));
    }

    public void Write(Span<byte> d)
    {
        var length = Length;
        var index = InterfaceIndex;
        MemoryMarshal.Write(d, in length);
        d[2] = Flags;
        d[3] = Hops;
        MemoryMarshal.Write(d[4..], in index);
    }
}

/// <summary><c>struct ifa_cacheinfo</c> (linux/if_addr.h): preferred and valid lifetimes in seconds
/// (0xFFFFFFFF = forever), then creation and update stamps in hundredths of a second.</summary>
public readonly record struct IfaCacheInfo(uint Preferred, uint Valid, uint Created, uint Updated)
{
    public const int Size = 16;
    public const uint Infinity = uint.MaxValue;

    public static IfaCacheInfo Read(ReadOnlySpan<byte> s)
    {
        if (s.Length < Size)
        {
            throw new NetlinkDecodeException($"IFA_CACHEINFO: value of {s.Length} bytes, expected {Size}");
        }
        return new IfaCacheInfo(MemoryMarshal.Read<uint>(s), MemoryMarshal.Read<uint>(s[4..]),
            MemoryMarshal.Read<uint>(s[8..]), MemoryMarshal.Read<uint>(s[12..]));
    }

    public void Write(Span<byte> d)
    {
        var p = Preferred;
        var v = Valid;
        var c = Created;
        var u = Updated;
        MemoryMarshal.Write(d, in p);
        MemoryMarshal.Write(d[4..], in v);
        MemoryMarshal.Write(d[8..], in c);
        MemoryMarshal.Write(d[12..], in u);
    }
}
