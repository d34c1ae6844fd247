using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Rpc.Server;
using Vigil.Vrrp.V1;

namespace Vigil.Consul.Tests;

/// <summary>
/// A stand-in for vigil-vrrpd on a socket: WatchInstances streams the instances the test sets
/// (snapshot, end marker, then the transitions the test makes). vrrpd itself needs root and raw
/// sockets; what the Consul registrar consumes is this stream.
/// </summary>
public sealed class FakeVrrpd : VrrpService.VrrpServiceBase, IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly List<Channel<WatchInstancesResponse>> _watchers = [];
    private readonly UnixGrpcServer _server;

    private FakeVrrpd(string socketPath)
    {
        _server = new UnixGrpcServer(new UnixGrpcServerOptions { SocketPath = socketPath });
        _server.AddService(this, VrrpService.Descriptor.FullName);
    }

    public static async Task<FakeVrrpd> StartAsync(string socketPath, params Instance[] instances)
    {
        var fake = new FakeVrrpd(socketPath);
        foreach (var i in instances) fake._instances[i.Name] = i;
        await fake._server.StartAsync();
        return fake;
    }

    public static Instance Instance(string name, InstanceState state, uint vrid, params string[] vips)
    {
        var i = new Instance { Name = name, State = state, VirtualRouterId = vrid, Interface = "eth0", Version = 2 };
        i.VirtualAddresses.AddRange(vips);
        return i;
    }

    public void Transition(string name, InstanceState to)
    {
        lock (_gate)
        {
            var from = _instances[name].State;
            var instance = _instances[name].Clone();
            instance.State = to;
            _instances[name] = instance;
            var message = new WatchInstancesResponse
            {
                Time = Timestamp.FromDateTime(DateTime.UtcNow),
                Transition = new Transition { Instance = instance, From = from, To = to, Reason = "test" },
            };
            foreach (var w in _watchers) w.Writer.TryWrite(message);
        }
    }

    public override async Task WatchInstances(WatchInstancesRequest request, IServerStreamWriter<WatchInstancesResponse> responses, ServerCallContext context)
    {
        var channel = Channel.CreateUnbounded<WatchInstancesResponse>();
        lock (_gate)
        {
            foreach (var i in _instances.Values) channel.Writer.TryWrite(new WatchInstancesResponse { Snapshot = i, Time = Timestamp.FromDateTime(DateTime.UtcNow) });
            channel.Writer.TryWrite(new WatchInstancesResponse { EndOfSnapshot = new EndOfSnapshot(), Time = Timestamp.FromDateTime(DateTime.UtcNow) });
            _watchers.Add(channel);
        }
        try
        {
            await foreach (var m in channel.Reader.ReadAllAsync(context.CancellationToken)) await responses.WriteAsync(m, context.CancellationToken);
        }
        finally
        {
            lock (_gate) _watchers.Remove(channel);
        }
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
