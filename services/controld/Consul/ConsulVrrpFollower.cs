using System.Net;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Client;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Consul;

/// <summary>
/// Follows vigil-vrrpd's WatchInstances for the Consul registration: after each snapshot and
/// each transition, hands the instances (MASTER or not, VRID, VIPs) to <c>onChange</c>. When
/// vrrpd goes away its instances are forgotten (nothing is MASTER that controld cannot see), so
/// the registrations go until vrrpd is followed again.
/// </summary>
public sealed partial class ConsulVrrpFollower : StreamFollower
{
    private readonly Action<IReadOnlyCollection<VrrpInstanceView>> _onChange;
    private readonly ILogger _logger;
    private readonly Dictionary<string, VrrpInstanceView> _instances = new(StringComparer.Ordinal);

    public ConsulVrrpFollower(string socketPath, Action<IReadOnlyCollection<VrrpInstanceView>> onChange, ILogger logger, TimeSpan? retry = null)
        : base(socketPath, retry ?? TimeSpan.FromMilliseconds(500))
    {
        _onChange = onChange;
        _logger = logger;
    }

    protected override async Task FollowAsync(UnixChannel channel, CancellationToken stopping)
    {
        var snapshot = new Dictionary<string, VrrpInstanceView>(StringComparer.Ordinal);
        var inSnapshot = true;
        using var watch = new VrrpService.VrrpServiceClient(channel.Invoker).WatchInstances(new WatchInstancesRequest(), cancellationToken: stopping);
        await foreach (var e in watch.ResponseStream.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            switch (e.EventCase)
            {
                case WatchInstancesResponse.EventOneofCase.Snapshot when inSnapshot:
                    snapshot[e.Snapshot.Name] = ToView(e.Snapshot);
                    break;
                case WatchInstancesResponse.EventOneofCase.EndOfSnapshot:
                    inSnapshot = false;
                    _instances.Clear();
                    foreach (var (k, v) in snapshot) _instances[k] = v;
                    Connected = true;
                    _onChange([.. _instances.Values]);
                    break;
                case WatchInstancesResponse.EventOneofCase.Transition:
                    var view = ToView(e.Transition.Instance);
                    _instances[view.Name] = view;
                    _onChange([.. _instances.Values]);
                    break;
            }
        }
    }

    protected override void OnLost(string reason) => LogLost(SocketPath, reason);

    protected override Task OnDisconnectedAsync()
    {
        if (_instances.Count > 0)
        {
            _instances.Clear();
            _onChange([]);
        }
        return Task.CompletedTask;
    }

    protected override Task OnStoppedAsync() => OnDisconnectedAsync();

    /// <summary>VIPs as "10.0.0.10" or "10.0.0.10/24"; anything else is skipped.</summary>
    public static VrrpInstanceView ToView(Instance instance)
    {
        var addresses = new List<IPAddress>();
        foreach (var text in instance.VirtualAddresses)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) addresses.Add(address);
        }
        return new VrrpInstanceView(instance.Name, instance.State == InstanceState.Master, instance.VirtualRouterId, addresses);
    }

    [LoggerMessage(EventId = 270, Level = LogLevel.Warning, Message = "consul: lost vigil-vrrpd on {Socket} ({Reason}); registrations withdrawn until it is back")]
    private partial void LogLost(string socket, string reason);
}
