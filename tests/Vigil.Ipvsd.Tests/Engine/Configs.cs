using Vigil.Check.V1;
using Vigil.Config;
using Vigil.Controld.Dispatch;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Engine;
using IpvsConfig = Vigil.Ipvs.V1.IpvsConfig;

namespace Vigil.Ipvsd.Tests.Engine;

/// <summary>keepalived.conf text to ipvsd's desired state, the way controld sends it.</summary>
internal static class Configs
{
    public static IpvsConfig Ipvs(string keepalivedConf)
    {
        var result = ConfigLoader.Parse(keepalivedConf);
        Assert.True(result.Config is not null, string.Join("\n", result.Diagnostics));
        return IpvsConfigMapper.ToProto(result.Config!);
    }

    /// <summary>The kernel service of <see cref="Web"/>.</summary>
    public static readonly Netlink.Ipvs.IpvsService WebService = new() { Address = System.Net.IPAddress.Parse("10.0.0.1"), Port = 80, Scheduler = "" };

    /// <summary>The configuration with a reconcile every 100 ms, so periodic passes come quickly.</summary>
    public static IpvsConfig Fast(IpvsConfig config)
    {
        config.Globals.ReconcileInterval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMilliseconds(100));
        return config;
    }

    /// <summary>A reconciler (not started) whose backend is <paramref name="backend"/>.</summary>
    public static Reconciler Reconciler(MemoryBackend backend) =>
        new((_, _) => Task.FromResult<(ILvsBackend, string?)>((backend, null)), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

    public static DestinationSet Set(VirtualServerKey key, params (string Address, uint Port, int Weight)[] destinations)
    {
        var set = new DestinationSet { Key = key };
        set.Destinations.AddRange(destinations.Select(d => new Destination { Endpoint = new Endpoint { Address = d.Address, Port = d.Port }, Weight = d.Weight, Role = DestinationRole.RealServer }));
        return set;
    }

    public static VirtualServerKey Key(string address, uint port) => new() { Endpoint = new Endpoint { Address = address, Port = port }, Protocol = Check.V1.Protocol.Tcp };

    public const string Web = """
        virtual_server 10.0.0.1 80 {
            delay_loop 1
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            real_server 10.0.1.2 80 {
                weight 3
                TCP_CHECK { connect_timeout 1 }
            }
            real_server 10.0.1.3 80 {
                weight 1
                uthreshold 100
                lthreshold 10
                TCP_CHECK { connect_timeout 1 }
            }
        }
        """;
}
