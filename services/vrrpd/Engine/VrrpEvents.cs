using System.Net;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>Something that happened to an instance; the input of <see cref="VrrpInstanceMachine.Step"/>.</summary>
public abstract record VrrpEvent;

/// <summary>The instance starts (RFC "Startup event").</summary>
/// <param name="SourceAddress">the address adverts go out from (unicast_src_ip or the interface's
/// primary address); null when the interface has none, which is a fault.</param>
public sealed record StartupEvent(IPAddress? SourceAddress, bool InterfaceUp) : VrrpEvent;

/// <summary>A timer armed by <see cref="ArmTimer"/> fired. Stale expiries are ignored.</summary>
public sealed record TimerExpiredEvent(VrrpTimerKind Kind) : VrrpEvent;

/// <summary>A packet for this instance's VRID arrived; the machine checks it and counts rejects.</summary>
public sealed record AdvertReceivedEvent(VrrpReceivedPacket Packet) : VrrpEvent;

/// <summary>The instance's interface went down or came up.</summary>
public sealed record InterfaceStateChangedEvent(bool Up) : VrrpEvent;

/// <summary>The source address changed (address added or removed on the interface).</summary>
public sealed record SourceAddressChangedEvent(IPAddress? Address) : VrrpEvent;

/// <summary>
/// Tracker results changed: the sum of weights now in effect and the number of failed weight-0
/// trackers (see <see cref="TrackerAggregate"/>).
/// </summary>
public sealed record TrackersChangedEvent(int WeightSum, int FaultCount) : VrrpEvent;

/// <summary>Send the gratuitous ARPs / NAs again now (operator request), if master.</summary>
public sealed record SendGarpRequestedEvent : VrrpEvent;

/// <summary>Clean stop: a master sends priority 0 and releases its VIPs.</summary>
/// <param name="Deleted">the instance is leaving the configuration (reload), not the daemon
/// stopping: the notify is DELETED instead of STOP.</param>
public sealed record ShutdownEvent(bool Deleted = false) : VrrpEvent;

/// <summary>
/// Reload: the instance's configuration changed in ways applied in place (priority, VIPs,
/// advert_int, preemption, GARP settings, authentication...); its identity (interface, VRID,
/// family, addressing) is the same. The state carries on: a master stays master.
/// </summary>
public sealed record ConfigChangedEvent(VrrpInstanceConfig Config) : VrrpEvent;

/// <summary>
/// Operator request: use <paramref name="Priority"/> instead of the configured priority (null:
/// back to the configured one), applied as a reload with that priority would be.
/// </summary>
public sealed record PriorityOverrideEvent(byte? Priority) : VrrpEvent;

/// <summary>Sync group: go MASTER together with the group.</summary>
public sealed record SyncGotoMasterEvent : VrrpEvent;

/// <summary>Sync group: go BACKUP because a member did (or the group left FAULT).</summary>
public sealed record SyncGotoBackupEvent : VrrpEvent;

/// <summary>Sync group: go FAULT because a member did.</summary>
public sealed record SyncGotoFaultEvent : VrrpEvent;
