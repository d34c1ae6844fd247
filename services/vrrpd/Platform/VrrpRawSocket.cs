using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Platform;

/// <summary>
/// One raw IP socket of protocol 112 bound to one interface, for one address family, used for
/// sending and receiving adverts.
/// IPv4: IP_HDRINCL (our header: TTL 255, TOS 0xc0, the configured source), IP_MULTICAST_IF and
/// IP_ADD_MEMBERSHIP (224.0.0.18) by interface index, multicast loop off; received datagrams
/// include their IPv4 header, so TTL, source and destination come from it.
/// IPv6: IPV6_CHECKSUM at offset 6 (the kernel computes and verifies the pseudo-header checksum),
/// hop limits 255, IPV6_MULTICAST_IF and IPV6_JOIN_GROUP (ff02::12), IPV6_RECVHOPLIMIT and
/// IPV6_RECVPKTINFO read through recvmsg.
/// </summary>
public sealed class VrrpRawSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly int _fd;
    private readonly HashSet<IPAddress> _groups = [];

    public string Interface { get; }
    public int InterfaceIndex { get; }
    public AddressFamily Family { get; }

    private VrrpRawSocket(Socket socket, int fd, string interfaceName, int index, AddressFamily family)
    {
        _socket = socket;
        _fd = fd;
        Interface = interfaceName;
        InterfaceIndex = index;
        Family = family;
    }

    /// <summary>
    /// Opens the socket in the calling thread's network namespace. <paramref name="groups"/> are
    /// the multicast groups to join (none for a purely unicast interface);
    /// <paramref name="bindAddress"/> pins the IPv6 source (unicast_src_ip / mcast_src_ip).
    /// </summary>
    public static VrrpRawSocket Open(string interfaceName, int interfaceIndex, AddressFamily family, IEnumerable<IPAddress> groups, IPAddress? bindAddress = null)
    {
        var domain = family == AddressFamily.InterNetwork ? LinuxNative.AF_INET
            : family == AddressFamily.InterNetworkV6 ? LinuxNative.AF_INET6
            : throw new ArgumentOutOfRangeException(nameof(family), family, "VRRP runs over IPv4 or IPv6");
        var fd = LinuxNative.socket(domain, LinuxNative.SOCK_RAW | LinuxNative.SOCK_CLOEXEC, VrrpConstants.IpProtocol);
        LinuxNative.Check(fd, $"raw socket protocol 112 ({family}) for {interfaceName}");
        Socket? socket = null;
        try
        {
            // .NET refuses protocol 112 in new Socket(...), but wraps a descriptor we made.
            socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            LinuxNative.BindToDevice(fd, interfaceName);
            if (family == AddressFamily.InterNetwork) ConfigureIpv4(fd, interfaceIndex);
            else ConfigureIpv6(fd, interfaceIndex, bindAddress);
            var raw = new VrrpRawSocket(socket, fd, interfaceName, interfaceIndex, family);
            foreach (var g in groups) raw.Join(g);
            return raw;
        }
        catch
        {
            if (socket is not null) socket.Dispose();
            else LinuxNative.close(fd);
            throw;
        }
    }

    /// <summary>The multicast groups joined on this interface.</summary>
    public IReadOnlyCollection<IPAddress> Groups
    {
        get
        {
            lock (_groups) return [.. _groups];
        }
    }

    /// <summary>Joins a multicast group on the socket's interface (once; again is a no-op).</summary>
    public unsafe void Join(IPAddress group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.AddressFamily != Family) throw new ArgumentException($"{group} is not {Family}", nameof(group));
        lock (_groups)
        {
            if (_groups.Contains(group)) return;
            if (Family == AddressFamily.InterNetwork)
            {
                var mreqn = stackalloc byte[12];
                new Span<byte>(mreqn, 12).Clear();
                group.TryWriteBytes(new Span<byte>(mreqn, 4), out _);
                *(int*)(mreqn + 8) = InterfaceIndex;
                LinuxNative.Check(LinuxNative.setsockopt(_fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_ADD_MEMBERSHIP, mreqn, 12), $"IP_ADD_MEMBERSHIP {group} on {Interface}");
            }
            else
            {
                var mreq = stackalloc byte[20];
                new Span<byte>(mreq, 20).Clear();
                group.TryWriteBytes(new Span<byte>(mreq, 16), out _);
                *(int*)(mreq + 16) = InterfaceIndex;
                LinuxNative.Check(LinuxNative.setsockopt(_fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_ADD_MEMBERSHIP, mreq, 20), $"IPV6_JOIN_GROUP {group} on {Interface}");
            }
            _groups.Add(group);
        }
    }

    private static unsafe void ConfigureIpv4(int fd, int index)
    {
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_HDRINCL, 1, "IP_HDRINCL");
        // With IP_HDRINCL the TTL is the one in our header; these cover anything sent without it.
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_TTL, VrrpConstants.Ttl, "IP_TTL");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_MULTICAST_TTL, VrrpConstants.Ttl, "IP_MULTICAST_TTL");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
        var mreqn = stackalloc byte[12];
        new Span<byte>(mreqn, 12).Clear();
        *(int*)(mreqn + 8) = index;
        LinuxNative.Check(LinuxNative.setsockopt(fd, LinuxNative.IPPROTO_IP, LinuxNative.IP_MULTICAST_IF, mreqn, 12), "IP_MULTICAST_IF");
    }

    private static unsafe void ConfigureIpv6(int fd, int index, IPAddress? bindAddress)
    {
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_CHECKSUM, VrrpMessage.ChecksumOffset, "IPV6_CHECKSUM");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_MULTICAST_HOPS, VrrpConstants.Ttl, "IPV6_MULTICAST_HOPS");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_UNICAST_HOPS, VrrpConstants.Ttl, "IPV6_UNICAST_HOPS");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_MULTICAST_IF, index, "IPV6_MULTICAST_IF");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
        LinuxNative.SetInt(fd, LinuxNative.IPPROTO_IPV6, LinuxNative.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
        if (bindAddress is not null)
        {
            var sa = stackalloc byte[28];
            var len = LinuxNative.WriteSockaddr(new Span<byte>(sa, 28), bindAddress, index);
            LinuxNative.Check(LinuxNative.bind(fd, sa, len), $"bind {bindAddress}");
        }
    }

    /// <summary>Sends one packet (a whole IPv4 datagram, or the IPv6 payload) to the destination.</summary>
    public unsafe void Send(ReadOnlySpan<byte> packet, IPAddress destination)
    {
        if (destination.AddressFamily != Family) throw new ArgumentException($"{destination} is not {Family}", nameof(destination));
        var sa = stackalloc byte[28];
        var len = LinuxNative.WriteSockaddr(new Span<byte>(sa, 28), destination, InterfaceIndex);
        fixed (byte* p = packet)
        {
            nint sent;
            do sent = LinuxNative.sendto(_fd, p, (nuint)packet.Length, 0, sa, len);
            while (sent < 0 && LinuxNative.Errno == LinuxNative.EINTR);
            if (sent < 0) LinuxNative.Check(-1, $"send advert to {destination} on {Interface}");
        }
    }

    /// <summary>Waits until a datagram can be read (a zero-byte peek that .NET parks on epoll).</summary>
    public async ValueTask WaitReadableAsync(CancellationToken cancellationToken) =>
        await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);

    /// <summary>Reads one datagram without blocking; null when none is queued.</summary>
    public unsafe VrrpReceivedPacket? TryReceive(byte[] buffer)
    {
        var name = stackalloc byte[28];
        var control = stackalloc byte[128];
        var result = 0L;
        int flags;
        fixed (byte* data = buffer)
        {
            var iov = new LinuxNative.IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new LinuxNative.MsgHdr { Name = name, NameLength = 28, Iov = &iov, IovLength = 1, Control = control, ControlLength = 128 };
            do result = LinuxNative.recvmsg(_fd, &msg, LinuxNative.MSG_DONTWAIT | LinuxNative.MSG_TRUNC);
            while (result < 0 && LinuxNative.Errno == LinuxNative.EINTR);
            if (result < 0)
            {
                if (LinuxNative.Errno == LinuxNative.EAGAIN) return null;
                LinuxNative.Check(-1, $"recvmsg on {Interface}");
            }
            flags = msg.Flags;
            var source = LinuxNative.ReadSockaddr(new ReadOnlySpan<byte>(name, (int)Math.Min(msg.NameLength, 28u)));
            // A datagram larger than the buffer cannot be a valid advert; hand over what fits and
            // let the length check reject it (and count it).
            var length = (int)Math.Min(result, buffer.Length);
            var bytes = buffer.AsSpan(0, length).ToArray();
            if (Family == AddressFamily.InterNetwork)
                return new VrrpReceivedPacket(Family, bytes, source, null, -1, Interface);

            IPAddress? destination = null;
            var hopLimit = -1;
            var offset = 0;
            var controlLength = (int)msg.ControlLength;
            while (offset + sizeof(LinuxNative.CmsgHdr) <= controlLength)
            {
                var cmsg = (LinuxNative.CmsgHdr*)(control + offset);
                var cmsgLen = (int)cmsg->Length;
                if (cmsgLen < sizeof(LinuxNative.CmsgHdr) || offset + cmsgLen > controlLength) break;
                var payload = (byte*)cmsg + sizeof(LinuxNative.CmsgHdr);
                var payloadLen = cmsgLen - sizeof(LinuxNative.CmsgHdr);
                if (cmsg->Level == LinuxNative.IPPROTO_IPV6 && cmsg->Type == LinuxNative.IPV6_HOPLIMIT && payloadLen >= 4)
                    hopLimit = *(int*)payload;
                else if (cmsg->Level == LinuxNative.IPPROTO_IPV6 && cmsg->Type == LinuxNative.IPV6_PKTINFO && payloadLen >= 20)
                    destination = new IPAddress(new ReadOnlySpan<byte>(payload, 16), *(int*)(payload + 16));
                offset += (cmsgLen + 7) & ~7;
            }
            if ((flags & LinuxNative.MSG_CTRUNC) != 0) hopLimit = -1;
            return new VrrpReceivedPacket(Family, bytes, source, destination, hopLimit, Interface);
        }
    }

    public void Dispose() => _socket.Dispose();
}
