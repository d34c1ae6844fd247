using System.Net;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>What <c>vigilctl genhash</c> asks for (keepalived's genhash options).</summary>
public sealed record GenHashRequest(IPAddress Server, ushort Port, string Path)
{
    /// <summary><c>--ssl</c> / <c>-S</c>.</summary>
    public bool UseSsl { get; init; }

    /// <summary><c>--use-sni</c> / <c>-I</c>: send the virtualhost as SNI.</summary>
    public bool UseSni { get; init; }

    /// <summary><c>--use-virtualhost</c> / <c>-V</c>.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>--protocol</c> / <c>-P</c>: 1.0, 1.0c, 1.1.</summary>
    public HttpProtocolVersion Protocol { get; init; } = HttpProtocolVersion.Http10;

    /// <summary><c>--timeout</c> / <c>-t</c>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>--fwmark</c> / <c>-m</c>.</summary>
    public uint? Fwmark { get; init; }
}

/// <summary>The page's digest with what was seen on the way.</summary>
public sealed record GenHashResult(string Digest, int StatusCode, string StatusLine, long BodyBytes, long? ContentLength, string Header);

/// <summary>
/// keepalived's genhash as a library call: fetches the URL with exactly the request HTTP_GET /
/// SSL_GET send and returns the MD5 of the body as lowercase hex, the value to put in a
/// <c>digest</c> line. Like genhash it reports the digest whatever the status code is.
/// </summary>
public static class GenHash
{
    /// <exception cref="GenHashException">no connection, no HTTP response ("no data received from
    /// remote webserver" in genhash), or a TLS error.</exception>
    public static async Task<GenHashResult> ComputeAsync(GenHashRequest request, ISocketFactory? sockets = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = new ProbeTarget(new IPEndPoint(request.Server, request.Port), request.Timeout, Fwmark: request.Fwmark);
        var get = new HttpGetRequest(target, request.Path)
        {
            Virtualhost = request.Virtualhost,
            Protocol = request.Protocol,
            UseSsl = request.UseSsl,
            SniName = request.UseSni ? request.Virtualhost : null,
        };
        try
        {
            var r = await HttpGetClient.GetAsync(get, sockets ?? HostSocketFactory.Instance, time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
            return new GenHashResult(r.Digest, r.StatusCode, r.StatusLine, r.BodyBytes, r.ContentLength, r.Header);
        }
        catch (ProbeFailureException e)
        {
            throw new GenHashException(e.Message);
        }
        catch (ProbeLocalException e)
        {
            throw new GenHashException(e.Message);
        }
    }
}

public sealed class GenHashException(string message) : Exception(message);
