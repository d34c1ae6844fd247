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
/// </summary>
public sealed partial class LinuxVrrpTransport : IVrrpTransport, IDisposable
{
    private readonly Dictionary<(string, AddressFamily), VrrpRawSocket> _sockets = [];
    private readonly ILogger _log;

    private LinuxVrrpTransport(ILogger log) => _log = log;

    public IReadOnlyCollection<VrrpRawSocket> Sockets => _sockets.Values;

    /// <summary>Opens the sockets the instances need. Throws naming the interface when one fails.</summary>
    public static LinuxVrrpTransport Open(IEnumerable<VrrpInstanceConfig> instances, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var transport = new LinuxVrrpTransport(logger ?? NullLogger.Instance);
        try
        {
            foreach (var group in instances.GroupBy(i => (i.Interface, i.Family)))
            {
                var info = LinuxInterfaces.Get(group.Key.Interface);
                var groups = group.Where(i => !i.IsUnicast).Select(i => i.MulticastDestination).Distinct().ToList();
                // IPv6 adverts leave from the configured source if one is given (bind), else the
                // kernel picks the link-local address of the interface.
                var bind = group.Key.Family == AddressFamily.InterNetworkV6 ? group.Select(i => i.SourceAddress).FirstOrDefault(a => a is not null) : null;
                transport._sockets[group.Key] = VrrpRawSocket.Open(group.Key.Interface, info.Index, group.Key.Family, groups, bind);
            }
            return transport;
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    public ValueTask SendAsync(VrrpInstanceConfig instance, ReadOnlyMemory<byte> packet, IPAddress destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (!_sockets.TryGetValue((instance.Interface, instance.Family), out var socket))
            throw new InvalidOperationException($"{instance.Name}: no VRRP socket open on {instance.Interface} for {instance.Family}");
        // Raw sends complete at once (or fail with ENOBUFS etc.); no need to go async.
        socket.Send(packet.Span, destination);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Receives on every socket until cancelled, handing each packet to <paramref name="sink"/>
    /// (typically <see cref="VrrpDriver.PostPacket"/>). Errors are logged and receiving goes on.
    /// </summary>
    public Task ReceiveAsync(Func<VrrpReceivedPacket, bool> sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return Task.WhenAll(_sockets.Values.Select(s => ReceiveLoopAsync(s, sink, cancellationToken)));
    }

    private async Task ReceiveLoopAsync(VrrpRawSocket socket, Func<VrrpReceivedPacket, bool> sink, CancellationToken ct)
    {
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
            catch (SocketException e)
            {
                ReceiveFailed(_log, e, socket.Interface, socket.Family);
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "receiving VRRP on {Interface} ({Family}) failed")]
    private static partial void ReceiveFailed(ILogger logger, Exception exception, string @interface, AddressFamily family);

    public void Dispose()
    {
        foreach (var s in _sockets.Values) s.Dispose();
        _sockets.Clear();
    }
}
