using Grpc.Core;
using Vigil.Check.V1;
using Vigil.Control.V1;
using Vigil.Rpc.Client;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// The runtime controls of the control API with real daemons: two controld nodes (each with its
/// vrrpd; the backup also with checkd and ipvsd) on one LAN. SetPriority on the backup makes it
/// take over and clearing it gives the master back; AddRealServer reaches ipvsd's table
/// (GetStatus include_lvs) and RemoveRealServer takes it out; SIGUSR1 to controld writes the
/// data dump into --dump-dir.
/// </summary>
[Trait("Category", "Lab")]
public sealed class RuntimeControlLabTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly string _work = Directory.CreateTempSubdirectory("vigil-runtime-").FullName;
    private Lab _lab = null!;
    private LabHost _a = null!;
    private LabHost _b = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        var lan = await _lab.AddSwitchAsync();
        _a = await _lab.AddHostAsync("ra", lan, "10.77.0.1/24");
        _b = await _lab.AddHostAsync("rb", lan, "10.77.0.2/24");
    }

    public async Task DisposeAsync()
    {
        await _lab.DisposeAsync();
        Directory.Delete(_work, true);
    }

    private static ControlService.ControlServiceClient Client(ControldNode node, out IDisposable channel)
    {
        var c = UnixChannel.Open(Path.Combine(node.RunDir, "controld.sock"));
        channel = c;
        return new ControlService.ControlServiceClient(c.Invoker);
    }

    private static CallOptions Call() => Vigil.Rpc.Client.Deadline.In(TimeSpan.FromSeconds(10));

    private static VirtualServerKey Vs(string address, uint port) => new() { Endpoint = new Endpoint { Address = address, Port = port }, Protocol = Check.V1.Protocol.Tcp };

    [Fact]
    public async Task SetPriority_BackupTakesOver_ClearGivesItBack_AddRealServerReachesIpvsd_Sigusr1WritesTheDataDump()
    {
        var a = await ControldNode.StartAsync(_a, Configs.Router("MASTER", 150, "10.77.0.10/24"), _work);
        var dumps = Path.Combine(_work, "dumps");
        var b = await ControldNode.StartAsync(_b, Configs.Router("BACKUP", 100, "10.77.0.10/24") + Configs.VirtualServers(1), _work, "--dump-dir", dumps);
        await a.WaitStateAsync("VI_1", InstanceState.Master, Deadline);
        await b.WaitStateAsync("VI_1", InstanceState.Backup, Deadline);

        var client = Client(b, out var channel);
        using (channel)
        {
            // A higher priority on the preempting backup: it takes over, as after a reload with that priority.
            var set = await client.SetPriorityAsync(new SetPriorityRequest { Instance = "VI_1", Priority = 200 }, Call());
            Assert.Equal(200u, set.Instance.EffectivePriority);
            Assert.Equal(200u, set.Instance.PriorityOverride);
            Assert.Equal(100u, set.Instance.BasePriority);
            await b.WaitStateAsync("VI_1", InstanceState.Master, Deadline);
            await a.WaitStateAsync("VI_1", InstanceState.Backup, Deadline);
            Assert.True(await _b.HasAddressAsync("eth0", "10.77.0.10"));
            Assert.Equal(200u, (await b.InstanceAsync("VI_1"))!.PriorityOverride);

            var notFound = await Assert.ThrowsAsync<RpcException>(() => client.SetPriorityAsync(new SetPriorityRequest { Instance = "VI_9", Priority = 120 }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
            var owner = await Assert.ThrowsAsync<RpcException>(() => client.SetPriorityAsync(new SetPriorityRequest { Instance = "VI_1", Priority = 255 }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, owner.StatusCode);
            Assert.StartsWith("priority:", owner.Status.Detail);
            var zero = await Assert.ThrowsAsync<RpcException>(() => client.SetPriorityAsync(new SetPriorityRequest { Instance = "VI_1", Priority = 0 }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, zero.StatusCode);

            // keepalived's SIGUSR1: the data dump, with the instance, its state and priorities.
            b.Process.Signal(10);
            var dataFile = Path.Combine(dumps, "keepalived.data");
            await Poll.UntilAsync(() => Task.FromResult(File.Exists(dataFile)), Deadline, "keepalived.data in --dump-dir", () => Task.FromResult(b.Process.Output));
            var data = await File.ReadAllTextAsync(dataFile);
            Assert.Contains("------< VRRP Topology >------", data);
            Assert.Contains(" VRRP Instance = VI_1\n", data);
            Assert.Contains("   State = MASTER\n", data);
            Assert.Contains("   Priority = 100\n", data);
            Assert.Contains("   Effective priority = 200\n", data);
            Assert.Contains("------< LVS Topology >------", data);
            // SIGUSR2: the stats dump.
            b.Process.Signal(12);
            var statsFile = Path.Combine(dumps, "keepalived.stats");
            await Poll.UntilAsync(() => Task.FromResult(File.Exists(statsFile)), Deadline, "keepalived.stats in --dump-dir", () => Task.FromResult(b.Process.Output));
            var stats = await File.ReadAllTextAsync(statsFile);
            Assert.Contains("VRRP Instance: VI_1\n", stats);
            Assert.Matches(@"  Became master: [1-9]", stats);
            // SIGJSON (SIGRTMIN+2): keepalived.json.
            b.Process.Signal(Dumps.DumpSignals.SigJson);
            var jsonFile = Path.Combine(dumps, "keepalived.json");
            await Poll.UntilAsync(() => Task.FromResult(File.Exists(jsonFile)), Deadline, "keepalived.json in --dump-dir", () => Task.FromResult(b.Process.Output));
            Assert.Contains("\"iname\": \"VI_1\"", await File.ReadAllTextAsync(jsonFile));
            var json = await client.DumpStateAsync(new DumpStateRequest { Format = DumpFormat.Json }, Call());
            Assert.Contains("\"iname\": \"VI_1\"", json.Text);
            Assert.Contains("\"state\": 2", json.Text);

            // vigilctl: the same controls, with the exit statuses scripts branch on.
            var ctl = RepoPaths.Program("vigilctl");
            var dump = await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "dump", "data");
            Assert.True(dump.Ok, dump.Stderr);
            Assert.Contains(" VRRP Instance = VI_1\n", dump.Stdout);
            Assert.Equal(3, (await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "priority", "set", "VI_9", "120")).ExitCode);
            Assert.Equal(2, (await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "priority", "set", "VI_1", "255")).ExitCode);

            // Cleared (vigilctl priority clear): back to 100, the master with 150 preempts.
            var clear = await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "priority", "clear", "VI_1", "--json");
            Assert.True(clear.Ok, clear.Stderr);
            Assert.DoesNotContain("priorityOverride", clear.Stdout);
            Assert.Null((await b.InstanceAsync("VI_1"))!.PriorityOverride);
            await a.WaitStateAsync("VI_1", InstanceState.Master, Deadline);
            await b.WaitStateAsync("VI_1", InstanceState.Backup, Deadline);

            // A real server added at runtime (no checker: up at once) reaches ipvsd's table.
            var vs = Vs("10.78.0.1", 80);
            var added = await client.AddRealServerAsync(new Control.V1.AddRealServerRequest
            {
                VirtualServer = vs,
                RealServer = new RealServerSpec { Endpoint = new Endpoint { Address = "10.79.5.5", Port = 8080 }, Weight = 3 },
            }, Call());
            Assert.True(added.RealServer.InPool);
            await Poll.UntilAsync(async () => Destination(await client.GetStatusAsync(new GetStatusRequest { IncludeLvs = true }, Call()), "10.79.5.5") is { Weight: 3 },
                Deadline, "10.79.5.5:8080 weight 3 in ipvsd's table", async () => (await client.GetStatusAsync(new GetStatusRequest { IncludeLvs = true }, Call())).Lvs?.ToString() ?? "no table");

            var duplicate = await Assert.ThrowsAsync<RpcException>(() => client.AddRealServerAsync(new Control.V1.AddRealServerRequest
            {
                VirtualServer = vs,
                RealServer = new RealServerSpec { Endpoint = new Endpoint { Address = "10.79.5.5", Port = 8080 } },
            }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
            var unknown = await Assert.ThrowsAsync<RpcException>(() => client.AddRealServerAsync(new Control.V1.AddRealServerRequest
            {
                VirtualServer = Vs("10.78.9.9", 80),
                RealServer = new RealServerSpec { Endpoint = new Endpoint { Address = "10.79.5.6", Port = 8080 } },
            }, Call()).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

            Assert.Equal(5, (await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "rs", "add", "10.78.0.1:80", "10.79.5.5:8080")).ExitCode);
            var remove = await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "rs", "remove", "10.78.0.1:80", "10.79.5.5:8080");
            Assert.True(remove.Ok, remove.Stderr);
            await Poll.UntilAsync(async () => Destination(await client.GetStatusAsync(new GetStatusRequest { IncludeLvs = true }, Call()), "10.79.5.5") is null,
                Deadline, "10.79.5.5:8080 gone from ipvsd's table");
            Assert.Equal(3, (await Shell.RunAsync(ctl, "--run-dir", b.RunDir, "rs", "remove", "10.78.0.1:80", "10.79.5.5:8080")).ExitCode);
        }
    }

    private static Ipvs.V1.Destination? Destination(GetStatusResponse status, string address) =>
        status.Lvs?.Services.SelectMany(s => s.Destinations).FirstOrDefault(d => d.Endpoint.Address == address);
}
