using Grpc.Core;
using Vigil.Check.V1;
using Vigil.Checkd.Daemon;
using Vigil.Checkd.Engine;
using Vigil.Hosting;

namespace Vigil.Checkd.Api;

/// <summary>
/// vigil.check.v1.CheckService: thin adapters over the check engine. Requests become model
/// records (<see cref="ConfigMapper"/>), the engine does the work, its records become messages
/// (<see cref="StatusMapper"/>); the engine's typed errors become status codes in one place
/// (<see cref="Translate"/>).
/// </summary>
internal sealed class CheckApi(DaemonHost host, CheckEngine engine, VrrpFollower vrrp) : CheckService.CheckServiceBase
{
    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context)
    {
        if (host.Stopping.IsCancellationRequested) throw new UnavailableException("vigil-checkd is stopping");
        return Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
    }

    public override Task<ApplyConfigResponse> ApplyConfig(ApplyConfigRequest request, ServerCallContext context) => Translate(async () =>
    {
        var config = ConfigMapper.ToModel(request.Config);
        var result = await engine.ApplyConfigurationAsync(config, context.CancellationToken);
        // ha_suspend follows vrrpd's instances when the configuration asks for it.
        vrrp.SetEnabled(config.VirtualServers.Any(v => v.HaSuspend));
        return StatusMapper.ToProto(result);
    }, "config");

    public override Task<ListVirtualServersResponse> ListVirtualServers(ListVirtualServersRequest request, ServerCallContext context) => Translate(async () =>
    {
        var snapshot = await engine.GetSnapshotAsync(context.CancellationToken);
        var response = new ListVirtualServersResponse { Sequence = (ulong)Math.Max(snapshot.Sequence, 0) };
        response.VirtualServers.AddRange(snapshot.VirtualServers.Select(StatusMapper.ToProto));
        foreach (var (name, value) in StatusMapper.Counters(engine.GetCounters())) response.Counters[name] = value;
        return response;
    });

    public override Task<GetVirtualServerResponse> GetVirtualServer(GetVirtualServerRequest request, ServerCallContext context) => Translate(async () =>
    {
        var key = ConfigMapper.ToKey(request.Key, "key");
        var status = await engine.GetVirtualServerAsync(key, context.CancellationToken);
        return new GetVirtualServerResponse { VirtualServer = StatusMapper.ToProto(status) };
    });

    public override async Task WatchCheckResults(WatchCheckResultsRequest request, IServerStreamWriter<WatchCheckResultsResponse> responses, ServerCallContext context)
    {
        var inSnapshot = true;
        try
        {
            await foreach (var e in engine.WatchAsync(context.CancellationToken))
            {
                var message = StatusMapper.ToProto(e, inSnapshot);
                if (e is Engine.EndOfSnapshot) inSnapshot = false;
                await responses.WriteAsync(message, context.CancellationToken);
            }
        }
        catch (CheckdUnavailableException e)
        {
            throw new UnavailableException(e.Message);
        }
        // The engine ended the stream without the client leaving: it stopped.
        if (!context.CancellationToken.IsCancellationRequested) throw new UnavailableException("vigil-checkd is stopping");
    }

    public override Task<ListDestinationsResponse> ListDestinations(ListDestinationsRequest request, ServerCallContext context) => Translate(async () =>
    {
        var response = new ListDestinationsResponse();
        response.VirtualServers.AddRange((await engine.GetDesiredDestinationsAsync(context.CancellationToken)).Select(StatusMapper.ToProto));
        return response;
    });

    public override Task<SetRealServerWeightResponse> SetRealServerWeight(SetRealServerWeightRequest request, ServerCallContext context) => Translate(async () =>
    {
        var vs = ConfigMapper.ToKey(request.VirtualServer, "virtual_server");
        var rs = ConfigMapper.ToRealServerKey(request.RealServer, "real_server");
        if (request.Weight is < 0) throw new InvalidArgumentException("weight", $"{request.Weight} is outside 0..{int.MaxValue}");
        var status = await engine.SetRealServerWeightAsync(vs, rs, request.Weight, context.CancellationToken);
        return new SetRealServerWeightResponse { RealServer = StatusMapper.ToProto(status) };
    }, "weight");

    public override Task<DrainRealServerResponse> DrainRealServer(DrainRealServerRequest request, ServerCallContext context) => Translate(async () =>
    {
        var vs = ConfigMapper.ToKey(request.VirtualServer, "virtual_server");
        var rs = ConfigMapper.ToRealServerKey(request.RealServer, "real_server");
        var status = await engine.SetRealServerDrainAsync(vs, rs, !request.Undrain, context.CancellationToken);
        return new DrainRealServerResponse { RealServer = StatusMapper.ToProto(status) };
    });

    public override Task<AddRealServerResponse> AddRealServer(AddRealServerRequest request, ServerCallContext context) => Translate(async () =>
    {
        var vs = ConfigMapper.ToKey(request.VirtualServer, "virtual_server");
        var rs = ConfigMapper.ToRealServer(request.RealServer, "real_server");
        var status = await engine.AddRealServerAsync(vs, rs, context.CancellationToken);
        return new AddRealServerResponse { RealServer = StatusMapper.ToProto(status) };
    }, "real_server");

    public override Task<RemoveRealServerResponse> RemoveRealServer(RemoveRealServerRequest request, ServerCallContext context) => Translate(async () =>
    {
        var vs = ConfigMapper.ToKey(request.VirtualServer, "virtual_server");
        var rs = ConfigMapper.ToRealServerKey(request.RealServer, "real_server");
        await engine.RemoveRealServerAsync(vs, rs, context.CancellationToken);
        return new RemoveRealServerResponse();
    });

    /// <summary>The one place the engine's typed errors become gRPC status codes (through the
    /// hosting layer's exceptions, which the RPC server maps).</summary>
    private static async Task<T> Translate<T>(Func<Task<T>> call, string invalidField = "request")
    {
        try
        {
            return await call();
        }
        catch (CheckdInvalidArgumentException e)
        {
            throw new InvalidArgumentException(invalidField, e.Message);
        }
        catch (CheckdNotFoundException e)
        {
            throw new NotFoundException(e.Message);
        }
        catch (CheckdAlreadyExistsException e)
        {
            throw new AlreadyExistsException(e.Message);
        }
        catch (CheckdFailedPreconditionException e)
        {
            throw new FailedPreconditionException(e.Message);
        }
        catch (CheckdUnavailableException e)
        {
            throw new UnavailableException(e.Message);
        }
    }
}
