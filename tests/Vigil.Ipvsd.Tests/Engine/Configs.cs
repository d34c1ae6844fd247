using Vigil.Check.V1;
using Vigil.Config;
using Vigil.Controld.Dispatch;
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
