using System.Net;
using System.Net.Sockets;

namespace Vigil.Vrrpd.Engine;

/// <summary>Sends adverts. <see cref="Platform.LinuxVrrpTransport"/> is the raw-socket one.</summary>
public interface IVrrpTransport
{
    /// <summary>
    /// Sends one advert out of the instance's interface: for IPv4 a whole datagram (the header is
    /// ours, IP_HDRINCL), for IPv6 the VRRP message (the kernel adds the header and checksum).
    /// </summary>
    ValueTask SendAsync(VrrpInstanceConfig instance, ReadOnlyMemory<byte> packet, IPAddress destination, CancellationToken cancellationToken);
}

/// <summary>Adds and removes an instance's VIPs (the lead implements it with Vigil.Netlink).</summary>
public interface IAddressManager
{
    /// <summary>virtual_ipaddress and virtual_ipaddress_excluded (and, later, routes and rules).</summary>
    ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken);

    ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken);

    /// <summary>
    /// A reload changed the configuration of a master whose VIPs are set (see <see cref="ChangeVips"/>):
    /// remove <paramref name="removed"/>, add <paramref name="added"/>, leave the others in place.
    /// <paramref name="instance"/> is the new configuration.
    /// </summary>
    ValueTask ChangeVipsAsync(VrrpInstanceConfig instance, IReadOnlyList<IPAddress> added, IReadOnlyList<IPAddress> removed, CancellationToken cancellationToken);
}

/// <summary>Announces an address: gratuitous ARP for IPv4, unsolicited NA for IPv6.</summary>
public interface IArpSender
{
    ValueTask AnnounceAsync(string interfaceName, IPAddress address, CancellationToken cancellationToken);
}

/// <summary>Runs notify scripts / writes the notify FIFO (the lead implements it).</summary>
public interface INotifier
{
    /// <summary><c>notify_master|backup|fault|stop</c>, <c>notify</c> with "INSTANCE name STATE prio".</summary>
    ValueTask NotifyInstanceAsync(string instance, VrrpNotifyState state, byte priority, CancellationToken cancellationToken);

    /// <summary>Sync group notifies, "GROUP name STATE".</summary>
    ValueTask NotifyGroupAsync(string group, VrrpStateKind state, CancellationToken cancellationToken);
}

/// <summary>
/// Optional observer of everything the engine does (for the gRPC Watch streams, metrics and
/// events). Called on the driver's loop after the action ran: keep it quick and never block.
/// </summary>
public interface IVrrpEventSink
{
    void OnAction(string instance, VrrpAction action, VrrpInstanceState state);

    void OnGroupTransition(SyncGroupTransition transition);

    /// <summary>An advert for a VRID no instance on that interface runs (log_unknown_vrids).</summary>
    void OnUnknownVrid(string? interfaceName, AddressFamily family, byte vrid, IPAddress? source);
}
