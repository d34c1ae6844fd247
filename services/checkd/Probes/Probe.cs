using System.Net;
using System.Net.Sockets;
using Vigil.Checkd.Model;

namespace Vigil.Checkd.Probes;

/// <summary>What one probe run found.</summary>
public enum ProbeOutcome
{
    /// <summary>The service answered as required.</summary>
    Success,

    /// <summary>The service failed the check (refused, timed out, wrong answer): counts toward
    /// retry and can take the real server down.</summary>
    Failure,

    /// <summary>The check could not be run here (no socket, bind failed): keepalived logs it and
    /// tries again after delay_loop without counting it.</summary>
    LocalError,
}

/// <summary>The result of one probe run: outcome, a human reason, how long it took; a MISC_CHECK
/// also reports the exit status (misc_dynamic weights), a FILE_CHECK the value read.</summary>
public readonly record struct ProbeResult(ProbeOutcome Outcome, string Reason, TimeSpan Latency)
{
    /// <summary>MISC_CHECK: the script's exit status (null when a signal ended it).</summary>
    public int? ExitStatus { get; init; }

    /// <summary>MISC_CHECK: it was killed for running past misc_timeout.</summary>
    public bool TimedOut { get; init; }

    /// <summary>FILE_CHECK: the number read from the file.</summary>
    public long? Value { get; init; }

    /// <summary>The peer's reply did not decode (counted; the reason names the defect).</summary>
    public bool Malformed { get; init; }

    public bool IsSuccess => Outcome == ProbeOutcome.Success;

    public static ProbeResult Ok(string reason, TimeSpan latency) => new(ProbeOutcome.Success, reason, latency);

    public static ProbeResult Fail(string reason, TimeSpan latency) => new(ProbeOutcome.Failure, reason, latency);

    public static ProbeResult Local(string reason, TimeSpan latency) => new(ProbeOutcome.LocalError, reason, latency);
}

/// <summary>
/// One checker's I/O. A probe is created per configured checker, run by the scheduler at most
/// once at a time, and must honour the cancellation token (engine stop, configuration change).
/// <paramref name="step"/> is the URL index for HTTP_GET/SSL_GET (keepalived checks one URL per
/// run), 0 otherwise.
/// </summary>
public interface IProbe
{
    Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken);
}

/// <summary>Where a network checker connects and from where (connect_ip/port, bindto, bind_port,
/// bind_if, fwmark) and its connect_timeout.</summary>
public sealed record ProbeTarget(
    IPEndPoint Destination,
    TimeSpan ConnectTimeout,
    IPEndPoint? Bind = null,
    string? BindInterface = null,
    uint? Fwmark = null)
{
    public static ProbeTarget Resolve(RealServerConfig rs, ConnectionOptions co, TimeSpan connectTimeout)
    {
        var destination = new IPEndPoint(co.ConnectIp ?? rs.Address, co.ConnectPort ?? rs.Port);
        IPEndPoint? bind = null;
        if (co.BindTo is not null || co.BindPort is not null)
        {
            var any = destination.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            bind = new IPEndPoint(co.BindTo ?? any, co.BindPort ?? 0);
        }
        return new ProbeTarget(destination, connectTimeout, bind, co.BindInterface, co.Fwmark);
    }

    /// <summary>keepalived's inet_sockaddrtopair: <c>[10.0.0.2]:25</c> (formatted once: probes
    /// use it in every result).</summary>
    public string Pair { get; } = $"[{Destination.Address}]:{Destination.Port}";
}
