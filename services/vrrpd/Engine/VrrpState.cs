using System.Collections.Immutable;
using System.Net;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Engine;

/// <summary>Instance states (RFC 3768 6.4 plus keepalived's FAULT and STOP).</summary>
public enum VrrpStateKind
{
    Init,
    Backup,
    Master,
    Fault,
    Stopped,
}

/// <summary>Why an instance cannot run (keepalived's flags_if_fault).</summary>
[Flags]
public enum VrrpFaults
{
    None = 0,
    InterfaceDown = 1,
    /// <summary>A tracked item with weight 0 has failed.</summary>
    Tracker = 2,
    /// <summary>No usable source address on the interface.</summary>
    NoSourceAddress = 4,
}

/// <summary>The instance timers. Only one of MasterDown (BACKUP) and Advert (MASTER) is armed.</summary>
public enum VrrpTimerKind
{
    MasterDown,
    Advert,
    /// <summary>The second burst of gratuitous ARPs, garp_master_delay after becoming master.</summary>
    GarpDelay,
    /// <summary>Periodic gratuitous ARPs while master (garp_master_refresh).</summary>
    GarpRefresh,
    /// <summary>Delayed burst after a lower-priority advert was heard (garp_lower_prio_delay).</summary>
    LowerPriorityGarp,
}

/// <summary>
/// Per-instance statistics; <see cref="ToDictionary"/> gives them under keepalived's names.
/// </summary>
public sealed record VrrpStatistics
{
    public static readonly VrrpStatistics Zero = new();

    private ImmutableArray<ulong> Values { get; init; } = ImmutableArray.Create(new ulong[Enum.GetValues<VrrpCounter>().Length]);

    public ulong this[VrrpCounter counter] => Values[(int)counter];

    public VrrpStatistics Increment(VrrpCounter counter) =>
        this with { Values = Values.SetItem((int)counter, Values[(int)counter] + 1) };

    public IReadOnlyDictionary<string, ulong> ToDictionary() =>
        Enum.GetValues<VrrpCounter>().ToDictionary(c => c.KeepalivedName(), c => this[c]);

    public bool Equals(VrrpStatistics? other) => other is not null && Values.SequenceEqual(other.Values);

    public override int GetHashCode() => Values.Aggregate(17, (h, v) => HashCode.Combine(h, v));

    public override string ToString() => string.Join(", ", ToDictionary().Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}"));
}

/// <summary>
/// The whole state of one instance: everything <see cref="VrrpInstanceMachine.Step"/> reads and
/// writes. Immutable; every step returns a new value.
/// </summary>
public sealed record VrrpInstanceState
{
    public required VrrpInstanceConfig Config { get; init; }

    public VrrpStateKind State { get; init; } = VrrpStateKind.Init;

    /// <summary>The state the instance would be in on its own (keepalived's wantstate).</summary>
    public VrrpStateKind WantState { get; init; } = VrrpStateKind.Init;

    /// <summary>Set when the master down timer expired in a sync group that was not ready to follow.</summary>
    public bool SyncMasterRequested { get; init; }

    public VrrpFaults Faults { get; init; }

    /// <summary>Sum of the tracker weights (scripts, interfaces, files...) now in effect.</summary>
    public int TrackerWeight { get; init; }
    public int TrackerFaults { get; init; }

    /// <summary>Priority used on the wire: base + weights, clamped to 1..254; 255 for an owner.</summary>
    public byte EffectivePriority { get; init; }

    /// <summary>
    /// A runtime priority (SetInstancePriority) that stands in for the configured one until it is
    /// cleared or the next reload; null: the configured priority.
    /// </summary>
    public byte? PriorityOverride { get; init; }

    /// <summary>The base priority in effect: the override, else the configured one.</summary>
    public byte BasePriority => PriorityOverride ?? Config.Priority;

    /// <summary>Master_Adver_Interval: our own interval, or a VRRPv3 master's while backup.</summary>
    public long MasterAdverIntervalMicros { get; init; }

    /// <summary>The master down timer value last armed (keepalived's ms_down_timer).</summary>
    public long MasterDownMicros { get; init; }

    public IPAddress? SourceAddress { get; init; }
    public IPAddress? MasterAddress { get; init; }
    public byte MasterPriority { get; init; }

    /// <summary>Until then lower-priority adverts are still accepted (preempt_delay).</summary>
    public TimeSpan? PreemptTime { get; init; }

    /// <summary>vrrp_startup_delay: received adverts are ignored and no advert is sent until then.</summary>
    public TimeSpan? DelayedStartUntil { get; init; }

    public bool VipsSet { get; init; }

    public ImmutableDictionary<VrrpTimerKind, TimeSpan> Timers { get; init; } = ImmutableDictionary<VrrpTimerKind, TimeSpan>.Empty;

    public VrrpStatistics Stats { get; init; } = VrrpStatistics.Zero;

    public TimeSpan LastTransition { get; init; }

    /// <summary>Why the next MASTER transition happens (for the log line).</summary>
    public VrrpTransitionReason NextMasterReason { get; init; } = VrrpTransitionReason.MasterDownTimerExpired;

    public TimeSpan? TimerDue(VrrpTimerKind kind) => Timers.TryGetValue(kind, out var at) ? at : null;

    public static VrrpInstanceState Initial(VrrpInstanceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new VrrpInstanceState
        {
            Config = config,
            EffectivePriority = config.Priority,
            MasterAdverIntervalMicros = config.AdvertIntervalMicros,
            WantState = config.InitialState,
        };
    }
}
