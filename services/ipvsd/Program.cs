using Vigil.Hosting;
using Vigil.Ipvsd.Api;

namespace Vigil.Ipvsd;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Ipvsd, args);
        if (host is null) return exitCode;
        await using (host)
        {
            host.Server.AddService(new IpvsApi(host), Vigil.Ipvs.V1.IpvsService.Descriptor.FullName);
            return await host.RunAsync();
        }
    }
}
