using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;

namespace Vigil.Controld.Tests.Events;

public sealed class ReloadChangesTests
{
    private const string Base = """
        vrrp_instance VI_1 {
            interface lo
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress { 10.0.0.10/24 }
        }
        virtual_server 10.0.0.10 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.0.1.2 80 { weight 1 }
        }
        """;

    private static KeepalivedConfig Model(string text) =>
        ConfigLoader.Parse(text, new ConfigLoadOptions { FileSystem = new InMemoryFileSystem() }).Config
        ?? throw new InvalidOperationException("the test configuration does not load");

    [Fact]
    public void Describe_TheSameFile_ChangesNothing() => Assert.Empty(ReloadChanges.Describe(Model(Base), Model(Base)));

    [Fact]
    public void Describe_NamesThePriorityChange_WithBothValues()
    {
        var changes = ReloadChanges.Describe(Model(Base), Model(Base.Replace("priority 100", "priority 150")));
        Assert.Equal(["vrrp_instance VI_1: changed: priority 100 -> 150"], changes);
    }

    [Fact]
    public void Describe_AddedAndRemovedInstancesAndRealServers()
    {
        var next = Base.Replace("VI_1", "VI_2").Replace("real_server 10.0.1.2 80 { weight 1 }", "real_server 10.0.1.2 80 { weight 1 }\n    real_server 10.0.1.3 80 { weight 2 }");
        var changes = ReloadChanges.Describe(Model(Base), Model(next));
        Assert.Contains("vrrp_instance VI_2: added", changes);
        Assert.Contains("vrrp_instance VI_1: removed", changes);
        Assert.Contains(changes, c => c.StartsWith("virtual_server [10.0.0.10]:tcp:80: changed: ", StringComparison.Ordinal) && c.Contains("real_servers"));
    }

    [Fact]
    public void Describe_FromNothing_AddsEverything()
    {
        var changes = ReloadChanges.Describe(null, Model(Base));
        Assert.Contains("vrrp_instance VI_1: added", changes);
        Assert.Contains(changes, c => c.StartsWith("virtual_server [10.0.0.10]:tcp:80", StringComparison.Ordinal) && c.EndsWith(": added", StringComparison.Ordinal));
    }
}
