using System.Net;
using System.Net.Sockets;
using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;
using Vigil.Scripts;

namespace Vigil.Checkd.Engine;

/// <summary>
/// Checks a configuration before the engine applies it. Errors name the virtual server, real
/// server and checker they concern; keepalived's silent corrections (quorum above the total
/// weight, hysteresis not below the quorum) are made and reported as warnings.
/// </summary>
public static class ConfigValidator
{
    public const int MaxWeight = int.MaxValue;

    /// <summary>Returns the configuration as it will run (after corrections) and the warnings.</summary>
    /// <exception cref="CheckdInvalidArgumentException">with every problem found.</exception>
    public static (CheckdConfig Config, IReadOnlyList<string> Warnings) Validate(CheckdConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<string>();
        var warnings = new List<string>();
        ValidateGlobals(config.Globals, errors);

        var seen = new HashSet<VirtualServerKey>();
        var virtualServers = new List<VirtualServerConfig>();
        foreach (var vs in config.VirtualServers)
        {
            var where = $"virtual_server {vs.Key}";
            if (!seen.Add(vs.Key)) errors.Add($"{where}: defined twice");
            if (vs.Key.Kind == VirtualServerKind.Address && vs.Key.Address is null) errors.Add($"{where}: no address");
            if (vs.Key.Kind == VirtualServerKind.Group && string.IsNullOrEmpty(vs.Key.GroupName)) errors.Add($"{where}: no group name");
            ValidateTimings(where, vs.DelayLoop, vs.ConnectTimeout, vs.Warmup, vs.Retry, vs.DelayBeforeRetry, errors);
            if (vs.DefaultWeight < 0) errors.Add($"{where}: weight {vs.DefaultWeight} is outside 0..{MaxWeight}");
            ValidateScript($"{where} quorum_up", vs.QuorumUp, config.Globals, errors);
            ValidateScript($"{where} quorum_down", vs.QuorumDown, config.Globals, errors);
            if (vs.SorryServer is { } sorry && vs.Key.Family is { } f && sorry.Address.AddressFamily != f && vs.Key.Kind == VirtualServerKind.Address)
            {
                // IPVS allows mixed families only when tunnelling; that is ipvsd's concern, not ours.
                warnings.Add($"{where}: sorry_server {sorry.Address} is not in the virtual address's family");
            }

            var rsSeen = new HashSet<RealServerKey>();
            long totalWeight = 0;
            foreach (var rs in vs.RealServers)
            {
                var rsWhere = $"{where} real_server {rs.Key.Format(vs.Key.Protocol)}";
                if (!rsSeen.Add(rs.Key)) errors.Add($"{rsWhere}: defined twice");
                var weight = rs.Weight ?? vs.DefaultWeight;
                if (weight < 0) errors.Add($"{rsWhere}: weight {weight} is outside 0..{MaxWeight}");
                totalWeight += Math.Max(weight, 0);
                ValidateTimings(rsWhere, rs.DelayLoop, rs.ConnectTimeout, rs.Warmup, rs.Retry, rs.DelayBeforeRetry, errors);
                ValidateScript($"{rsWhere} notify_up", rs.NotifyUp, config.Globals, errors);
                ValidateScript($"{rsWhere} notify_down", rs.NotifyDown, config.Globals, errors);
                for (var i = 0; i < rs.Checkers.Count; i++)
                {
                    ValidateChecker($"{rsWhere} {rs.Checkers[i].Keyword}#{i + 1}", rs, rs.Checkers[i], config.Globals, errors, warnings);
                }
            }

            var corrected = vs;
            if (vs.Quorum > totalWeight && vs.RealServers.Count > 0)
            {
                warnings.Add($"{where}: quorum {vs.Quorum} exceeds total weight of real servers {totalWeight}, reducing quorum to {totalWeight}");
                corrected = corrected with { Quorum = (uint)Math.Min(totalWeight, uint.MaxValue) };
            }
            if (corrected.Hysteresis >= corrected.Quorum && corrected.Hysteresis > 0)
            {
                var h = corrected.Quorum == 0 ? 0 : corrected.Quorum - 1;
                warnings.Add($"{where}: hysteresis {corrected.Hysteresis} >= quorum {corrected.Quorum}; setting hysteresis to {h}");
                corrected = corrected with { Hysteresis = h };
            }
            virtualServers.Add(corrected);
        }
        if (errors.Count > 0) throw new CheckdInvalidArgumentException(errors);
        return (config with { VirtualServers = virtualServers }, warnings);
    }

    private static void ValidateGlobals(CheckdGlobals globals, List<string> errors)
    {
        if (globals.Alerts.Server is { } server && string.IsNullOrWhiteSpace(server.Host)) errors.Add("global_defs smtp_server: empty host");
        if (globals.Alerts.ConnectTimeout <= TimeSpan.Zero) errors.Add("global_defs smtp_connect_timeout: must be positive");
        foreach (var r in globals.Alerts.Recipients)
        {
            if (string.IsNullOrWhiteSpace(r) || r.Contains('\n') || r.Contains('\r')) errors.Add($"global_defs notification_email: invalid address '{r}'");
        }
        if (globals.DefaultScriptUser is { } user)
        {
            try
            {
                user.Resolve();
            }
            catch (ArgumentException e)
            {
                errors.Add($"global_defs script_user: {e.Message}");
            }
        }
        foreach (var (name, file) in new[] { ("ca", globals.Ssl?.CaFile), ("certificate", globals.Ssl?.CertificateFile), ("key", globals.Ssl?.KeyFile) })
        {
            if (file is not null && !File.Exists(file)) errors.Add($"SSL {name}: file {file} does not exist");
        }
    }

    private static void ValidateTimings(string where, TimeSpan? delayLoop, TimeSpan? connectTimeout, TimeSpan? warmup, int? retry, TimeSpan? delayBeforeRetry, List<string> errors)
    {
        if (delayLoop is { } d && d <= TimeSpan.Zero) errors.Add($"{where}: delay_loop must be positive");
        if (connectTimeout is { } c && c <= TimeSpan.Zero) errors.Add($"{where}: connect_timeout must be positive");
        if (warmup is { } w && w < TimeSpan.Zero) errors.Add($"{where}: warmup must not be negative");
        if (retry is < 0) errors.Add($"{where}: retry must not be negative");
        if (delayBeforeRetry is { } b && b < TimeSpan.Zero) errors.Add($"{where}: delay_before_retry must not be negative");
    }

    private static void ValidateScript(string where, NotifyScript? script, CheckdGlobals globals, List<string> errors)
    {
        if (script is null) return;
        if (!ScriptCommand.TryParse(script.Command, out _, out var error)) errors.Add($"{where}: {error}");
        var user = script.User ?? globals.DefaultScriptUser;
        if (user is not null)
        {
            try
            {
                user.Resolve();
            }
            catch (ArgumentException e)
            {
                errors.Add($"{where}: {e.Message}");
            }
        }
    }

    private static void ValidateChecker(string where, RealServerConfig rs, CheckerConfig checker, CheckdGlobals globals, List<string> errors, List<string> warnings)
    {
        ValidateTimings(where, checker.DelayLoop, (checker as NetworkCheckerConfig)?.Connection.ConnectTimeout, checker.Warmup, checker.Retry, checker.DelayBeforeRetry, errors);
        if (checker is NetworkCheckerConfig network)
        {
            var co = network.Connection;
            var destination = co.ConnectIp ?? rs.Address;
            if (co.BindTo is { } bind && bind.AddressFamily != destination.AddressFamily)
            {
                errors.Add($"{where}: bindto {bind} does not match the address family of {destination}");
            }
            if (destination.AddressFamily == AddressFamily.InterNetworkV6 && destination.IsIPv6LinkLocal && string.IsNullOrEmpty(co.BindInterface))
            {
                errors.Add($"{where}: link local address {destination} requires a bind_if");
            }
            if (co.BindInterface is { Length: > 15 }) errors.Add($"{where}: bind_if '{co.BindInterface}' is longer than 15 characters");
        }
        switch (checker)
        {
            case HttpCheckConfig http:
                if (http.Urls.IsEmpty) errors.Add($"{where}: no url");
                for (var u = 0; u < http.Urls.Count; u++)
                {
                    var url = http.Urls[u];
                    var uw = $"{where} url#{u + 1}";
                    if (string.IsNullOrEmpty(url.Path)) errors.Add($"{uw}: no path");
                    else if (url.Path.Any(c => c is ' ' or '\r' or '\n')) errors.Add($"{uw}: path '{url.Path}' contains blanks or line breaks");
                    if (url.Digest is { } digest && (digest.Length != 32 || !digest.All(Uri.IsHexDigit)))
                    {
                        errors.Add($"{uw}: digest '{digest}' must be 32 hex digits");
                    }
                    foreach (var range in url.StatusCodes)
                    {
                        if (range.Min < 100 || range.Max > 599 || range.Min > range.Max) errors.Add($"{uw}: status_code {range} is outside 100-599");
                    }
                    if (url.Regex is not null)
                    {
                        try
                        {
                            HttpProbe.BuildRegex(url);
                        }
                        catch (ArgumentException e)
                        {
                            errors.Add($"{uw}: regex: {e.Message}");
                        }
                    }
                    if (url.RegexMinOffset is int min && url.RegexMaxOffset is int max && min > max) errors.Add($"{uw}: regex_min_offset {min} > regex_max_offset {max}");
                    if (url.Virtualhost is { } vh && vh.Any(c => c is ' ' or '\r' or '\n')) errors.Add($"{uw}: virtualhost '{vh}' contains blanks or line breaks");
                }
                if (http.Virtualhost is { } v && v.Any(c => c is ' ' or '\r' or '\n')) errors.Add($"{where}: virtualhost '{v}' contains blanks or line breaks");
                break;
            case SmtpCheckConfig smtp:
                if (string.IsNullOrWhiteSpace(smtp.HeloName) || smtp.HeloName.Any(c => c is '\r' or '\n')) errors.Add($"{where}: helo_name '{smtp.HeloName}' is invalid");
                break;
            case DnsCheckConfig dns:
                try
                {
                    DnsCodec.QueryLength(dns.Name);
                }
                catch (ArgumentException e)
                {
                    errors.Add($"{where}: name: {e.Message}");
                }
                if (!Enum.IsDefined(dns.QueryType)) errors.Add($"{where}: type {(ushort)dns.QueryType} is not one of A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY");
                break;
            case MiscCheckConfig misc:
                ValidateScript($"{where} misc_path", new NotifyScript(misc.Path, misc.User), globals, errors);
                if (misc.Timeout is { } t && t <= TimeSpan.Zero) errors.Add($"{where}: misc_timeout must be positive");
                break;
            case UdpCheckConfig udp:
                if (udp.MinReplyLength < 0 || udp.MaxReplyLength < 0 || udp.MaxReplyLength > 65535) errors.Add($"{where}: reply lengths must be within 0..65535");
                if (udp.MinReplyLength > udp.MaxReplyLength) warnings.Add($"{where}: min_reply_length {udp.MinReplyLength} > max_reply_length {udp.MaxReplyLength} - will always fail");
                if (udp.ReplyMask.Count > udp.ReplyData.Count) errors.Add($"{where}: reply mask longer than the reply data");
                break;
            case FileCheckConfig file:
                if (string.IsNullOrEmpty(file.Path)) errors.Add($"{where}: track_file {file.TrackFileName} has no file");
                break;
        }
    }
}
