using System.Net.Sockets;
using System.Text;

namespace Vigil.Hosting;

/// <summary>
/// systemd's notification protocol: datagrams like "READY=1" to $NOTIFY_SOCKET (a path, or an
/// abstract socket when it starts with '@'). Without NOTIFY_SOCKET every call does nothing.
/// </summary>
public sealed class SdNotify : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    public SdNotify(string? notifySocket = null)
    {
        notifySocket ??= Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(notifySocket)) return;
        // An abstract socket name starts with NUL on the wire; systemd writes it with '@'.
        var name = notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket;
        _endpoint = new UnixDomainSocketEndPoint(name);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public bool Enabled => _socket is not null;

    /// <summary>The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), or null.</summary>
    public static TimeSpan? WatchdogInterval()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out var usec) || usec <= 0) return null;
        if (int.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_PID"), out var pid) && pid != Environment.ProcessId) return null;
        return TimeSpan.FromTicks(usec * 10);
    }

    public void Send(string state)
    {
        if (_socket is null) return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
        }
        catch (SocketException)
        {
            // systemd went away or the socket is wrong: notifications are best effort.
        }
    }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");
    public void Stopping() => Send("STOPPING=1");
    public void Reloading() => Send($"RELOADING=1\nMONOTONIC_USEC={Environment.TickCount64 * 1000}");
    public void Watchdog() => Send("WATCHDOG=1");
    public void Status(string status) => Send($"STATUS={status}");

    public void Dispose() => _socket?.Dispose();
}
