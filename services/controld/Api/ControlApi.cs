using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Vigil.Control.V1;
using Vigil.Hosting;

namespace Vigil.Controld.Api;

/// <summary>vigil.control.v1.ControlService: the public control API of a node.</summary>
internal sealed class ControlApi(DaemonHost host, Controller controller) : ControlService.ControlServiceBase
{
    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });

    public override async Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var response = new GetStatusResponse
        {
            ConfigFile = controller.Options.ConfigFile,
            ConfigLoadedAt = controller.Config is null ? null : Timestamp.FromDateTime(controller.ConfigLoadedAt),
        };
        foreach (var c in controller.Children)
        {
            response.Children.Add(new ChildDaemon
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
        }
        response.Instances.AddRange(await controller.CurrentInstancesAsync(context.CancellationToken));
        return response;
    }

    public override async Task<ReloadConfigResponse> ReloadConfig(ReloadConfigRequest request, ServerCallContext context)
    {
        var result = await controller.ReloadAsync();
        if (result.Config is null)
        {
            var errors = string.Join("; ", result.Errors.Select(e => e.ToString()));
            throw new FailedPreconditionException($"the configuration cannot run, the running one stays in use: {errors}");
        }
        var response = new ReloadConfigResponse();
        response.Warnings.AddRange(result.Warnings.Select(w => w.ToString()));
        return response;
    }
}
