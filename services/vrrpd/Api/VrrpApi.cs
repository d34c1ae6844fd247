using Grpc.Core;
using Vigil.Hosting;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Daemon;

namespace Vigil.Vrrpd.Api;

/// <summary>vigil.vrrp.v1.VrrpService: converts requests to core calls on the daemon and back.</summary>
internal sealed class VrrpApi(DaemonHost host, VrrpDaemon daemon) : VrrpService.VrrpServiceBase
{
    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context)
    {
        if (daemon.IsStopping) throw DaemonStopping.Error();
        return Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
    }

    public override async Task<ApplyConfigResponse> ApplyConfig(ApplyConfigRequest request, ServerCallContext context)
    {
        // One bad instance does not hold the others back: the valid ones are applied, the bad
        // ones reported (controld logs them).
        var mapped = ConfigMapper.Map(request.Config);
        var result = await daemon.ApplyAsync(mapped.Config, context.CancellationToken);
        return Response(result, mapped.Rejected);
    }

    internal static ApplyConfigResponse Response(ApplyResult result, IReadOnlyList<InstanceRejection> rejected)
    {
        var response = new ApplyConfigResponse();
        response.AddedInstances.AddRange(result.Added);
        response.RemovedInstances.AddRange(result.Removed);
        response.ChangedInstances.AddRange(result.Changed);
        response.UnchangedInstances.AddRange(result.Unchanged);
        response.RejectedInstances.AddRange(rejected.Select(r => new Vrrp.V1.RejectedInstance { Name = r.Name, Field = r.Field, Reason = r.Reason }));
        return response;
    }

    public override Task<ListInstancesResponse> ListInstances(ListInstancesRequest request, ServerCallContext context)
    {
        var response = new ListInstancesResponse();
        response.Instances.AddRange(daemon.State.Instances.Values
            .OrderBy(s => s.Config.Name, StringComparer.Ordinal)
            .Select(s => StateMapper.ToProto(s, daemon.WallClock)));
        foreach (var (k, v) in daemon.Counters) response.Counters[k] = v;
        return Task.FromResult(response);
    }

    public override Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Name)) throw new InvalidArgumentException("name", "an instance name is required");
        if (!daemon.State.Instances.TryGetValue(request.Name, out var s)) throw new NotFoundException($"no instance named '{request.Name}'");
        return Task.FromResult(new GetInstanceResponse { Instance = StateMapper.ToProto(s, daemon.WallClock) });
    }

    public override async Task WatchInstances(WatchInstancesRequest request, IServerStreamWriter<WatchInstancesResponse> responses, ServerCallContext context)
    {
        using var subscription = await daemon.WatchAsync();
        await foreach (var e in subscription.Reader.ReadAllAsync(context.CancellationToken))
        {
            await responses.WriteAsync(StateMapper.ToProto(e, daemon.WallClock), context.CancellationToken);
        }
    }

    public override async Task<SendGarpResponse> SendGarp(SendGarpRequest request, ServerCallContext context)
    {
        var response = new SendGarpResponse();
        response.Instances.AddRange(await daemon.SendGarpAsync(request.Instance));
        return response;
    }

    public override async Task<SetInstancePriorityResponse> SetInstancePriority(SetInstancePriorityRequest request, ServerCallContext context)
    {
        var state = await daemon.SetPriorityAsync(request.Instance, request.Priority);
        return new SetInstancePriorityResponse { Instance = StateMapper.ToProto(state, daemon.WallClock) };
    }
}
