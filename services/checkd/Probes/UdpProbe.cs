using System.Net.Sockets;
using System.Text;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>UDP_CHECK</c>: sends the payload (default 32 filler bytes) on a connected UDP socket and
/// waits connect_timeout. An ICMP error (port/host unreachable, seen as a socket error) is a
/// failure. Silence is a success unless <c>require_reply</c>; a reply must then be between
/// <c>min_reply_length</c> and <c>max_reply_length</c> octets and match the reply data over the
/// shorter of the two lengths, ignoring the masked (x) nibbles.
/// </summary>
public sealed class UdpProbe(ProbeTarget target, UdpCheckConfig config, ISocketFactory sockets, TimeProvider time) : IProbe
{
    private static readonly byte[] s_filler = Filler(32);

    private static byte[] Filler(int length)
    {
        var pattern = Encoding.ASCII.GetBytes("vigil check - ");
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = pattern[i % pattern.Length];
        return bytes;
    }

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var destination = ProbeSockets.Destination(target, sockets);
        Socket socket;
        try
        {
            socket = sockets.Create(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        }
        catch (SocketException e)
        {
            return ProbeResult.Local($"cannot create socket: {e.Message}", time.GetElapsedTime(started));
        }
        using (socket)
        {
            var payload = config.Payload.IsEmpty ? s_filler : config.Payload.AsSpan().ToArray();
            try
            {
                ProbeSockets.Prepare(socket, target);
                await socket.ConnectAsync(destination, cancellationToken).ConfigureAwait(false);
                await socket.SendAsync(payload, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (ProbeLocalException e)
            {
                return ProbeResult.Local(e.Message, time.GetElapsedTime(started));
            }
            catch (SocketException e)
            {
                return ProbeResult.Fail(ProbeSockets.DescribeSocketError("UDP send to " + target.Pair, e), time.GetElapsedTime(started));
            }

            var buffer = new byte[Math.Max(config.MaxReplyLength, 0) + 1];
            using var timeout = new CancellationTokenSource(target.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return config.RequireReply
                    ? ProbeResult.Fail($"no UDP reply from {target.Pair} within {target.ConnectTimeout.TotalSeconds:0.###} s", time.GetElapsedTime(started))
                    : ProbeResult.Ok($"no error from {target.Pair} within {target.ConnectTimeout.TotalSeconds:0.###} s", time.GetElapsedTime(started));
            }
            catch (SocketException e)
            {
                return ProbeResult.Fail(ProbeSockets.DescribeSocketError("UDP connection to " + target.Pair, e), time.GetElapsedTime(started));
            }

            var latency = time.GetElapsedTime(started);
            if (config.RequireReply && ReplyMismatch(buffer.AsSpan(0, n), config) is { } why)
            {
                return ProbeResult.Fail($"UDP reply from {target.Pair} {why}", latency);
            }
            return ProbeResult.Ok($"UDP reply of {n} octets from {target.Pair}", latency);
        }
    }

    /// <summary>keepalived's check_udp_reply; null when the reply is acceptable.</summary>
    public static string? ReplyMismatch(ReadOnlySpan<byte> reply, UdpCheckConfig config)
    {
        if (reply.Length < config.MinReplyLength || reply.Length > config.MaxReplyLength)
        {
            return $"has {reply.Length} octets, want {config.MinReplyLength}..{config.MaxReplyLength}";
        }
        var data = config.ReplyData.AsSpan();
        var mask = config.ReplyMask.AsSpan();
        var length = Math.Min(reply.Length, data.Length);
        for (var i = 0; i < length; i++)
        {
            var ignore = i < mask.Length ? mask[i] : (byte)0;
            if (((reply[i] ^ data[i]) & ~ignore) != 0) return $"differs from the expected data at octet {i}";
        }
        return null;
    }
}
