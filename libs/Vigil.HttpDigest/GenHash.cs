using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Vigil.HttpDigest;

/// <summary>What <c>vigilctl genhash</c> asks for (keepalived's genhash options).</summary>
public sealed record GenHashRequest(IPAddress Server, ushort Port, string Path)
{
    /// <summary><c>--ssl</c> / <c>-S</c>.</summary>
    public bool UseSsl { get; init; }

    /// <summary><c>--sni</c> / <c>-I</c>: send the virtualhost as SNI.</summary>
    public bool UseSni { get; init; }

    /// <summary><c>--virtualhost</c> / <c>-V</c>: the Host header (else address:port).</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>--protocol</c> / <c>-P</c>: 1.0, 1.0c, 1.1.</summary>
    public HttpProtocolVersion Protocol { get; init; } = HttpProtocolVersion.Http10;

    /// <summary><c>--timeout</c> / <c>-t</c>: bound of the connect and of each read and write.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>--fwmark</c> / <c>-m</c>: SO_MARK of the connection.</summary>
    public uint? Fwmark { get; init; }
}

/// <summary>The page's digest with what was seen on the way.</summary>
public sealed record GenHashResult(string Digest, int StatusCode, string StatusLine, long BodyBytes, long? ContentLength, string Header, TimeSpan Elapsed);

/// <summary>genhash could not fetch the page: no connection, TLS error, no HTTP response.</summary>
public sealed class GenHashException(string message) : Exception(message);

/// <summary>
/// keepalived's genhash as a library call: fetches the URL with exactly the request HTTP_GET /
/// SSL_GET send and returns the MD5 of the body as lowercase hex, the value to put in a
/// <c>digest</c> line. Like genhash it reports the digest whatever the status code is, and it
/// never verifies the server's certificate.
/// </summary>
public static class GenHash
{
    private const int SOL_SOCKET = 1;
    private const int SO_MARK = 36;

    /// <param name="request">what to fetch.</param>
    /// <param name="createSocket">creates the TCP socket for an address family (tests create it in
    /// another network namespace); null: a socket of this process's namespace.</param>
    /// <param name="time">the clock of timeouts and of <see cref="GenHashResult.Elapsed"/>.</param>
    /// <param name="cancellationToken">cancels the fetch.</param>
    /// <exception cref="GenHashException">no connection, TLS error, no HTTP response, timeout.</exception>
    public static async Task<GenHashResult> ComputeAsync(GenHashRequest request, Func<AddressFamily, Socket>? createSocket = null, TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        time ??= TimeProvider.System;
        var started = time.GetTimestamp();
        var destination = new IPEndPoint(request.Server, request.Port);
        var peer = $"[{request.Server}]:{request.Port}";
        Socket socket;
        try
        {
            socket = createSocket?.Invoke(destination.AddressFamily) ?? new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }
        catch (SocketException e)
        {
            throw new GenHashException($"cannot create a socket: {e.Message}");
        }
        Stream stream;
        try
        {
            if (request.Fwmark is uint mark) socket.SetRawSocketOption(SOL_SOCKET, SO_MARK, BitConverter.GetBytes(mark));
            await HttpGetMessage.WithTimeoutAsync(async ct =>
            {
                await socket.ConnectAsync(destination, ct).ConfigureAwait(false);
                return true;
            }, request.Timeout, time, $"connection timeout to {peer}", cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new GenHashException(e.SocketErrorCode == SocketError.ConnectionRefused ? $"connection to {peer} refused" : $"connection to {peer} failed: {e.Message}");
        }
        catch (HttpGetException e)
        {
            socket.Dispose();
            throw new GenHashException(e.Message);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        try
        {
            if (request.UseSsl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var options = new SslClientAuthenticationOptions
                {
                    // An empty target host sends no SNI (genhash sends one only with -I).
                    TargetHost = request.UseSni ? request.Virtualhost ?? "" : "",
                    EnabledSslProtocols = SslProtocols.None,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                };
                await HttpGetMessage.WithTimeoutAsync(async ct =>
                {
                    try
                    {
                        await ssl.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is AuthenticationException or IOException)
                    {
                        throw new HttpGetException($"SSL handshake/communication error connecting to {peer}: {e.Message}");
                    }
                    return true;
                }, request.Timeout, time, $"timeout in SSL handshake with {peer}", cancellationToken).ConfigureAwait(false);
            }
            var text = HttpGetMessage.BuildRequest(request.Path, HttpGetMessage.HostHeader(destination, request.Virtualhost), request.Protocol);
            await HttpGetMessage.SendRequestAsync(stream, text, peer, request.Timeout, time, cancellationToken).ConfigureAwait(false);
            var r = await HttpGetMessage.ReadResponseAsync(stream, peer, request.Timeout, 0, time, cancellationToken).ConfigureAwait(false);
            return new GenHashResult(r.Digest, r.StatusCode, r.StatusLine, r.BodyBytes, r.ContentLength, r.Header, time.GetElapsedTime(started));
        }
        catch (HttpGetException e)
        {
            throw new GenHashException(e.Message);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
