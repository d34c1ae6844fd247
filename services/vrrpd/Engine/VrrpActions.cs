using System.Net;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>What the machine asks the executor to do; the output of <see cref="VrrpInstanceMachine.Step"/>.</summary>
public abstract record VrrpAction;

/// <summary>Send one advertisement with this priority (0 = stepping down).</summary>
public sealed record SendAdvert(byte Priority) : VrrpAction;

/// <summary>Send gratuitous ARPs (IPv4) / unsolicited NAs (IPv6) for every VIP, this many rounds.</summary>
public sealed record SendGarp(int Repeat) : VrrpAction
{
    /// <summary>Only these addresses (the VIPs a reload added); null = every VIP of the instance.</summary>
    public IReadOnlyList<IPAddress>? Only { get; init; }
}

/// <summary>Add the instance's VIPs (virtual_ipaddress and virtual_ipaddress_excluded).</summary>
public sealed record AddVips : VrrpAction;

/// <summary>Remove the instance's VIPs.</summary>
public sealed record RemoveVips : VrrpAction;

/// <summary>
/// A master's configuration changed on reload while its VIPs are set: remove <paramref name="Removed"/>,
/// add <paramref name="Added"/> (addresses of virtual_ipaddress and virtual_ipaddress_excluded), and
/// bring what else comes with the VIPs (address options, virtual routes and rules) in line with the
/// new configuration. The addresses in both lists stay where they are.
/// </summary>
public sealed record ChangeVips(IReadOnlyList<IPAddress> Added, IReadOnlyList<IPAddress> Removed) : VrrpAction;

public sealed record ArmTimer(VrrpTimerKind Kind, TimeSpan At) : VrrpAction;

public sealed record CancelTimer(VrrpTimerKind Kind) : VrrpAction;

/// <summary>What a notify script / FIFO line reports.</summary>
public enum VrrpNotifyState
{
    Master,
    Backup,
    Fault,
    Stop,
    /// <summary><c>notify_master_rx_lower_pri</c>: a master heard a lower-priority advert.</summary>
    MasterRxLowerPriority,
    /// <summary>The instance was removed by a reload (<c>notify_deleted</c>; keepalived reports FAULT without it).</summary>
    Deleted,
}

public sealed record RunNotify(VrrpNotifyState State, byte Priority) : VrrpAction;

public enum VrrpTransitionReason
{
    Startup,
    MasterDownTimerExpired,
    PriorityZeroReceived,
    HigherPriorityAdvert,
    AddressOwner,
    InterfaceDown,
    InterfaceUp,
    TrackerFault,
    TrackerRecovered,
    NoSourceAddress,
    SourceAddressRestored,
    SyncGroup,
    Shutdown,
}

/// <summary>A state change, for the log line "VI_1: BACKUP -> MASTER (reason)" and the transition counter.</summary>
public sealed record LogTransition(VrrpStateKind From, VrrpStateKind To, VrrpTransitionReason Reason) : VrrpAction;

/// <summary>
/// Split brain seen: as MASTER we heard another master. If it loses the election (lower priority,
/// or equal priority and a lower address) we re-advertise so it steps down; if it wins we step
/// down. Either way this names it for the log ("other master at X"), a metric and an event.
/// </summary>
public sealed record OtherMasterDetected(IPAddress Address, byte Priority) : VrrpAction;

/// <summary>A received packet was refused; its counter is already incremented in the state.</summary>
public sealed record PacketRejected(VrrpRejectReason Reason, IPAddress? Source) : VrrpAction;

/// <summary>An accepted advert whose address list differs from ours (counted as addr_list_err).</summary>
public sealed record AddressListMismatch(IPAddress? Source, IReadOnlyList<IPAddress> Received) : VrrpAction;

/// <summary>The effective priority changed (trackers).</summary>
public sealed record PriorityChanged(byte From, byte To) : VrrpAction;

/// <summary>Informational protocol event worth a log line (lower-priority advert discarded, ...).</summary>
public sealed record LogNote(string Message) : VrrpAction;
