using System.Threading.Channels;
using Grpc.Health.V1;
using ProtoStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Vigil.Rpc.Server.Health;

public enum ServingStatus
{
    Unknown = 0,
    Serving = 1,
    NotServing = 2,
}

/// <summary>The health of each service name ("" for the whole server); watchers hear every change.</summary>
public sealed class HealthStatusManager
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal);
    private readonly List<(string Service, Channel<ServingStatus> Channel)> _watchers = [];

    public void SetStatus(string service, ServingStatus status)
    {
        lock (_gate)
        {
            _statuses[service] = status;
            foreach (var (s, ch) in _watchers)
            {
                if (s == service) ch.Writer.TryWrite(status);
            }
        }
    }

    public void SetAll(ServingStatus status)
    {
        lock (_gate)
        {
            foreach (var key in _statuses.Keys.ToList()) SetStatus(key, status);
        }
    }

    public ServingStatus? GetStatus(string service)
    {
        lock (_gate) return _statuses.TryGetValue(service, out var s) ? s : null;
    }

    internal (ServingStatus? Current, ChannelReader<ServingStatus> Changes, IDisposable Subscription) Watch(string service)
    {
        // A slow watcher only needs the latest status: keep one, drop older ones.
        var ch = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _watchers.Add((service, ch));
            return (_statuses.TryGetValue(service, out var s) ? s : null, ch.Reader, new Unsubscribe(this, ch));
        }
    }

    private sealed class Unsubscribe(HealthStatusManager owner, Channel<ServingStatus> ch) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate) owner._watchers.RemoveAll(w => w.Channel == ch);
        }
    }
}

/// <summary>grpc.health.v1.Health: Check answers now; Watch sends the status and then every change.</summary>
internal sealed class HealthService(HealthStatusManager statuses)
{
    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        var status = statuses.GetStatus(request.Service)
            ?? throw new RpcException(StatusCode.NotFound, $"unknown service '{request.Service}'");
        return Task.FromResult(new HealthCheckResponse { Status = ToProto(status) });
    }

    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responses, ServerCallContext context)
    {
        var (current, changes, subscription) = statuses.Watch(request.Service);
        using (subscription)
        {
            var last = current is { } c ? ToProto(c) : ProtoStatus.ServiceUnknown;
            await responses.WriteAsync(new HealthCheckResponse { Status = last });
            try
            {
                await foreach (var s in changes.ReadAllAsync(context.CancellationToken))
                {
                    var next = ToProto(s);
                    if (next == last) continue;
                    last = next;
                    await responses.WriteAsync(new HealthCheckResponse { Status = next });
                }
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // The watcher left or the server stops: a normal end of the stream.
            }
        }
    }

    private static ProtoStatus ToProto(ServingStatus s) => s switch
    {
        ServingStatus.Serving => ProtoStatus.Serving,
        ServingStatus.NotServing => ProtoStatus.NotServing,
        _ => ProtoStatus.Unknown,
    };
}
