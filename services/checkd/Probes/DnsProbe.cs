using System.Net.Sockets;
using System.Security.Cryptography;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>DNS_CHECK</c>: sends one query (<c>type</c>, default SOA; <c>name</c>, default the root) over
/// UDP and waits up to connect_timeout for the answer with the same id. Like keepalived, replies
/// that are too short, carry another id or are not responses are ignored while waiting; an answer
/// with RCODE 0 is a success, any other RCODE a failure. An answer that does not decode is a
/// failure naming the defect.
/// </summary>
public sealed class DnsProbe(ProbeTarget target, DnsCheckConfig config, ISocketFactory sockets, TimeProvider time) : IProbe
{
    private long _malformed;

    /// <summary>Answers with our id that did not decode.</summary>
    public long MalformedAnswers => Interlocked.Read(ref _malformed);

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var id = (ushort)RandomNumberGenerator.GetInt32(0, 65536);
        var query = new byte[DnsCodec.QueryLength(config.Name)];
        DnsCodec.WriteQuery(query, id, config.Name, (ushort)config.QueryType);

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
            try
            {
                ProbeSockets.Prepare(socket, target);
                await socket.ConnectAsync(destination, cancellationToken).ConfigureAwait(false);
                await socket.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (ProbeLocalException e)
            {
                return ProbeResult.Local(e.Message, time.GetElapsedTime(started));
            }
            catch (SocketException e)
            {
                return ProbeResult.Fail(ProbeSockets.DescribeSocketError("query to " + target.Pair, e), time.GetElapsedTime(started));
            }

            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(target.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            while (true)
            {
                int n;
                try
                {
                    n = await socket.ReceiveAsync(buffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return ProbeResult.Fail($"read timeout from {target.Pair}", time.GetElapsedTime(started));
                }
                catch (SocketException e)
                {
                    return ProbeResult.Fail(ProbeSockets.DescribeSocketError("read from " + target.Pair, e), time.GetElapsedTime(started));
                }
                var packet = buffer.AsSpan(0, n);
                if (!DnsCodec.TryReadHeader(packet, out var header) || header.Id != id || !header.IsResponse) continue;
                if (header.ResponseCode != 0)
                {
                    return ProbeResult.Fail($"answer from {target.Pair} with rcode {header.ResponseCode}", time.GetElapsedTime(started));
                }
                if (!DnsCodec.TryParse(packet, out var message, out var error))
                {
                    Interlocked.Increment(ref _malformed);
                    return ProbeResult.Fail($"malformed answer from {target.Pair}: {error}", time.GetElapsedTime(started)) with { Malformed = true };
                }
                return ProbeResult.Ok($"{config.QueryType} {(config.Name is "" ? "." : config.Name)}: rcode 0, {message!.Answers.Count} answer(s)", time.GetElapsedTime(started));
            }
        }
    }
}
