using System.Net.Sockets;
using System.Text;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>SMTP_CHECK</c>: read the greeting (must be 220), send <c>HELO helo_name</c> (reply must be
/// 250), send <c>QUIT</c> and read the reply (any). Each read and write is bounded by
/// connect_timeout. Multi-line replies (<c>220-...</c>) are read to their last line.
/// </summary>
public sealed class SmtpProbe(ProbeTarget target, string heloName, ISocketFactory sockets, TimeProvider time) : IProbe
{
    private const int MaxReplyBytes = 4096;

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            using var socket = await ProbeSockets.ConnectTcpAsync(sockets, target, time, cancellationToken).ConfigureAwait(false);
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var reader = new SmtpReplyReader(stream, target, time);

            var banner = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (banner.Code != 220) return Fail($"Bad greeting banner from server {target.Pair}: {banner.Text}");

            await WriteAsync(stream, $"HELO {heloName}\r\n", cancellationToken).ConfigureAwait(false);
            var helo = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (helo.Code != 250) return Fail($"Bad HELO response from server {target.Pair}: {helo.Text}");

            await WriteAsync(stream, "QUIT\r\n", cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return ProbeResult.Ok($"SMTP server {target.Pair} answered {banner.Code}/{helo.Code}", time.GetElapsedTime(started));
        }
        catch (ProbeFailureException e)
        {
            return Fail(e.Message);
        }
        catch (ProbeLocalException e)
        {
            return ProbeResult.Local(e.Message, time.GetElapsedTime(started));
        }

        ProbeResult Fail(string reason) => ProbeResult.Fail(reason, time.GetElapsedTime(started));
    }

    private Task WriteAsync(NetworkStream stream, string line, CancellationToken cancellationToken) =>
        ProbeSockets.WithTimeoutAsync(async ct =>
        {
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(line), ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new ProbeFailureException($"Write failure to server {target.Pair}: {e.Message}");
            }
            return true;
        }, target.ConnectTimeout, time, $"Write timeout to server {target.Pair}", cancellationToken);

    /// <summary>Reads SMTP replies line by line from a stream.</summary>
    internal sealed class SmtpReplyReader(Stream stream, ProbeTarget target, TimeProvider time)
    {
        private readonly byte[] _buffer = new byte[MaxReplyBytes];
        private int _start;
        private int _end;

        /// <summary>One reply: the code of its last line (or -1 when not a number) and its text.</summary>
        public async Task<(int Code, string Text)> ReadAsync(CancellationToken cancellationToken)
        {
            var text = new StringBuilder();
            while (true)
            {
                var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (text.Length > 0) text.Append(" | ");
                text.Append(line);
                var multi = line.Length > 3 && line[3] == '-' && char.IsAsciiDigit(line[0]);
                if (!multi) return (ParseCode(line), text.ToString());
            }
        }

        /// <summary>keepalived's smtp_get_status: three digits followed by a space or the end.</summary>
        public static int ParseCode(string line)
        {
            if (line.Length < 3 || !char.IsAsciiDigit(line[0]) || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])) return -1;
            if (line.Length > 3 && line[3] != ' ') return -1;
            return int.Parse(line.AsSpan(0, 3));
        }

        private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (nl >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, nl - _start).TrimEnd('\r');
                    _start = nl + 1;
                    return line;
                }
                if (_start > 0)
                {
                    Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length) throw new ProbeFailureException($"reply line from {target.Pair} longer than {MaxReplyBytes} bytes");
                int n;
                try
                {
                    n = await ProbeSockets.WithTimeoutAsync(ct => stream.ReadAsync(_buffer.AsMemory(_end), ct), target.ConnectTimeout, time,
                        $"Read timeout from server {target.Pair}", cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw new ProbeFailureException($"Read failure from server {target.Pair}: {e.Message}");
                }
                if (n == 0) throw new ProbeFailureException($"Read failure from server {target.Pair}: connection closed");
                _end += n;
            }
        }
    }
}
