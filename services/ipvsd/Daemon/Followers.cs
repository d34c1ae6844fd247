using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Check.V1;
using Vigil.Client;
using Vigil.Ipvsd.Engine;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Ipvsd.Daemon;

// ipvsd follows checkd and vrrpd itself, not through controld: a controld restart never stalls
// a health change on its way to the kernel.

/// <summary>checkd's destination sets (WatchCheckResults): the snapshot replaces all, then each change.</summary>
internal sealed partial class CheckdFollower(Reconciler reconciler, string socketPath, ILogger logger, TimeSpan? retry = null)
    : StreamFollower(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
{
    private readonly ILogger _logger = logger;

    protected override void OnLost(string reason) => Log.Lost(_logger, SocketPath, reason);

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var snapshot = new List<DestinationSet>();
        using var watch = new CheckService.CheckServiceClient(channel.Invoker).WatchCheckResults(new WatchCheckResultsRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case WatchCheckResultsResponse.EventOneofCase.Snapshot when e.Snapshot.Destinations is not null:
                    snapshot.Add(e.Snapshot.Destinations);
                    break;
                case WatchCheckResultsResponse.EventOneofCase.EndOfSnapshot:
                    reconciler.SetDestinations(snapshot, replaceAll: true);
                    Connected = true;
                    LogFollowing(snapshot.Count);
                    break;
                case WatchCheckResultsResponse.EventOneofCase.DestinationsChanged:
                    reconciler.SetDestinations([e.DestinationsChanged], replaceAll: false);
                    break;
                case WatchCheckResultsResponse.EventOneofCase.VirtualServerRemoved:
                    reconciler.RemoveDestinations(e.VirtualServerRemoved.Key);
                    break;
            }
        }
    }

    [LoggerMessage(EventId = 621, Level = LogLevel.Information, Message = "following vigil-checkd's destination sets: {Count} virtual servers")]
    private partial void LogFollowing(int count);
}

/// <summary>vrrpd's instances (WatchInstances): which are MASTER here, for lvs_sync_daemon.</summary>
internal sealed partial class VrrpFollower(Reconciler reconciler, string socketPath, ILogger logger, TimeSpan? retry = null)
    : StreamFollower(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
{
    private readonly ILogger _logger = logger;

    protected override void OnLost(string reason) => Log.Lost(_logger, SocketPath, reason);

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var states = new Dictionary<string, bool>(StringComparer.Ordinal);
        var inSnapshot = true;
        using var watch = new VrrpService.VrrpServiceClient(channel.Invoker).WatchInstances(new WatchInstancesRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case WatchInstancesResponse.EventOneofCase.Snapshot when inSnapshot:
                    states[e.Snapshot.Name] = e.Snapshot.State == InstanceState.Master;
                    break;
                case WatchInstancesResponse.EventOneofCase.EndOfSnapshot:
                    inSnapshot = false;
                    Connected = true;
                    reconciler.SetVrrpStates(new Dictionary<string, bool>(states, StringComparer.Ordinal));
                    break;
                case WatchInstancesResponse.EventOneofCase.Transition:
                    var master = e.Transition.Instance.State == InstanceState.Master;
                    if (states.TryGetValue(e.Transition.Instance.Name, out var was) && was == master) break;
                    states[e.Transition.Instance.Name] = master;
                    LogTransition(e.Transition.Instance.Name, e.Transition.To.ToString());
                    reconciler.SetVrrpStates(new Dictionary<string, bool>(states, StringComparer.Ordinal));
                    break;
            }
        }
    }

    [LoggerMessage(EventId = 622, Level = LogLevel.Information, Message = "vrrp instance {Instance} is {State}")]
    private partial void LogTransition(string instance, string state);
}

/// <summary>What both followers log when the daemon they follow goes away.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 620, Level = LogLevel.Warning, Message = "lost {Socket} ({Reason}); the last state heard stays programmed until it is back")]
    public static partial void Lost(ILogger logger, string socket, string reason);
}
