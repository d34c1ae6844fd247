using Vigil.Controld.Api;
using Vigil.Hosting;

namespace Vigil.Controld;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Controld, args);
        if (host is null) return exitCode;
        await using (host)
        {
            host.Server.AddService(Vigil.Control.V1.ControlReflection.Descriptor.Services[0], new ControlApi(host));
            return await host.RunAsync();
        }
    }
}
