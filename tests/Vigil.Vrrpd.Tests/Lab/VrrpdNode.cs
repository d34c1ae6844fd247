using Grpc.Core;
using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Vigil.Client;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests;

/// <summary>
/// The real vigil-vrrpd (out/vigil-vrrpd) running inside a lab host with its own --run-dir, driven
/// over its Unix socket with the typed client, exactly as vigil-controld drives it. Stopped by its
/// own pid (SIGTERM, then SIGKILL) on dispose.
/// </summary>
internal sealed class VrrpdNode : IAsyncDisposable
{
    private readonly string _dir;
    private Watcher? _watcher;

    private VrrpdNode(LabHost host, string dir, LabProcess process, UnixChannel channel)
    {
        Host = host;
        _dir = dir;
        Process = process;
        Channel = channel;
        Client = new VrrpService.VrrpServiceClient(channel.Invoker);
    }

    public LabHost Host { get; }
    public LabProcess Process { get; }
    public UnixChannel Channel { get; }
    public VrrpService.VrrpServiceClient Client { get; }
    public string RunDir => _dir;
    public string Log => Process.Stderr + Process.Stdout;

    public static async Task<VrrpdNode> StartAsync(LabHost host, params string[] extraArgs)
    {
        var program = RepoPaths.Program("vigil-vrrpd");
        var dir = Directory.CreateTempSubdirectory("vigil-vrrpd-").FullName;
        var p = host.Start("vigil-vrrpd", program, ["--run-dir", dir, .. extraArgs]);
        var socket = Path.Combine(dir, "vrrpd.sock");
        var channel = UnixChannel.Open(socket);
        var node = new VrrpdNode(host, dir, p, channel);
        await Poll.UntilAsync(async () =>
        {
            if (p.HasExited) return true;
            if (!File.Exists(socket)) return false;
            await node.Client.GetDaemonInfoAsync(new GetDaemonInfoRequest(), Deadline.In(TimeSpan.FromSeconds(2)));
            return true;
        }, TimeSpan.FromSeconds(30), $"vigil-vrrpd on {host.Name} to serve", () => Task.FromResult(p.Output));
        if (p.HasExited) throw new InvalidOperationException($"vigil-vrrpd on {host.Name} exited with {p.ExitCode}: {p.Output}");
        return node;
    }

    public Task<ApplyConfigResponse> ApplyAsync(VrrpConfig config) =>
        Client.ApplyConfigAsync(new ApplyConfigRequest { Config = config }, Deadline.In(TimeSpan.FromSeconds(30))).ResponseAsync;

    public async Task<Instance> GetAsync(string name = "VI_1") =>
        (await Client.GetInstanceAsync(new GetInstanceRequest { Name = name }, Deadline.In(TimeSpan.FromSeconds(10)))).Instance;

    public async Task<ListInstancesResponse> ListAsync() =>
        await Client.ListInstancesAsync(new ListInstancesRequest(), Deadline.In(TimeSpan.FromSeconds(10)));

    public async Task<ulong> CounterAsync(string counter, string name = "VI_1") =>
        (await GetAsync(name)).Counters.TryGetValue(counter, out var v) ? v : 0;

    public Task WaitForStateAsync(InstanceState state, TimeSpan timeout, string name = "VI_1") =>
        Poll.UntilAsync(async () => (await GetAsync(name)).State == state, timeout, $"{Host.Name}/{name} to be {state}",
            async () => $"{Host.Name}/{name}: {await Describe(name)}\n{Tail()}");

    public async Task<string> Describe(string name = "VI_1")
    {
        try
        {
            return (await GetAsync(name)).ToString();
        }
        catch (Exception e)
        {
            return $"(GetInstance failed: {e.Message})";
        }
    }

    /// <summary>The last lines of the daemon's log, for failure messages.</summary>
    public string Tail(int lines = 40)
    {
        var all = Log.Split('\n');
        return $"--- {Host.Name} vigil-vrrpd log (last {lines} lines) ---\n" + string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>Starts collecting WatchInstances messages (once per node).</summary>
    public async Task<Watcher> WatchAsync()
    {
        _watcher ??= await Watcher.StartAsync(Client);
        return _watcher;
    }

    /// <summary>SIGTERM: masters send priority 0 and release their VIPs.</summary>
    public async Task StopAsync()
    {
        Process.Signal(15);
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGKILL: as if the process crashed (no priority 0, VIPs stay).</summary>
    public async Task KillAsync()
    {
        Process.Signal(9);
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (_watcher is not null) await _watcher.DisposeAsync();
        await Process.StopAsync(TimeSpan.FromSeconds(15));
        Channel.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>A WatchInstances stream read in the background into a list.</summary>
    internal sealed class Watcher : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private Task _loop = Task.CompletedTask;

        public ConcurrentQueue<WatchInstancesResponse> Messages { get; } = new();
        public Exception? Error { get; private set; }

        public static async Task<Watcher> StartAsync(VrrpService.VrrpServiceClient client)
        {
            var w = new Watcher();
            w._loop = Task.Run(async () =>
            {
                try
                {
                    using var call = client.WatchInstances(new WatchInstancesRequest(), cancellationToken: w._cts.Token);
                    await foreach (var m in call.ResponseStream.ReadAllAsync(w._cts.Token))
                        w.Messages.Enqueue(m);
                }
                catch (Exception e) when (!w._cts.IsCancellationRequested)
                {
                    w.Error = e;
                }
                catch (Exception)
                {
                }
            });
            await Poll.UntilAsync(() => w.Messages.Any(m => m.EventCase == WatchInstancesResponse.EventOneofCase.EndOfSnapshot) || w.Error is not null,
                TimeSpan.FromSeconds(15), "the watch snapshot");
            if (w.Error is not null) throw w.Error;
            return w;
        }

        public IEnumerable<Transition> Transitions(string instance = "VI_1") =>
            Messages.Where(m => m.EventCase == WatchInstancesResponse.EventOneofCase.Transition && m.Transition.Instance.Name == instance).Select(m => m.Transition);

        public string Dump() => string.Join('\n', Messages.Select(m => m.ToString()));

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            try { await _loop; } catch (Exception) { }
        }
    }
}

/// <summary>Builders of the VRRP configuration a test pushes (keepalived's defaults where the test says nothing).</summary>
internal static class Specs
{
    public static InstanceSpec Instance(uint priority, string vip, uint vrid = 51, string name = "VI_1", uint version = 2, double advertSeconds = 1,
        bool pass = true, bool nopreempt = false, bool master = false, string iface = "eth0")
    {
        var spec = new InstanceSpec
        {
            Name = name,
            Interface = iface,
            VirtualRouterId = vrid,
            Version = version,
            Priority = priority,
            InitialMaster = master,
            Nopreempt = nopreempt,
            AdvertInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(advertSeconds)),
            AuthType = pass && version == 2 ? AuthType.Pass : AuthType.None,
            AuthPassword = pass && version == 2 ? "1111" : "",
            // Fewer GARPs keep captures short; the first burst still moves the client's ARP entry.
            Garp = new GarpSpec { MasterDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)), MasterRepeat = 2, MasterRefreshRepeat = 1 },
        };
        spec.VirtualAddresses.Add(new VirtualAddress { Address = vip });
        return spec;
    }

    public static VrrpConfig Config(params InstanceSpec[] instances)
    {
        var c = new VrrpConfig { Globals = new VrrpGlobals() };
        c.Instances.AddRange(instances);
        return c;
    }
}
