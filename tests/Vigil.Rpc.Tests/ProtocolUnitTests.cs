using System.Buffers;
using Vigil.Rpc.Protocol;

namespace Vigil.Rpc.Tests;

public sealed class ProtocolUnitTests
{
    [Theory]
    [InlineData("1S", 10_000_000L)]
    [InlineData("100m", 1_000_000L)]
    [InlineData("5u", 50L)]
    [InlineData("300n", 3L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    public void GrpcTimeout_Valid_Parsed(string text, long ticks)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var t));
        Assert.Equal(ticks, t.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("1s")]
    [InlineData("-1S")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    public void GrpcTimeout_Invalid_Rejected(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Theory]
    [InlineData(100, "100000u")]
    [InlineData(99, "99000000n")]
    [InlineData(1000, "1000000u")]
    [InlineData(3_600_000, "3600000m")]
    public void GrpcTimeout_Format_ExactWhereItFits(int milliseconds, string expected) =>
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void GrpcTimeout_Format_RoundTripsNeverShorter()
    {
        foreach (var ms in new[] { 1, 7, 999, 12_345, 86_400_000, int.MaxValue })
        {
            var t = TimeSpan.FromMilliseconds(ms) + TimeSpan.FromTicks(3);
            var text = GrpcTimeout.Format(t);
            Assert.True(text.Length <= 9, text);
            Assert.True(GrpcTimeout.TryParse(text, out var back));
            Assert.True(back >= t, $"{t} -> {text} -> {back}");
        }
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("✗", "%E2%9C%97")]
    public void PercentEncoding_Encode_AsSpec(string message, string wire) => Assert.Equal(wire, PercentEncoding.Encode(message));

    [Theory]
    [InlineData("100%25", "100%")]
    [InlineData("%E2%9C%97 ok", "✗ ok")]
    [InlineData("bad %zz escape", "bad %zz escape")]
    [InlineData("trailing %", "trailing %")]
    [InlineData("%4", "%4")]
    public void PercentEncoding_Decode_LenientOnMalformed(string wire, string message) => Assert.Equal(message, PercentEncoding.Decode(wire));

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    public void HttpStatusMapping_AsSpec(int http, StatusCode code) => Assert.Equal(code, GrpcHttp.FromHttpStatus(http));

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("application/grpcx", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void ContentType_Recognised(string? contentType, bool ok) => Assert.Equal(ok, GrpcHttp.IsGrpcContentType(contentType));

    [Fact]
    public void Framing_SplitAcrossSegments_ReadWhenComplete()
    {
        var a = MessageFraming.Frame([1, 2, 3], false);
        var b = MessageFraming.Frame([4], false);
        var all = a.Concat(b).ToArray();
        for (var cut = 0; cut <= all.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(all[..cut]);
            var got = new List<byte[]>();
            while (MessageFraming.TryRead(ref buffer, 100, null, out var m)) got.Add(m);
            Assert.Equal(cut >= a.Length + b.Length ? 2 : cut >= a.Length ? 1 : 0, got.Count);
        }
    }

    [Fact]
    public void Framing_Gzip_RoundTrip()
    {
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)(i % 7)).ToArray();
        var framed = MessageFraming.Frame(payload, true);
        Assert.Equal(1, framed[0]);
        Assert.True(framed.Length < payload.Length);
        var buffer = new ReadOnlySequence<byte>(framed);
        Assert.True(MessageFraming.TryRead(ref buffer, 10_000, "gzip", out var back));
        Assert.Equal(payload, back);
    }

    [Fact]
    public void Framing_GzipBomb_ResourceExhausted()
    {
        var framed = MessageFraming.Frame(new byte[1_000_000], true);
        var buffer = new ReadOnlySequence<byte>(framed);
        var e = Assert.Throws<RpcException>(() => MessageFraming.TryRead(ref buffer, 100_000, "gzip", out _));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    [Fact]
    public void Framing_DeclaredLengthOverMax_ResourceExhaustedBeforeBodyArrives()
    {
        var header = new byte[5];
        MessageFraming.WriteHeader(header, false, 10_000_000);
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<RpcException>(() => MessageFraming.TryRead(ref buffer, 4 * 1024 * 1024, null, out _)).StatusCode);
    }

    [Fact]
    public void Framing_BadFlag_Internal()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 2, 0, 0, 0, 0 });
        Assert.Equal(StatusCode.Internal, Assert.Throws<RpcException>(() => MessageFraming.TryRead(ref buffer, 100, null, out _)).StatusCode);
    }

    [Fact]
    public void Metadata_Keys_ValidatedAndLowercased()
    {
        var m = new Metadata().Add("X-Custom", "v");
        Assert.Equal("v", m.Get("x-custom"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("grpc-status", "0"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("bad key", "v"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("k-bin", "text"));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("k", new byte[] { 1 }));
        Assert.Throws<ArgumentException>(() => new Metadata().Add("k", "new\nline"));
    }

    [Fact]
    public void Metadata_BinaryFromWire_PaddedUnpaddedAndJoined()
    {
        var m = new Metadata();
        m.AddFromWire("a-bin", "AAEC");
        m.AddFromWire("b-bin", "AQ");
        m.AddFromWire("c-bin", "AQ==,Ag");
        Assert.Equal(new byte[] { 0, 1, 2 }, m.GetBytes("a-bin"));
        Assert.Equal(new byte[] { 1 }, m.GetBytes("b-bin"));
        Assert.Equal(2, m.Count(e => e.Key == "c-bin"));
        Assert.Equal("AQ", Metadata.WireValue(m.First(e => e.Key == "b-bin")));
    }
}
