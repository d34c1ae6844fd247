using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.Vrrpd.Platform;

/// <summary>
/// The libc calls .NET does not offer: raw sockets of protocol 112 (which <c>new Socket</c>
/// refuses), recvmsg with ancillary data (hop limit, packet info), AF_PACKET sendto with a
/// sockaddr_ll, and interface ioctls. x86-64 / aarch64 Linux layouts (LP64).
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_PACKET = 17;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_BINDTODEVICE = 25;

    public const int IPPROTO_IP = 0;
    public const int IP_HDRINCL = 3;
    public const int IP_TTL = 2;
    public const int IP_MULTICAST_IF = 32;
    public const int IP_MULTICAST_TTL = 33;
    public const int IP_MULTICAST_LOOP = 34;
    public const int IP_ADD_MEMBERSHIP = 35;

    public const int IPPROTO_IPV6 = 41;
    public const int IPV6_CHECKSUM = 7;
    public const int IPV6_UNICAST_HOPS = 16;
    public const int IPV6_MULTICAST_IF = 17;
    public const int IPV6_MULTICAST_HOPS = 18;
    public const int IPV6_MULTICAST_LOOP = 19;
    public const int IPV6_ADD_MEMBERSHIP = 20;
    public const int IPV6_RECVPKTINFO = 49;
    public const int IPV6_PKTINFO = 50;
    public const int IPV6_RECVHOPLIMIT = 51;
    public const int IPV6_HOPLIMIT = 52;

    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x08;
    public const int MSG_DONTWAIT = 0x40;

    public const int EAGAIN = 11;
    public const int EINTR = 4;

    public const ulong SIOCGIFFLAGS = 0x8913;
    public const ulong SIOCGIFADDR = 0x8915;
    public const ulong SIOCGIFHWADDR = 0x8927;
    public const ulong SIOCGIFINDEX = 0x8933;

    public const int CLONE_NEWNET = 0x40000000;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, void* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendto(int fd, void* buffer, nuint length, int flags, void* address, uint addressLength);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, void* argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int open(byte* path, int flags);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="SocketException"/> carrying errno, with what was being done.</summary>
    public static void Check(int result, string what)
    {
        if (result < 0) throw new SocketException(Errno, $"{what}: {Marshal.GetPInvokeErrorMessage(Errno)}");
    }

    public static void SetInt(int fd, int level, int name, int value, string what)
    {
        Check(setsockopt(fd, level, name, &value, sizeof(int)), what);
    }

    public static void BindToDevice(int fd, string interfaceName)
    {
        var bytes = new byte[16];
        System.Text.Encoding.ASCII.GetBytes(interfaceName, 0, Math.Min(interfaceName.Length, 15), bytes, 0);
        fixed (byte* p = bytes) Check(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p, (uint)bytes.Length), $"SO_BINDTODEVICE {interfaceName}");
    }

    /// <summary>Writes a sockaddr_in / sockaddr_in6 (scope id for link-local) into the buffer.</summary>
    public static uint WriteSockaddr(Span<byte> buffer, IPAddress address, int scopeId = 0)
    {
        buffer.Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(buffer, AF_INET);
            address.TryWriteBytes(buffer[4..], out _);
            return 16;
        }
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(buffer, AF_INET6);
        address.TryWriteBytes(buffer[8..], out _);
        var scope = address.IsIPv6LinkLocal || address.IsIPv6Multicast ? (address.ScopeId != 0 ? (uint)address.ScopeId : (uint)scopeId) : 0u;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], scope);
        return 28;
    }

    /// <summary>Reads the address out of a sockaddr_in / sockaddr_in6.</summary>
    public static IPAddress? ReadSockaddr(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < 2) return null;
        var family = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(buffer);
        if (family == AF_INET && buffer.Length >= 8) return new IPAddress(buffer.Slice(4, 4));
        if (family == AF_INET6 && buffer.Length >= 28)
            return new IPAddress(buffer.Slice(8, 16), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..]));
        return null;
    }
}
