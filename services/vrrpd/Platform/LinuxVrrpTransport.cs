using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Platform;

/// <summary>
/// <see cref="IVrrpTransport"/> on raw sockets: one socket per (interface, family) that the
/// instances use, joined to the multicast groups of the multicast instances there. Open it in the
/// network namespace the instances run in; sending and receiving then work from any thread.
/// The daemon keeps one transport for its whole life and calls <see cref="Update"/> on every
/// configuration change and when an interface appears or goes.
/// </summary>
public sealed partial class LinuxVrrpTransport : IVrrpTransport, IDisposable
{
    private readonly Dictionary<(string, AddressFamily), VrrpRawSocket> _sockets = [];
    private readonly Dictionary<VrrpRawSocket, Task> _loops = [];
    private readonly object _gate = new();
    private readonly ILogger _log;
    private Func<VrrpReceivedPacket, bool>? _sink;
    private CancellationToken _receiveToken;

    private LinuxVrrpTransport(ILogger log) => _log = log;

    public IReadOnlyCollection<VrrpRawSocket> Sockets
    {
        get
        {
            lock (_gate) return [.. _sockets.Values];
        }
    }

    /// <summary>Opens the sockets the instances need. Throws naming the interface when one fails.</summary>
    public static LinuxVrrpTransport Open(IEnumerable<VrrpInstanceConfig> instances, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var transport = new LinuxVrrpTransport(logger ?? NullLogger.Instance);
        try
        {
            var errors = transport.Update(instances);
            if (errors.Count > 0) throw errors[0].Error;
            return transport;
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    /// <summary>A transport with no sockets yet (see <see cref="Update"/>).</summary>
    public static LinuxVrrpTransport Create(ILogger? logger = null) => new(logger ?? NullLogger.Instance);

    /// <summary>
    /// Makes the sockets match the instances: opens the missing ones (receiving on them at once
    /// when <see cref="StartReceiving"/> ran), joins new multicast groups, and closes sockets no
    /// instance uses any more. A socket that cannot be opened (no such interface yet, say) is
    /// returned as an error and the others go ahead; call again when the interface appears.
    /// </summary>
    public IReadOnlyList<(string Interface, AddressFamily Family, Exception Error)> Update(IEnumerable<VrrpInstanceConfig> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var errors = new List<(string, AddressFamily, Exception)>();
        var wanted = instances.GroupBy(i => (i.Interface, i.Family)).ToList();
        lock (_gate)
        {
            foreach (var key in _sockets.Keys.Where(k => !wanted.Any(w => w.Key == k)).ToList())
            {
                _sockets.Remove(key, out var unused);
                unused!.Dispose();
            }
            foreach (var group in wanted)
            {
                var groups = group.Where(i => !i.IsUnicast).Select(i => i.MulticastDestination).Distinct().ToList();
                try
                {
                    if (_sockets.TryGetValue(group.Key, out var existing))
                    {
                        foreach (var g in groups) existing.Join(g);
                        continue;
                    }
                    var info = LinuxInterfaces.Get(group.Key.Interface);
                    // IPv6 adverts leave from the configured source if one is given (bind), else the
                    // kernel picks the link-local address of the interface.
                    var bind = group.Key.Family == AddressFamily.InterNetworkV6 ? group.Select(i => i.SourceAddress).FirstOrDefault(a => a is not null) : null;
                    var socket = VrrpRawSocket.Open(group.Key.Interface, info.Index, group.Key.Family, groups, bind);
                    _sockets[group.Key] = socket;
                    if (_sink is not null) _loops[socket] = ReceiveLoopAsync(socket, _sink, _receiveToken);
                }
                catch (Exception e) when (e is SocketException or ArgumentException or IOException)
                {
                    errors.Add((group.Key.Interface, group.Key.Family, e));
                }
            }
        }
        return errors;
    }

    /// <summary>Closes the sockets on an interface (it was deleted; its index is stale).</summary>
    public void Close(string interfaceName)
    {
        lock (_gate)
        {
            foreach (var key in _sockets.Keys.Where(k => k.Item1 == interfaceName).ToList())
            {
                _sockets.Remove(key, out var socket);
                socket!.Dispose();
            }
        }
    }

    /// <summary>True when a socket is open for the interface and family.</summary>
    public bool HasSocket(string interfaceName, AddressFamily family)
    {
        lock (_gate) return _sockets.ContainsKey((interfaceName, family));
    }

    public ValueTask SendAsync(VrrpInstanceConfig instance, ReadOnlyMemory<byte> packet, IPAddress destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        VrrpRawSocket? socket;
        lock (_gate) _sockets.TryGetValue((instance.Interface, instance.Family), out socket);
        if (socket is null)
            throw new InvalidOperationException($"{instance.Name}: no VRRP socket open on {instance.Interface} for {instance.Family}");
        // Raw sends complete at once (or fail with ENOBUFS etc.); no need to go async.
        socket.Send(packet.Span, destination);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Receives on every socket, present and future, until cancelled, handing each packet to
    /// <paramref name="sink"/> (typically <see cref="VrrpDriver.PostPacket"/>). Errors are logged
    /// and receiving goes on.
    /// </summary>
    public void StartReceiving(Func<VrrpReceivedPacket, bool> sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_gate)
        {
            if (_sink is not null) throw new InvalidOperationException("already receiving");
            _sink = sink;
            _receiveToken = cancellationToken;
            foreach (var s in _sockets.Values) _loops[s] = ReceiveLoopAsync(s, sink, cancellationToken);
        }
    }

    /// <summary>Receives on the sockets open now until cancelled (see <see cref="StartReceiving"/>).</summary>
    public Task ReceiveAsync(Func<VrrpReceivedPacket, bool> sink, CancellationToken cancellationToken)
    {
        StartReceiving(sink, cancellationToken);
        lock (_gate) return Task.WhenAll(_loops.Values.ToList());
    }

    private async Task ReceiveLoopAsync(VrrpRawSocket socket, Func<VrrpReceivedPacket, bool> sink, CancellationToken ct)
    {
        await Task.Yield();
        // Larger than any advert (8 + 255 x 16 + IP header) so oversized ones are seen whole enough to reject.
        var buffer = new byte[8192];
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await socket.WaitReadableAsync(ct).ConfigureAwait(false);
                while (socket.TryReceive(buffer) is { } packet) sink(packet);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.Shutdown)
            {
                break; // closed while waiting
            }
            catch (SocketException e)
            {
                ReceiveFailed(_log, e, socket.Interface, socket.Family);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        lock (_gate) _loops.Remove(socket);
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "receiving VRRP on {Interface} ({Family}) failed")]
    private static partial void ReceiveFailed(ILogger logger, Exception exception, string @interface, AddressFamily family);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var s in _sockets.Values) s.Dispose();
            _sockets.Clear();
        }
    }
}
