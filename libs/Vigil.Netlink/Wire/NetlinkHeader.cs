using System.Runtime.InteropServices;

namespace Vigil.Netlink.Wire;

/// <summary>Flags of <c>struct nlmsghdr</c> (include/uapi/linux/netlink.h). The upper byte means
/// different things for GET (Root/Match/Atomic), NEW (Replace/Excl/Create/Append) and DEL
/// requests, so several names share a value.</summary>
[Flags]
public enum NetlinkMessageFlags : ushort
{
    None = 0,
    Request = 0x01,
    Multi = 0x02,
    Ack = 0x04,
    Echo = 0x08,
    DumpInterrupted = 0x10,
    DumpFiltered = 0x20,
    // GET requests
    Root = 0x100,
    Match = 0x200,
    Atomic = 0x400,
    Dump = Root | Match,
    // NEW requests
    Replace = 0x100,
    Excl = 0x200,
    Create = 0x400,
    Append = 0x800,
    // ACK messages (NLMSG_ERROR)
    Capped = 0x100,
    AckTlvs = 0x200,
}

/// <summary>
/// <c>struct nlmsghdr</c>, 16 bytes in host byte order:
/// <code>
///  0               1               2               3
/// +---------------+---------------+---------------+---------------+
/// |                     nlmsg_len (incl. header)                  |
/// +-------------------------------+-------------------------------+
/// |          nlmsg_type           |          nlmsg_flags          |
/// +-------------------------------+-------------------------------+
/// |                          nlmsg_seq                            |
/// +---------------------------------------------------------------+
/// |                nlmsg_pid (sender's port id)                   |
/// +---------------------------------------------------------------+
/// </code>
/// </summary>
public readonly record struct NetlinkHeader(uint Length, ushort Type, NetlinkMessageFlags Flags, uint Sequence, uint PortId)
{
    public const int Size = 16;

    public static NetlinkHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new NetlinkDecodeException($"netlink header needs {Size} bytes, {source.Length} left");
        }
        return new NetlinkHeader(
            MemoryMarshal.Read<uint>(source),
            MemoryMarshal.Read<ushort>(source[4..]),
            (NetlinkMessageFlags)MemoryMarshal.Read<ushort>(source[6..]),
            MemoryMarshal.Read<uint>(source[8..]),
            MemoryMarshal.Read<uint>(source[12..]));
    }

    public void Write(Span<byte> destination)
    {
        var length = Length;
        var type = Type;
        var flags = (ushort)Flags;
        var seq = Sequence;
        var pid = PortId;
        MemoryMarshal.Write(destination, in length);
        MemoryMarshal.Write(destination[4..], in type);
        MemoryMarshal.Write(destination[6..], in flags);
        MemoryMarshal.Write(destination[8..], in seq);
        MemoryMarshal.Write(destination[12..], in pid);
    }
}

/// <summary>Message types shared by every netlink protocol, and rtnetlink's (include/uapi/linux/rtnetlink.h).</summary>
public static class NetlinkMessageType
{
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
    /// <summary>Types below this are control messages.</summary>
    public const ushort MinType = 0x10;

    public const ushort NewLink = 16;
    public const ushort DelLink = 17;
    public const ushort GetLink = 18;
    public const ushort SetLink = 19;
    public const ushort NewAddr = 20;
    public const ushort DelAddr = 21;
    public const ushort GetAddr = 22;
    public const ushort NewRoute = 24;
    public const ushort DelRoute = 25;
    public const ushort GetRoute = 26;
    public const ushort NewRule = 32;
    public const ushort DelRule = 33;
    public const ushort GetRule = 34;

    /// <summary>The kernel's name for an rtnetlink message type ("RTM_NEWADDR"), for error messages.</summary>
    public static string Name(ushort type) => type switch
    {
        Noop => "NLMSG_NOOP",
        Error => "NLMSG_ERROR",
        Done => "NLMSG_DONE",
        Overrun => "NLMSG_OVERRUN",
        NewLink => "RTM_NEWLINK",
        DelLink => "RTM_DELLINK",
        GetLink => "RTM_GETLINK",
        SetLink => "RTM_SETLINK",
        NewAddr => "RTM_NEWADDR",
        DelAddr => "RTM_DELADDR",
        GetAddr => "RTM_GETADDR",
        NewRoute => "RTM_NEWROUTE",
        DelRoute => "RTM_DELROUTE",
        GetRoute => "RTM_GETROUTE",
        NewRule => "RTM_NEWRULE",
        DelRule => "RTM_DELRULE",
        GetRule => "RTM_GETRULE",
        _ => $"type {type}",
    };
}
