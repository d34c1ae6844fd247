namespace Vigil.Netlink.Wire;

/// <summary>A decoder of a message's payload (the bytes after nlmsghdr).</summary>
public delegate T PayloadDecoder<out T>(ReadOnlySpan<byte> payload);

/// <summary>One message of a datagram: its header and the bytes after the header.</summary>
public readonly record struct NetlinkMessage(NetlinkHeader Header, ReadOnlyMemory<byte> Payload)
{
    public ushort Type => Header.Type;

    /// <summary>Decodes the payload of an answer to <paramref name="operation"/>; one that does not
    /// parse becomes a <see cref="NetlinkException"/> (EBADMSG) naming the operation and the reason.</summary>
    public T Decode<T>(string operation, PayloadDecoder<T> decode)
    {
        try
        {
            return decode(Payload.Span);
        }
        catch (NetlinkDecodeException e)
        {
            throw NetlinkException.Unparsable(operation, e);
        }
    }

    /// <summary>
    /// Splits a datagram into its messages. Every message must have a length that covers its
    /// header and fits in the datagram; messages start on 4-byte boundaries (NLMSG_ALIGN), and the
    /// last one may lack its padding.
    /// </summary>
    public static List<NetlinkMessage> Split(ReadOnlyMemory<byte> datagram)
    {
        var list = new List<NetlinkMessage>();
        var offset = 0;
        while (datagram.Length - offset >= NetlinkHeader.Size)
        {
            var header = NetlinkHeader.Read(datagram.Span[offset..]);
            var left = datagram.Length - offset;
            if (header.Length < NetlinkHeader.Size)
            {
                throw new NetlinkDecodeException($"message at offset {offset} has length {header.Length}, shorter than its 16-byte header");
            }
            if (header.Length > left)
            {
                throw new NetlinkDecodeException($"message at offset {offset} ({NetlinkMessageType.Name(header.Type)}) has length {header.Length} but only {left} bytes are left");
            }
            list.Add(new NetlinkMessage(header, datagram.Slice(offset + NetlinkHeader.Size, (int)header.Length - NetlinkHeader.Size)));
            offset += Math.Min(NetlinkAttribute.Align((int)header.Length), left);
        }
        if (offset != datagram.Length)
        {
            throw new NetlinkDecodeException($"{datagram.Length - offset} stray bytes after the last message");
        }
        return list;
    }
}
