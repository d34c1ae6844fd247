using Vigil.Check.V1;
using Vigil.Hosting;
using Vigil.Rpc.Server;

namespace Vigil.Checkd.Api;

/// <summary>vigil.check.v1.CheckService: thin adapters over the check engine.</summary>
internal sealed class CheckApi(DaemonHost host)
{
    public Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
}
