using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Checkd.Probes;

/// <summary>Creates the sockets probes and the alert client use. A socket belongs to the network
/// namespace it was created in, whichever thread uses it afterwards.</summary>
public interface ISocketFactory
{
    Socket Create(AddressFamily family, SocketType type, ProtocolType protocol);

    /// <summary>Runs a function in the factory's network namespace (interface lookups).</summary>
    T Invoke<T>(Func<T> function);
}

/// <summary>Sockets in the daemon's own network namespace.</summary>
public sealed class HostSocketFactory : ISocketFactory
{
    public static HostSocketFactory Instance { get; } = new();

    public Socket Create(AddressFamily family, SocketType type, ProtocolType protocol) => new(family, type, protocol);

    public T Invoke<T>(Func<T> function) => function();
}

/// <summary>
/// Sockets in another network namespace (<c>/run/netns/NAME</c>): one dedicated thread joins the
/// namespace with setns(2) and creates sockets on request. Lets checkd run its checks from a
/// namespace without the whole daemon living there (FRR's --netns, lab tests, the benchmark).
/// </summary>
public sealed partial class NamespaceSocketFactory : ISocketFactory, IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NamespaceSocketFactory(string namespacePath)
    {
        NamespacePath = namespacePath;
        _thread = new Thread(Run) { IsBackground = true, Name = "vigil-netns " + Path.GetFileName(namespacePath) };
        _thread.Start();
        _joined.Task.GetAwaiter().GetResult();
    }

    public string NamespacePath { get; }

    /// <summary>For a namespace created with <c>ip netns add NAME</c>.</summary>
    public static NamespaceSocketFactory ForNamed(string name) => new(Path.Combine("/run/netns", name));

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    private void Run()
    {
        var fd = open(NamespacePath, 0x80000 /* O_RDONLY|O_CLOEXEC */);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (fd >= 0) close(fd);
            _joined.SetException(new InvalidOperationException($"cannot join network namespace {NamespacePath}: errno {errno}"));
            return;
        }
        close(fd);
        _joined.SetResult();
        foreach (var item in _work.GetConsumingEnumerable()) item();
    }

    public Socket Create(AddressFamily family, SocketType type, ProtocolType protocol) =>
        Invoke(() => new Socket(family, type, protocol));

    public T Invoke<T>(Func<T> function)
    {
        if (Thread.CurrentThread == _thread) return function();
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                tcs.SetResult(function());
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }
        });
        return tcs.Task.GetAwaiter().GetResult();
    }

    public void Dispose() => _work.CompleteAdding();
}

/// <summary>Socket options and connects shared by the probes, with keepalived's error mapping.</summary>
public static class ProbeSockets
{
    private const int SOL_SOCKET = 1;
    private const int SO_BINDTODEVICE = 25;
    private const int SO_MARK = 36;

    /// <summary>Applies bind_if, fwmark and bindto/bind_port. Throws <see cref="ProbeLocalException"/>
    /// when the options cannot be applied (keepalived: "bind failed. Rescheduling").</summary>
    public static void Prepare(Socket socket, ProbeTarget target)
    {
        try
        {
            if (target.Fwmark is uint mark)
            {
                socket.SetRawSocketOption(SOL_SOCKET, SO_MARK, BitConverter.GetBytes(mark));
            }
            if (target.BindInterface is { Length: > 0 } ifname)
            {
                socket.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(ifname + "\0"));
            }
            if (target.Bind is { } bind)
            {
                if (bind.Port != 0) socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(bind);
            }
        }
        catch (SocketException e)
        {
            throw new ProbeLocalException($"cannot bind to {target.Bind?.ToString() ?? target.BindInterface}: {e.Message}");
        }
    }

    /// <summary>Destination with the scope id of bind_if for an IPv6 link-local address.</summary>
    public static IPEndPoint Destination(ProbeTarget target, ISocketFactory factory)
    {
        var d = target.Destination;
        if (d.Address.IsIPv6LinkLocal && d.Address.ScopeId == 0 && target.BindInterface is { } ifname)
        {
            var index = factory.Invoke(() => System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .FirstOrDefault(n => n.Name == ifname)?.GetIPProperties().GetIPv6Properties().Index ?? 0);
            var scoped = new IPAddress(d.Address.GetAddressBytes(), index);
            return new IPEndPoint(scoped, d.Port);
        }
        return d;
    }

    /// <summary>Connects a TCP socket within the target's connect_timeout.</summary>
    /// <exception cref="ProbeFailureException">refused, unreachable, timed out.</exception>
    /// <exception cref="ProbeLocalException">the socket could not be set up.</exception>
    public static async Task<Socket> ConnectTcpAsync(ISocketFactory factory, ProbeTarget target, TimeProvider time, CancellationToken cancellationToken)
    {
        var destination = Destination(target, factory);
        Socket socket;
        try
        {
            socket = factory.Create(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }
        catch (SocketException e)
        {
            throw new ProbeLocalException($"cannot create socket: {e.Message}");
        }
        try
        {
            Prepare(socket, target);
            // One linked source with a deadline: the system clock's CancelAfter is cheaper than a
            // second source, and probes run thousands of times a second.
            using var timeout = time == TimeProvider.System
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
                : new CancellationTokenSource(target.ConnectTimeout, time);
            if (time == TimeProvider.System) timeout.CancelAfter(target.ConnectTimeout);
            using var linked = time == TimeProvider.System ? null : CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await socket.ConnectAsync(destination, linked?.Token ?? timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProbeFailureException($"connection timeout to {target.Pair}");
            }
            catch (SocketException e)
            {
                throw new ProbeFailureException(DescribeSocketError("connection to " + target.Pair, e));
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static string DescribeSocketError(string what, SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => $"{what} refused",
        SocketError.HostUnreachable => $"{what}: host unreachable",
        SocketError.NetworkUnreachable => $"{what}: network unreachable",
        SocketError.TimedOut => $"{what} timed out",
        SocketError.ConnectionReset => $"{what} reset",
        _ => $"{what} failed: {e.Message}",
    };

    /// <summary>Runs an I/O step with a fresh timeout (keepalived re-arms connect_timeout for each
    /// read and write); a timeout becomes a <see cref="ProbeFailureException"/> with the text.</summary>
    public static async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, ValueTask<T>> step, TimeSpan timeout, TimeProvider time, string timeoutText, CancellationToken cancellationToken)
    {
        using var cts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cts.Token, cancellationToken);
        try
        {
            return await step(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ProbeFailureException(timeoutText);
        }
    }
}

/// <summary>The service failed the check; the message is the reason shown to operators.</summary>
public sealed class ProbeFailureException(string message) : Exception(message);

/// <summary>The check could not be run on this host; not counted against the service.</summary>
public sealed class ProbeLocalException(string message) : Exception(message);
