using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Policy;

/// <summary>The last result a checker reported.</summary>
public sealed record CheckResultInfo(ProbeOutcome Outcome, string Reason, TimeSpan Latency, DateTimeOffset At)
{
    public bool Success => Outcome == ProbeOutcome.Success;

    /// <summary>MISC_CHECK: the script was killed for running too long.</summary>
    public bool TimedOut { get; init; }

    public static CheckResultInfo From(ProbeResult result, DateTimeOffset at) =>
        new(result.Outcome, result.Reason, result.Latency, at) { TimedOut = result.TimedOut };
}

/// <summary>One configured checker of a real server and its state. Owned by the engine loop.</summary>
public sealed class CheckerSlot
{
    public CheckerSlot(int index, CheckerConfig config, CheckerTiming timing, string target)
    {
        Index = index;
        Config = config;
        Timing = timing;
        Target = target;
        State = CheckerState.Initial(timing);
    }

    public int Index { get; set; }

    public CheckerConfig Config { get; }

    public CheckerTiming Timing { get; }

    /// <summary>What it checks, for humans: "[10.0.0.2]:80", "/usr/local/bin/check".</summary>
    public string Target { get; }

    public CheckerState State { get; set; }

    public CheckResultInfo? LastResult { get; set; }

    /// <summary>Runs since the service last passed (for display).</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>The probe is paused (ha_suspend while the virtual address is not held here).</summary>
    public bool Suspended { get; set; }

    public string Describe() => $"{Config.Keyword} {Target}";
}

/// <summary>A real server's state inside its virtual server. Owned by the engine loop.</summary>
public sealed class RealServerState
{
    public RealServerState(VirtualServerConfig vs, RealServerConfig config, bool smtpAlert)
    {
        Config = config;
        Inhibit = config.InhibitOnFailure ?? vs.InhibitOnFailure;
        ConfiguredWeight = config.Weight ?? vs.DefaultWeight;
        SmtpAlert = smtpAlert;
    }

    public RealServerConfig Config { get; set; }

    public RealServerKey Key => Config.Key;

    /// <summary>In the pool as far as health goes (keepalived's rs->alive).</summary>
    public bool Alive { get; set; }

    /// <summary><c>inhibit_on_failure</c>: kept with weight 0 instead of removed.</summary>
    public bool Inhibit { get; set; }

    public int ConfiguredWeight { get; set; }

    /// <summary>Weight set at runtime through the API (null: the configured one).</summary>
    public int? WeightOverride { get; set; }

    /// <summary>Drained at runtime: stays in the pool with weight 0.</summary>
    public bool Drained { get; set; }

    public bool SmtpAlert { get; set; }

    public List<CheckerSlot> Checkers { get; } = [];

    /// <summary>Why it last changed state (the reason of the check that took it down or up).</summary>
    public string Reason { get; set; } = "";

    public DateTimeOffset? LastChange { get; set; }

    public int FailedCheckers => Checkers.Count(c => !c.State.Up);

    public int BaseWeight => WeightOverride ?? ConfiguredWeight;

    /// <summary>keepalived's effective_weight: the base weight, replaced by misc_dynamic's
    /// status - 2 and adjusted by FILE_CHECK values; 0 while drained.</summary>
    public long EffectiveWeight
    {
        get
        {
            if (Drained) return 0;
            long weight = BaseWeight;
            foreach (var c in Checkers)
            {
                if (c.State.DynamicWeight is int dynamic) weight += dynamic - BaseWeight;
                weight += c.State.FileWeight;
            }
            return weight;
        }
    }

    /// <summary>The weight IPVS gets: the effective weight clamped at 0 (keepalived's real_weight).</summary>
    public int RealWeight => (int)Math.Clamp(EffectiveWeight, 0, int.MaxValue);
}

/// <summary>A virtual server's pool state. Owned by the engine loop.</summary>
public sealed class VirtualServerState
{
    public VirtualServerState(VirtualServerConfig config, bool smtpAlert)
    {
        Config = config;
        SmtpAlert = smtpAlert;
    }

    public VirtualServerConfig Config { get; set; }

    public VirtualServerKey Key => Config.Key;

    /// <summary>keepalived's quorum_state_up.</summary>
    public bool QuorumUp { get; set; }

    /// <summary>The sorry server is in the pool (quorum lost).</summary>
    public bool SorryServerActive { get; set; }

    /// <summary>ha_suspend: checks paused because this host does not hold the address.</summary>
    public bool Suspended { get; set; }

    public bool SmtpAlert { get; set; }

    public List<RealServerState> RealServers { get; } = [];

    public DateTimeOffset? LastChange { get; set; }

    /// <summary>keepalived's weigh_live_realservers: the real weights of the live servers.</summary>
    public long LiveWeight => RealServers.Where(r => r.Alive).Sum(r => (long)r.RealWeight);

    public RealServerState? Find(RealServerKey key) => RealServers.FirstOrDefault(r => r.Key == key);
}
