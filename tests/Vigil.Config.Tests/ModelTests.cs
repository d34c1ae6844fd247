using System.Net;
using System.Text.Json;
using Vigil.Config.Model;
using Vigil.Config.Output;

namespace Vigil.Config.Tests;

/// <summary>The model's value semantics, its JSON form and the reload diff.</summary>
public sealed class ModelTests
{
    private const string Base = """
        global_defs {
            router_id LB1
        }
        vrrp_script chk {
            script /usr/bin/true
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 1
            priority 150
            virtual_ipaddress {
                192.0.2.1/24
                192.0.2.2/24
            }
            track_script {
                chk
            }
        }
        vrrp_instance VI_2 {
            interface eth1
            virtual_router_id 2
            virtual_ipaddress {
                198.51.100.1/24
            }
        }
        virtual_server 192.0.2.1 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.0.0.1 80 {
                TCP_CHECK {
                    connect_timeout 3
                }
            }
            real_server 10.0.0.2 80 {
                TCP_CHECK {
                    connect_timeout 3
                }
            }
        }
        virtual_server 192.0.2.2 443 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.0.1.1 443 {
                TCP_CHECK {
                }
            }
        }
        """;

    private static KeepalivedConfig Model(string text)
    {
        var r = TestSupport.Parse(text);
        return r.Config ?? throw new InvalidOperationException(TestSupport.Describe(r.Diagnostics));
    }

    [Fact]
    public void TwoReadsOfTheSameText_AreEqual_WithEqualHashCodes()
    {
        var a = Model(Base);
        var b = Model(Base);
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal(a.Instances, b.Instances);
        Assert.True(a.VirtualServers[0].RealServers == b.VirtualServers[0].RealServers);
    }

    [Fact]
    public void AChangeAnywhere_BreaksEquality()
    {
        var a = Model(Base);
        var vs = a.VirtualServers[0];
        var rs = vs.RealServers[1] with { Weight = 7 };
        var changed = a with { VirtualServers = [vs with { RealServers = [vs.RealServers[0], rs] }, a.VirtualServers[1]] };
        Assert.NotEqual(a, changed);
        Assert.Equal(a, changed with { VirtualServers = a.VirtualServers });
    }

    [Fact]
    public void EquatableArray_ComparesByValue_AndDefaultIsEmpty()
    {
        EquatableArray<int> x = [1, 2, 3];
        EquatableArray<int> y = [.. new List<int> { 1, 2, 3 }];
        Assert.Equal(x, y);
        Assert.Equal(x.GetHashCode(), y.GetHashCode());
        Assert.NotEqual(x, [1, 2]);
        Assert.NotEqual(x, [1, 2, 4]);
        var empty = default(EquatableArray<int>);
        Assert.True(empty.IsEmpty);
        Assert.Empty(empty);
        Assert.Equal(empty, []);
        Assert.Equal([1, 2, 3, 4], x.Append(4));
    }

    [Fact]
    public void TypedValues_AddressesPrefixesDurationsEnums()
    {
        var m = Model(Base);
        var vi = m.FindInstance("VI_1")!;
        Assert.Equal(IPAddress.Parse("192.0.2.1"), vi.VirtualIpAddresses[0].Address.Address);
        Assert.Equal(24, vi.VirtualIpAddresses[0].Address.PrefixLength);
        Assert.Equal(TimeSpan.FromSeconds(1), vi.AdvertInterval);
        Assert.Equal(VrrpState.Backup, vi.State);
        Assert.Equal(ForwardingMethod.Nat, m.VirtualServers[0].Forwarding.Method);
        Assert.Equal(TimeSpan.FromSeconds(3), ((TcpCheck)m.VirtualServers[0].RealServers[0].Checkers[0]).Connection.ConnectTimeout);
        Assert.Null(m.Global.SmtpServer);
        Assert.Null(m.FindInstance("nope"));
    }

    [Fact]
    public void Json_KeepsDeclarationOrder_AndWritesAddressesAndDurationsAsText()
    {
        var json = ConfigJson.Serialize(Model(Base));
        Assert.Equal(json, ConfigJson.Serialize(Model(Base)));
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(
            ["global", "trackGroups", "staticAddresses", "staticRoutes", "staticRules", "garpGroups", "vrrpScripts", "trackFiles", "trackProcesses", "bfdInstances", "syncGroups", "instances", "ssl", "virtualServerGroups", "virtualServers", "consul", "metrics"],
            root.EnumerateObject().Select(p => p.Name));
        var vi = root.GetProperty("instances")[0];
        Assert.Equal("192.0.2.1/24", vi.GetProperty("virtualIpAddresses")[0].GetProperty("address").GetString());
        Assert.Equal(1, vi.GetProperty("advertInterval").GetDouble());
        Assert.Equal("Backup", vi.GetProperty("state").GetString());
        Assert.Equal("inet", vi.GetProperty("family").GetString());
        Assert.Equal("TCP_CHECK", root.GetProperty("virtualServers")[0].GetProperty("realServers")[0].GetProperty("checkers")[0].GetProperty("type").GetString());
    }

    [Theory]
    [MemberData(nameof(CorpusTests.Files), MemberType = typeof(CorpusTests))]
    public void Json_ReadsBackToAnEqualModel(string file)
    {
        var result = CorpusTests.Load(file, out _);
        if (result.Config is not { } config) return;
        var again = ConfigJson.Deserialize(ConfigJson.Serialize(config));
        Assert.True(config == again, again is null ? "null" : TestSupport.JsonDifference(config, again));
    }

    [Fact]
    public void Diff_OfEqualModels_IsEmpty()
    {
        Assert.True(ConfigDiff.Compute(Model(Base), Model(Base)).IsEmpty);
    }

    [Fact]
    public void Diff_InstancesAndVips()
    {
        var changed = Base
            .Replace("        192.0.2.2/24\n", "        192.0.2.3/24\n", StringComparison.Ordinal)
            .Replace("vrrp_instance VI_2 {", "vrrp_instance VI_3 {", StringComparison.Ordinal)
            .Replace("    priority 150", "    priority 120", StringComparison.Ordinal);
        var d = ConfigDiff.Compute(Model(Base), Model(changed));
        Assert.False(d.IsEmpty);
        Assert.Equal(["VI_3"], d.AddedInstances.Select(i => i.Name));
        Assert.Equal(["VI_2"], d.RemovedInstances.Select(i => i.Name));
        var c = Assert.Single(d.ChangedInstances);
        Assert.Equal("VI_1", c.Name);
        Assert.Equal(["192.0.2.3/24"], c.AddedVips.Select(v => v.Address.ToString()));
        Assert.Equal(["192.0.2.2/24"], c.RemovedVips.Select(v => v.Address.ToString()));
        Assert.Equal(["Priority", "VirtualIpAddresses"], c.ChangedSettings.Order(StringComparer.Ordinal));
        Assert.False(c.OnlyAddressesChanged);
        Assert.False(d.GlobalChanged);
    }

    [Fact]
    public void Diff_OnlyVipsChanged()
    {
        var changed = Base.Replace("        192.0.2.2/24\n", "", StringComparison.Ordinal);
        var c = Assert.Single(ConfigDiff.Compute(Model(Base), Model(changed)).ChangedInstances);
        Assert.True(c.OnlyAddressesChanged);
    }

    [Fact]
    public void Diff_VirtualServersRealServersAndCheckers()
    {
        var changed = Base
            .Replace("real_server 10.0.0.2 80 {", "real_server 10.0.0.3 80 {", StringComparison.Ordinal)
            .Replace("real_server 10.0.0.1 80 {\n        TCP_CHECK {\n            connect_timeout 3", "real_server 10.0.0.1 80 {\n        weight 5\n        TCP_CHECK {\n            connect_timeout 4", StringComparison.Ordinal)
            .Replace("virtual_server 192.0.2.2 443 {", "virtual_server 192.0.2.2 8443 {", StringComparison.Ordinal)
            .Replace("real_server 10.0.1.1 443 {", "real_server 10.0.1.1 8443 {", StringComparison.Ordinal);
        Assert.Contains("weight 5", changed, StringComparison.Ordinal);
        var d = ConfigDiff.Compute(Model(Base), Model(changed));
        Assert.Equal(["192.0.2.2:8443/tcp"], d.AddedVirtualServers.Select(v => v.Key));
        Assert.Equal(["192.0.2.2:443/tcp"], d.RemovedVirtualServers.Select(v => v.Key));
        var vs = Assert.Single(d.ChangedVirtualServers);
        Assert.Equal("192.0.2.1:80/tcp", vs.Key);
        Assert.Equal(["10.0.0.3:80"], vs.AddedRealServers.Select(r => $"{r.Address}:{r.Port}"));
        Assert.Equal(["10.0.0.2:80"], vs.RemovedRealServers.Select(r => $"{r.Address}:{r.Port}"));
        var rs = Assert.Single(vs.ChangedRealServers);
        Assert.Equal("10.0.0.1:80", rs.Key);
        Assert.Equal(["Checkers", "Weight"], rs.ChangedSettings.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromSeconds(4), ((TcpCheck)Assert.Single(rs.AddedCheckers)).Connection.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), ((TcpCheck)Assert.Single(rs.RemovedCheckers)).Connection.ConnectTimeout);
    }

    [Fact]
    public void Diff_GlobalAndNamedBlocks()
    {
        var changed = Base
            .Replace("router_id LB1", "router_id LB2", StringComparison.Ordinal)
            .Replace("script /usr/bin/true", "script /usr/bin/false", StringComparison.Ordinal);
        var d = ConfigDiff.Compute(Model(Base), Model(changed));
        Assert.True(d.GlobalChanged);
        Assert.Equal(["RouterId"], d.ChangedGlobalSettings);
        Assert.Equal(["chk"], d.VrrpScripts.Changed);
        Assert.True(d.ChangedInstances.IsEmpty);
    }

    /// <summary>
    /// ConfigJson lists one EquatableArrayJsonConverter per element type by hand (NativeAOT cannot
    /// make a converter at run time): every EquatableArray property reachable from the model has
    /// its converter, and metadata for its elements and element arrays.
    /// </summary>
    [Fact]
    public void Json_EveryEquatableArrayInTheModel_HasItsConverter()
    {
        var options = ConfigJsonContext.Default.Options;
        var seen = new HashSet<Type>();
        var lists = new HashSet<Type>();
        void Walk(Type t)
        {
            if (!seen.Add(t) || t.Namespace != typeof(KeepalivedConfig).Namespace) return;
            foreach (var p in t.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            {
                var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
                if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
                {
                    lists.Add(type);
                    Walk(type.GetGenericArguments()[0]);
                }
                else Walk(type);
            }
        }
        Walk(typeof(KeepalivedConfig));
        Assert.NotEmpty(lists);
        foreach (var list in lists)
        {
            var element = list.GetGenericArguments()[0];
            Assert.Equal(typeof(EquatableArrayJsonConverter<>).MakeGenericType(element), options.GetTypeInfo(list).Converter.GetType());
            Assert.NotNull(options.GetTypeInfo(element));
            Assert.NotNull(options.GetTypeInfo(element.MakeArrayType()));
        }
    }
}
