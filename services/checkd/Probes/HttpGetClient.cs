using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>One GET of HTTP_GET / SSL_GET, with the probe's connection and TLS settings.</summary>
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

/// <summary>
/// The HTTP client of HTTP_GET and SSL_GET: connects with the probe's socket options (bindto,
/// bind_if, fwmark, network namespace), starts TLS with the configured CA and client certificate,
/// then sends keepalived's request and reads the response with <see cref="HttpGetMessage"/>
/// (shared with <c>vigilctl genhash</c>, so both compute the same digest). The certificate of an
/// SSL server is not verified unless a CA file is configured.
/// </summary>
public static class HttpGetClient
{
    public static string BuildRequest(HttpGetRequest request) =>
        HttpGetMessage.BuildRequest(request.Path, HttpGetMessage.HostHeader(request.Target.Destination, request.Virtualhost), request.Protocol);

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

            HttpGetResponse response;
            try
            {
                await HttpGetMessage.SendRequestAsync(stream, BuildRequest(request), target.Pair, target.ConnectTimeout, time, cancellationToken).ConfigureAwait(false);
                response = await HttpGetMessage.ReadResponseAsync(stream, target.Pair, target.ConnectTimeout, request.KeepBodyBytes, time, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpGetException e)
            {
                throw new ProbeFailureException(e.Message);
            }
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
}
