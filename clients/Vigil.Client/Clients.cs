using Grpc.Health.V1;
using Vigil.Rpc.Client;

namespace Vigil.Client;

/// <summary>grpc.health.v1.Health on any Vigil socket.</summary>
public sealed class HealthClient(RpcChannel channel) : ServiceClient(channel, HealthReflection.Descriptor.Services[0])
{
    public Task<HealthCheckResponse> CheckAsync(HealthCheckRequest request, CallOptions options = default) =>
        UnaryAsync<HealthCheckRequest, HealthCheckResponse>("Check", request, options);

    public IAsyncEnumerable<HealthCheckResponse> WatchAsync(HealthCheckRequest request, CallOptions options = default) =>
        ServerStreamingAsync<HealthCheckRequest, HealthCheckResponse>("Watch", request, options);
}

/// <summary>vigil.vrrp.v1.VrrpService (vigil-vrrpd).</summary>
public sealed class VrrpClient(RpcChannel channel) : ServiceClient(channel, Vrrp.V1.VrrpReflection.Descriptor.Services[0])
{
    public Task<Vrrp.V1.GetDaemonInfoResponse> GetDaemonInfoAsync(Vrrp.V1.GetDaemonInfoRequest request, CallOptions options = default) =>
        UnaryAsync<Vrrp.V1.GetDaemonInfoRequest, Vrrp.V1.GetDaemonInfoResponse>("GetDaemonInfo", request, options);

    public Task<Vrrp.V1.ApplyConfigResponse> ApplyConfigAsync(Vrrp.V1.ApplyConfigRequest request, CallOptions options = default) =>
        UnaryAsync<Vrrp.V1.ApplyConfigRequest, Vrrp.V1.ApplyConfigResponse>("ApplyConfig", request, options);

    public Task<Vrrp.V1.ListInstancesResponse> ListInstancesAsync(Vrrp.V1.ListInstancesRequest request, CallOptions options = default) =>
        UnaryAsync<Vrrp.V1.ListInstancesRequest, Vrrp.V1.ListInstancesResponse>("ListInstances", request, options);

    public Task<Vrrp.V1.GetInstanceResponse> GetInstanceAsync(Vrrp.V1.GetInstanceRequest request, CallOptions options = default) =>
        UnaryAsync<Vrrp.V1.GetInstanceRequest, Vrrp.V1.GetInstanceResponse>("GetInstance", request, options);

    public IAsyncEnumerable<Vrrp.V1.WatchInstancesResponse> WatchInstancesAsync(Vrrp.V1.WatchInstancesRequest request, CallOptions options = default) =>
        ServerStreamingAsync<Vrrp.V1.WatchInstancesRequest, Vrrp.V1.WatchInstancesResponse>("WatchInstances", request, options);

    public Task<Vrrp.V1.SendGarpResponse> SendGarpAsync(Vrrp.V1.SendGarpRequest request, CallOptions options = default) =>
        UnaryAsync<Vrrp.V1.SendGarpRequest, Vrrp.V1.SendGarpResponse>("SendGarp", request, options);
}

/// <summary>vigil.check.v1.CheckService (vigil-checkd).</summary>
public sealed class CheckClient(RpcChannel channel) : ServiceClient(channel, Check.V1.CheckReflection.Descriptor.Services[0])
{
    public Task<Check.V1.GetDaemonInfoResponse> GetDaemonInfoAsync(Check.V1.GetDaemonInfoRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.GetDaemonInfoRequest, Check.V1.GetDaemonInfoResponse>("GetDaemonInfo", request, options);

    public Task<Check.V1.ApplyConfigResponse> ApplyConfigAsync(Check.V1.ApplyConfigRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.ApplyConfigRequest, Check.V1.ApplyConfigResponse>("ApplyConfig", request, options);

    public Task<Check.V1.ListVirtualServersResponse> ListVirtualServersAsync(Check.V1.ListVirtualServersRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.ListVirtualServersRequest, Check.V1.ListVirtualServersResponse>("ListVirtualServers", request, options);

    public Task<Check.V1.GetVirtualServerResponse> GetVirtualServerAsync(Check.V1.GetVirtualServerRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.GetVirtualServerRequest, Check.V1.GetVirtualServerResponse>("GetVirtualServer", request, options);

    public IAsyncEnumerable<Check.V1.WatchCheckResultsResponse> WatchCheckResultsAsync(Check.V1.WatchCheckResultsRequest request, CallOptions options = default) =>
        ServerStreamingAsync<Check.V1.WatchCheckResultsRequest, Check.V1.WatchCheckResultsResponse>("WatchCheckResults", request, options);

    public Task<Check.V1.ListDestinationsResponse> ListDestinationsAsync(Check.V1.ListDestinationsRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.ListDestinationsRequest, Check.V1.ListDestinationsResponse>("ListDestinations", request, options);

    public Task<Check.V1.SetRealServerWeightResponse> SetRealServerWeightAsync(Check.V1.SetRealServerWeightRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.SetRealServerWeightRequest, Check.V1.SetRealServerWeightResponse>("SetRealServerWeight", request, options);

    public Task<Check.V1.DrainRealServerResponse> DrainRealServerAsync(Check.V1.DrainRealServerRequest request, CallOptions options = default) =>
        UnaryAsync<Check.V1.DrainRealServerRequest, Check.V1.DrainRealServerResponse>("DrainRealServer", request, options);
}

/// <summary>vigil.ipvs.v1.IpvsService (vigil-ipvsd).</summary>
public sealed class IpvsClient(RpcChannel channel) : ServiceClient(channel, Ipvs.V1.IpvsReflection.Descriptor.Services[0])
{
    public Task<Ipvs.V1.GetDaemonInfoResponse> GetDaemonInfoAsync(Ipvs.V1.GetDaemonInfoRequest request, CallOptions options = default) =>
        UnaryAsync<Ipvs.V1.GetDaemonInfoRequest, Ipvs.V1.GetDaemonInfoResponse>("GetDaemonInfo", request, options);
}

/// <summary>vigil.control.v1.ControlService (vigil-controld).</summary>
public sealed class ControlClient(RpcChannel channel) : ServiceClient(channel, Control.V1.ControlReflection.Descriptor.Services[0])
{
    public Task<Control.V1.GetDaemonInfoResponse> GetDaemonInfoAsync(Control.V1.GetDaemonInfoRequest request, CallOptions options = default) =>
        UnaryAsync<Control.V1.GetDaemonInfoRequest, Control.V1.GetDaemonInfoResponse>("GetDaemonInfo", request, options);

    public Task<Control.V1.GetStatusResponse> GetStatusAsync(Control.V1.GetStatusRequest request, CallOptions options = default) =>
        UnaryAsync<Control.V1.GetStatusRequest, Control.V1.GetStatusResponse>("GetStatus", request, options);

    public Task<Control.V1.ReloadConfigResponse> ReloadConfigAsync(Control.V1.ReloadConfigRequest request, CallOptions options = default) =>
        UnaryAsync<Control.V1.ReloadConfigRequest, Control.V1.ReloadConfigResponse>("ReloadConfig", request, options);
}
