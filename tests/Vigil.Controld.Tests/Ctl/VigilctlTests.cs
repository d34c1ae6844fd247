using System.CommandLine;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Control.V1;
using Vigil.Ctl.Commands;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests.Ctl;

/// <summary>vigilctl's pure parts: exit-code mapping, event lines, reload output, real-server targets, completion.</summary>
public sealed class VigilctlTests
{
    [Theory]
    [InlineData(StatusCode.OK, 0)]
    [InlineData(StatusCode.FailedPrecondition, 1)]
    [InlineData(StatusCode.Internal, 1)]
    [InlineData(StatusCode.InvalidArgument, 2)]
    [InlineData(StatusCode.OutOfRange, 2)]
    [InlineData(StatusCode.NotFound, 3)]
    [InlineData(StatusCode.Unavailable, 4)]
    [InlineData(StatusCode.DeadlineExceeded, 4)]
    [InlineData(StatusCode.AlreadyExists, 5)]
    [InlineData(StatusCode.PermissionDenied, 6)]
    public void ExitCode_FromStatus(StatusCode status, int exit) => Assert.Equal(exit, ExitCodes.FromStatus(status));

    [Theory]
    [InlineData(StatusCode.FailedPrecondition, "FAILED_PRECONDITION")]
    [InlineData(StatusCode.NotFound, "NOT_FOUND")]
    [InlineData(StatusCode.Unavailable, "UNAVAILABLE")]
    public void StatusName_AsGrpcNamesIt(StatusCode status, string name) => Assert.Equal(name, ControlCall.StatusName(status));

    private static readonly Timestamp At = Timestamp.FromDateTime(new DateTime(2026, 12, 7, 16, 30, 1, 250, DateTimeKind.Utc));

    [Fact]
    public void EventLine_Transition_SequenceTimeKindDetails()
    {
        var e = new WatchEventsResponse
        {
            Sequence = 17,
            Time = At,
            VrrpTransition = new Transition { Instance = new Instance { Name = "VI_1" }, From = InstanceState.Backup, To = InstanceState.Master, Reason = "master down" },
        };
        Assert.Equal("17 2026-12-07T16:30:01.250Z vrrp_transition VI_1 BACKUP -> MASTER (master down)", EventsCommand.Format(e));
    }

    [Fact]
    public void EventLine_ReloadAndSnapshot()
    {
        var reload = new WatchEventsResponse { Sequence = 3, Time = At, ConfigReloaded = new ConfigReloaded { ConfigFile = "/etc/k.conf", Changes = { "vrrp_instance VI_1: changed: priority 100 -> 120" } } };
        Assert.Equal("3 2026-12-07T16:30:01.250Z config_reloaded applied /etc/k.conf changes=1: vrrp_instance VI_1: changed: priority 100 -> 120", EventsCommand.Format(reload));
        var refused = new WatchEventsResponse { Sequence = 4, Time = At, ConfigReloaded = new ConfigReloaded { ConfigFile = "/etc/k.conf", Refused = true, Errors = { "k.conf:3:5: error: bad" } } };
        Assert.EndsWith("config_reloaded refused /etc/k.conf changes=0 errors: k.conf:3:5: error: bad", EventsCommand.Format(refused));
        var snapshot = new WatchEventsResponse { Sequence = 2, Time = At, Snapshot = new NodeSnapshot { Instances = { new Instance { Name = "VI_1", State = InstanceState.Backup } } } };
        Assert.Equal("2 2026-12-07T16:30:01.250Z snapshot instances=1 virtual_servers=0 lvs_services=0 daemons=0 VI_1=BACKUP", EventsCommand.Format(snapshot));
        Assert.Equal("2 2026-12-07T16:30:01.250Z caught_up", EventsCommand.Format(new WatchEventsResponse { Sequence = 2, Time = At, CaughtUp = new CaughtUp() }));
    }

    [Fact]
    public void EveryEventKind_HasALine()
    {
        foreach (var c in System.Enum.GetValues<WatchEventsResponse.EventOneofCase>().Where(c => c != WatchEventsResponse.EventOneofCase.None))
        {
            var kind = EventsCommand.Kind(c);
            Assert.Matches("^[a-z_]+$", kind);
            // The kind is the oneof field's own name.
            Assert.NotNull(WatchEventsResponse.Descriptor.FindFieldByName(kind));
        }
    }

    [Fact]
    public void ReloadOutput_DryRunWithErrors_SaysRefused()
    {
        var r = new ReloadConfigResponse { Errors = { "k.conf:4:5: error: virtual_router_id 300: must be 1..255" }, Changes = { } };
        Assert.Equal("error: k.conf:4:5: error: virtual_router_id 300: must be 1..255\nthe configuration has 1 error(s): a reload would be refused\n", ReloadCommand.Format(r, dryRun: true));
        var ok = new ReloadConfigResponse { Changes = { "vrrp_instance VI_1: changed: priority 100 -> 150" }, Warnings = { "k.conf:1:1: warning: w" } };
        Assert.Equal("k.conf:1:1: warning: w\nvrrp_instance VI_1: changed: priority 100 -> 150\nthe configuration is valid; a reload would make 1 change(s)\n", ReloadCommand.Format(ok, dryRun: true));
        Assert.Equal("reloaded: nothing changed\n", ReloadCommand.Format(new ReloadConfigResponse(), dryRun: false));
    }

    [Theory]
    [InlineData("10.0.0.1:80", "10.0.1.2:8080", "tcp", "10.0.0.1", 80u, "10.0.1.2", 8080u)]
    [InlineData("[2001:db8::1]:443", "[2001:db8::2]:8443", "UDP", "2001:db8::1", 443u, "2001:db8::2", 8443u)]
    public void Target_Endpoints(string vs, string rs, string protocol, string vsAddress, uint vsPort, string rsAddress, uint rsPort)
    {
        Assert.True(RealServerCommands.TryParseTarget(vs, rs, protocol, out var target, out var error), error);
        Assert.Equal(vsAddress, target.VirtualServer.Endpoint.Address);
        Assert.Equal(vsPort, target.VirtualServer.Endpoint.Port);
        Assert.Equal(rsAddress, target.RealServer.Address);
        Assert.Equal(rsPort, target.RealServer.Port);
        Assert.Equal(protocol.Equals("udp", StringComparison.OrdinalIgnoreCase) ? Check.V1.Protocol.Udp : Check.V1.Protocol.Tcp, target.VirtualServer.Protocol);
    }

    [Fact]
    public void Target_FwmarkAndGroup()
    {
        Assert.True(RealServerCommands.TryParseTarget("fwmark:7", "10.0.1.2:80", "tcp", out var t, out _));
        Assert.Equal(7u, t.VirtualServer.Fwmark);
        Assert.True(RealServerCommands.TryParseTarget("group:web", "10.0.1.2:80", "tcp", out t, out _));
        Assert.Equal("web", t.VirtualServer.Group);
    }

    [Theory]
    [InlineData("10.0.0.1", "10.0.1.2:80", "tcp", "VIRTUAL_SERVER 10.0.0.1: no port")]
    [InlineData("10.0.0.1:80", "web:80", "tcp", "REAL_SERVER web:80: web is not an IP address")]
    [InlineData("10.0.0.1:80", "10.0.1.2:99999", "tcp", "REAL_SERVER 10.0.1.2:99999: port 99999: must be 0..65535")]
    [InlineData("2001:db8::1:80", "10.0.1.2:80", "tcp", "VIRTUAL_SERVER 2001:db8::1:80: an IPv6 address goes in brackets")]
    [InlineData("fwmark:0", "10.0.1.2:80", "tcp", "VIRTUAL_SERVER fwmark:0: fwmark must be 1..4294967295")]
    [InlineData("10.0.0.1:80", "10.0.1.2:80", "icmp", "--protocol icmp: must be tcp, udp or sctp")]
    public void Target_Errors_NameTheArgument(string vs, string rs, string protocol, string expected)
    {
        Assert.False(RealServerCommands.TryParseTarget(vs, rs, protocol, out _, out var error));
        Assert.StartsWith(expected, error);
    }

    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var old = Console.Out;
        Console.SetOut(output);
        try
        {
            var code = await Vigil.Ctl.Program.Main(args);
            return (code, output.ToString());
        }
        finally
        {
            Console.SetOut(old);
        }
    }

    [Fact]
    public async Task UsageErrors_ExitTwo_Everywhere()
    {
        Assert.Equal(2, (await RunAsync("no-such-command")).Code);
        Assert.Equal(2, (await RunAsync("events", "--after", "x")).Code);
        Assert.Equal(2, (await RunAsync("rs", "weight", "10.0.0.1:80", "10.0.1.2:80")).Code);
        Assert.Equal(2, (await RunAsync("rs", "weight", "10.0.0.1:80", "10.0.1.2:80", "5", "--reset")).Code);
        Assert.Equal(2, (await RunAsync("completion", "fish")).Code);
    }

    [Fact]
    public async Task NoControld_ExitFour()
    {
        var dir = Directory.CreateTempSubdirectory("vigilctl-none-").FullName;
        try
        {
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "reload", "--dry-run")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "events")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "status", "--all")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "rs", "drain", "10.0.0.1:80", "10.0.1.2:80")).Code);
            // The read commands too (they returned 1 for everything once).
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "status")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "checks")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "lvs")).Code);
            Assert.Equal(4, (await RunAsync("--run-dir", dir, "daemons")).Code);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    /// <summary>A daemon that answers every read with one status: the read commands exit with its code.</summary>
    [Theory]
    [InlineData(StatusCode.NotFound, 3)]
    [InlineData(StatusCode.InvalidArgument, 2)]
    [InlineData(StatusCode.Unavailable, 4)]
    [InlineData(StatusCode.Internal, 1)]
    public async Task ReadCommands_ExitWithTheDaemonsStatus(StatusCode status, int exit)
    {
        var dir = Directory.CreateTempSubdirectory("vigilctl-refusing-").FullName;
        var servers = new List<Vigil.Rpc.Server.UnixGrpcServer>();
        try
        {
            var checkd = new Vigil.Rpc.Server.UnixGrpcServer(new() { SocketPath = Path.Combine(dir, "checkd.sock") });
            checkd.AddService(new RefusingCheckd(status), Vigil.Check.V1.CheckService.Descriptor.FullName);
            var ipvsd = new Vigil.Rpc.Server.UnixGrpcServer(new() { SocketPath = Path.Combine(dir, "ipvsd.sock") });
            ipvsd.AddService(new RefusingIpvsd(status), Vigil.Ipvs.V1.IpvsService.Descriptor.FullName);
            var vrrpd = new Vigil.Rpc.Server.UnixGrpcServer(new() { SocketPath = Path.Combine(dir, "vrrpd.sock") });
            vrrpd.AddService(new RefusingVrrpd(status), VrrpService.Descriptor.FullName);
            servers.AddRange([checkd, ipvsd, vrrpd]);
            foreach (var s in servers) await s.StartAsync();

            Assert.Equal(exit, (await RunAsync("--run-dir", dir, "checks")).Code);
            Assert.Equal(exit, (await RunAsync("--run-dir", dir, "lvs")).Code);
            Assert.Equal(exit, (await RunAsync("--run-dir", dir, "status")).Code);
        }
        finally
        {
            foreach (var s in servers) await s.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class RefusingCheckd(StatusCode status) : Vigil.Check.V1.CheckService.CheckServiceBase
    {
        public override Task<Vigil.Check.V1.ListVirtualServersResponse> ListVirtualServers(Vigil.Check.V1.ListVirtualServersRequest request, ServerCallContext context) =>
            throw new RpcException(new Status(status, "refused by the test"));
    }

    private sealed class RefusingIpvsd(StatusCode status) : Vigil.Ipvs.V1.IpvsService.IpvsServiceBase
    {
        public override Task<Vigil.Ipvs.V1.ListVirtualServersResponse> ListVirtualServers(Vigil.Ipvs.V1.ListVirtualServersRequest request, ServerCallContext context) =>
            throw new RpcException(new Status(status, "refused by the test"));
    }

    private sealed class RefusingVrrpd(StatusCode status) : VrrpService.VrrpServiceBase
    {
        public override Task<ListInstancesResponse> ListInstances(ListInstancesRequest request, ServerCallContext context) =>
            throw new RpcException(new Status(status, "refused by the test"));
    }

    [Fact]
    public async Task Help_ListsTheExitCodes()
    {
        var (code, output) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("Exit codes (every command):", output);
        Assert.Contains("4  the daemon is not reachable", output);
        Assert.Contains("6  permission denied (the Consul agent refused the ACL token: cluster; PERMISSION_DENIED)", output);
    }

    [Fact]
    public async Task SuggestDirective_CompletesCommandsAndOptions()
    {
        var (_, commands) = await RunAsync("[suggest:12]", "vigilctl eve");
        Assert.Contains("events", commands.Split('\n', StringSplitOptions.TrimEntries));
        var (_, options) = await RunAsync("[suggest:20]", "vigilctl events --fo");
        Assert.Contains("--follow", options.Split('\n', StringSplitOptions.TrimEntries));
        var (_, rs) = await RunAsync("[suggest:12]", "vigilctl rs ");
        Assert.Contains("drain", rs.Split('\n', StringSplitOptions.TrimEntries));
        var (_, bash) = await RunAsync("completion", "bash");
        Assert.Contains("complete -o default -F _vigilctl vigilctl", bash);
        Assert.Contains("[suggest:${COMP_POINT}]", bash);
    }
}
