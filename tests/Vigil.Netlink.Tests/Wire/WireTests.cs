using System.Net;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Tests.Wire;

public sealed class WireTests
{
    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void Builder_StringAttribute_PaddedWithZerosAndLengthExcludesPadding()
    {
        var m = new NetlinkMessageBuilder(20, NetlinkMessageFlags.Request);
        m.AddString(3, "eth0:vip");
        var bytes = m.ToArray(sequence: 7, portId: 9);
        Assert.Equal(Bytes("20000000 1400 0100 07000000 09000000 0d00 0300 657468303a76697000 000000"), bytes);
    }

    [Fact]
    public void Builder_Nested_LengthCoversPaddedChildren()
    {
        var m = new NetlinkMessageBuilder(16, NetlinkMessageFlags.Request);
        var outer = m.BeginNested(18);
        m.AddStringWithoutNul(1, "macvlan");
        var inner = m.BeginNested(2);
        m.AddU32(1, 1);
        m.EndNested(inner);
        m.EndNested(outer);
        var attrs = m.ToArray()[NetlinkHeader.Size..];
        Assert.Equal(Bytes("1c00 1200 0b00 0100 6d6163766c616e 00 0c00 0200 0800 0100 01000000"), attrs);
    }

    [Fact]
    public void AttributeReader_NestedAndPadding_Walks()
    {
        var data = Bytes("0900 0300 6574683000 000000 0c00 1200 0800 0100 2a000000");
        var seen = new List<(ushort, int)>();
        foreach (var a in new AttributeReader(data, "test"))
        {
            seen.Add((a.Type, a.Value.Length));
            if (a.Type == 18)
            {
                foreach (var n in a.Nested("inner"))
                {
                    Assert.Equal(42u, n.GetU32("inner u32"));
                }
            }
            else
            {
                Assert.Equal("eth0", a.GetString());
            }
        }
        Assert.Equal([(3, 5), (18, 8)], seen);
    }

    [Theory]
    [InlineData("0200 0100", "shorter than its 4-byte header")]
    [InlineData("0900 0100 0102", "only 6 bytes are left")]
    [InlineData("0000 0100 00000000", "length 0")]
    public void AttributeReader_BadLength_RejectedWithReason(string hex, string reason)
    {
        var e = Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var _ in new AttributeReader(Bytes(hex), "RTM_NEWADDR")) { }
        });
        Assert.Contains(reason, e.Reason);
        Assert.StartsWith("RTM_NEWADDR: attribute type 1 at offset 0", e.Reason);
    }

    [Fact]
    public void AttributeReader_ThreeTrailingBytes_TreatedAsPadding()
    {
        var count = 0;
        foreach (var _ in new AttributeReader(Bytes("0500 0100 07 000000 000000"), "x")) count++;
        Assert.Equal(1, count);
    }

    [Fact]
    public void Attribute_WrongSizeForType_NamesTheAttribute()
    {
        var data = Bytes("0600 0800 0100 0000");
        var e = Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var a in new AttributeReader(data, "x")) a.GetU32("IFA_FLAGS");
        });
        Assert.Equal("IFA_FLAGS: value of 2 bytes, expected 4", e.Reason);
        var e2 = Assert.Throws<NetlinkDecodeException>(() =>
        {
            foreach (var a in new AttributeReader(Bytes("0700 0200 0a0102 00"), "x")) a.GetAddress("IFA_LOCAL");
        });
        Assert.Equal("IFA_LOCAL: address of 3 bytes, expected 4 or 16", e2.Reason);
    }

    [Fact]
    public void Split_TwoMessagesOneUnpaddedAtEnd_BothFound()
    {
        var a = new NetlinkMessageBuilder(20, NetlinkMessageFlags.Multi);
        a.AddU8(1, 5);
        var b = new NetlinkMessageBuilder(3, NetlinkMessageFlags.Multi);
        var first = a.ToArray(1);
        var second = b.ToArray(1);
        var messages = NetlinkMessage.Split(first.Concat(second).ToArray());
        Assert.Equal([(ushort)20, (ushort)3], messages.Select(m => m.Type));
        Assert.Equal(8, messages[0].Payload.Length);
        Assert.Equal(0, messages[1].Payload.Length);
    }

    [Theory]
    [InlineData("0800000014000000 0000000000000000", "shorter than its 16-byte header")]
    [InlineData("2000000014000000 0000000000000000", "only 16 bytes are left")]
    [InlineData("1000000014000000 0000000000000000 0102", "2 stray bytes")]
    public void Split_BadLengths_RejectedWithReason(string hex, string reason)
    {
        var e = Assert.Throws<NetlinkDecodeException>(() => NetlinkMessage.Split(Bytes(hex)));
        Assert.Contains(reason, e.Reason);
    }

    [Fact]
    public void ParseError_ExtendedAckCapped_MessageAndOffset()
    {
        // What the kernel sends with NETLINK_CAP_ACK + NETLINK_EXT_ACK: error, request header, TLVs.
        var payload = new List<byte>();
        payload.AddRange(BitConverter.GetBytes(-17));
        var request = new byte[16];
        new NetlinkHeader(40, 20, NetlinkMessageFlags.Request, 5, 0).Write(request);
        payload.AddRange(request);
        var tlv = new NetlinkMessageBuilder(0, 0);
        tlv.AddString(1, "Address already assigned");
        tlv.AddU32(2, 24);
        payload.AddRange(tlv.ToArray()[NetlinkHeader.Size..]);
        var header = new NetlinkHeader(0, NetlinkMessageType.Error, NetlinkMessageFlags.Capped | NetlinkMessageFlags.AckTlvs, 5, 1);
        var error = NetlinkError.ParseError(header, payload.ToArray());
        Assert.Equal(Errno.EEXIST, error.Errno);
        Assert.Equal("Address already assigned", error.Message);
        Assert.Equal(24u, error.BadAttributeOffset);
        Assert.Equal(5u, error.Request!.Value.Sequence);
    }

    [Fact]
    public void ParseError_Uncapped_SkipsEchoedRequest()
    {
        var request = new NetlinkMessageBuilder(20, NetlinkMessageFlags.Request);
        request.AddU32(2, 0x0a000001);
        var echoed = request.ToArray(3);
        var payload = BitConverter.GetBytes(-22).Concat(echoed).ToArray();
        var tlv = new NetlinkMessageBuilder(0, 0);
        tlv.AddString(1, "bad");
        payload = payload.Concat(tlv.ToArray()[NetlinkHeader.Size..]).ToArray();
        var error = NetlinkError.ParseError(new NetlinkHeader(0, 2, NetlinkMessageFlags.AckTlvs, 3, 0), payload);
        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Equal("bad", error.Message);
    }

    [Fact]
    public void ParseError_Ack_IsAck()
    {
        var error = NetlinkError.ParseError(new NetlinkHeader(36, 2, NetlinkMessageFlags.Capped, 1, 0), new byte[20]);
        Assert.True(error.IsAck);
        Assert.Null(error.Message);
    }

    [Fact]
    public void NetlinkException_Message_NamesOperationErrnoAndKernelWords()
    {
        var e = new NetlinkException("RTM_NEWADDR 10.0.0.5/24 dev eth0", Errno.EEXIST);
        Assert.Equal("RTM_NEWADDR 10.0.0.5/24 dev eth0: File exists (EEXIST)", e.Message);
        Assert.True(e.AlreadyExists);
        var k = new NetlinkException("RTM_NEWROUTE 10.0.0.0/8 via 192.0.2.1", Errno.ENETUNREACH, "Nexthop has invalid gateway", hint: "the gateway is not reachable");
        Assert.Equal("RTM_NEWROUTE 10.0.0.0/8 via 192.0.2.1: Network is unreachable (ENETUNREACH): the gateway is not reachable; kernel: Nexthop has invalid gateway", k.Message);
        Assert.Equal("errno 4095", Errno.Name(4095));
    }

    [Fact]
    public void FamilyHeaders_RoundTrip()
    {
        var b = new byte[16];
        var ifa = new IfAddrMsg(2, 24, 0x80, 253, 7);
        ifa.Write(b);
        Assert.Equal(ifa, IfAddrMsg.Read(b));
        var ifi = new IfInfoMsg(0, 1, 3, 0x11043, 0xffffffff);
        ifi.Write(b);
        Assert.Equal(ifi, IfInfoMsg.Read(b));
        var rt = new RtMsg(10, 48, 0, 0, 254, 3, 0, 1, 4);
        rt.Write(b);
        Assert.Equal(rt, RtMsg.Read(b));
        var fr = new FibRuleHdr(2, 16, 32, 0x10, 100, 1, 2);
        fr.Write(b);
        Assert.Equal(fr, FibRuleHdr.Read(b));
        var g = new GenlMsgHdr(3, 1);
        g.Write(b);
        Assert.Equal(g, GenlMsgHdr.Read(b));
        Assert.Throws<NetlinkDecodeException>(() => RtMsg.Read(b.AsSpan(0, 11)));
    }

    [Fact]
    public void Builder_Address_FourOrSixteenBytes()
    {
        var m = new NetlinkMessageBuilder(0, 0);
        m.AddAddress(1, IPAddress.Parse("10.0.0.1"));
        m.AddAddress(2, IPAddress.Parse("2001:db8::1"));
        Assert.Equal(NetlinkHeader.Size + 8 + 20, m.Length);
    }
}
