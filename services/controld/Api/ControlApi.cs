using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using GetDaemonInfoRequest = Vigil.Control.V1.GetDaemonInfoRequest;
using GetDaemonInfoResponse = Vigil.Control.V1.GetDaemonInfoResponse;
using AddRealServerRequest = Vigil.Control.V1.AddRealServerRequest;
using AddRealServerResponse = Vigil.Control.V1.AddRealServerResponse;
using RemoveRealServerRequest = Vigil.Control.V1.RemoveRealServerRequest;
using RemoveRealServerResponse = Vigil.Control.V1.RemoveRealServerResponse;
using Vigil.Control.V1;
using Vigil.Controld.Events;
using Vigil.Hosting;
using Vigil.Rpc.Client;

namespace Vigil.Controld.Api;

/// <summary>vigil.control.v1.ControlService: the public control API of a node.</summary>
internal sealed class ControlApi(DaemonHost host, Controller controller) : ControlService.ControlServiceBase
{
    /// <summary>How long GetStatus waits for each plane before it answers with what was last heard.</summary>
    private static readonly TimeSpan PlaneDeadline = TimeSpan.FromSeconds(1);

    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });

    public override async Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var response = new GetStatusResponse
        {
            ConfigFile = controller.Options.ConfigFile,
            ConfigLoadedAt = controller.Config is null ? null : Timestamp.FromDateTime(controller.ConfigLoadedAt),
            Consul = controller.Consul?.Status(),
        };
        response.Children.AddRange(Daemons());
        response.Instances.AddRange(await controller.CurrentInstancesAsync(context.CancellationToken));
        // checkd and ipvsd are asked now (weights and counters move without events); what was
        // last heard stands in for a plane that does not answer, and the plane is named.
        if (request.IncludeVirtualServers
            && await controller.CurrentVirtualServersAsync(response.Unavailable, PlaneDeadline, context.CancellationToken) is { } virtualServers)
            response.VirtualServers.AddRange(virtualServers);
        if (request.IncludeLvs && controller.Children.FirstOrDefault(c => c.Name == VigilPaths.Ipvsd) is { } ipvsd)
        {
            response.Lvs = await AskAsync(ipvsd.Invoker, VigilPaths.Ipvsd, response.Unavailable,
                (invoker, call) => new Ipvs.V1.IpvsService.IpvsServiceClient(invoker).ListVirtualServersAsync(new Ipvs.V1.ListVirtualServersRequest(), call), context.CancellationToken)
                ?? controller.LvsTable;
        }
        return response;
    }

    private IEnumerable<ChildDaemon> Daemons() => controller.Children.Select(c => new ChildDaemon
    {
        Name = c.Name,
        Pid = c.Pid ?? 0,
        Ready = c.IsReady,
        Restarts = c.Restarts,
        SocketPath = c.SocketPath,
        Healthy = c.IsHealthy,
        HeartbeatAge = c.HeartbeatAge is { } age ? Duration.FromTimeSpan(age) : null,
        LastRestartReason = c.LastRestartReason ?? "",
    });

    private static async Task<T?> AskAsync<T>(CallInvoker daemonInvoker, string daemon, ICollection<string> unavailable,
        Func<CallInvoker, CallOptions, AsyncUnaryCall<T>> call, CancellationToken token) where T : class
    {
        try
        {
            return await call(daemonInvoker, Deadline.In(PlaneDeadline, token));
        }
        catch (RpcException e)
        {
            unavailable.Add($"{daemon}: {e.StatusCode}: {e.Status.Detail}");
            return null;
        }
    }

    public override async Task<ReloadConfigResponse> ReloadConfig(ReloadConfigRequest request, ServerCallContext context)
    {
        var response = new ReloadConfigResponse();
        if (request.DryRun)
        {
            var dry = controller.DryRunReload();
            response.Warnings.AddRange(dry.Load.Warnings.Select(w => w.ToString()));
            response.Errors.AddRange(dry.Load.Errors.Select(e => e.ToString()));
            response.Changes.AddRange(dry.Changes);
            return response;
        }
        var result = await controller.ReloadAsync();
        if (result.Load.Config is null)
        {
            var errors = string.Join("; ", result.Load.Errors.Select(e => e.ToString()));
            throw new FailedPreconditionException($"the configuration cannot run, the running one stays in use: {errors}");
        }
        response.Warnings.AddRange(result.Load.Warnings.Select(w => w.ToString()));
        response.Changes.AddRange(result.Changes);
        return response;
    }

    public override async Task WatchEvents(WatchEventsRequest request, IServerStreamWriter<WatchEventsResponse> responseStream, ServerCallContext context)
    {
        EventJournal.Watch watch;
        try
        {
            watch = controller.Events.Open(request.AfterSequence, request.Epoch);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidArgumentException("after_sequence", e.Message.Split(Environment.NewLine)[0]);
        }
        using (watch)
        {
            var stopping = context.CancellationToken;
            var now = Timestamp.FromDateTime(DateTime.UtcNow);
            var epoch = controller.Events.Epoch;
            if (watch.JournalRestarted)
                await responseStream.WriteAsync(new WatchEventsResponse { Sequence = watch.OpenedAt, Time = now, Epoch = epoch, EventsLost = new EventsLost { JournalRestarted = true } }, stopping);
            else if (watch.Lost > 0)
                await responseStream.WriteAsync(new WatchEventsResponse { Sequence = request.AfterSequence, Time = now, Epoch = epoch, EventsLost = new EventsLost { Count = watch.Lost } }, stopping);
            if (watch.NeedsSnapshot)
            {
                var snapshot = new NodeSnapshot();
                snapshot.Instances.AddRange(controller.Instances);
                snapshot.VirtualServers.AddRange(controller.VirtualServers);
                if (controller.LvsTable is { } table) snapshot.LvsServices.AddRange(table.Services);
                snapshot.Daemons.AddRange(Daemons());
                await responseStream.WriteAsync(new WatchEventsResponse { Sequence = watch.OpenedAt, Time = now, Epoch = epoch, Snapshot = snapshot }, stopping);
                await responseStream.WriteAsync(new WatchEventsResponse { Sequence = watch.OpenedAt, Time = now, Epoch = epoch, CaughtUp = new CaughtUp() }, stopping);
            }
            var caughtUp = watch.NeedsSnapshot;
            var replayUntil = watch.OpenedAt;
            if (!caughtUp && replayUntil <= request.AfterSequence)
            {
                await responseStream.WriteAsync(new WatchEventsResponse { Sequence = replayUntil, Time = now, Epoch = epoch, CaughtUp = new CaughtUp() }, stopping);
                caughtUp = true;
            }
            try
            {
                while (true)
                {
                    var e = await watch.NextAsync(stopping);
                    await responseStream.WriteAsync(e, stopping);
                    // A resume is caught up once the replay reaches what was published before it opened.
                    if (!caughtUp && e.Sequence >= replayUntil && e.EventCase != WatchEventsResponse.EventOneofCase.EventsLost)
                    {
                        await responseStream.WriteAsync(new WatchEventsResponse { Sequence = e.Sequence, Time = e.Time, Epoch = epoch, CaughtUp = new CaughtUp() }, stopping);
                        caughtUp = true;
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The client went away, or the daemon stops.
            }
        }
    }

    public override async Task<SetWeightResponse> SetWeight(SetWeightRequest request, ServerCallContext context)
    {
        var (vs, rs) = Target(request.Target);
        var reply = await CallCheckdAsync((client, call) => client.SetRealServerWeightAsync(
            new SetRealServerWeightRequest { VirtualServer = vs, RealServer = rs, Weight = request.Weight }, call), context);
        return new SetWeightResponse { RealServer = reply.RealServer };
    }

    public override async Task<DrainResponse> Drain(DrainRequest request, ServerCallContext context)
    {
        var (vs, rs) = Target(request.Target);
        var reply = await CallCheckdAsync((client, call) => client.DrainRealServerAsync(
            new DrainRealServerRequest { VirtualServer = vs, RealServer = rs }, call), context);
        return new DrainResponse { RealServer = reply.RealServer };
    }

    public override async Task<EnableResponse> Enable(EnableRequest request, ServerCallContext context)
    {
        var (vs, rs) = Target(request.Target);
        var reply = await CallCheckdAsync((client, call) => client.DrainRealServerAsync(
            new DrainRealServerRequest { VirtualServer = vs, RealServer = rs, Undrain = true }, call), context);
        return new EnableResponse { RealServer = reply.RealServer };
    }

    public override async Task<SetPriorityResponse> SetPriority(SetPriorityRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Instance)) throw new InvalidArgumentException("instance", "an instance name is required");
        if (request.Priority is { } p && p is < 1 or > 255) throw new InvalidArgumentException("priority", $"{p} is outside 1..254 (255 only for the address owner)");
        if (controller.Children.FirstOrDefault(c => c.Name == VigilPaths.Vrrpd) is not { IsReady: true } vrrpd)
            throw new UnavailableException("vigil-vrrpd is not running (no vrrp_instance configured, or it is restarting)");
        // vrrpd's status (INVALID_ARGUMENT naming the field, NOT_FOUND) reaches the caller as it is.
        var reply = await new Vrrp.V1.VrrpService.VrrpServiceClient(vrrpd.Invoker).SetInstancePriorityAsync(
            new Vrrp.V1.SetInstancePriorityRequest { Instance = request.Instance, Priority = request.Priority },
            Deadline.In(TimeSpan.FromSeconds(5), context.CancellationToken));
        return new SetPriorityResponse { Instance = reply.Instance };
    }

    public override async Task<AddRealServerResponse> AddRealServer(AddRealServerRequest request, ServerCallContext context)
    {
        if (request.VirtualServer is null) throw new InvalidArgumentException("virtual_server", "missing");
        if (request.RealServer is null) throw new InvalidArgumentException("real_server", "missing (its endpoint at least)");
        var reply = await CallCheckdAsync((client, call) => client.AddRealServerAsync(
            new Check.V1.AddRealServerRequest { VirtualServer = request.VirtualServer, RealServer = request.RealServer }, call), context);
        return new AddRealServerResponse { RealServer = reply.RealServer };
    }

    public override async Task<RemoveRealServerResponse> RemoveRealServer(RemoveRealServerRequest request, ServerCallContext context)
    {
        var (vs, rs) = Target(request.Target);
        await CallCheckdAsync((client, call) => client.RemoveRealServerAsync(
            new Check.V1.RemoveRealServerRequest { VirtualServer = vs, RealServer = rs }, call), context);
        return new RemoveRealServerResponse();
    }

    public override async Task<DumpStateResponse> DumpState(DumpStateRequest request, ServerCallContext context)
    {
        var dumps = new Dumps.DumpCollector(controller);
        var name = Dumps.DumpCollector.FileName(request.Format);
        return new DumpStateResponse { Text = await dumps.RenderAsync(request.Format, context.CancellationToken), FileName = name };
    }

    /// <summary>The fields every runtime real-server call needs; checkd checks their values and names what is wrong.</summary>
    private static (VirtualServerKey, Endpoint) Target(RealServerRef? target)
    {
        if (target is null) throw new InvalidArgumentException("target", "missing (the virtual and real server)");
        if (target.VirtualServer is null) throw new InvalidArgumentException("target.virtual_server", "missing");
        if (target.RealServer is null) throw new InvalidArgumentException("target.real_server", "missing");
        return (target.VirtualServer, target.RealServer);
    }

    /// <summary>
    /// Relays to checkd, which owns the real servers' weights (it tells ipvsd); checkd's status
    /// (INVALID_ARGUMENT naming the field, NOT_FOUND) reaches the caller as it is.
    /// </summary>
    private async Task<T> CallCheckdAsync<T>(Func<CheckService.CheckServiceClient, CallOptions, AsyncUnaryCall<T>> call, ServerCallContext context)
    {
        if (controller.Children.FirstOrDefault(c => c.Name == VigilPaths.Checkd) is not { IsReady: true } checkd)
            throw new UnavailableException("vigil-checkd is not running (no virtual_server configured, or it is restarting)");
        return await call(new CheckService.CheckServiceClient(checkd.Invoker), Deadline.In(TimeSpan.FromSeconds(5), context.CancellationToken));
    }
}
