using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Vigil.Client;
using Grpc.Core;
using Vigil.Rpc.Client;
using Vigil.Rpc.Server;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Checkd.Tests.Daemon;

/// <summary>The built vigil-checkd (out/) running with a run dir of its own, and a client of it.</summary>
public sealed class CheckdDaemon : IAsyncDisposable
{
    private readonly UnixChannel _channel;

    private CheckdDaemon(string dir, LabProcess process)
    {
        Dir = dir;
        Process = process;
        _channel = UnixChannel.Open(SocketPath);
        Client = new CheckService.CheckServiceClient(_channel.Invoker);
    }

    public string Dir { get; }
    public string RunDir => Path.Combine(Dir, "run");
    public string SocketPath => Path.Combine(RunDir, "checkd.sock");
    public LabProcess Process { get; }
    public CheckService.CheckServiceClient Client { get; }

    public static CallOptions Call(CancellationToken token = default) => Deadline.In(TimeSpan.FromSeconds(10), token);

    public static async Task<CheckdDaemon> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-checkd-d-").FullName;
        var process = LabProcess.Start("checkd", RepoPaths.Program("vigil-checkd"), ["--run-dir", Path.Combine(dir, "run")]);
        var daemon = new CheckdDaemon(dir, process);
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException("vigil-checkd exited: " + process.Output);
            if (!File.Exists(daemon.SocketPath)) return false;
            await daemon.Client.GetDaemonInfoAsync(new Check.V1.GetDaemonInfoRequest(), Call());
            return true;
        }, TimeSpan.FromSeconds(30), "vigil-checkd to serve", () => Task.FromResult(process.Output));
        return daemon;
    }

    public Task<Check.V1.ApplyConfigResponse> ApplyAsync(CheckConfig config) => Client.ApplyConfigAsync(new Check.V1.ApplyConfigRequest { Config = config }, Call()).ResponseAsync;

    public async Task<VirtualServer> VirtualServerAsync(Check.V1.VirtualServerKey key) =>
        (await Client.GetVirtualServerAsync(new GetVirtualServerRequest { Key = key }, Call())).VirtualServer;

    public async Task<RealServer> RealServerAsync(Check.V1.VirtualServerKey key, int port) =>
        (await VirtualServerAsync(key)).RealServers.Single(r => r.Endpoint.Port == port);

    /// <summary>Follows WatchCheckResults in the background, keeping every message.</summary>
    public Watcher Watch() => new(Client);

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _channel.Dispose();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }

    public sealed class Watcher : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<WatchCheckResultsResponse> _messages = new();
        private readonly Task _reader;

        public Watcher(CheckService.CheckServiceClient client)
        {
            _reader = Task.Run(async () =>
            {
                try
                {
                    using var call = client.WatchCheckResults(new WatchCheckResultsRequest(), cancellationToken: _stop.Token);
                    await foreach (var m in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        _messages.Enqueue(m);
                    }
                }
                catch (RpcException e) when (!_stop.IsCancellationRequested)
                {
                    Ended = e;
                }
                catch (Exception e) when (e is OperationCanceledException or RpcException)
                {
                }
                Finished = true;
            });
        }

        public IReadOnlyList<WatchCheckResultsResponse> Messages => [.. _messages];

        /// <summary>The error the stream ended with (null: still open, or ended by us).</summary>
        public RpcException? Ended { get; private set; }

        public bool Finished { get; private set; }

        public Task WaitForAsync(Func<IReadOnlyList<WatchCheckResultsResponse>, bool> condition, string what, double seconds = 15) =>
            Poll.UntilAsync(() => condition(Messages), TimeSpan.FromSeconds(seconds), what, () => Describe());

        public string Describe() => string.Join("\n", Messages.Select(m => $"{m.Sequence} {m.EventCase} {Summary(m)}"));

        private static string Summary(WatchCheckResultsResponse m) => m.EventCase switch
        {
            WatchCheckResultsResponse.EventOneofCase.CheckerResult => $"{m.CheckerResult.RealServerName} {m.CheckerResult.Transition} {m.CheckerResult.Checker.LastResult?.Reason}",
            WatchCheckResultsResponse.EventOneofCase.RealServerUpdated => $"{m.RealServerUpdated.RealServer.Name} {m.RealServerUpdated.RealServer.Health} w{m.RealServerUpdated.RealServer.DesiredWeight}",
            WatchCheckResultsResponse.EventOneofCase.DestinationsChanged => string.Join(",", m.DestinationsChanged.Destinations.Select(d => $"{d.Endpoint.Port}:{d.Weight}")),
            WatchCheckResultsResponse.EventOneofCase.Snapshot => m.Snapshot.Name,
            WatchCheckResultsResponse.EventOneofCase.VirtualServerUpdated => $"{m.VirtualServerUpdated.Name} quorum {m.VirtualServerUpdated.QuorumUp} suspended {m.VirtualServerUpdated.Suspended}",
            _ => "",
        };

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reader;
            _stop.Dispose();
        }
    }
}

/// <summary>An HTTP server on a fixed loopback port that can be stopped and started again, so a
/// real server can fail and come back at the same address.</summary>
public sealed class SwitchableHttpServer : IAsyncDisposable
{
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _accept;

    public SwitchableHttpServer(string body = "<html>vigil</html>\n")
    {
        Body = body;
        Start();
        Port = ((IPEndPoint)_listener!.LocalEndpoint).Port;
    }

    public string Body { get; }
    public int Port { get; private set; }
    public int Requests => _requests;
    private int _requests;

    public void Start()
    {
        if (_listener is not null) return;
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _accept = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var socket = await listener.AcceptSocketAsync(token);
                    _ = Task.Run(async () =>
                    {
                        using (socket)
                        await using (var stream = new NetworkStream(socket, ownsSocket: false))
                        {
                            try
                            {
                                await Support.LoopbackTcpServer.ReadHeadAsync(stream, token);
                                Interlocked.Increment(ref _requests);
                                var body = Encoding.UTF8.GetBytes(Body);
                                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"), token);
                                await stream.WriteAsync(body, token);
                            }
                            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
                            {
                            }
                        }
                    });
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
            {
            }
        });
    }

    public async Task StopAsync()
    {
        if (_listener is null) return;
        await _stop!.CancelAsync();
        _listener.Stop();
        await _accept!;
        _stop.Dispose();
        _listener = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

/// <summary>
/// A stand-in for vigil-vrrpd on RUN_DIR/vrrpd.sock: serves vigil.vrrp.v1 with instances the test
/// sets, and streams WatchInstances (snapshot, end marker, then the transitions the test makes).
/// vrrpd itself needs root and raw sockets; what checkd consumes is this stream.
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

    public int Watchers { get { lock (_gate) return _watchers.Count; } }

    public static async Task<FakeVrrpd> StartAsync(string runDir, params Instance[] instances)
    {
        var fake = new FakeVrrpd(Path.Combine(runDir, "vrrpd.sock"));
        foreach (var i in instances) fake._instances[i.Name] = i;
        await fake._server.StartAsync();
        return fake;
    }

    public static Instance Instance(string name, InstanceState state, params string[] vips)
    {
        var i = new Instance { Name = name, State = state, VirtualRouterId = 51, Interface = "eth0", Version = 2 };
        i.VirtualAddresses.AddRange(vips);
        return i;
    }

    /// <summary>Changes an instance's state and tells every watcher.</summary>
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

    public override Task<Vrrp.V1.GetDaemonInfoResponse> GetDaemonInfo(Vrrp.V1.GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new Vrrp.V1.GetDaemonInfoResponse { Daemon = new Types.V1.DaemonInfo { Name = "vigil-vrrpd (test stand-in)" } });

    public override Task<Vrrp.V1.ApplyConfigResponse> ApplyConfig(Vrrp.V1.ApplyConfigRequest request, ServerCallContext context) =>
        Task.FromResult(new Vrrp.V1.ApplyConfigResponse());

    public override Task<ListInstancesResponse> ListInstances(ListInstancesRequest request, ServerCallContext context)
    {
        var r = new ListInstancesResponse();
        lock (_gate) r.Instances.AddRange(_instances.Values);
        return Task.FromResult(r);
    }

    public override Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context)
    {
        lock (_gate)
        {
            return _instances.TryGetValue(request.Name, out var i)
                ? Task.FromResult(new GetInstanceResponse { Instance = i })
                : throw new RpcException(new Status(StatusCode.NotFound, request.Name));
        }
    }

    public override async Task WatchInstances(WatchInstancesRequest request, IServerStreamWriter<WatchInstancesResponse> responses, ServerCallContext context)
    {
        var channel = Channel.CreateUnbounded<WatchInstancesResponse>();
        lock (_gate)
        {
            foreach (var i in _instances.Values) channel.Writer.TryWrite(new WatchInstancesResponse { Snapshot = i, Time = Timestamp.FromDateTime(DateTime.UtcNow) });
            channel.Writer.TryWrite(new WatchInstancesResponse { EndOfSnapshot = new Vrrp.V1.EndOfSnapshot(), Time = Timestamp.FromDateTime(DateTime.UtcNow) });
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

    public override Task<SendGarpResponse> SendGarp(SendGarpRequest request, ServerCallContext context) => Task.FromResult(new SendGarpResponse());

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var w in _watchers) w.Writer.TryComplete();
        }
        await _server.DisposeAsync();
    }
}
