using System.Globalization;
using Vigil.Ipvs.V1;

namespace Vigil.Client;

/// <summary>
/// ipvsadm's names for what vigil-ipvsd programs, so that vigilctl's table, controld's events and
/// logs all name a service the way <c>ipvsadm -Ln</c> does.
/// </summary>
public static class IpvsNames
{
    /// <summary>
    /// "TCP  10.0.0.1:80", "UDP  [fd00::1]:53", "FWM  5 IPv6" with ipvsadm's four-column
    /// protocol when <paramref name="padded"/>; "TCP 10.0.0.1:80" (one space) otherwise.
    /// </summary>
    public static string Service(VirtualService s, bool padded = false)
    {
        ArgumentNullException.ThrowIfNull(s);
        var gap = padded ? "  " : " ";
        if (s.Fwmark != 0) return $"FWM{gap}{s.Fwmark.ToString(CultureInfo.InvariantCulture)}" + (s.Ipv6 ? " IPv6" : "");
        var proto = s.Protocol switch { Protocol.Udp => "UDP", Protocol.Sctp => "SCTP", _ => "TCP" };
        return padded ? $"{proto,-4} {Endpoint(s.Address, s.Port)}" : $"{proto} {Endpoint(s.Address, s.Port)}";
    }

    /// <summary>"10.0.0.1:80" or "[fd00::1]:80".</summary>
    public static string Endpoint(string address, uint port)
    {
        ArgumentNullException.ThrowIfNull(address);
        var p = port.ToString(CultureInfo.InvariantCulture);
        return address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{p}" : $"{address}:{p}";
    }
}
