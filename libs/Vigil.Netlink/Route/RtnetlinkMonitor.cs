using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Route;

/// <summary>What a <see cref="RtnetlinkMonitor"/> listens to.</summary>
[Flags]
public enum MonitorGroups
{
    None = 0,
    /// <summary>RTNLGRP_LINK: interfaces appearing, going, changing flags (up, carrier).</summary>
    Links = 1,
    /// <summary>RTNLGRP_IPV4_IFADDR.</summary>
    IPv4Addresses = 2,
    /// <summary>RTNLGRP_IPV6_IFADDR.</summary>
    IPv6Addresses = 4,
    /// <summary>RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE.</summary>
    Routes = 8,
    /// <summary>RTNLGRP_IPV4_RULE and RTNLGRP_IPV6_RULE.</summary>
    Rules = 16,
    Addresses = IPv4Addresses | IPv6Addresses,
    /// <summary>What vrrpd needs: links and addresses.</summary>
    Default = Links | Addresses,
}

/// <summary>A change the kernel announced.</summary>
public abstract record RtnetlinkEvent;

/// <summary>RTM_NEWLINK (an interface appeared or changed: flags, carrier, name, MAC) or RTM_DELLINK.</summary>
public sealed record LinkEvent(Link Link, bool Removed) : RtnetlinkEvent
{
    public override string ToString() => $"{(Removed ? "deleted" : "link")} {Link}";
}

/// <summary>RTM_NEWADDR or RTM_DELADDR.</summary>
public sealed record AddressEvent(InterfaceAddress Address, bool Removed) : RtnetlinkEvent
{
    public override string ToString() => $"{(Removed ? "deleted" : "added")} {Address}";
}

/// <summary>RTM_NEWROUTE or RTM_DELROUTE.</summary>
public sealed record RouteEvent(Route Route, bool Removed) : RtnetlinkEvent
{
    public override string ToString() => $"{(Removed ? "deleted" : "added")} route {Route}";
}

/// <summary>RTM_NEWRULE or RTM_DELRULE.</summary>
public sealed record RuleEvent(RoutingRule Rule, bool Removed) : RtnetlinkEvent
{
    public override string ToString() => $"{(Removed ? "deleted" : "added")} rule {Rule}";
}

/// <summary>The socket's receive buffer overflowed (ENOBUFS) and the kernel dropped
/// notifications: whatever state the reader keeps must be read again (list links/addresses now).
/// Notifications still queued at that moment are dropped with the lost ones; every change after
/// this event is delivered again.</summary>
public sealed record EventsLost : RtnetlinkEvent
{
    public override string ToString() => "events lost (receive buffer overflow); resynchronize";
}

/// <summary>
/// Listens to rtnetlink multicast groups and turns the notifications into typed events, read
/// straight off the socket (no extra queue) so a carrier loss reaches the reader as soon as the
/// kernel sends it. Messages that do not decode are skipped and counted; a buffer overflow becomes
/// an <see cref="EventsLost"/> event.
/// </summary>
public sealed class RtnetlinkMonitor : IDisposable
{
    /// <summary>Big enough for a burst of a few thousand notifications (a flapping bond, a full route reload).</summary>
    public const int DefaultReceiveBuffer = 4 * 1024 * 1024;

    private readonly NetlinkSocket _socket;
    private long _malformed;

    private RtnetlinkMonitor(NetlinkSocket socket)
    {
        _socket = socket;
    }

    /// <summary>Joins the groups in the namespace (the caller's by default). Events start from now:
    /// read the current state after opening, not before, so no change falls in between.</summary>
    public static RtnetlinkMonitor Open(MonitorGroups groups = MonitorGroups.Default, NetworkNamespace? ns = null, int receiveBufferSize = DefaultReceiveBuffer)
    {
        var list = new List<uint>();
        if ((groups & MonitorGroups.Links) != 0) list.Add(RtnlGroup.Link);
        if ((groups & MonitorGroups.IPv4Addresses) != 0) list.Add(RtnlGroup.IPv4Address);
        if ((groups & MonitorGroups.IPv6Addresses) != 0) list.Add(RtnlGroup.IPv6Address);
        if ((groups & MonitorGroups.Routes) != 0) list.AddRange([RtnlGroup.IPv4Route, RtnlGroup.IPv6Route]);
        if ((groups & MonitorGroups.Rules) != 0) list.AddRange([RtnlGroup.IPv4Rule, RtnlGroup.IPv6Rule]);
        if (list.Count == 0)
        {
            throw new ArgumentException("a monitor needs at least one group", nameof(groups));
        }
        return new RtnetlinkMonitor(NetlinkSocket.Open(NetlinkProtocol.Route, new NetlinkSocketOptions
        {
            Namespace = ns ?? NetworkNamespace.Current,
            Groups = list,
            ReceiveBufferSize = receiveBufferSize,
        }));
    }

    /// <summary>Notifications skipped because they did not decode.</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformed);

    /// <summary>Why the last skipped notification did not decode.</summary>
    public string? LastMalformedReason { get; private set; }

    /// <summary>Events as they come, until cancelled or disposed. One reader at a time.</summary>
    public async IAsyncEnumerable<RtnetlinkEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            ReadOnlyMemory<byte> datagram;
            bool lost = false;
            try
            {
                datagram = await _socket.ReceiveDatagramAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable || e.NativeErrorCode == Errno.ENOBUFS)
            {
                datagram = default;
                lost = true;
            }
            catch (ObjectDisposedException)
            {
                yield break;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                yield break; // disposed while waiting
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }
            if (lost)
            {
                // What is still queued predates the loss and is superseded by the reader's resync.
                _socket.DrainPending();
                yield return new EventsLost();
                continue;
            }
            foreach (var e in Parse(datagram, Malformed))
            {
                yield return e;
            }
        }
    }

    /// <summary>Decodes the notifications of one datagram; malformed ones are reported and skipped.</summary>
    internal static List<RtnetlinkEvent> Parse(ReadOnlyMemory<byte> datagram, Action<NetlinkDecodeException> malformed)
    {
        var events = new List<RtnetlinkEvent>();
        List<NetlinkMessage> messages;
        try
        {
            messages = NetlinkMessage.Split(datagram);
        }
        catch (NetlinkDecodeException e)
        {
            malformed(e);
            return events;
        }
        foreach (var m in messages)
        {
            try
            {
                var span = m.Payload.Span;
                RtnetlinkEvent? e = m.Type switch
                {
                    NetlinkMessageType.NewLink or NetlinkMessageType.DelLink => new LinkEvent(RouteMessages.DecodeLink(span), m.Type == NetlinkMessageType.DelLink),
                    NetlinkMessageType.NewAddr or NetlinkMessageType.DelAddr => new AddressEvent(RouteMessages.DecodeAddress(span), m.Type == NetlinkMessageType.DelAddr),
                    NetlinkMessageType.NewRoute or NetlinkMessageType.DelRoute => DecodeRoute(span, m.Type == NetlinkMessageType.DelRoute),
                    NetlinkMessageType.NewRule or NetlinkMessageType.DelRule => new RuleEvent(RouteMessages.DecodeRule(span), m.Type == NetlinkMessageType.DelRule),
                    _ => null,
                };
                if (e is not null)
                {
                    events.Add(e);
                }
            }
            catch (NetlinkDecodeException ex)
            {
                malformed(ex);
            }
        }
        return events;
    }

    private static RouteEvent? DecodeRoute(ReadOnlySpan<byte> span, bool removed)
    {
        // Multicast and other families (AF_MPLS, RTNL_FAMILY_IPMR) share the route groups' message
        // types; only IPv4/IPv6 routes are Vigil's business.
        var family = span.Length > 0 ? span[0] : (byte)0;
        return family is RouteMessages.AF_INET or RouteMessages.AF_INET6 ? new RouteEvent(RouteMessages.DecodeRoute(span), removed) : null;
    }

    private void Malformed(NetlinkDecodeException e)
    {
        Interlocked.Increment(ref _malformed);
        LastMalformedReason = e.Reason;
    }

    public void Dispose() => _socket.Dispose();
}
