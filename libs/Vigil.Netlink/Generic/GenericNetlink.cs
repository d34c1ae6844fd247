using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Generic;

/// <summary>A generic netlink family as the controller (nlctrl) describes it.</summary>
public sealed record GenericFamily(ushort Id, string Name, uint Version, uint HeaderSize, uint MaxAttribute, IReadOnlyDictionary<string, uint> MulticastGroups);

/// <summary>
/// Generic netlink messages: nlmsghdr (type = the family's id), genlmsghdr (command, version),
/// attributes. Family ids are assigned at run time; CTRL_CMD_GETFAMILY to the controller (id
/// 0x10) resolves a name, as libnl's genl_ctrl_resolve does.
/// </summary>
public static class GenericMessages
{
    /// <summary>GENL_ID_CTRL.</summary>
    public const ushort ControllerId = 0x10;
    private const byte CtrlCmdNewFamily = 1;
    private const byte CtrlCmdGetFamily = 3;
    private const ushort CtrlAttrFamilyId = 1;
    private const ushort CtrlAttrFamilyName = 2;
    private const ushort CtrlAttrVersion = 3;
    private const ushort CtrlAttrHdrSize = 4;
    private const ushort CtrlAttrMaxAttr = 5;
    private const ushort CtrlAttrMcastGroups = 7;
    private const ushort CtrlAttrMcastGrpName = 1;
    private const ushort CtrlAttrMcastGrpId = 2;

    /// <summary>Starts a message to a family: header plus genlmsghdr.</summary>
    public static NetlinkMessageBuilder Create(ushort familyId, byte command, byte version, NetlinkMessageFlags flags)
    {
        var m = new NetlinkMessageBuilder(familyId, flags);
        new GenlMsgHdr(command, version).Write(m.Append(GenlMsgHdr.Size));
        return m;
    }

    /// <summary>CTRL_CMD_GETFAMILY by name, as libnl sends it (version 1, NLM_F_ACK).</summary>
    public static NetlinkMessageBuilder EncodeGetFamily(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15)
        {
            throw new ArgumentException($"generic netlink family name '{name}' must be 1..15 characters");
        }
        var m = Create(ControllerId, CtrlCmdGetFamily, 1, NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack);
        m.AddString(CtrlAttrFamilyName, name);
        return m;
    }

    /// <summary>Decodes the controller's CTRL_CMD_NEWFAMILY answer (payload after nlmsghdr).</summary>
    public static GenericFamily DecodeFamily(ReadOnlySpan<byte> payload)
    {
        var hdr = GenlMsgHdr.Read(payload);
        if (hdr.Command != CtrlCmdNewFamily)
        {
            throw new NetlinkDecodeException($"nlctrl: command {hdr.Command} is not CTRL_CMD_NEWFAMILY");
        }
        ushort? id = null;
        string? name = null;
        uint version = 0, hdrSize = 0, maxAttr = 0;
        var groups = new Dictionary<string, uint>();
        foreach (var a in new AttributeReader(payload[GenlMsgHdr.Size..], "CTRL_CMD_NEWFAMILY"))
        {
            switch (a.Type)
            {
                case CtrlAttrFamilyId:
                    id = a.GetU16("CTRL_ATTR_FAMILY_ID");
                    break;
                case CtrlAttrFamilyName:
                    name = a.GetString();
                    break;
                case CtrlAttrVersion:
                    version = a.GetU32("CTRL_ATTR_VERSION");
                    break;
                case CtrlAttrHdrSize:
                    hdrSize = a.GetU32("CTRL_ATTR_HDRSIZE");
                    break;
                case CtrlAttrMaxAttr:
                    maxAttr = a.GetU32("CTRL_ATTR_MAXATTR");
                    break;
                case CtrlAttrMcastGroups:
                    foreach (var g in a.Nested("CTRL_ATTR_MCAST_GROUPS"))
                    {
                        string? groupName = null;
                        uint? groupId = null;
                        foreach (var ga in g.Nested("CTRL_ATTR_MCAST_GROUPS entry"))
                        {
                            if (ga.Type == CtrlAttrMcastGrpName) groupName = ga.GetString();
                            else if (ga.Type == CtrlAttrMcastGrpId) groupId = ga.GetU32("CTRL_ATTR_MCAST_GRP_ID");
                        }
                        if (groupName is not null && groupId is uint gid)
                        {
                            groups[groupName] = gid;
                        }
                    }
                    break;
            }
        }
        return new GenericFamily(
            id ?? throw new NetlinkDecodeException("CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_ID"),
            name ?? throw new NetlinkDecodeException("CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_NAME"),
            version, hdrSize, maxAttr, groups);
    }
}

/// <summary>A generic netlink socket: resolves families and carries their requests.</summary>
public sealed class GenericNetlink : IDisposable
{
    private readonly NetlinkSocket _socket;

    private GenericNetlink(NetlinkSocket socket)
    {
        _socket = socket;
    }

    public static GenericNetlink Open(NetworkNamespace? ns = null) =>
        new(NetlinkSocket.Open(NetlinkProtocol.Generic, new NetlinkSocketOptions { Namespace = ns ?? NetworkNamespace.Current }));

    public NetworkNamespace Namespace => _socket.Namespace;

    /// <summary>The family of that name, or null when the kernel has none (module not loaded).</summary>
    public async Task<GenericFamily?> GetFamilyAsync(string name, CancellationToken cancellationToken = default)
    {
        var op = $"CTRL_CMD_GETFAMILY {name}";
        IReadOnlyList<NetlinkMessage> messages;
        try
        {
            messages = await _socket.RequestAsync(GenericMessages.EncodeGetFamily(name), op, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.ErrorCode == Errno.ENOENT)
        {
            return null;
        }
        foreach (var m in messages)
        {
            if (m.Type == GenericMessages.ControllerId)
            {
                return m.Decode(op, GenericMessages.DecodeFamily);
            }
        }
        throw new NetlinkException(op, Errno.EBADMSG, hint: "acknowledged without describing the family");
    }

    /// <summary>Sends a request built with <see cref="GenericMessages.Create"/> and collects the answer.</summary>
    public Task<IReadOnlyList<NetlinkMessage>> RequestAsync(NetlinkMessageBuilder request, string operation, CancellationToken cancellationToken = default) =>
        _socket.RequestAsync(request, operation, cancellationToken);

    public void Dispose() => _socket.Dispose();
}
