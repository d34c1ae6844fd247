using System.Net;

namespace Vigil.Vrrpd.Protocol;

/// <summary>Protocol numbers and addresses fixed by RFC 3768 and RFC 5798.</summary>
public static class VrrpConstants
{
    /// <summary>IP protocol number assigned to VRRP (RFC 3768 section 5.2.4).</summary>
    public const byte IpProtocol = 112;

    /// <summary>TTL / hop limit every advertisement is sent with and, for multicast, checked against.</summary>
    public const byte Ttl = 255;

    /// <summary>The only packet type (ADVERTISEMENT).</summary>
    public const byte TypeAdvertisement = 1;

    /// <summary>Priority of the address owner, which takes over at once.</summary>
    public const byte PriorityOwner = 255;

    /// <summary>Priority a master sends when it stops, so that backups take over after Skew_Time.</summary>
    public const byte PriorityStop = 0;

    /// <summary>Default priority when none is configured.</summary>
    public const byte PriorityDefault = 100;

    /// <summary>Length of the VRRPv2 authentication data that follows the addresses on IPv4.</summary>
    public const int AuthDataLength = 8;

    /// <summary>IPv4 type-of-service byte keepalived sends adverts with (internetwork control).</summary>
    public const byte Ipv4Tos = 0xc0;

    public static readonly IPAddress MulticastGroupV4 = IPAddress.Parse("224.0.0.18");
    public static readonly IPAddress MulticastGroupV6 = IPAddress.Parse("ff02::12");
    public static readonly IPAddress AllNodesV6 = IPAddress.Parse("ff02::1");
}

/// <summary>VRRP protocol version: 2 (RFC 3768) or 3 (RFC 5798 / RFC 9568).</summary>
public enum VrrpVersion : byte
{
    V2 = 2,
    V3 = 3,
}

/// <summary>VRRPv2 authentication type (RFC 3768 section 5.3.6 and RFC 2338).</summary>
public enum VrrpAuthType : byte
{
    None = 0,
    /// <summary>"PASS": 8 bytes of clear-text password after the addresses.</summary>
    SimplePassword = 1,
    /// <summary>"AH": IPsec authentication header (RFC 2338); not implemented by Vigil.</summary>
    IpsecAh = 2,
}
