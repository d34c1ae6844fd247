using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Vigil.HttpDigest;

/// <summary>keepalived's <c>http_protocol</c> (genhash's <c>-P</c>).</summary>
public enum HttpProtocolVersion
{
    /// <summary>"1.0" (keepalived's default).</summary>
    Http10,

    /// <summary>"1.0C": 1.0 with <c>Connection: close</c>.</summary>
    Http10Close,

    /// <summary>"1.1" (with <c>Connection: close</c>).</summary>
    Http11,
}

/// <summary>What came back: status, the MD5 of the body, sizes, the header text and (when asked
/// for) the first bytes of the body.</summary>
public sealed record HttpGetResponse(
    int StatusCode,
    string StatusLine,
    string Digest,
    long BodyBytes,
    long? ContentLength,
    byte[] KeptBody,
    string Header);

/// <summary>The server failed the exchange (no header, timeout, read error); the message is the
/// reason shown to operators.</summary>
public sealed class HttpGetException(string message) : Exception(message);

/// <summary>
/// The GET of keepalived's HTTP_GET, SSL_GET and genhash, on an already connected stream. The
/// request, byte for byte:
/// <code>
/// GET /path HTTP/1.0\r\n
/// User-Agent: KeepAliveClient\r\n
/// [Connection: close\r\n]            (http_protocol 1.0C and 1.1)
/// Host: vhost | address:port\r\n
/// \r\n
/// </code>
/// The response is read until the server closes, each read bounded by the timeout. The digest is
/// the MD5 of the bytes after the blank line that ends the header (no chunked decoding, limited
/// to Content-Length when the header gives one), which is what genhash prints.
/// </summary>
public static class HttpGetMessage
{
    public const int MaxHeaderBytes = 64 * 1024;
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The Host header: the virtualhost, else <c>address:port</c> (IPv6 in brackets).</summary>
    public static string HostHeader(IPEndPoint destination, string? virtualhost)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (virtualhost is { Length: > 0 }) return virtualhost;
        var address = destination.Address;
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0) address = new IPAddress(address.GetAddressBytes());
        var literal = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return $"{literal}:{destination.Port}";
    }

    public static string BuildRequest(string path, string host, HttpProtocolVersion protocol)
    {
        var sb = new StringBuilder();
        sb.Append("GET ").Append(path).Append(" HTTP/1.").Append(protocol == HttpProtocolVersion.Http11 ? '1' : '0').Append("\r\n");
        sb.Append("User-Agent: KeepAliveClient\r\n");
        if (protocol is HttpProtocolVersion.Http10Close or HttpProtocolVersion.Http11) sb.Append("Connection: close\r\n");
        sb.Append("Host: ").Append(host).Append("\r\n\r\n");
        return sb.ToString();
    }

    /// <summary>Writes the request, bounded by the timeout.</summary>
    /// <exception cref="HttpGetException">write error or timeout.</exception>
    public static async Task SendRequestAsync(Stream stream, string request, string peer, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var bytes = Encoding.ASCII.GetBytes(request);
        await WithTimeoutAsync(async ct =>
        {
            try
            {
                await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new HttpGetException($"cannot send get request to {peer}: {e.Message}");
            }
            return true;
        }, timeout, time, $"timeout sending request to {peer}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the response until the server closes the connection.</summary>
    /// <param name="peer">how the server is named in errors (<c>[10.0.0.2]:80</c>).</param>
    /// <param name="readTimeout">bound of each read (keepalived re-arms connect_timeout per read).</param>
    /// <param name="keepBodyBytes">how much of the body to return in <see cref="HttpGetResponse.KeptBody"/>.</param>
    /// <exception cref="HttpGetException">timeout, read error before the header, no header, or a
    /// header longer than <see cref="MaxHeaderBytes"/>.</exception>
    public static async Task<HttpGetResponse> ReadResponseAsync(Stream stream, string peer, TimeSpan readTimeout, int keepBodyBytes,
        TimeProvider time, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var header = new MemoryStream();
        var kept = new MemoryStream();
        var buffer = new byte[16384];
        var headerDone = false;
        long? contentLength = null;
        long bodyBytes = 0;
        long hashed = 0;
        var statusCode = 0;
        var statusLine = "";
        var headerText = "";

        while (true)
        {
            int n;
            try
            {
                n = await WithTimeoutAsync(ct => stream.ReadAsync(buffer, ct), readTimeout, time, $"timeout reading from {peer}", cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                // A TLS peer that drops the connection without close_notify still sent a full
                // response; keepalived accepts it once the header was seen.
                if (headerDone) break;
                throw new HttpGetException($"read error with {peer}: {e.Message}");
            }
            if (n == 0) break;

            var data = buffer.AsSpan(0, n);
            if (!headerDone)
            {
                header.Write(data);
                var all = header.GetBuffer().AsSpan(0, (int)header.Length);
                var end = all.IndexOf(s_headerEnd);
                if (end < 0)
                {
                    if (header.Length > MaxHeaderBytes) throw new HttpGetException($"HTTP header from {peer} longer than {MaxHeaderBytes} bytes");
                    continue;
                }
                headerDone = true;
                headerText = Encoding.Latin1.GetString(all[..end]);
                (statusCode, statusLine) = ParseStatus(headerText);
                contentLength = ParseContentLength(headerText);
                data = all[(end + 4)..];
            }

            bodyBytes += data.Length;
            var toHash = contentLength is long cl ? (int)Math.Clamp(cl - hashed, 0, data.Length) : data.Length;
            if (toHash > 0)
            {
                md5.AppendData(data[..toHash]);
                hashed += toHash;
            }
            if (kept.Length < keepBodyBytes)
            {
                kept.Write(data[..(int)Math.Min(data.Length, keepBodyBytes - kept.Length)]);
            }
        }

        if (!headerDone) throw new HttpGetException($"no HTTP response received from {peer}");
        var digest = Convert.ToHexStringLower(md5.GetHashAndReset());
        return new HttpGetResponse(statusCode, statusLine, digest, bodyBytes, contentLength, kept.ToArray(), headerText);
    }

    /// <summary>The status code after the first space of the status line (keepalived's
    /// extract_status_code), or 0 when there is none.</summary>
    public static (int Code, string Line) ParseStatus(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var lineEnd = header.IndexOf('\r', StringComparison.Ordinal);
        var line = lineEnd < 0 ? header : header[..lineEnd];
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || space + 4 > line.Length) return (0, line);
        var digits = line.AsSpan(space + 1, 3);
        if (space + 4 < line.Length && line[space + 4] != ' ') return (0, line);
        foreach (var c in digits) if (!char.IsAsciiDigit(c)) return (0, line);
        return (int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), line);
    }

    /// <summary>Content-Length, or null when absent or not a number.</summary>
    public static long? ParseContentLength(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (var raw in header.Split("\r\n"))
        {
            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !raw.AsSpan(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            return long.TryParse(raw.AsSpan(colon + 1).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        return null;
    }

    /// <summary>Runs an I/O step with a fresh timeout; a timeout becomes an
    /// <see cref="HttpGetException"/> with the text, a cancellation by the caller stays one.</summary>
    public static async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, ValueTask<T>> step, TimeSpan timeout, TimeProvider time, string timeoutText, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        using var cts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cts.Token, cancellationToken);
        try
        {
            return await step(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new HttpGetException(timeoutText);
        }
    }
}
