using System.Net;
using Microsoft.Extensions.Logging;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Checkd.Daemon;

/// <summary>
/// ha_suspend's source of truth when vrrpd runs: follows vigil-vrrpd's WatchInstances on
/// RUN_DIR/vrrpd.sock and feeds every instance's state (MASTER or not, its virtual addresses) to
/// the engine, so a virtual server's checks run only while an instance holding its address is
/// MASTER here. When vrrpd is not there or goes away, the engine forgets the instances and falls
/// back to the host's interface addresses (what keepalived's checker watches); the follower
/// reconnects when vrrpd comes back (a restart, or a vrrpd started after checkd).
/// </summary>
internal sealed partial class VrrpFollower : StreamFollower
{
    private readonly CheckEngine _engine;
    private readonly ILogger _logger;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public VrrpFollower(CheckEngine engine, string socketPath, ILogger logger, TimeSpan? retryInterval = null)
        : base(socketPath, retryInterval ?? TimeSpan.FromSeconds(1))
    {
        _engine = engine;
        _logger = logger;
    }

    /// <summary>
    /// Starts following (idempotent) or stops and forgets vrrpd's instances. Changes run in
    /// order, so a start after a stop waits until the old loop has forgotten its instances.
    /// </summary>
    public void SetEnabled(bool enabled)
    {
        lock (_known)
        {
            _transition = _transition.ContinueWith(async _ =>
            {
                if (enabled) Start();
                else await StopAsync().ConfigureAwait(false);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
        }
    }

    private Task _transition = Task.CompletedTask;

    protected override void OnLost(string reason) => LogLost(SocketPath, reason);

    /// <summary>The engine stopped: nothing left to feed.</summary>
    protected override bool EndsFollowing(Exception e) => e is CheckdUnavailableException;

    /// <summary>vrrpd is gone: its instances say nothing any more; the host's addresses decide.</summary>
    protected override Task OnDisconnectedAsync() => ForgetAsync();

    /// <summary>
    /// Following stopped (ha_suspend removed by a reload, or shutdown): leave no instance behind
    /// that a later follower would not know to remove.
    /// </summary>
    protected override async Task OnStoppedAsync()
    {
        try
        {
            await ForgetAsync().ConfigureAwait(false);
        }
        catch (CheckdUnavailableException)
        {
        }
    }

    private async Task ForgetAsync()
    {
        if (_known.Count == 0) return;
        _known.Clear();
        await _engine.ClearVrrpInstancesAsync(CancellationToken.None).ConfigureAwait(false);
    }

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var known = _known;
        var snapshot = new Dictionary<string, VrrpInstanceState>(StringComparer.Ordinal);
        var inSnapshot = true;
        using var watch = new VrrpService.VrrpServiceClient(channel.Invoker).WatchInstances(new WatchInstancesRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case WatchInstancesResponse.EventOneofCase.Snapshot when inSnapshot:
                    snapshot[e.Snapshot.Name] = ToState(e.Snapshot);
                    break;
                case WatchInstancesResponse.EventOneofCase.EndOfSnapshot:
                    inSnapshot = false;
                    // Set the new states before dropping the old ones, so ha_suspend never sees
                    // an empty set in between (which would fall back to the host's addresses).
                    foreach (var s in snapshot.Values) await _engine.SetVrrpInstanceStateAsync(s, stopping).ConfigureAwait(false);
                    foreach (var gone in known.Where(n => !snapshot.ContainsKey(n)).ToList())
                    {
                        await _engine.RemoveVrrpInstanceAsync(gone, stopping).ConfigureAwait(false);
                    }
                    known.Clear();
                    known.UnionWith(snapshot.Keys);
                    Connected = true;
                    LogFollowing(SocketPath, snapshot.Count, snapshot.Values.Count(s => s.IsMaster));
                    break;
                case WatchInstancesResponse.EventOneofCase.Transition:
                    var state = ToState(e.Transition.Instance);
                    await _engine.SetVrrpInstanceStateAsync(state, stopping).ConfigureAwait(false);
                    known.Add(state.Name);
                    LogTransition(state.Name, e.Transition.To.ToString(), string.Join(",", state.VirtualAddresses));
                    break;
            }
        }
    }

    /// <summary>An instance as ha_suspend needs it: MASTER or not, and its virtual addresses
    /// ("10.0.0.10" or "10.0.0.10/24"; anything else is skipped).</summary>
    public static VrrpInstanceState ToState(Instance instance)
    {
        var addresses = new List<IPAddress>();
        foreach (var text in instance.VirtualAddresses)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) addresses.Add(address);
        }
        return new VrrpInstanceState(instance.Name, instance.State == InstanceState.Master, addresses.ToEquatableArray());
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "ha_suspend follows vigil-vrrpd on {Socket}: {Count} instances, {Masters} MASTER")]
    private partial void LogFollowing(string socket, int count, int masters);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "vrrp instance {Instance} is {State} (addresses {Addresses})")]
    private partial void LogTransition(string instance, string state, string addresses);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "lost vigil-vrrpd on {Socket} ({Reason}); ha_suspend follows the host's addresses until it is back")]
    private partial void LogLost(string socket, string reason);
}
