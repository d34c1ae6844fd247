using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Vigil.Checkd.Probes;

/// <summary>
/// ICMP and ICMPv6 echo messages (RFC 792, RFC 4443 section 4):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Identifier          |        Sequence Number        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Data ...
/// </code>
/// Type 8/0 (request/reply) for IPv4, 128/129 for IPv6.
/// </summary>
public static class IcmpEcho
{
    public const int HeaderSize = 8;

    public static byte RequestType(bool v6) => v6 ? (byte)128 : (byte)8;

    public static byte ReplyType(bool v6) => v6 ? (byte)129 : (byte)0;

    /// <summary>Writes an echo request. The IPv4 checksum is filled in; for ICMPv6 the kernel
    /// computes it (it covers the pseudo-header).</summary>
    public static int WriteRequest(Span<byte> destination, bool v6, ushort identifier, ushort sequence, ReadOnlySpan<byte> data)
    {
        destination[0] = RequestType(v6);
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], sequence);
        data.CopyTo(destination[HeaderSize..]);
        var length = HeaderSize + data.Length;
        if (!v6) BinaryPrimitives.WriteUInt16BigEndian(destination[2..], Checksum(destination[..length]));
        return length;
    }

    /// <summary>The Internet checksum (RFC 1071).</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        var i = 0;
        for (; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) sum += (uint)(data[i] << 8);
        while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>Decodes the ICMP header; false with a reason when too short.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out byte type, out byte code, out ushort identifier, out ushort sequence, out string? error)
    {
        type = code = 0;
        identifier = sequence = 0;
        if (message.Length < HeaderSize)
        {
            error = $"ICMP message of {message.Length} octets is shorter than its 8-octet header";
            return false;
        }
        type = message[0];
        code = message[1];
        identifier = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        sequence = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        error = null;
        return true;
    }

    /// <summary>Strips the IPv4 header a raw socket delivers; false when malformed.</summary>
    public static bool TryStripIpv4Header(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> payload, out string? error)
    {
        payload = default;
        if (packet.Length < 20 || packet[0] >> 4 != 4)
        {
            error = "not an IPv4 packet";
            return false;
        }
        var ihl = (packet[0] & 0xf) * 4;
        if (ihl < 20 || ihl > packet.Length)
        {
            error = $"IPv4 header length {ihl} is invalid";
            return false;
        }
        payload = packet[ihl..];
        error = null;
        return true;
    }
}

/// <summary>
/// <c>PING_CHECK</c>: one ICMP echo request, success when the matching reply arrives within
/// connect_timeout. Uses an unprivileged ping socket (SOCK_DGRAM, as keepalived does) when
/// net.ipv4.ping_group_range allows it, otherwise a raw socket (root), matching replies by
/// identifier, sequence and source. keepalived widens ping_group_range itself; Vigil does not
/// change the system's sysctls.
/// </summary>
public sealed class PingProbe(ProbeTarget target, ISocketFactory sockets, TimeProvider time) : IProbe
{
    private const int PayloadSize = 128;
    private static readonly byte[] s_payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("vigil check - ", 10)))[..PayloadSize];
    private readonly ushort _identifier = (ushort)RandomNumberGenerator.GetInt32(1, 65536);
    private int _sequence;
    private bool _useRaw;

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var destination = ProbeSockets.Destination(target, sockets);
        var v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        var protocol = v6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp;
        Socket socket;
        try
        {
            socket = Create(destination.AddressFamily, protocol);
        }
        catch (SocketException e)
        {
            return ProbeResult.Local($"cannot create ICMP socket: {e.Message}", time.GetElapsedTime(started));
        }
        using (socket)
        {
            var sequence = (ushort)Interlocked.Increment(ref _sequence);
            var request = new byte[IcmpEcho.HeaderSize + PayloadSize];
            IcmpEcho.WriteRequest(request, v6, _identifier, sequence, s_payload);
            try
            {
                ProbeSockets.Prepare(socket, target);
                await socket.SendToAsync(request, SocketFlags.None, destination, cancellationToken).ConfigureAwait(false);
            }
            catch (ProbeLocalException e)
            {
                return ProbeResult.Local(e.Message, time.GetElapsedTime(started));
            }
            catch (SocketException e)
            {
                return ProbeResult.Fail(ProbeSockets.DescribeSocketError("echo request to " + destination.Address, e), time.GetElapsedTime(started));
            }

            var raw = socket.SocketType == SocketType.Raw;
            var buffer = new byte[2048];
            using var timeout = new CancellationTokenSource(target.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            EndPoint any = v6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
            while (true)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return ProbeResult.Fail($"no echo reply from {destination.Address} within {target.ConnectTimeout.TotalSeconds:0.###} s", time.GetElapsedTime(started));
                }
                catch (SocketException e)
                {
                    return ProbeResult.Fail(ProbeSockets.DescribeSocketError("echo to " + destination.Address, e), time.GetElapsedTime(started));
                }
                if (received.RemoteEndPoint is IPEndPoint from && !from.Address.Equals(destination.Address) && raw) continue;
                ReadOnlySpan<byte> message = buffer.AsSpan(0, received.ReceivedBytes);
                if (raw && !v6 && !IcmpEcho.TryStripIpv4Header(message, out message, out _)) continue;
                if (!IcmpEcho.TryParse(message, out var type, out _, out var id, out var seq, out _)) continue;
                if (raw && id != _identifier) continue;
                if (type != IcmpEcho.ReplyType(v6))
                {
                    // A raw socket sees every ICMP message (requests on loopback, other errors).
                    if (raw) continue;
                    return ProbeResult.Fail($"ICMP type {type} instead of an echo reply from {destination.Address}", time.GetElapsedTime(started));
                }
                if (seq != sequence) continue;
                return ProbeResult.Ok($"echo reply from {destination.Address} seq {seq}", time.GetElapsedTime(started));
            }
        }
    }

    private Socket Create(AddressFamily family, ProtocolType protocol)
    {
        if (!_useRaw)
        {
            try
            {
                return sockets.Create(family, SocketType.Dgram, protocol);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AccessDenied or SocketError.ProtocolNotSupported or SocketError.SocketNotSupported)
            {
                // ping_group_range excludes us: fall back to a raw socket for good.
                _useRaw = true;
            }
        }
        return sockets.Create(family, SocketType.Raw, protocol);
    }
}
