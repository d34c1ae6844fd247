using System.Net;
using Vigil.Checkd.Alerts;
using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Tests.Probes;

public sealed class CodecTests
{
    [Fact]
    public void DnsWriteQuery_ExampleCom_ExactBytes()
    {
        var buffer = new byte[DnsCodec.QueryLength("www.example.com")];

        var n = DnsCodec.WriteQuery(buffer, 0x1234, "www.example.com", (ushort)DnsQueryType.A);

        Assert.Equal(buffer.Length, n);
        Assert.Equal(Convert.FromHexString("123401000001000000000000" + "03777777076578616d706c6503636f6d00" + "00010001"), buffer);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    public void DnsWriteQuery_Root_SingleZeroLabel(string name)
    {
        var buffer = new byte[DnsCodec.QueryLength(name)];

        DnsCodec.WriteQuery(buffer, 1, name, (ushort)DnsQueryType.SOA);

        Assert.Equal(Convert.FromHexString("000101000001000000000000" + "00" + "00060001"), buffer);
    }

    [Theory]
    [InlineData("a..b", "empty label")]
    [InlineData(".a", "empty label")]
    public void DnsWriteQuery_BadName_Rejected(string name, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => DnsCodec.QueryLength(name));
        Assert.Contains(reason, e.Message);
        Assert.Throws<ArgumentException>(() => DnsCodec.QueryLength(new string('a', 64) + ".com"));
        Assert.Throws<ArgumentException>(() => DnsCodec.QueryLength(string.Join('.', Enumerable.Repeat(new string('a', 60), 5))));
    }

    private static byte[] Answer(ushort id = 0x1234, int rcode = 0)
    {
        // Header, question www.example.com A IN, answer with a pointer to offset 12, A 192.0.2.1.
        var hex = $"{id:x4}{0x8180 | rcode:x4}000100010000 0000" + "03777777076578616d706c6503636f6d00" + "00010001"
            + "c00c" + "0001" + "0001" + "0000012c" + "0004" + "c0000201";
        return Convert.FromHexString(hex.Replace(" ", ""));
    }

    [Fact]
    public void DnsTryParse_CompressedAnswer_Decoded()
    {
        Assert.True(DnsCodec.TryParse(Answer(), out var message, out var error), error);

        Assert.True(message!.Header.IsResponse);
        Assert.Equal(0, message.Header.ResponseCode);
        Assert.Equal("www.example.com.", Assert.Single(message.Questions).Name);
        var a = Assert.Single(message.Answers);
        Assert.Equal("www.example.com.", a.Name);
        Assert.Equal(300u, a.Ttl);
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, a.Data);
    }

    [Fact]
    public void DnsTryParse_EveryTruncation_RejectedWithReason()
    {
        var full = Answer();
        for (var length = 0; length < full.Length; length++)
        {
            Assert.False(DnsCodec.TryParse(full.AsSpan(0, length), out _, out var error), $"length {length} accepted");
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public void DnsTryParse_PointerLoopOrForward_Rejected()
    {
        var loop = Answer();
        loop[^16] = 0xc0;
        loop[^15] = (byte)(loop.Length - 16); // answer name points at itself
        Assert.False(DnsCodec.TryParse(loop, out _, out var e1));
        Assert.Contains("backwards", e1);

        var forward = Answer();
        forward[^15] = 0xff;
        Assert.False(DnsCodec.TryParse(forward, out _, out var e2));
        Assert.Contains("backwards", e2);
    }

    [Fact]
    public void DnsTryParse_RandomMutations_NeverThrow()
    {
        var random = new Random(42);
        var full = Answer();
        for (var i = 0; i < 20000; i++)
        {
            var copy = (byte[])full.Clone();
            for (var m = 0; m < 3; m++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
            DnsCodec.TryParse(copy.AsSpan(0, random.Next(copy.Length + 1)), out _, out _);
        }
    }

    [Fact]
    public void IcmpChecksum_Rfc1071Example()
    {
        // RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d.
        Assert.Equal(0x220d, IcmpEcho.Checksum(Convert.FromHexString("0001f203f4f5f6f7")));
    }

    [Fact]
    public void IcmpWriteRequest_Ipv4_ChecksumVerifies()
    {
        var buffer = new byte[8 + 4];

        IcmpEcho.WriteRequest(buffer, v6: false, identifier: 0xabcd, sequence: 7, "ping"u8);

        Assert.Equal(8, buffer[0]);
        Assert.Equal(0, IcmpEcho.Checksum(buffer));
        Assert.True(IcmpEcho.TryParse(buffer, out var type, out _, out var id, out var seq, out _));
        Assert.Equal((8, 0xabcd, 7), (type, id, seq));
        Assert.False(IcmpEcho.TryParse(buffer.AsSpan(0, 7), out _, out _, out _, out _, out var error));
        Assert.Contains("shorter", error);
    }

    [Fact]
    public void IcmpStripIpv4Header_UsesIhl()
    {
        var packet = new byte[24 + 8];
        packet[0] = 0x46; // version 4, IHL 6 words
        packet[24] = 0;
        Assert.True(IcmpEcho.TryStripIpv4Header(packet, out var payload, out _));
        Assert.Equal(8, payload.Length);
        packet[0] = 0x4f;
        Assert.False(IcmpEcho.TryStripIpv4Header(packet, out _, out _));
    }

    [Fact]
    public void HexString_ManPageExample()
    {
        var (data, mask) = HexString.Parse("Ab12f 3 456 546443123", allowWildcards: false);

        Assert.Equal(Convert.FromHexString("AB120F034506546443120" + "3"), data);
        Assert.Empty(mask);
    }

    [Fact]
    public void HexString_Wildcards_SetMaskNibbles()
    {
        var (data, mask) = HexString.Parse("1x X2", allowWildcards: true);

        Assert.Equal(new byte[] { 0x10, 0x02 }, data);
        Assert.Equal(new byte[] { 0x0f, 0xf0 }, mask);
        Assert.Throws<FormatException>(() => HexString.Parse("1x", allowWildcards: false));
        Assert.Throws<FormatException>(() => HexString.Parse("zz", allowWildcards: true));
        Assert.Throws<FormatException>(() => HexString.Parse("  ", allowWildcards: true));
    }

    [Fact]
    public void UdpReplyMismatch_LengthsAndMask()
    {
        var config = new UdpCheckConfig
        {
            RequireReply = true,
            ReplyData = new byte[] { 0xab, 0x10 },
            ReplyMask = new byte[] { 0x00, 0x0f },
            MinReplyLength = 2,
            MaxReplyLength = 4,
        };

        Assert.Null(UdpProbe.ReplyMismatch(new byte[] { 0xab, 0x1f, 0x99 }, config));
        Assert.Contains("octet 1", UdpProbe.ReplyMismatch(new byte[] { 0xab, 0x2f }, config));
        Assert.Contains("want 2..4", UdpProbe.ReplyMismatch(new byte[] { 0xab }, config));
        Assert.Contains("want 2..4", UdpProbe.ReplyMismatch(new byte[5], config));
    }

    [Theory]
    [InlineData(HttpProtocolVersion.Http10, null, "GET /index.html HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:8080\r\n\r\n")]
    [InlineData(HttpProtocolVersion.Http10Close, "www.example.com", "GET /index.html HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n")]
    [InlineData(HttpProtocolVersion.Http11, null, "GET /index.html HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 10.0.0.2:8080\r\n\r\n")]
    public void HttpBuildRequest_KeepalivedBytes(HttpProtocolVersion protocol, string? vhost, string expected)
    {
        var target = new ProbeTarget(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 8080), TimeSpan.FromSeconds(1));

        Assert.Equal(expected, HttpGetClient.BuildRequest(new HttpGetRequest(target, "/index.html") { Protocol = protocol, Virtualhost = vhost }));
    }

    [Fact]
    public void HttpBuildRequest_Ipv6Literal_Bracketed()
    {
        var target = new ProbeTarget(new IPEndPoint(IPAddress.Parse("fd00::2"), 80), TimeSpan.FromSeconds(1));

        Assert.Contains("Host: [fd00::2]:80\r\n", HttpGetClient.BuildRequest(new HttpGetRequest(target, "/")));
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK", 200)]
    [InlineData("HTTP/1.1 503 Service Unavailable", 503)]
    [InlineData("HTTP/1.1 404", 404)]
    [InlineData("HTTP/1.1 20 OK", 0)]
    [InlineData("HTTP/1.1 2000 OK", 0)]
    [InlineData("garbage", 0)]
    [InlineData("HTTP/1.1 abc OK", 0)]
    public void HttpParseStatus_KeepalivedRules(string line, int code)
    {
        Assert.Equal(code, HttpGetMessage.ParseStatus(line + "\r\nServer: x").Code);
    }

    [Fact]
    public void HttpParseContentLength_CaseInsensitive()
    {
        Assert.Equal(42, HttpGetMessage.ParseContentLength("HTTP/1.0 200 OK\r\ncontent-length: 42\r\nX: y"));
        Assert.Null(HttpGetMessage.ParseContentLength("HTTP/1.0 200 OK\r\nContent-Length: x"));
        Assert.Null(HttpGetMessage.ParseContentLength("HTTP/1.0 200 OK"));
    }

    [Theory]
    [InlineData("42", 42)]
    [InlineData("  -7\n", -7)]
    [InlineData("0x1F", 31)]
    [InlineData("010", 8)]
    [InlineData("12abc", 12)]
    [InlineData("", 0)]
    [InlineData("abc", 0)]
    [InlineData("99999999999999999999999", long.MaxValue)]
    public void FileParseStrtol_LikeLibc(string text, long value)
    {
        Assert.Equal(value, FileProbe.ParseStrtol(text));
    }

    [Fact]
    public void SmtpMessage_KeepalivedHeadersInItsOrder()
    {
        var message = new MailMessage("checkd@example.org", ["a@example.org", "Bob <b@example.org>"], "[lb1] Virtualserver [10.0.0.1]:tcp:80 - UP",
            "=> Gained quorum 1+0=1 <= 2 <=", new DateTimeOffset(2026, 3, 1, 9, 44, 8, TimeSpan.FromHours(1)));

        var mime = SmtpAlertClient.ToMime(message);
        using var ms = new MemoryStream();
        mime.WriteTo(SmtpAlertClient.Format, ms);
        var text = System.Text.Encoding.UTF8.GetString(ms.ToArray());

        Assert.StartsWith("Date: Sun, 01 Mar 2026 09:44:08 +0100\r\nFrom: checkd@example.org\r\nSubject: [lb1] Virtualserver [10.0.0.1]:tcp:80 - UP\r\nX-Mailer: Vigil\r\nTo: a@example.org, Bob <b@example.org>\r\n", text);
        Assert.Contains("\r\n\r\n=> Gained quorum 1+0=1 <= 2 <=\r\n", text);
    }

    [Fact]
    public void AlertSubjects_KeepalivedWording()
    {
        var vs = VirtualServerKey.ForAddress(IPAddress.Parse("10.0.0.1"), 80);
        var rs = new RealServerKey(IPAddress.Parse("10.0.0.2"), 80);

        Assert.Equal("[lb1] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP",
            AlertSender.Subject(new Vigil.Checkd.Policy.AlertAction(Vigil.Checkd.Policy.AlertKind.RealServer, vs, rs, "UP", ""), "lb1"));
        Assert.Equal("[lb1] Virtualserver [10.0.0.1]:tcp:80 - DOWN",
            AlertSender.Subject(new Vigil.Checkd.Policy.AlertAction(Vigil.Checkd.Policy.AlertKind.VirtualServer, vs, null, "DOWN", ""), "lb1"));
        Assert.Equal("FWM 5", VirtualServerKey.ForFwmark(5).ToString());
        Assert.Equal("[web]:udp", VirtualServerKey.ForGroup("web", ServiceProtocol.Udp).ToString());
    }
}
