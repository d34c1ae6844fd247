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
internal sealed partial class VrrpFollower : IAsyncDisposable
{
    private readonly CheckEngine _engine;
    private readonly string _socketPath;
    private readonly ILogger _logger;
    private readonly TimeSpan _retryInterval;
    private readonly object _gate = new();
    private CancellationTokenSource? _cts;
    private Task? _loop;

    public VrrpFollower(CheckEngine engine, string socketPath, ILogger logger, TimeSpan? retryInterval = null)
    {
        _engine = engine;
        _socketPath = socketPath;
        _logger = logger;
        _retryInterval = retryInterval ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>Whether an instance stream is established (tests and diagnostics).</summary>
    public bool Connected { get; private set; }

    /// <summary>Starts following (idempotent) or stops and forgets vrrpd's instances.</summary>
    public void SetEnabled(bool enabled)
    {
        lock (_gate)
        {
            if (enabled && _loop is null)
            {
                _cts = new CancellationTokenSource();
                var token = _cts.Token;
                _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
            }
            else if (!enabled && _loop is not null)
            {
                _ = StopAsync();
            }
        }
    }

    public async Task StopAsync()
    {
        Task? loop;
        CancellationTokenSource? cts;
        lock (_gate)
        {
            (loop, cts, _loop, _cts) = (_loop, _cts, null, null);
        }
        if (loop is null || cts is null) return;
        await cts.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        cts.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task RunAsync(CancellationToken stopping)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (File.Exists(_socketPath))
                {
                    await FollowAsync(known, stopping).ConfigureAwait(false);
                }
            }
            catch (RpcException e)
            {
                if (Connected) LogLost(_socketPath, e.Status.Detail);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (CheckdUnavailableException)
            {
                return; // the engine stopped
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or HttpRequestException)
            {
                if (Connected) LogLost(_socketPath, e.Message);
            }
            Connected = false;
            if (known.Count > 0)
            {
                // vrrpd is gone: its instances say nothing any more; the host's addresses decide.
                known.Clear();
                try
                {
                    await _engine.ClearVrrpInstancesAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (CheckdUnavailableException)
                {
                    return;
                }
            }
            try
            {
                await Task.Delay(_retryInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Connected = false;
        if (known.Count > 0)
        {
            // Following stopped (ha_suspend removed by a reload, or shutdown): leave no instance
            // behind that a later follower would not know to remove.
            try
            {
                await _engine.ClearVrrpInstancesAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (CheckdUnavailableException)
            {
            }
        }
    }

    private async Task FollowAsync(HashSet<string> known, CancellationToken stopping)
    {
        using var channel = UnixChannel.Open(_socketPath);
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
                    LogFollowing(_socketPath, snapshot.Count, snapshot.Values.Count(s => s.IsMaster));
                    break;
                case WatchInstancesResponse.EventOneofCase.Transition:
                    var state = ToState(e.Transition.Instance);
                    await _engine.SetVrrpInstanceStateAsync(state, stopping).ConfigureAwait(false);
                    known.Add(state.Name);
                    LogTransition(state.Name, e.Transition.To.ToString(), string.Join(",", state.VirtualAddresses));
                    break;
            }
        }
        if (Connected) LogLost(_socketPath, "the stream ended");
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
