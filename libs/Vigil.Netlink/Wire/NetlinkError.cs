using System.Runtime.InteropServices;

namespace Vigil.Netlink.Wire;

/// <summary>
/// The payload of NLMSG_ERROR (<c>struct nlmsgerr</c>): a negative errno (0 for an ACK), the
/// header of the request it answers (the whole request unless NLM_F_CAPPED), then, with
/// NETLINK_EXT_ACK and NLM_F_ACK_TLVS, attributes with the kernel's explanation. NLMSG_DONE
/// carries the same errno (and the same TLVs) when a dump fails.
/// </summary>
public readonly record struct NetlinkError(int Errno, string? Message, uint? BadAttributeOffset, NetlinkHeader? Request)
{
    private const ushort AttrMsg = 1;   // NLMSGERR_ATTR_MSG
    private const ushort AttrOffs = 2;  // NLMSGERR_ATTR_OFFS

    /// <summary>True for an ACK (errno 0).</summary>
    public bool IsAck => Errno == 0;

    public static NetlinkError ParseError(NetlinkHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4)
        {
            throw new NetlinkDecodeException($"NLMSG_ERROR needs 4 bytes for the error code, has {payload.Length}");
        }
        var error = MemoryMarshal.Read<int>(payload);
        NetlinkHeader? request = null;
        var rest = payload[4..];
        if (rest.Length >= NetlinkHeader.Size)
        {
            var echoed = NetlinkHeader.Read(rest);
            request = echoed;
            // Without NLM_F_CAPPED the kernel copies the whole request after the error code.
            var skip = (header.Flags & NetlinkMessageFlags.Capped) != 0 || echoed.Length < NetlinkHeader.Size
                ? NetlinkHeader.Size
                : NetlinkAttribute.Align((int)Math.Min(echoed.Length, (uint)rest.Length));
            rest = rest[Math.Min(skip, rest.Length)..];
        }
        else
        {
            rest = [];
        }
        var (message, offset) = (header.Flags & NetlinkMessageFlags.AckTlvs) != 0 ? ParseTlvs(rest) : (null, null);
        return new NetlinkError(-error, message, offset, request);
    }

    public static NetlinkError ParseDone(NetlinkHeader header, ReadOnlySpan<byte> payload)
    {
        // An old kernel may send NLMSG_DONE with no payload at all: a clean end.
        if (payload.Length < 4)
        {
            return new NetlinkError(0, null, null, null);
        }
        var error = MemoryMarshal.Read<int>(payload);
        var (message, offset) = (header.Flags & NetlinkMessageFlags.AckTlvs) != 0 ? ParseTlvs(payload[4..]) : (null, null);
        return new NetlinkError(-error, message, offset, null);
    }

    private static (string?, uint?) ParseTlvs(ReadOnlySpan<byte> tlvs)
    {
        string? message = null;
        uint? offset = null;
        foreach (var a in new AttributeReader(tlvs, "extended ACK"))
        {
            switch (a.Type)
            {
                case AttrMsg:
                    message = a.GetString();
                    break;
                case AttrOffs:
                    offset = a.GetU32("NLMSGERR_ATTR_OFFS");
                    break;
            }
        }
        return (message, offset);
    }
}
