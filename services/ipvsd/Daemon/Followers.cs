using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Check.V1;
using Vigil.Client;
using Vigil.Ipvsd.Engine;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Ipvsd.Daemon;

/// <summary>
/// Follows one of the node's daemons by its server stream and feeds the reconciler, reconnecting
/// when the daemon restarts or starts late. Following the daemons directly (instead of relaying
/// through controld) means a controld restart never stalls a health change.
/// </summary>
internal abstract partial class Follower : IAsyncDisposable
{
    private readonly string _socketPath;
    private readonly TimeSpan _retry;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _disposed;

    protected Follower(string socketPath, ILogger logger, TimeSpan? retry)
    {
        _socketPath = socketPath;
        _logger = logger;
        _retry = retry ?? TimeSpan.FromMilliseconds(500);
    }

    protected readonly ILogger _logger;

    public bool Connected { get; protected set; }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    protected abstract Task FollowAsync(UnixChannel channel, CancellationToken stopping);

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (File.Exists(_socketPath))
                {
                    using var channel = UnixChannel.Open(_socketPath);
                    await FollowAsync(channel, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or IOException or System.Net.Sockets.SocketException or HttpRequestException)
            {
                if (Connected) LogLost(_socketPath, e.Message);
            }
            Connected = false;
            try
            {
                await Task.Delay(_retry, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 620, Level = LogLevel.Warning, Message = "lost {Socket} ({Reason}); the last state heard stays programmed until it is back")]
    protected partial void LogLost(string socket, string reason);
}

/// <summary>checkd's destination sets (WatchCheckResults): the snapshot replaces all, then each change.</summary>
internal sealed partial class CheckdFollower(Reconciler reconciler, string socketPath, ILogger logger, TimeSpan? retry = null)
    : Follower(socketPath, logger, retry)
{
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
    : Follower(socketPath, logger, retry)
{
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
