using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;

namespace Vigil.Checkd.Engine;

/// <summary>A checker as the API shows it.</summary>
public sealed record CheckerStatus(
    int Index,
    CheckType Type,
    string Keyword,
    string Target,
    bool Up,
    bool HasRun,
    bool Suspended,
    int RetryCount,
    int Retry,
    int ConsecutiveFailures,
    TimeSpan DelayLoop,
    CheckResultInfo? LastResult);

/// <summary>A real server as the API shows it: health, the last result's reason and latency,
/// weights, and what ipvsd is asked to program for it.</summary>
public sealed record RealServerStatus(
    VirtualServerKey VirtualServer,
    RealServerKey Key,
    bool Alive,
    bool InPool,
    int DesiredWeight,
    int ConfiguredWeight,
    int? WeightOverride,
    bool Drained,
    bool Inhibit,
    long EffectiveWeight,
    string Reason,
    TimeSpan? Latency,
    DateTimeOffset? LastChange,
    EquatableArray<CheckerStatus> Checkers);

/// <summary>A virtual server with its quorum state, real servers and desired destinations.</summary>
public sealed record VirtualServerStatus(
    VirtualServerKey Key,
    bool QuorumUp,
    long LiveWeight,
    uint Quorum,
    uint Hysteresis,
    bool SorryServerActive,
    bool Suspended,
    DateTimeOffset? LastChange,
    EquatableArray<RealServerStatus> RealServers,
    DesiredVirtualServer Desired);

/// <summary>Everything at one point of the engine's event sequence.</summary>
public sealed record CheckdSnapshot(long Sequence, DateTimeOffset At, EquatableArray<VirtualServerStatus> VirtualServers);

/// <summary>Monotonic counters for metrics and diagnostics.</summary>
public sealed record EngineCounters(
    long ProbesRun,
    long ProbeSuccesses,
    long ProbeFailures,
    long ProbeLocalErrors,
    long CheckerTransitions,
    long RealServerTransitions,
    long QuorumTransitions,
    long ScriptsRun,
    long ScriptsFailed,
    long AlertsQueued,
    long EventsPublished,
    long EventsDropped,
    long ConfigurationsApplied,
    long InternalErrors)
{
    /// <summary>Longest wait of a probe result for the engine loop (queueing behind others).</summary>
    public TimeSpan LoopLagMax { get; init; }

    /// <summary>Sum of those waits (divide by ProbesRun for the mean).</summary>
    public TimeSpan LoopLagTotal { get; init; }

    /// <summary>Longest delay between a checker's due time and its timer firing.</summary>
    public TimeSpan TimerLatenessMax { get; init; }

    /// <summary>Sum of those delays.</summary>
    public TimeSpan TimerLatenessTotal { get; init; }

    /// <summary>Replies from real servers that did not decode (DNS_CHECK answers).</summary>
    public long MalformedReplies { get; init; }
}

/// <summary>An event of the ordered change stream (<see cref="CheckEngine.WatchAsync"/>).</summary>
public abstract record CheckEvent(long Sequence, DateTimeOffset At);

/// <summary>A virtual server, whole (snapshot), or after its quorum, suspension or
/// configuration changed.</summary>
public sealed record VirtualServerUpdated(long Sequence, DateTimeOffset At, VirtualServerStatus Status) : CheckEvent(Sequence, At);

public sealed record VirtualServerRemoved(long Sequence, DateTimeOffset At, VirtualServerKey Key) : CheckEvent(Sequence, At);

/// <summary>A real server's health, weight or reason changed.</summary>
public sealed record RealServerUpdated(long Sequence, DateTimeOffset At, RealServerStatus Status) : CheckEvent(Sequence, At);

public sealed record RealServerRemoved(long Sequence, DateTimeOffset At, VirtualServerKey VirtualServer, RealServerKey Key) : CheckEvent(Sequence, At);

/// <summary>A checker's result differs from its previous one (outcome or reason), or it
/// changed state.</summary>
public sealed record CheckerResultReported(long Sequence, DateTimeOffset At, VirtualServerKey VirtualServer, RealServerKey RealServer,
    CheckerStatus Checker, CheckerTransition Transition) : CheckEvent(Sequence, At);

/// <summary>The destinations ipvsd should program for a virtual server changed.</summary>
public sealed record DestinationsChanged(long Sequence, DateTimeOffset At, DesiredVirtualServer Desired) : CheckEvent(Sequence, At);

/// <summary>Separates the snapshot from the changes that follow it.</summary>
public sealed record EndOfSnapshot(long Sequence, DateTimeOffset At) : CheckEvent(Sequence, At);

/// <summary>A VRRP instance's state as vrrpd's WatchInstances reports it (for ha_suspend).</summary>
public sealed record VrrpInstanceState(string Name, bool IsMaster, EquatableArray<System.Net.IPAddress> VirtualAddresses);

/// <summary>What applying a configuration did.</summary>
public sealed record ApplyResult(
    int VirtualServersAdded,
    int VirtualServersRemoved,
    int VirtualServersKept,
    int RealServersAdded,
    int RealServersRemoved,
    int CheckersKept,
    int CheckersStarted,
    EquatableArray<string> Warnings);
