using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Platform;

/// <summary>
/// <see cref="IArpSender"/> on an AF_PACKET socket: whole Ethernet frames (gratuitous ARP,
/// unsolicited NA) sent out of the named interface, with that interface's MAC as source (the
/// VMAC when the instance runs on its macvlan). Interface facts are read when the interface is
/// first used; call <see cref="Prepare"/> inside the right network namespace.
/// </summary>
public sealed unsafe class LinuxArpSender : IArpSender, IDisposable
{
    private const ushort EthPArp = 0x0806;
    private const ushort EthPIpv6 = 0x86dd;

    private readonly int _fd;
    private readonly Dictionary<string, LinuxInterfaceInfo> _interfaces = [];
    private readonly object _gate = new();

    public LinuxArpSender()
    {
        // Protocol 0: the socket sends only and never queues received frames.
        _fd = LinuxNative.socket(LinuxNative.AF_PACKET, LinuxNative.SOCK_RAW | LinuxNative.SOCK_CLOEXEC, 0);
        LinuxNative.Check(_fd, "AF_PACKET socket for gratuitous ARP / NA");
    }

    /// <summary>Reads (and caches) the interface's index and MAC in the calling thread's namespace.</summary>
    public LinuxInterfaceInfo Prepare(string interfaceName)
    {
        lock (_gate)
        {
            if (!_interfaces.TryGetValue(interfaceName, out var info))
            {
                info = LinuxInterfaces.Get(interfaceName);
                _interfaces[interfaceName] = info;
            }
            return info;
        }
    }

    /// <summary>Forgets cached facts (after a MAC or forwarding change).</summary>
    public void Invalidate(string interfaceName)
    {
        lock (_gate) _interfaces.Remove(interfaceName);
    }

    public ValueTask AnnounceAsync(string interfaceName, IPAddress address, CancellationToken cancellationToken)
    {
        var info = Prepare(interfaceName);
        var frame = address.AddressFamily == AddressFamily.InterNetwork
            ? GratuitousArp.Build(info.Mac, address)
            : UnsolicitedNeighborAdvertisement.Build(info.Mac, address, info.Ipv6Forwarding);
        var protocol = address.AddressFamily == AddressFamily.InterNetwork ? EthPArp : EthPIpv6;
        Send(info.Index, protocol, frame);
        return ValueTask.CompletedTask;
    }

    private void Send(int ifindex, ushort protocol, byte[] frame)
    {
        // sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8].
        var sll = stackalloc byte[20];
        new Span<byte>(sll, 20).Clear();
        *(ushort*)sll = LinuxNative.AF_PACKET;
        *(ushort*)(sll + 2) = (ushort)IPAddress.HostToNetworkOrder((short)protocol);
        *(int*)(sll + 4) = ifindex;
        sll[11] = 6;
        frame.AsSpan(0, 6).CopyTo(new Span<byte>(sll + 12, 6));
        fixed (byte* p = frame)
        {
            nint sent;
            do sent = LinuxNative.sendto(_fd, p, (nuint)frame.Length, 0, sll, 20);
            while (sent < 0 && LinuxNative.Errno == LinuxNative.EINTR);
            if (sent < 0) LinuxNative.Check(-1, $"send {(protocol == EthPArp ? "gratuitous ARP" : "unsolicited NA")} on ifindex {ifindex}");
        }
    }

    public void Dispose() => LinuxNative.close(_fd);
}
