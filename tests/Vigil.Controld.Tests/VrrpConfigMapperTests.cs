using Vigil.Config;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>controld's side of "one bad instance does not stop the others".</summary>
public sealed class VrrpConfigMapperTests
{
    private const string TwoInstances = """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            virtual_ipaddress {
                192.0.2.1/24
            }
        }
        vrrp_instance VI_AH {
            interface eth0
            virtual_router_id 52
            authentication {
                auth_type AH
                auth_pass secret
            }
            virtual_ipaddress {
                192.0.2.2/24
            }
        }
        """;

    [Fact]
    public void ToProto_UnsupportedInstance_IsSentWithTheOthers_SoVrrpdCanNameIt()
    {
        var r = ConfigLoader.Parse(TwoInstances, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() });
        Assert.Equal(0, r.ExitCode);
        // -t warns, and the configuration still runs.
        Assert.Contains(r.Warnings, d => d.Position.Line == 12 && d.Message.StartsWith("'auth_type' is not fully supported yet by Vigil: AH", StringComparison.Ordinal));
        var proto = VrrpConfigMapper.ToProto(r.Config!);
        Assert.Equal(["VI_1", "VI_AH"], proto.Instances.Select(i => i.Name));
        Assert.Equal(AuthType.Ah, proto.Instances[1].AuthType);
    }

    [Fact]
    public void Rejections_OneLogLinePerRefusedInstance_NamingFieldAndReason()
    {
        var reply = new ApplyConfigResponse { AddedInstances = { "VI_1" } };
        reply.RejectedInstances.Add(new RejectedInstance { Name = "VI_AH", Field = "instances[VI_AH].auth_type", Reason = "AH is not supported by Vigil (use PASS or none)" });
        Assert.Equal(
            ["vrrp_instance VI_AH does not run: instances[VI_AH].auth_type: AH is not supported by Vigil (use PASS or none)"],
            VrrpConfigMapper.Rejections(reply));
        Assert.Empty(VrrpConfigMapper.Rejections(new ApplyConfigResponse { AddedInstances = { "VI_1" } }));
    }
}
