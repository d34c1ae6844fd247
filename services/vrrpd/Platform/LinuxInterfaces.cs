using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Platform;

/// <summary>What VRRP needs to know about one interface.</summary>
/// <param name="IsUp">administratively up and with carrier (IFF_UP and IFF_RUNNING, keepalived's test).</param>
/// <param name="PrimaryIpv4">the interface's primary IPv4 address: the VRRPv2/v3 source and tie-breaker.</param>
/// <param name="LinkLocalIpv6">the link-local address IPv6 adverts are sent from.</param>
/// <param name="Ipv6Forwarding">sets the Router flag of unsolicited NAs, as keepalived does.</param>
public sealed record LinuxInterfaceInfo(
    string Name,
    int Index,
    byte[] Mac,
    bool IsUp,
    IPAddress? PrimaryIpv4,
    IPAddress? LinkLocalIpv6,
    bool Ipv6Forwarding)
{
    /// <summary>The source for an instance of this family: IPv4 primary or IPv6 link-local.</summary>
    public IPAddress? SourceFor(AddressFamily family) => family == AddressFamily.InterNetwork ? PrimaryIpv4 : LinkLocalIpv6;
}

/// <summary>
/// Reads interface facts with ioctls and /proc, from the calling thread's network namespace
/// (so a test thread that entered a namespace sees that namespace's interfaces).
/// </summary>
public static unsafe class LinuxInterfaces
{
    private const short IFF_UP = 0x1;
    private const short IFF_RUNNING = 0x40;

    public static LinuxInterfaceInfo Get(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 15) throw new ArgumentException($"interface name {name} is longer than 15 characters", nameof(name));
        var fd = LinuxNative.socket(LinuxNative.AF_INET, 2 /* SOCK_DGRAM */ | LinuxNative.SOCK_CLOEXEC, 0);
        LinuxNative.Check(fd, "socket for interface ioctls");
        try
        {
            var ifr = stackalloc byte[40];
            void Request(ulong request, string what)
            {
                new Span<byte>(ifr, 40).Clear();
                System.Text.Encoding.ASCII.GetBytes(name, new Span<byte>(ifr, 16));
                LinuxNative.Check(LinuxNative.ioctl(fd, request, ifr), $"{what} {name}");
            }

            Request(LinuxNative.SIOCGIFINDEX, "SIOCGIFINDEX");
            var index = *(int*)(ifr + 16);
            Request(LinuxNative.SIOCGIFFLAGS, "SIOCGIFFLAGS");
            var flags = *(short*)(ifr + 16);
            Request(LinuxNative.SIOCGIFHWADDR, "SIOCGIFHWADDR");
            var mac = new Span<byte>(ifr + 18, 6).ToArray();

            IPAddress? v4 = null;
            new Span<byte>(ifr, 40).Clear();
            System.Text.Encoding.ASCII.GetBytes(name, new Span<byte>(ifr, 16));
            if (LinuxNative.ioctl(fd, LinuxNative.SIOCGIFADDR, ifr) == 0) v4 = new IPAddress(new ReadOnlySpan<byte>(ifr + 20, 4));

            return new LinuxInterfaceInfo(name, index, mac, (flags & IFF_UP) != 0 && (flags & IFF_RUNNING) != 0, v4,
                ReadLinkLocal(name, index), ReadForwarding(name));
        }
        finally
        {
            LinuxNative.close(fd);
        }
    }

    private static IPAddress? ReadLinkLocal(string name, int index)
    {
        // /proc/thread-self: this thread's namespace, not the process's first thread's.
        const string path = "/proc/thread-self/net/if_inet6";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || f[5] != name || f[3] != "20") continue;
            var bytes = Convert.FromHexString(f[0]);
            return new IPAddress(bytes, index);
        }
        return null;
    }

    private static bool ReadForwarding(string name)
    {
        try
        {
            var text = File.ReadAllText($"/proc/sys/net/ipv6/conf/{name}/forwarding").Trim();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
