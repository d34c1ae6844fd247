using Vigil.Config;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Vrrpd.Api;

namespace Vigil.Vrrpd.Tests.Api;

/// <summary>keepalived.conf -> controld's VrrpConfigMapper -> vrrpd's ConfigMapper.Map: what ApplyConfig runs and refuses.</summary>
public sealed class ApplyPathTests
{
    [Fact]
    public void KeepalivedConf_WithAnAhAndAnIpv6VmacInstance_TheOthersRun_TheBadOnesAreNamed()
    {
        const string text = """
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
            vrrp_instance VI_V6 {
                interface eth0
                virtual_router_id 53
                use_vmac
                virtual_ipaddress {
                    fe80::53
                }
            }
            vrrp_instance VI_3 {
                interface eth0
                virtual_router_id 54
                virtual_ipaddress {
                    192.0.2.3/24
                }
            }
            """;
        var loaded = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() });
        Assert.NotNull(loaded.Config);
        var mapped = ConfigMapper.Map(VrrpConfigMapper.ToProto(loaded.Config));
        Assert.Equal(["VI_1", "VI_3"], mapped.Config.Instances.Select(i => i.Name));
        Assert.Equal(["instances[VI_AH].auth_type", "instances[VI_V6].use_vmac"], mapped.Rejected.Select(r => r.Field));
        var lines = VrrpConfigMapper.Rejections(VrrpApi.Response(new Vigil.Vrrpd.Daemon.ApplyResult(["VI_1", "VI_3"], [], [], []), mapped.Rejected)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("vrrp_instance VI_AH does not run: instances[VI_AH].auth_type: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("AH", lines[0], StringComparison.Ordinal);
    }
}
