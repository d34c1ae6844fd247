using System.CommandLine;
using System.Globalization;
using System.Net;
using Vigil.HttpDigest;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl genhash`: keepalived's genhash. Fetches a page with exactly the request HTTP_GET /
/// SSL_GET send and prints the MD5 digest of its body, the value for a url's <c>digest</c> line,
/// in genhash's format (the digest alone on a line; with -v the header, the digest and the
/// response time). Unlike genhash, a failure is an error on stderr with exit status 1.
/// </summary>
internal static class GenhashCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server", "-s") { Description = "the web server's IP address", Required = true };
        var port = new Option<int>("--port", "-p") { Description = "its port", Required = true };
        var url = new Option<string>("--url", "-u") { Description = "the path to fetch, e.g. /index.html", Required = true };
        var ssl = new Option<bool>("--ssl", "--use-ssl", "-S") { Description = "use TLS (SSL_GET)" };
        var sni = new Option<bool>("--sni", "--use-sni", "-I") { Description = "send the virtualhost as SNI in the TLS handshake" };
        var virtualhost = new Option<string?>("--virtualhost", "--use-virtualhost", "-V") { Description = "the Host header (default: address:port)" };
        var protocol = new Option<string>("--protocol", "-P")
        {
            Description = "HTTP protocol: 1.0, 1.0c (1.0 with Connection: close) or 1.1",
            DefaultValueFactory = _ => "1.0",
        };
        // --timeout is vigilctl's global option (seconds to wait); -t is genhash's spelling of it.
        var timeout = new Option<double?>("-t") { Description = "timeout in seconds of the connection and of each read (default: --timeout)" };
        var fwmark = new Option<uint?>("--fwmark", "-m") { Description = "firewall mark (SO_MARK) of the connection" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "print the response header, the digest and the response time" };
        var command = new Command("genhash", "print the MD5 digest of a web page, as keepalived's genhash (for HTTP_GET/SSL_GET digest lines)")
        {
            server, port, url, ssl, sni, virtualhost, protocol, timeout, fwmark, verbose,
        };
        command.SetAction(async (r, token) =>
        {
            var text = r.GetValue(server)!;
            if (!IPAddress.TryParse(text, out var address) || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Count(c => c == '.') != 3))
            {
                return Fail($"server should be an IP address, not {text}");
            }
            var portNumber = r.GetValue(port);
            if (portNumber is < 1 or > 65535) return Fail($"invalid port number '{portNumber}'");
            var path = r.GetValue(url)!;
            if (path.Length == 0 || path.Any(c => c is ' ' or '\r' or '\n' or '\t')) return Fail($"invalid url '{path}'");
            var version = r.GetValue(protocol)!.ToLowerInvariant() switch
            {
                "1.0" => HttpProtocolVersion.Http10,
                "1.0c" => HttpProtocolVersion.Http10Close,
                "1.1" => HttpProtocolVersion.Http11,
                _ => (HttpProtocolVersion?)null,
            };
            if (version is null) return Fail($"invalid protocol '{r.GetValue(protocol)}' (1.0, 1.0c or 1.1)");
            var seconds = r.GetValue(timeout) ?? r.GetValue(GlobalOptions.Timeout);
            if (!(seconds > 0) || seconds > 3600) return Fail($"invalid timeout {seconds.ToString(CultureInfo.InvariantCulture)} (seconds, 0 < t <= 3600)");
            var vhost = r.GetValue(virtualhost);
            if (vhost is not null && vhost.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))) return Fail($"invalid virtualhost '{vhost}'");
            if (r.GetValue(sni) && vhost is null) return Fail("--sni sends the virtualhost: give one with -V");

            var request = new GenHashRequest(address, (ushort)portNumber, path)
            {
                UseSsl = r.GetValue(ssl),
                UseSni = r.GetValue(sni),
                Virtualhost = vhost,
                Protocol = version.Value,
                Timeout = TimeSpan.FromSeconds(seconds),
                Fwmark = r.GetValue(fwmark),
            };
            GenHashResult result;
            try
            {
                result = await GenHash.ComputeAsync(request, cancellationToken: token);
            }
            catch (GenHashException e)
            {
                return Fail(e.Message);
            }
            if (r.GetValue(verbose))
            {
                Console.Out.WriteLine("-----------------------[ HTTP Header Ascii Buffer ]-----------------------");
                Console.Out.WriteLine(result.Header.Replace("\r\n", "\n", StringComparison.Ordinal));
                Console.Out.WriteLine();
                Console.Out.WriteLine($"body: {result.BodyBytes} bytes{(result.ContentLength is long cl ? $", Content-Length {cl}" : "")}");
                Console.Out.WriteLine("-----------------------[ HTML hash final resulting ]-----------------------");
                Console.Out.WriteLine(result.Digest);
                Console.Out.WriteLine();
                Console.Out.WriteLine($"Global response time for [{path}] = {(long)(result.Elapsed.Ticks / 10)} usecs");
            }
            else
            {
                Console.Out.WriteLine(result.Digest);
            }
            return 0;
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"vigilctl genhash: {message}");
        return 1;
    }
}
