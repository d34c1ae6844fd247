using Vigil.Checkd.Api;
using Vigil.Hosting;

namespace Vigil.Checkd;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Checkd, args);
        if (host is null) return exitCode;
        await using (host)
        {
            host.Server.AddService(Vigil.Check.V1.CheckReflection.Descriptor.Services[0], new CheckApi(host));
            return await host.RunAsync();
        }
    }
}
