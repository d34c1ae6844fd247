using Vigil.Config;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Testing;
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
        // -t warns, and the configuration still runs.
        Assert.Contains(loaded.Warnings, d => d.Position.Line == 12 && d.Message.StartsWith("'auth_type' is not fully supported yet by Vigil: AH", StringComparison.Ordinal));
        var mapped = ConfigMapper.Map(VrrpConfigMapper.ToProto(loaded.Config));
        Assert.Equal(["VI_1", "VI_3"], mapped.Config.Instances.Select(i => i.Name));
        Assert.Equal(["instances[VI_AH].auth_type", "instances[VI_V6].use_vmac"], mapped.Rejected.Select(r => r.Field));
        var lines = VrrpConfigMapper.Rejections(VrrpApi.Response(new Vigil.Vrrpd.Daemon.ApplyResult(["VI_1", "VI_3"], [], [], []), mapped.Rejected)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("vrrp_instance VI_AH does not run: instances[VI_AH].auth_type: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("AH", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void KeepalivedConf_VirtualRoutesAndRules_ReachVrrpdsModel()
    {
        var loaded = ConfigLoader.Parse(ConfigSamples.RoutingInstance, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() });
        Assert.True(loaded.ExitCode == 0, string.Join("\n", loaded.Diagnostics));
        var mapped = ConfigMapper.Map(VrrpConfigMapper.ToProto(loaded.Config!));
        Assert.Empty(mapped.Rejected);
        var instance = mapped.Config.Instances.Single();
        Assert.Equal(4, instance.Routes.Count);
        Assert.Equal(4, instance.Rules.Count);
        Assert.Equal((uint?)254, instance.Routes[0].Table);
        Assert.Equal("0.0.0.0/0", instance.Routes[1].Destination.ToString());
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, instance.Rules[3].Family);
    }
}
