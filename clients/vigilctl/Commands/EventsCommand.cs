using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Check.V1;
using Vigil.Control.V1;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl events [-f] [--after SEQ] [--json]`: controld's event stream (WatchEvents), one line
/// per event with its sequence number: the snapshot (or the replay after --after), then with -f
/// whatever happens, until Ctrl-C. A controld that restarts while followed is reconnected to and
/// the stream resumes after the last sequence seen (from a new snapshot when it is a new controld,
/// whose numbers begin again).
/// </summary>
internal static class EventsCommand
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var json = GlobalOptions.Json();
        json.Description = "print each event as one line of JSON";
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing events as they happen (Ctrl-C stops)" };
        var after = new Option<ulong>("--after") { Description = "resume after this sequence number: only later events, no snapshot", HelpName = "SEQ" };
        var command = new Command("events", "print the node's events (VRRP transitions, checks, real servers, reloads, restarts) with their sequence numbers") { follow, after, json };
        command.SetAction(async (r, token) =>
        {
            try
            {
                return await RunAsync(r, r.GetValue(follow), r.GetValue(after), r.GetValue(json), token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl-C: following ends here.
            }
            catch (IOException)
            {
                return ExitCodes.Ok; // stdout closed (| head): nobody reads any more.
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult r, bool follow, ulong after, bool json, CancellationToken token)
    {
        var socket = GlobalOptions.Socket(r, "controld");
        var formatter = new JsonFormatter(JsonFormatter.Settings.Default);
        ulong epoch = 0; // which controld's journal `after` belongs to
        var connected = false;
        while (true)
        {
            if (!File.Exists(socket))
            {
                if (!follow || !connected)
                {
                    Console.Error.WriteLine($"vigilctl: vigil-controld is not running (no {socket})");
                    return ExitCodes.Unavailable;
                }
                await Task.Delay(RetryEvery, token);
                continue;
            }
            using var channel = UnixChannel.Open(socket);
            var client = new ControlService.ControlServiceClient(channel.Invoker);
            try
            {
                if (connected) Console.Error.WriteLine($"vigilctl: reconnected to vigil-controld, resuming after {after}");
                // A controld that restarted meanwhile sees another epoch and answers with a snapshot.
                using var call = client.WatchEvents(new WatchEventsRequest { AfterSequence = after, Epoch = epoch }, new CallOptions(cancellationToken: token));
                await foreach (var e in call.ResponseStream.ReadAllAsync(token))
                {
                    connected = true;
                    epoch = e.Epoch;
                    if (e.EventsLost is { JournalRestarted: true })
                        Console.Error.WriteLine("vigilctl: vigil-controld restarted; its sequence numbers begin again: a new snapshot follows");
                    if (e.EventCase != WatchEventsResponse.EventOneofCase.CaughtUp || json)
                    {
                        Console.Out.WriteLine(json ? formatter.Format(e) : Format(e));
                    }
                    if (e.EventCase is not (WatchEventsResponse.EventOneofCase.Snapshot or WatchEventsResponse.EventOneofCase.CaughtUp or WatchEventsResponse.EventOneofCase.EventsLost))
                        after = Math.Max(after, e.Sequence);
                    else if (e.EventCase == WatchEventsResponse.EventOneofCase.Snapshot)
                        after = e.Sequence;
                    if (e.EventCase == WatchEventsResponse.EventOneofCase.CaughtUp && !follow) return ExitCodes.Ok;
                }
                // The stream ended without an error: controld is stopping.
                if (!follow) return ExitCodes.Unavailable;
                Console.Error.WriteLine("vigilctl: vigil-controld ended the stream; reconnecting");
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !token.IsCancellationRequested)
            {
                if (!follow || !connected || e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.DeadlineExceeded))
                {
                    Console.Error.WriteLine($"vigilctl: cannot watch the events: {ControlCall.Describe(e)}");
                    return ExitCodes.FromStatus(e.StatusCode);
                }
                Console.Error.WriteLine($"vigilctl: lost vigil-controld ({ControlCall.StatusName(e.StatusCode)}); reconnecting");
            }
            catch (RpcException) { throw new OperationCanceledException(token); }
            await Task.Delay(RetryEvery, token);
        }
    }

    /// <summary>One line: "SEQ TIME KIND details", the time as UTC with milliseconds.</summary>
    public static string Format(WatchEventsResponse e)
    {
        var time = e.Time is null ? "-" : e.Time.ToDateTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        return $"{e.Sequence} {time} {Kind(e.EventCase)} {Details(e)}".TrimEnd();
    }

    /// <summary>The oneof field's name, as --json names it in snake case: "vrrp_transition".</summary>
    public static string Kind(WatchEventsResponse.EventOneofCase c) =>
        string.Concat(c.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    private static string Details(WatchEventsResponse e) => e.EventCase switch
    {
        WatchEventsResponse.EventOneofCase.Snapshot =>
            $"instances={e.Snapshot.Instances.Count} virtual_servers={e.Snapshot.VirtualServers.Count} lvs_services={e.Snapshot.LvsServices.Count} daemons={e.Snapshot.Daemons.Count}"
            + string.Concat(e.Snapshot.Instances.Select(i => $" {i.Name}={StatusCommand.State(i.State)}")),
        WatchEventsResponse.EventOneofCase.CaughtUp => "",
        WatchEventsResponse.EventOneofCase.EventsLost => e.EventsLost.JournalRestarted ? "controld restarted: count unknown" : $"count={e.EventsLost.Count}",
        WatchEventsResponse.EventOneofCase.VrrpTransition =>
            $"{e.VrrpTransition.Instance?.Name} {StatusCommand.State(e.VrrpTransition.From)} -> {StatusCommand.State(e.VrrpTransition.To)}" + Reason(e.VrrpTransition.Reason),
        WatchEventsResponse.EventOneofCase.VrrpOtherMaster => $"{e.VrrpOtherMaster.Instance} master {e.VrrpOtherMaster.Address} priority {e.VrrpOtherMaster.Priority}",
        WatchEventsResponse.EventOneofCase.VrrpPriorityChange => $"{e.VrrpPriorityChange.Instance} priority {e.VrrpPriorityChange.From} -> {e.VrrpPriorityChange.To}",
        WatchEventsResponse.EventOneofCase.CheckerResult =>
            $"{e.CheckerResult.VirtualServerName} {Endpoint(e.CheckerResult.RealServer)} {e.CheckerResult.Checker?.Keyword} {(e.CheckerResult.Checker?.Up == true ? "up" : "down")}",
        WatchEventsResponse.EventOneofCase.RealServerUpdated => $"{e.RealServerUpdated.VirtualServerName} {RealServer(e.RealServerUpdated.RealServer)}",
        WatchEventsResponse.EventOneofCase.VirtualServerUpdated =>
            $"{e.VirtualServerUpdated.Name} quorum {(e.VirtualServerUpdated.QuorumUp ? "up" : "down")} real_servers={e.VirtualServerUpdated.RealServers.Count}",
        WatchEventsResponse.EventOneofCase.VirtualServerRemoved => e.VirtualServerRemoved.Name,
        WatchEventsResponse.EventOneofCase.RealServerRemoved => $"{e.RealServerRemoved.VirtualServerName} {Endpoint(e.RealServerRemoved.RealServer)}",
        WatchEventsResponse.EventOneofCase.LvsTableChanged => string.Join("; ", e.LvsTableChanged.Changes),
        WatchEventsResponse.EventOneofCase.DaemonRestarted =>
            $"{e.DaemonRestarted.Name} pid {e.DaemonRestarted.Pid} restarts {e.DaemonRestarted.Restarts}" + Reason(e.DaemonRestarted.Reason),
        WatchEventsResponse.EventOneofCase.ConfigReloaded => ConfigReloaded(e.ConfigReloaded),
        _ => "",
    };

    private static string ConfigReloaded(Control.V1.ConfigReloaded c) =>
        (c.Refused ? "refused" : "applied") + $" {c.ConfigFile} changes={c.Changes.Count}"
        + (c.Changes.Count > 0 ? ": " + string.Join("; ", c.Changes) : "")
        + (c.Errors.Count > 0 ? " errors: " + string.Join("; ", c.Errors) : "");

    private static string Reason(string reason) => reason.Length > 0 ? $" ({reason})" : "";

    internal static string RealServer(Check.V1.RealServer? rs) => rs is null ? "-" :
        $"{Endpoint(rs.Endpoint)} {(rs.Health == Health.Up ? "up" : rs.Health == Health.Down ? "down" : "?")} weight {rs.EffectiveWeight}"
        + (rs.Drained ? " drained" : "") + (rs.InPool ? "" : " (out of pool)");

    internal static string Endpoint(Check.V1.Endpoint? e) => e is null ? "-" :
        e.Address.Contains(':', StringComparison.Ordinal) ? $"[{e.Address}]:{e.Port}" : $"{e.Address}:{e.Port}";
}
