using Grpc.Core;
using Vigil.Hosting;
using Vigil.Ipvs.V1;

namespace Vigil.Ipvsd.Api;

/// <summary>vigil.ipvs.v1.IpvsService: a thin adapter over the daemon (more RPCs come with the IPVS issue).</summary>
internal sealed class IpvsApi(DaemonHost host) : IpvsService.IpvsServiceBase
{
    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
}
