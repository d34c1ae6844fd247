using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Protocol;

/// <summary>
/// One VRRP advertisement as it is on the wire (decoded fields, no interpretation). The advert
/// interval is kept in centiseconds for both versions: VRRPv2 carries whole seconds (x100 here),
/// VRRPv3 carries centiseconds in 12 bits.
/// </summary>
public sealed class VrrpAdvertisement : IEquatable<VrrpAdvertisement>
{
    private static readonly byte[] NoAuthData = [];

    public VrrpAdvertisement(
        VrrpVersion version,
        byte vrid,
        byte priority,
        int intervalCentiseconds,
        IReadOnlyList<IPAddress> addresses,
        VrrpAuthType authType = VrrpAuthType.None,
        ReadOnlyMemory<byte> authData = default,
        ushort checksum = 0)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        Version = version;
        Vrid = vrid;
        Priority = priority;
        IntervalCentiseconds = intervalCentiseconds;
        Addresses = addresses;
        AuthType = authType;
        AuthData = authData.IsEmpty ? NoAuthData : authData;
        Checksum = checksum;
    }

    public VrrpVersion Version { get; }
    public byte Vrid { get; }
    public byte Priority { get; }

    /// <summary>Advertisement interval in centiseconds (v2: seconds x 100).</summary>
    public int IntervalCentiseconds { get; }

    public TimeSpan Interval => TimeSpan.FromMilliseconds(IntervalCentiseconds * 10L);

    /// <summary>The virtual addresses, all of the packet's address family.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>VRRPv2 only; <see cref="VrrpAuthType.None"/> for VRRPv3.</summary>
    public VrrpAuthType AuthType { get; }

    /// <summary>The 8 authentication bytes of a VRRPv2 IPv4 advert; empty otherwise.</summary>
    public ReadOnlyMemory<byte> AuthData { get; }

    /// <summary>Checksum field as received (or as written by the last build).</summary>
    public ushort Checksum { get; }

    public AddressFamily Family => Addresses.Count > 0 ? Addresses[0].AddressFamily : AddressFamily.Unspecified;

    public VrrpAdvertisement WithPriority(byte priority) =>
        new(Version, Vrid, priority, IntervalCentiseconds, Addresses, AuthType, AuthData, Checksum);

    public VrrpAdvertisement WithChecksum(ushort checksum) =>
        new(Version, Vrid, Priority, IntervalCentiseconds, Addresses, AuthType, AuthData, checksum);

    public bool Equals(VrrpAdvertisement? other) =>
        other is not null
        && Version == other.Version && Vrid == other.Vrid && Priority == other.Priority
        && IntervalCentiseconds == other.IntervalCentiseconds && AuthType == other.AuthType
        && Checksum == other.Checksum
        && Addresses.SequenceEqual(other.Addresses)
        && AuthData.Span.SequenceEqual(other.AuthData.Span);

    public override bool Equals(object? obj) => Equals(obj as VrrpAdvertisement);

    public override int GetHashCode() => HashCode.Combine(Version, Vrid, Priority, IntervalCentiseconds, Addresses.Count, Checksum);

    public override string ToString() =>
        $"VRRPv{(int)Version} vrid {Vrid} prio {Priority} intvl {IntervalCentiseconds}cs auth {AuthType} addrs [{string.Join(", ", Addresses)}] chksum 0x{Checksum:x4}";
}
