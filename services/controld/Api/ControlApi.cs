using Vigil.Control.V1;
using Vigil.Hosting;
using Vigil.Rpc.Server;

namespace Vigil.Controld.Api;

/// <summary>vigil.control.v1.ControlService: the public control API (grows with the control-plane issues).</summary>
internal sealed class ControlApi(DaemonHost host)
{
    public Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
}
