using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Policy;

/// <summary>Which configured script a pool change runs.</summary>
public enum ScriptRole
{
    NotifyUp,
    NotifyDown,
    QuorumUp,
    QuorumDown,
}

/// <summary>Run a notify script (keepalived passes no arguments; Vigil adds environment variables).</summary>
public sealed record ScriptAction(NotifyScript Script, ScriptRole Role, VirtualServerKey VirtualServer, RealServerKey? RealServer, bool Stopping);

/// <summary>The three kinds of checker mail (keepalived's SMTP_MSG_RS, SMTP_MSG_VS, SMTP_MSG_RS_SHUT).</summary>
public enum AlertKind
{
    RealServer,
    VirtualServer,
    RealServerShutdown,
}

/// <summary>Send a mail; the subject is built from these by the alert formatter.</summary>
public sealed record AlertAction(AlertKind Kind, VirtualServerKey VirtualServer, RealServerKey? RealServer, string State, string Body);

/// <summary>A line for the log.</summary>
public sealed record LogLine(bool Warning, string Message);

/// <summary>What a pool change asks the engine to do, and what it changed.</summary>
public sealed class PoolEffects
{
    public List<ScriptAction> Scripts { get; } = [];
    public List<AlertAction> Alerts { get; } = [];
    public List<LogLine> Logs { get; } = [];
    public HashSet<RealServerKey> ChangedRealServers { get; } = [];
    public bool VirtualServerChanged { get; set; }

    /// <summary>Real servers that joined or left the pool.</summary>
    public int ServerTransitions { get; set; }

    /// <summary>Quorum gained or lost.</summary>
    public int QuorumTransitions { get; set; }

    public void Log(string message) => Logs.Add(new LogLine(false, message));

    /// <summary>Empties the effects so the instance can be reused.</summary>
    public void Clear()
    {
        Scripts.Clear();
        Alerts.Clear();
        Logs.Clear();
        ChangedRealServers.Clear();
        VirtualServerChanged = false;
        ServerTransitions = 0;
        QuorumTransitions = 0;
    }

    /// <summary>Anything to log, run or send.</summary>
    public bool HasWork => Logs.Count > 0 || Scripts.Count > 0 || Alerts.Count > 0 || ServerTransitions > 0 || QuorumTransitions > 0;
}

/// <summary>A destination ipvsd should have in a virtual service.</summary>
public enum DestinationRole
{
    RealServer,
    SorryServer,
}

public sealed record DesiredDestination(System.Net.IPAddress Address, ushort Port, int Weight, DestinationRole Role)
{
    public RealServerKey Key => new(Address, Port);
}

/// <summary>The destinations a virtual server should have, with their weights.</summary>
public sealed record DesiredVirtualServer(VirtualServerKey Key, EquatableArray<DesiredDestination> Destinations, bool QuorumUp, bool SorryServerActive);

/// <summary>
/// keepalived's pool logic (keepalived/check/ipwrapper.c) as operations on the pool state that
/// return their effects as data (scripts to run, mails, log lines) instead of performing them:
/// a real server is alive while none of its checkers fails; the quorum is gained when the live
/// weight reaches quorum + hysteresis and lost when it falls below quorum - hysteresis (or to 0);
/// losing it swaps the real servers for the sorry server; inhibit_on_failure keeps a failed
/// server with weight 0. No I/O and no clock: the engine passes the time in.
/// </summary>
public static class PoolPolicy
{
    /// <summary>Starts a virtual server (init_service_vs): real servers with no failed checker
    /// go live, then the quorum is evaluated as at start-up.</summary>
    public static void Start(VirtualServerState vs, IEnumerable<RealServerState> newServers, bool realServerInitNotifies, DateTimeOffset now, PoolEffects effects)
    {
        foreach (var rs in newServers)
        {
            if (rs.FailedCheckers == 0 && !rs.Alive)
            {
                rs.Alive = true;
                rs.LastChange = now;
                effects.ChangedRealServers.Add(rs.Key);
                if (realServerInitNotifies) Notify(vs, rs, stopping: false, effects);
            }
        }
        UpdateQuorum(vs, init: true, now, effects);
        effects.VirtualServerChanged = true;
    }

    /// <summary>Applies a checker's decision (update_svr_checker_state and the checker's mail).</summary>
    public static void OnCheckerDecision(VirtualServerState vs, RealServerState rs, CheckerSlot slot, CheckerDecision decision,
        CheckResultInfo result, bool noCheckerEmails, DateTimeOffset now, PoolEffects effects)
    {
        var oldRealWeight = rs.RealWeight;
        var rsWasAlive = rs.Alive;
        slot.State = decision.State;

        if (decision.WeightChanged && rs.RealWeight != oldRealWeight)
        {
            effects.Log($"Changing weight from {oldRealWeight} to {rs.RealWeight} for {(rs.Alive ? "" : "in")}active service {rs.Key.Format(vs.Key.Protocol)} of VS {vs.Key}");
            effects.ChangedRealServers.Add(rs.Key);
        }

        if (decision.Transition != CheckerTransition.None)
        {
            var alive = rs.FailedCheckers == 0;
            if (alive != rs.Alive)
            {
                rs.Reason = result.Reason;
                SetServerState(vs, rs, alive, now, effects);
            }
            effects.ChangedRealServers.Add(rs.Key);
        }
        else if (decision.FirstResultConfirmed && (slot.Timing.Alpha || !slot.State.Up))
        {
            // keepalived runs the notifier when the first result confirms a down (or alpha) state.
            Notify(vs, rs, stopping: false, effects);
        }

        if (decision.WeightChanged || decision.Transition != CheckerTransition.None)
        {
            UpdateQuorum(vs, init: false, now, effects);
        }

        // keepalived's FILE_CHECK sends no mail (track_file changes are not checker events).
        if (decision.Transition != CheckerTransition.None && slot.Config.Type != CheckType.File && rs.SmtpAlert && (rsWasAlive != rs.Alive || !noCheckerEmails))
        {
            var up = decision.Transition == CheckerTransition.Up;
            effects.Alerts.Add(new AlertAction(AlertKind.RealServer, vs.Key, rs.Key, rs.Alive ? "UP" : "DOWN",
                AlertTexts.CheckerBody(slot.Config.Type, up, result)));
        }
    }

    /// <summary>perform_svr_state: the real server joins or leaves the pool.</summary>
    public static void SetServerState(VirtualServerState vs, RealServerState rs, bool alive, DateTimeOffset now, PoolEffects effects)
    {
        if (rs.Alive == alive) return;
        var verb = alive ? (rs.Inhibit ? "Enabling" : "Adding") : (rs.Inhibit ? "Disabling" : "Removing");
        var preposition = rs.Inhibit ? "of" : alive ? "to" : "from";
        effects.Log($"{verb} service {rs.Key.Format(vs.Key.Protocol)} {preposition} VS {vs.Key}");
        rs.Alive = alive;
        rs.LastChange = now;
        effects.ChangedRealServers.Add(rs.Key);
        effects.ServerTransitions++;
        Notify(vs, rs, stopping: false, effects);
        UpdateQuorum(vs, init: false, now, effects);
    }

    /// <summary>A runtime weight change or drain (keepalived's update_svr_wgt).</summary>
    public static void OnWeightChanged(VirtualServerState vs, RealServerState rs, int oldRealWeight, DateTimeOffset now, PoolEffects effects)
    {
        if (rs.RealWeight == oldRealWeight) return;
        effects.Log($"Changing weight from {oldRealWeight} to {rs.RealWeight} for {(rs.Alive ? "" : "in")}active service {rs.Key.Format(vs.Key.Protocol)} of VS {vs.Key}");
        effects.ChangedRealServers.Add(rs.Key);
        UpdateQuorum(vs, init: false, now, effects);
    }

    /// <summary>update_quorum_state: gain or lose the quorum, swapping the sorry server.</summary>
    public static void UpdateQuorum(VirtualServerState vs, bool init, DateTimeOffset now, PoolEffects effects)
    {
        var config = vs.Config;
        var sum = vs.LiveWeight;
        var threshold = (long)config.Quorum + (vs.QuorumUp ? -1 : 1) * (long)config.Hysteresis;
        if (!vs.QuorumUp && sum >= threshold)
        {
            vs.QuorumUp = true;
            vs.LastChange = now;
            effects.VirtualServerChanged = true;
            effects.QuorumTransitions++;
            effects.Log($"Gained quorum {config.Quorum}+{config.Hysteresis}={threshold} <= {sum} for VS {vs.Key}");
            if (config.SorryServer is { } sorry && vs.SorryServerActive)
            {
                effects.Log($"{(sorry.Inhibit ? "Disabling" : "Removing")} sorry server {sorry.Key.Format(vs.Key.Protocol)} from VS {vs.Key}");
                vs.SorryServerActive = false;
                effects.Log($"Adding alive servers to the pool for VS {vs.Key}");
            }
            QuorumNotifies(vs, init, threshold, sum, stopping: false, effects);
        }
        else if ((vs.QuorumUp && (sum == 0 || sum < threshold))
                 || (init && !vs.QuorumUp && config.SorryServer is not null && !vs.SorryServerActive))
        {
            vs.QuorumUp = false;
            vs.LastChange = now;
            effects.VirtualServerChanged = true;
            effects.QuorumTransitions++;
            effects.Log($"{(init ? "Starting with quorum down" : "Lost quorum")} {config.Quorum}-{config.Hysteresis}={threshold} > {sum} for VS {vs.Key}");
            if (config.SorryServer is { } sorry && !vs.SorryServerActive)
            {
                effects.Log($"Removing alive servers from the pool for VS {vs.Key}");
                effects.Log($"{(sorry.Inhibit ? "Enabling" : "Adding")} sorry server {sorry.Key.Format(vs.Key.Protocol)} to VS {vs.Key}");
                vs.SorryServerActive = true;
            }
            QuorumNotifies(vs, init, threshold, sum, stopping: false, effects);
        }
    }

    /// <summary>A real server leaves the configuration (reload) or the daemon stops
    /// (clear_service_rs): a live one is taken down with its notifier and a mail, except at a
    /// shutdown without omega.</summary>
    public static void RemoveServer(VirtualServerState vs, RealServerState rs, bool stopping, DateTimeOffset now, PoolEffects effects)
    {
        effects.Log($"{(stopping ? "Shutting down" : "Removing")} {(rs.Inhibit && !rs.Alive ? "(inhibited) " : "")}service {rs.Key.Format(vs.Key.Protocol)} from VS {vs.Key}");
        if (!rs.Alive) return;
        rs.Alive = false;
        rs.LastChange = now;
        effects.ChangedRealServers.Add(rs.Key);
        if (stopping && !vs.Config.Omega) return;
        Notify(vs, rs, stopping, effects);
        if (rs.SmtpAlert)
        {
            effects.Alerts.Add(new AlertAction(AlertKind.RealServerShutdown, vs.Key, rs.Key, "DOWN", stopping ? "=> Shutting down <=" : "=> Removing <="));
        }
    }

    /// <summary>update_vs_notifies: after servers were removed (or at shutdown) the quorum can
    /// only be lost.</summary>
    public static void AfterRemoval(VirtualServerState vs, bool stopping, DateTimeOffset now, PoolEffects effects)
    {
        var threshold = (long)vs.Config.Quorum - vs.Config.Hysteresis;
        var sum = vs.LiveWeight;
        if (stopping || (vs.QuorumUp && (sum == 0 || sum < threshold)))
        {
            vs.QuorumUp = false;
            vs.LastChange = now;
            effects.VirtualServerChanged = true;
            QuorumNotifies(vs, init: false, threshold, sum, stopping, effects);
        }
    }

    /// <summary>do_vs_notifies: quorum_up / quorum_down and the virtual server mail.</summary>
    private static void QuorumNotifies(VirtualServerState vs, bool init, long threshold, long sum, bool stopping, PoolEffects effects)
    {
        if (stopping && !vs.Config.Omega) return;
        var script = vs.QuorumUp ? vs.Config.QuorumUp : vs.Config.QuorumDown;
        if (script is not null)
        {
            effects.Scripts.Add(new ScriptAction(script, vs.QuorumUp ? ScriptRole.QuorumUp : ScriptRole.QuorumDown, vs.Key, null, stopping));
        }
        if (vs.SmtpAlert)
        {
            var body = stopping
                ? "=> Shutting down <="
                : $"=> {(vs.QuorumUp ? (init ? "Starting with quorum up" : "Gained quorum") : (init ? "Starting with quorum down" : "Lost quorum"))} {vs.Config.Quorum}+{vs.Config.Hysteresis}={threshold} <= {sum} <=";
            effects.Alerts.Add(new AlertAction(AlertKind.VirtualServer, vs.Key, null, vs.QuorumUp ? "UP" : "DOWN", body));
        }
    }

    /// <summary>do_rs_notifies: the real server's notify_up or notify_down.</summary>
    private static void Notify(VirtualServerState vs, RealServerState rs, bool stopping, PoolEffects effects)
    {
        var script = rs.Alive ? rs.Config.NotifyUp : rs.Config.NotifyDown;
        if (script is not null)
        {
            effects.Scripts.Add(new ScriptAction(script, rs.Alive ? ScriptRole.NotifyUp : ScriptRole.NotifyDown, vs.Key, rs.Key, stopping));
        }
    }

    /// <summary>
    /// The destinations ipvsd should program: live real servers with their weight; failed ones
    /// with <c>inhibit_on_failure</c> at weight 0; while the sorry server is in use, only it
    /// (weight 1) plus inhibited servers at 0; a <c>sorry_server_inhibit</c> sorry server stays at
    /// weight 0 otherwise.
    /// </summary>
    public static DesiredVirtualServer Desired(VirtualServerState vs)
    {
        var list = new List<DesiredDestination>();
        var sorry = vs.Config.SorryServer;
        foreach (var rs in vs.RealServers)
        {
            if (sorry is not null && sorry.Key == rs.Key && vs.SorryServerActive) continue;
            if (rs.Alive && !vs.SorryServerActive) list.Add(new DesiredDestination(rs.Key.Address, rs.Key.Port, rs.RealWeight, DestinationRole.RealServer));
            else if (rs.Inhibit) list.Add(new DesiredDestination(rs.Key.Address, rs.Key.Port, 0, DestinationRole.RealServer));
        }
        if (sorry is not null && list.All(d => d.Key != sorry.Key))
        {
            if (vs.SorryServerActive) list.Add(new DesiredDestination(sorry.Address, sorry.Port, 1, DestinationRole.SorryServer));
            else if (sorry.Inhibit) list.Add(new DesiredDestination(sorry.Address, sorry.Port, 0, DestinationRole.SorryServer));
        }
        return new DesiredVirtualServer(vs.Key, list, vs.QuorumUp, vs.SorryServerActive);
    }
}

/// <summary>The bodies of keepalived's checker mails (the smtp_alert calls in check_*.c).</summary>
public static class AlertTexts
{
    public static string CheckerBody(CheckType type, bool up, CheckResultInfo result) => type switch
    {
        CheckType.Tcp => up ? "=> TCP CHECK succeed on service <=" : "=> TCP CHECK failed on service <=",
        CheckType.Udp => up ? "=> UDP CHECK succeed on service <=" : "=> UDP CHECK failed on service <=",
        CheckType.Ping => up ? "=> ICMP CHECK succeed on service <=" : "=> ICMP CHECK failed on service <=",
        CheckType.Http or CheckType.Ssl => up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service : HTTP/SSL request failed <=",
        CheckType.Smtp => up ? "=> CHECK succeed on service <=" : $"=> CHECK failed on service : {result.Reason} <=",
        CheckType.Dns => up ? "=> DNS_CHECK: succeed on service <=" : "=> DNS_CHECK: failed on service <=",
        CheckType.Misc => up ? "=> MISC CHECK succeeded on service <=" : result.TimedOut ? "=> MISC CHECK timed out on service <=" : "=> MISC CHECK failed on service <=",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "FILE_CHECK sends no mail"),
    };
}
