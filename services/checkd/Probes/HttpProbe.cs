using System.Text;
using System.Text.RegularExpressions;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>
/// <c>HTTP_GET</c> / <c>SSL_GET</c>: one run fetches one <c>url</c> (the step; keepalived walks
/// the URLs one per delay_loop) and checks, in keepalived's order: data received, status code in
/// <c>status_code</c> (default 200-299), MD5 <c>digest</c> of the body, <c>regex</c> /
/// <c>regex_no_match</c>. The Host header is the url's virtualhost, else the checker's, the real
/// server's, the virtual server's, else the address and port.
/// </summary>
public sealed class HttpProbe : IProbe
{
    private const int RegexBodyLimit = 1024 * 1024;
    private static readonly StatusCodeRange s_defaultStatus = new(200, 299);
    private readonly HttpCheckConfig _config;
    private readonly ProbeTarget _target;
    private readonly string? _defaultVirtualhost;
    private readonly TlsSettings? _tls;
    private readonly ISocketFactory _sockets;
    private readonly TimeProvider _time;
    private readonly Regex?[] _regexes;

    public HttpProbe(HttpCheckConfig config, ProbeTarget target, string? inheritedVirtualhost, TlsSettings? tls, ISocketFactory sockets, TimeProvider time)
    {
        _config = config;
        _target = target;
        _defaultVirtualhost = config.Virtualhost ?? inheritedVirtualhost;
        _tls = tls;
        _sockets = sockets;
        _time = time;
        _regexes = [.. config.Urls.Select(u => u.Regex is null ? null : BuildRegex(u))];
    }

    /// <summary>.NET equivalents of the pcre2 options keepalived accepts; the others are rejected
    /// when the configuration is applied.</summary>
    public static readonly IReadOnlyDictionary<string, RegexOptions> SupportedRegexOptions = new Dictionary<string, RegexOptions>
    {
        ["caseless"] = RegexOptions.IgnoreCase,
        ["multiline"] = RegexOptions.Multiline,
        ["dotall"] = RegexOptions.Singleline,
        ["extended"] = RegexOptions.IgnorePatternWhitespace,
        ["no_auto_capture"] = RegexOptions.ExplicitCapture,
        ["dollar_endonly"] = RegexOptions.None,
        ["utf"] = RegexOptions.None,
        ["never_utf"] = RegexOptions.None,
        ["ucp"] = RegexOptions.None,
        ["never_ucp"] = RegexOptions.None,
        ["no_start_optimize"] = RegexOptions.None,
        ["no_auto_possess"] = RegexOptions.None,
        ["no_dotstar_anchor"] = RegexOptions.None,
    };

    public static Regex BuildRegex(UrlCheck url)
    {
        var options = RegexOptions.CultureInvariant;
        foreach (var name in url.RegexOptions)
        {
            if (!SupportedRegexOptions.TryGetValue(name, out var o)) throw new ArgumentException($"regex_options '{name}' is not supported");
            options |= o;
        }
        return new Regex(url.Regex!, options, TimeSpan.FromSeconds(1));
    }

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var url = _config.Urls[step];
        var started = _time.GetTimestamp();
        var virtualhost = url.Virtualhost ?? _defaultVirtualhost;
        var request = new HttpGetRequest(_target, url.Path)
        {
            Virtualhost = virtualhost,
            Protocol = _config.Protocol,
            UseSsl = _config.UseSsl,
            SniName = _config.EnableSni ? _config.SniName ?? url.Virtualhost ?? _defaultVirtualhost : null,
            Tls = _tls,
            TlsCompliant = _config.TlsCompliant || url.TlsCompliant,
            KeepBodyBytes = url.Regex is null ? 0 : RegexBodyLimit,
        };
        HttpGetResponse response;
        try
        {
            response = await HttpGetClient.GetAsync(request, _sockets, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (ProbeFailureException e)
        {
            return ProbeResult.Fail($"{e.Message} (url {url.Path})", _time.GetElapsedTime(started));
        }
        catch (ProbeLocalException e)
        {
            return ProbeResult.Local(e.Message, _time.GetElapsedTime(started));
        }
        var latency = _time.GetElapsedTime(started);

        IReadOnlyList<StatusCodeRange> ranges = url.StatusCodes.IsEmpty ? [s_defaultStatus] : url.StatusCodes;
        if (!ranges.Any(r => r.Contains(response.StatusCode)))
        {
            return ProbeResult.Fail($"HTTP status code error to {_target.Pair} url {url.Path}: got {response.StatusCode}, want {string.Join(' ', ranges)}", latency);
        }
        var what = $"HTTP status code {response.StatusCode}";
        if (url.Digest is { } digest)
        {
            if (!string.Equals(digest, response.Digest, StringComparison.OrdinalIgnoreCase))
            {
                return ProbeResult.Fail($"MD5 digest error to {_target.Pair} url {url.Path}: got {response.Digest}, want {digest.ToLowerInvariant()}", latency);
            }
            what = "MD5 digest";
        }
        if (_regexes[step] is { } regex)
        {
            var matched = Matches(regex, url, response.KeptBody);
            if (matched == url.RegexNoMatch)
            {
                return ProbeResult.Fail($"Regex match failed on {_target.Pair} url {url.Path}: /{url.Regex}/ {(url.RegexNoMatch ? "matched" : "did not match")}", latency);
            }
            what = "Regex match";
        }
        return ProbeResult.Ok($"{what} success url({url.Path})", latency);
    }

    private static bool Matches(Regex regex, UrlCheck url, byte[] body)
    {
        // Latin-1 maps bytes to chars one to one, so offsets are byte offsets (as in keepalived)
        // and binary bodies cannot fail to decode; "utf" asks for UTF-8 text.
        var text = url.RegexOptions.Contains("utf") ? Encoding.UTF8.GetString(body) : Encoding.Latin1.GetString(body);
        var min = url.RegexMinOffset ?? 0;
        if (min > text.Length) return false;
        try
        {
            // The first match is the leftmost one: past regex_max_offset, none can qualify.
            var m = regex.Match(text, min);
            return m.Success && (url.RegexMaxOffset is not int max || m.Index <= max);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
