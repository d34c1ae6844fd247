using Vigil.Config;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>
/// keepalived.conf to vigil.vrrp.v1 as controld maps it. The whole path into vrrpd's own mapper (what
/// vrrpd runs and refuses) is tests/Vigil.Vrrpd.Tests/Api/ApplyPathTests.
/// </summary>
public sealed class VrrpConfigMapperTests
{
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

    [Fact]
    public void ToProto_VirtualRoutesAndRules_AreSentToVrrpd()
    {
        var r = ConfigLoader.Parse(ConfigSamples.RoutingInstance, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() });
        Assert.True(r.ExitCode == 0, string.Join("\n", r.Diagnostics));
        var i = VrrpConfigMapper.ToProto(r.Config!).Instances.Single();

        // The local route is a type vrrpd cannot install: left out, and -t said so at its line.
        Assert.Equal(4, i.VirtualRoutes.Count);
        Assert.Contains(r.Warnings, d => d.Position.Line == 11 && d.Message.Contains("route type local", StringComparison.Ordinal));
        var first = i.VirtualRoutes[0];
        Assert.Equal(("203.0.113.0/24", "192.0.2.254", "eth0", "192.0.2.10", 254u, 20u, false),
            (first.Destination, first.Gateway, first.Device, first.Source, first.Table, first.Metric, first.NoTrack));
        Assert.Equal(("0.0.0.0/0", 100u, true), (i.VirtualRoutes[1].Destination, i.VirtualRoutes[1].Table, i.VirtualRoutes[1].NoTrack));
        Assert.Equal(("198.51.100.0/24", "blackhole"), (i.VirtualRoutes[2].Destination, i.VirtualRoutes[2].Type));
        Assert.Equal(("fd00:1::/48", "fe80::1"), (i.VirtualRoutes[3].Destination, i.VirtualRoutes[3].Gateway));

        Assert.Equal(4, i.VirtualRules.Count);
        Assert.Equal(("192.0.2.10/32", 100u, 90u, ""), (i.VirtualRules[0].From, i.VirtualRules[0].Table, i.VirtualRules[0].Priority, i.VirtualRules[0].Action));
        Assert.Equal(("goto", 120u, 0u), (i.VirtualRules[1].Action, i.VirtualRules[1].GotoPriority, i.VirtualRules[1].Table));
        var third = i.VirtualRules[2];
        Assert.Equal((true, "eth0", 0x10u, 0xffu, 101u), (third.Invert, third.InputInterface, third.Fwmark, third.Fwmask, third.Table));
        // Fully supported lines are not warned about.
        Assert.DoesNotContain(r.Warnings, d => d.Position.Line is 8 or 9 or 10 or 12 or (>= 15 and <= 18));
    }
}
