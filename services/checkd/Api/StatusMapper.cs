using System.Net;
using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;
using Proto = Vigil.Check.V1;

namespace Vigil.Checkd.Api;

/// <summary>The engine's status records and events -> vigil.check.v1 messages.</summary>
internal static class StatusMapper
{
    public static Proto.VirtualServerKey ToProto(VirtualServerKey key)
    {
        var result = new Proto.VirtualServerKey();
        switch (key.Kind)
        {
            case VirtualServerKind.Fwmark:
                result.Fwmark = key.Fwmark;
                return result;
            case VirtualServerKind.Group:
                result.Group = key.GroupName ?? "";
                break;
            default:
                result.Endpoint = Endpoint(key.Address ?? IPAddress.None, key.Port);
                break;
        }
        result.Protocol = key.Protocol switch
        {
            ServiceProtocol.Udp => Proto.Protocol.Udp,
            ServiceProtocol.Sctp => Proto.Protocol.Sctp,
            _ => Proto.Protocol.Tcp,
        };
        return result;
    }

    public static Proto.Endpoint Endpoint(IPAddress address, ushort port) => new() { Address = Text(address), Port = port };

    public static Proto.VirtualServer ToProto(VirtualServerStatus s)
    {
        var result = new Proto.VirtualServer
        {
            Key = ToProto(s.Key),
            Name = s.Key.ToString(),
            QuorumUp = s.QuorumUp,
            LiveWeight = s.LiveWeight,
            Quorum = s.Quorum,
            Hysteresis = s.Hysteresis,
            SorryServerActive = s.SorryServerActive,
            Suspended = s.Suspended,
            LastChange = Time(s.LastChange),
            Destinations = ToProto(s.Desired),
        };
        result.RealServers.AddRange(s.RealServers.Select(ToProto));
        return result;
    }

    public static Proto.RealServer ToProto(RealServerStatus s)
    {
        var latest = s.Checkers.Select(c => c.LastResult).OfType<CheckResultInfo>().MaxBy(r => r.At);
        var result = new Proto.RealServer
        {
            Endpoint = Endpoint(s.Key.Address, s.Key.Port),
            Name = s.Key.Format(s.VirtualServer.Protocol),
            Health = s.Alive ? Proto.Health.Up : Proto.Health.Down,
            InPool = s.InPool,
            DesiredWeight = s.DesiredWeight,
            ConfiguredWeight = s.ConfiguredWeight,
            Drained = s.Drained,
            InhibitOnFailure = s.Inhibit,
            EffectiveWeight = s.EffectiveWeight,
            Reason = s.Reason,
            LastResult = latest is null ? null : ToProto(latest),
            LastChange = Time(s.LastChange),
        };
        if (s.WeightOverride is int w) result.WeightOverride = w;
        result.Checkers.AddRange(s.Checkers.Select(ToProto));
        return result;
    }

    public static Proto.Checker ToProto(CheckerStatus c) => new()
    {
        Index = (uint)c.Index,
        Type = c.Type switch
        {
            CheckType.Tcp => Proto.CheckType.Tcp,
            CheckType.Http => Proto.CheckType.Http,
            CheckType.Ssl => Proto.CheckType.Ssl,
            CheckType.Smtp => Proto.CheckType.Smtp,
            CheckType.Dns => Proto.CheckType.Dns,
            CheckType.Misc => Proto.CheckType.Misc,
            CheckType.Ping => Proto.CheckType.Ping,
            CheckType.Udp => Proto.CheckType.Udp,
            CheckType.File => Proto.CheckType.File,
            _ => Proto.CheckType.Unspecified,
        },
        Keyword = c.Keyword,
        Target = c.Target,
        Up = c.Up,
        HasRun = c.HasRun,
        Suspended = c.Suspended,
        RetriesUsed = (uint)Math.Max(c.RetryCount, 0),
        Retry = (uint)Math.Max(c.Retry, 0),
        ConsecutiveFailures = (uint)Math.Max(c.ConsecutiveFailures, 0),
        DelayLoop = Duration.FromTimeSpan(c.DelayLoop),
        LastResult = c.LastResult is null ? null : ToProto(c.LastResult),
    };

    public static Proto.CheckResult ToProto(CheckResultInfo r) => new()
    {
        Outcome = r.Outcome switch
        {
            ProbeOutcome.Success => Proto.CheckOutcome.Success,
            ProbeOutcome.Failure => Proto.CheckOutcome.Failure,
            _ => Proto.CheckOutcome.LocalError,
        },
        Reason = r.Reason,
        Latency = Duration.FromTimeSpan(r.Latency),
        Time = Timestamp.FromDateTimeOffset(r.At),
        TimedOut = r.TimedOut,
    };

    public static Proto.DestinationSet ToProto(DesiredVirtualServer d)
    {
        var result = new Proto.DestinationSet
        {
            Key = ToProto(d.Key),
            Name = d.Key.ToString(),
            QuorumUp = d.QuorumUp,
            SorryServerActive = d.SorryServerActive,
        };
        result.Destinations.AddRange(d.Destinations.Select(x => new Proto.Destination
        {
            Endpoint = Endpoint(x.Address, x.Port),
            Weight = x.Weight,
            Role = x.Role == DestinationRole.SorryServer ? Proto.DestinationRole.SorryServer : Proto.DestinationRole.RealServer,
        }));
        return result;
    }

    public static Proto.ApplyConfigResponse ToProto(ApplyResult r)
    {
        var result = new Proto.ApplyConfigResponse
        {
            VirtualServersAdded = (uint)r.VirtualServersAdded,
            VirtualServersRemoved = (uint)r.VirtualServersRemoved,
            VirtualServersKept = (uint)r.VirtualServersKept,
            RealServersAdded = (uint)r.RealServersAdded,
            RealServersRemoved = (uint)r.RealServersRemoved,
            CheckersKept = (uint)r.CheckersKept,
            CheckersStarted = (uint)r.CheckersStarted,
        };
        result.Warnings.AddRange(r.Warnings);
        return result;
    }

    /// <summary>An event of the engine's stream; a <see cref="VirtualServerUpdated"/> before the
    /// end-of-snapshot marker is a snapshot message.</summary>
    public static Proto.WatchCheckResultsResponse ToProto(CheckEvent e, bool inSnapshot)
    {
        var r = new Proto.WatchCheckResultsResponse { Sequence = (ulong)Math.Max(e.Sequence, 0), Time = Timestamp.FromDateTimeOffset(e.At) };
        switch (e)
        {
            case VirtualServerUpdated u when inSnapshot:
                r.Snapshot = ToProto(u.Status);
                break;
            case VirtualServerUpdated u:
                r.VirtualServerUpdated = ToProto(u.Status);
                break;
            case EndOfSnapshot:
                r.EndOfSnapshot = new Proto.EndOfSnapshot();
                break;
            case CheckerResultReported c:
                r.CheckerResult = new Proto.CheckerResultReported
                {
                    VirtualServer = ToProto(c.VirtualServer),
                    VirtualServerName = c.VirtualServer.ToString(),
                    RealServer = Endpoint(c.RealServer.Address, c.RealServer.Port),
                    RealServerName = c.RealServer.Format(c.VirtualServer.Protocol),
                    Checker = ToProto(c.Checker),
                    Transition = c.Transition switch
                    {
                        CheckerTransition.Up => Proto.CheckerTransition.Up,
                        CheckerTransition.Down => Proto.CheckerTransition.Down,
                        _ => Proto.CheckerTransition.Unspecified,
                    },
                };
                break;
            case RealServerUpdated u:
                r.RealServerUpdated = new Proto.RealServerUpdated
                {
                    VirtualServer = ToProto(u.Status.VirtualServer),
                    VirtualServerName = u.Status.VirtualServer.ToString(),
                    RealServer = ToProto(u.Status),
                };
                break;
            case DestinationsChanged d:
                r.DestinationsChanged = ToProto(d.Desired);
                break;
            case VirtualServerRemoved v:
                r.VirtualServerRemoved = new Proto.VirtualServerRemoved { Key = ToProto(v.Key), Name = v.Key.ToString() };
                break;
            case RealServerRemoved rs:
                r.RealServerRemoved = new Proto.RealServerRemoved
                {
                    VirtualServer = ToProto(rs.VirtualServer),
                    VirtualServerName = rs.VirtualServer.ToString(),
                    RealServer = Endpoint(rs.Key.Address, rs.Key.Port),
                };
                break;
        }
        return r;
    }

    /// <summary>Counters for ListVirtualServers, under snake_case names.</summary>
    public static IEnumerable<KeyValuePair<string, ulong>> Counters(EngineCounters c)
    {
        static ulong U(long v) => (ulong)Math.Max(v, 0);
        yield return new("probes_run", U(c.ProbesRun));
        yield return new("probe_successes", U(c.ProbeSuccesses));
        yield return new("probe_failures", U(c.ProbeFailures));
        yield return new("probe_local_errors", U(c.ProbeLocalErrors));
        yield return new("checker_transitions", U(c.CheckerTransitions));
        yield return new("real_server_transitions", U(c.RealServerTransitions));
        yield return new("quorum_transitions", U(c.QuorumTransitions));
        yield return new("scripts_run", U(c.ScriptsRun));
        yield return new("scripts_failed", U(c.ScriptsFailed));
        yield return new("alerts_queued", U(c.AlertsQueued));
        yield return new("events_published", U(c.EventsPublished));
        yield return new("events_dropped", U(c.EventsDropped));
        yield return new("configurations_applied", U(c.ConfigurationsApplied));
        yield return new("internal_errors", U(c.InternalErrors));
        yield return new("malformed_replies", U(c.MalformedReplies));
    }

    private static Timestamp? Time(DateTimeOffset? t) => t is { } v ? Timestamp.FromDateTimeOffset(v) : null;

    /// <summary>An address as text, without the IPv6 scope suffix.</summary>
    private static string Text(IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 && a.ScopeId != 0 ? new IPAddress(a.GetAddressBytes()).ToString() : a.ToString();
}
