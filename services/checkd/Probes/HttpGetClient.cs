using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>One GET as keepalived's HTTP_GET / SSL_GET and genhash send it.</summary>
public sealed record HttpGetRequest(ProbeTarget Target, string Path)
{
    /// <summary>Host header value; null: the address and port (<c>Host: 10.0.0.2:80</c>).</summary>
    public string? Virtualhost { get; init; }

    public HttpProtocolVersion Protocol { get; init; } = HttpProtocolVersion.Http10;

    public bool UseSsl { get; init; }

    /// <summary>Server name sent in the TLS handshake; null sends none.</summary>
    public string? SniName { get; init; }

    public TlsSettings? Tls { get; init; }

    /// <summary>Send a TLS close_notify before closing (<c>tls_compliant</c>).</summary>
    public bool TlsCompliant { get; init; }

    /// <summary>How much of the body to keep for regex matching (0: none).</summary>
    public int KeepBodyBytes { get; init; }
}

/// <summary>What came back.</summary>
public sealed record HttpGetResponse(
    int StatusCode,
    string StatusLine,
    string Digest,
    long BodyBytes,
    long? ContentLength,
    byte[] KeptBody,
    string Header);

/// <summary>
/// The HTTP client of HTTP_GET, SSL_GET and genhash. It writes keepalived's request byte for
/// byte:
/// <code>
/// GET /path HTTP/1.0\r\n
/// User-Agent: KeepAliveClient\r\n
/// [Connection: close\r\n]            (http_protocol 1.0C and 1.1)
/// Host: vhost | address:port\r\n
/// \r\n
/// </code>
/// then reads until the server closes, each read bounded by connect_timeout. The digest is the
/// MD5 of the bytes after the blank line that ends the header (no chunked decoding, limited to
/// Content-Length when the header gives one), which is what genhash prints. The certificate of an
/// SSL server is not verified unless a CA file is configured.
/// </summary>
public static class HttpGetClient
{
    private const int MaxHeaderBytes = 64 * 1024;
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    public static string BuildRequest(HttpGetRequest request)
    {
        var address = request.Target.Destination.Address;
        string host;
        if (request.Virtualhost is { Length: > 0 } vhost)
        {
            host = vhost;
        }
        else
        {
            var literal = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            host = $"{literal}:{request.Target.Destination.Port}";
        }
        var sb = new StringBuilder();
        sb.Append("GET ").Append(request.Path).Append(" HTTP/1.").Append(request.Protocol == HttpProtocolVersion.Http11 ? '1' : '0').Append("\r\n");
        sb.Append("User-Agent: KeepAliveClient\r\n");
        if (request.Protocol is HttpProtocolVersion.Http10Close or HttpProtocolVersion.Http11) sb.Append("Connection: close\r\n");
        sb.Append("Host: ").Append(host).Append("\r\n\r\n");
        return sb.ToString();
    }

    /// <exception cref="ProbeFailureException">connect, TLS, I/O failure or timeout, or no HTTP header.</exception>
    /// <exception cref="ProbeLocalException">the socket could not be set up on this host.</exception>
    public static async Task<HttpGetResponse> GetAsync(HttpGetRequest request, ISocketFactory sockets, TimeProvider time, CancellationToken cancellationToken)
    {
        var target = request.Target;
        var socket = await ProbeSockets.ConnectTcpAsync(sockets, target, time, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (request.UseSsl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var options = BuildTlsOptions(request);
                await ProbeSockets.WithTimeoutAsync(async ct =>
                {
                    try
                    {
                        await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is AuthenticationException or IOException)
                    {
                        throw new ProbeFailureException($"SSL handshake/communication error connecting to {target.Pair}: {e.Message}");
                    }
                    return true;
                }, target.ConnectTimeout, time, $"timeout in SSL handshake with {target.Pair}", cancellationToken).ConfigureAwait(false);
            }

            var bytes = Encoding.ASCII.GetBytes(BuildRequest(request));
            await ProbeSockets.WithTimeoutAsync(async ct =>
            {
                try
                {
                    await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
                    await stream.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw new ProbeFailureException($"cannot send get request to {target.Pair}: {e.Message}");
                }
                return true;
            }, target.ConnectTimeout, time, $"timeout sending request to {target.Pair}", cancellationToken).ConfigureAwait(false);

            var response = await ReadResponseAsync(stream, request, time, cancellationToken).ConfigureAwait(false);
            if (request.UseSsl && request.TlsCompliant)
            {
                try
                {
                    await ((SslStream)stream).ShutdownAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                }
            }
            return response;
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static SslClientAuthenticationOptions BuildTlsOptions(HttpGetRequest request)
    {
        var tls = request.Tls;
        var options = new SslClientAuthenticationOptions
        {
            // An empty target host sends no SNI (keepalived sends one only with enable_sni).
            TargetHost = request.SniName ?? "",
            EnabledSslProtocols = SslProtocols.None,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (tls?.CertificateFile is { } certFile)
        {
            var cert = tls.Password is null
                ? X509Certificate2.CreateFromPemFile(certFile, tls.KeyFile)
                : X509Certificate2.CreateFromEncryptedPemFile(certFile, tls.Password, tls.KeyFile);
            options.ClientCertificates = [cert];
        }
        if (tls?.CaFile is { } caFile)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        else
        {
            options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        return options;
    }

    private static async Task<HttpGetResponse> ReadResponseAsync(Stream stream, HttpGetRequest request, TimeProvider time, CancellationToken cancellationToken)
    {
        var target = request.Target;
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
                n = await ProbeSockets.WithTimeoutAsync(ct => stream.ReadAsync(buffer, ct), target.ConnectTimeout, time,
                    $"timeout reading from {target.Pair}", cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                // A TLS peer that drops the connection without close_notify still sent a full
                // response; keepalived accepts it once the header was seen.
                if (headerDone) break;
                throw new ProbeFailureException($"read error with {target.Pair}: {e.Message}");
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
                    if (header.Length > MaxHeaderBytes) throw new ProbeFailureException($"HTTP header from {target.Pair} longer than {MaxHeaderBytes} bytes");
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
            if (kept.Length < request.KeepBodyBytes)
            {
                kept.Write(data[..(int)Math.Min(data.Length, request.KeepBodyBytes - kept.Length)]);
            }
        }

        if (!headerDone) throw new ProbeFailureException($"no HTTP response received from {target.Pair}");
        var digest = Convert.ToHexStringLower(md5.GetHashAndReset());
        return new HttpGetResponse(statusCode, statusLine, digest, bodyBytes, contentLength, kept.ToArray(), headerText);
    }

    /// <summary>The status code after the first space of the status line (keepalived's
    /// extract_status_code), or 0 when there is none.</summary>
    public static (int Code, string Line) ParseStatus(string header)
    {
        var lineEnd = header.IndexOf('\r');
        var line = lineEnd < 0 ? header : header[..lineEnd];
        var space = line.IndexOf(' ');
        if (space < 0 || space + 4 > line.Length) return (0, line);
        var digits = line.AsSpan(space + 1, 3);
        if (space + 4 < line.Length && line[space + 4] != ' ') return (0, line);
        foreach (var c in digits) if (!char.IsAsciiDigit(c)) return (0, line);
        return (int.Parse(digits), line);
    }

    /// <summary>Content-Length, or null when absent or not a number.</summary>
    public static long? ParseContentLength(string header)
    {
        foreach (var raw in header.Split("\r\n"))
        {
            var colon = raw.IndexOf(':');
            if (colon <= 0 || !raw.AsSpan(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            return long.TryParse(raw.AsSpan(colon + 1).Trim(), out var value) && value >= 0 ? value : null;
        }
        return null;
    }
}
