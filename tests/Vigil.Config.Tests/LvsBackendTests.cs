using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Output;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>
/// global_defs lvs_backend (a Vigil extension) and the check's warnings for what the nftables
/// backend of vigil-ipvsd cannot program: DR/TUN forwarding, ops, lvs_sync_daemon.
/// </summary>
public sealed class LvsBackendTests
{
    private const string Explicit = "the nftables backend";
    private const string Auto = "the nftables backend (lvs_backend auto, no IPVS on this host)";

    /// <summary>A machine whose only interesting answer is whether its kernel has IPVS.</summary>
    private sealed class IpvsHost(bool? hasIpvs) : IHostEnvironment
    {
        public int IpvsQueries { get; private set; }

        public bool? InterfaceIsLoopback(string name) => name switch
        {
            "lo" => true,
            "eth0" => false,
            _ => null,
        };

        public ScriptProbe ProbeScript(string command) => ScriptProbe.Executable;

        public bool UserExists(string name) => true;

        public bool GroupExists(string name) => true;

        public bool? HasIpvs()
        {
            IpvsQueries++;
            return hasIpvs;
        }
    }

    private static ConfigLoadResult Parse(string text, IHostEnvironment? host) =>
        ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem(), Host = host, RandomSeed = 1 }, TestSupport.MainFile);

    private static string Format(Diagnostic d) => $"{d.Position.Line}:{d.Position.Column} {d.Message}";

    /// <summary>The nftables warnings, as "LINE:COL message".</summary>
    private static List<string> NftablesWarnings(ConfigLoadResult r) =>
        r.Diagnostics.Where(d => d.Message.Contains("needs IPVS", StringComparison.Ordinal)).Select(Format).ToList();

    private static string Global(string backendLine) => $$"""
        global_defs {
            {{backendLine}}
        }
        """;

    // A virtual server per forwarding source: the virtual server's lb_kind (line 6), a real
    // server's lvs_method (line 20), a sorry server's sorry_server_lvs_method (line 28); one
    // all-NAT virtual server (no warning) and a UDP one with ops (line 45).
    private const string Servers = """

        virtual_server 10.0.0.1 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.0.0.11 80 {
                weight 1
            }
            real_server 10.0.0.12 80 {
                weight 1
            }
        }
        virtual_server 10.0.0.2 443 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.0.0.21 443 {
                lvs_method TUN
            }
        }
        virtual_server 10.0.0.3 25 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            sorry_server 10.0.0.39 25
            sorry_server_lvs_method DR
            real_server 10.0.0.31 25 {
                weight 1
            }
        }
        virtual_server 10.0.0.4 8080 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.0.0.41 8080 {
                weight 1
            }
        }
        virtual_server 10.0.0.5 53 {
            lb_algo rr
            lb_kind NAT
            protocol UDP
            ops
            real_server 10.0.0.51 53 {
                weight 1
            }
        }
        """;

    private static readonly string[] ServerWarnings =
    [
        "6:5 virtual_server [10.0.0.1]:tcp:80: lb_kind DR needs IPVS; {0} does NAT only, this virtual server will not be programmed",
        "20:9 virtual_server [10.0.0.2]:tcp:443: real_server [10.0.0.21]:tcp:443 lvs_method TUN needs IPVS; {0} does NAT only, this virtual server will not be programmed",
        "28:5 virtual_server [10.0.0.3]:tcp:25: sorry_server_lvs_method DR needs IPVS; {0} does NAT only, this virtual server will not be programmed",
        "45:5 virtual_server [10.0.0.5]:udp:53: ops needs IPVS; {0} schedules connections, not single packets",
    ];

    private static List<string> Expected(string backend) => [.. ServerWarnings.Select(w => w.Replace("{0}", backend, StringComparison.Ordinal))];

    [Fact]
    public void Default_IsAuto()
    {
        var r = TestSupport.Parse("global_defs {\n    router_id lb1\n}\n");
        Assert.Equal(LvsBackend.Auto, r.Config!.Global.LvsBackend);
    }

    [Theory]
    [InlineData("ipvs", LvsBackend.Ipvs)]
    [InlineData("nftables", LvsBackend.Nftables)]
    [InlineData("auto", LvsBackend.Auto)]
    public void Parse_EachValue(string word, LvsBackend expected)
    {
        var r = TestSupport.Parse(Global("lvs_backend " + word));
        Assert.Equal(expected, r.Config!.Global.LvsBackend);
        // Vigil's own keyword: keepalived would not run with it, but it never sets the status.
        Assert.Equal(ConfigExitCode.Ok, r.ExitCode);
        var note = Assert.Single(r.Diagnostics);
        Assert.Equal("2:5 'lvs_backend' is a Vigil extension (keepalived does not know it)", Format(note));
        Assert.False(note.CountsForExitCode);
    }

    [Fact]
    public void BadValue_IsAnErrorAtTheValue_AndIsIgnored()
    {
        var r = TestSupport.Parse("""
            global_defs {
                lvs_backend nftables
                lvs_backend iptables
            }
            """);
        var error = Assert.Single(r.Errors);
        Assert.Equal("3:17 Unknown lvs_backend type iptables", Format(error));
        Assert.Equal(TestSupport.MainFile + ":3:17: error: Unknown lvs_backend type iptables", error.ToString());
        Assert.Equal(ConfigExitCode.ErrorsButWouldRun, r.ExitCode);
        Assert.Equal(LvsBackend.Nftables, r.Config!.Global.LvsBackend);
    }

    [Fact]
    public void MissingValue_IsAnError_AndIsIgnored()
    {
        var r = TestSupport.Parse(Global("lvs_backend"));
        Assert.Equal("2:5 lvs_backend requires a type (ipvs, nftables or auto) - ignoring", Format(Assert.Single(r.Errors)));
        Assert.Equal(ConfigExitCode.ErrorsButWouldRun, r.ExitCode);
        Assert.Equal(LvsBackend.Auto, r.Config!.Global.LvsBackend);
    }

    [Theory]
    [InlineData("ipvs")]
    [InlineData("nftables")]
    public void DumpConfig_WritesANonDefaultBackend_AndReadsItBack(string word)
    {
        var config = TestSupport.Parse(Global("lvs_backend " + word) + Servers).Config!;
        var text = ConfigWriter.Write(config);
        Assert.Contains("lvs_backend " + word + "\n", text, StringComparison.Ordinal);
        var again = TestSupport.Parse(text).Config;
        Assert.Equal(config, again);

        var json = ConfigJson.Serialize(config);
        Assert.Contains($"\"lvsBackend\": \"{(word == "ipvs" ? "Ipvs" : "Nftables")}\"", json, StringComparison.Ordinal);
        Assert.Equal(config, ConfigJson.Deserialize(json));
    }

    [Fact]
    public void DumpConfig_LeavesTheDefaultOut()
    {
        var config = TestSupport.Parse(Global("lvs_backend auto") + Servers).Config!;
        var text = ConfigWriter.Write(config);
        Assert.DoesNotContain("lvs_backend", text, StringComparison.Ordinal);
        Assert.Equal(config, TestSupport.Parse(text).Config);
    }

    [Fact]
    public void Diff_NamesTheChangedBackend()
    {
        var old = TestSupport.Parse(Global("lvs_backend ipvs") + Servers).Config!;
        var @new = TestSupport.Parse(Global("lvs_backend nftables") + Servers).Config!;
        var d = ConfigDiff.Compute(old, @new);
        Assert.True(d.GlobalChanged);
        Assert.Equal(["LvsBackend"], d.ChangedGlobalSettings);
        Assert.True(d.ChangedVirtualServers.IsEmpty);
    }

    [Fact]
    public void ExplicitNftables_WarnsForDrTunAndOps_WithoutAHost()
    {
        var r = Parse(Global("lvs_backend nftables") + Servers, host: null);
        Assert.Equal(Expected(Explicit), NftablesWarnings(r));
        // Vigil's notes: keepalived's status is unchanged, and the model still has every virtual server.
        Assert.Equal(ConfigExitCode.Ok, r.ExitCode);
        Assert.Equal(5, r.Config!.VirtualServers.Count);
    }

    [Fact]
    public void ExplicitNftables_WarnsEvenWhenTheHostHasIpvs()
    {
        var r = Parse(Global("lvs_backend nftables") + Servers, new IpvsHost(true));
        Assert.Equal(Expected(Explicit), NftablesWarnings(r));
    }

    [Fact]
    public void Auto_OnAHostWithoutIpvs_Warns()
    {
        var host = new IpvsHost(false);
        var r = Parse(Global("router_id lb1") + Servers, host);
        Assert.Equal(Expected(Auto), NftablesWarnings(r));
        Assert.Equal(1, host.IpvsQueries);
        Assert.Equal(ConfigExitCode.Ok, r.ExitCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(null)]
    public void Auto_OnAHostWithIpvsOrUnknown_DoesNotWarn(bool? hasIpvs)
    {
        Assert.Empty(NftablesWarnings(Parse(Global("lvs_backend auto") + Servers, new IpvsHost(hasIpvs))));
    }

    [Fact]
    public void Auto_WithoutAHost_DoesNotWarn()
    {
        Assert.Empty(NftablesWarnings(Parse(Global("router_id lb1") + Servers, host: null)));
    }

    [Fact]
    public void Ipvs_OnAHostWithoutIpvs_DoesNotWarn()
    {
        var host = new IpvsHost(false);
        Assert.Empty(NftablesWarnings(Parse(Global("lvs_backend ipvs") + Servers, host)));
        Assert.Equal(0, host.IpvsQueries);
    }

    [Fact]
    public void Auto_WithoutVirtualServersOrSyncDaemon_DoesNotAskTheHost()
    {
        var host = new IpvsHost(false);
        Assert.Empty(NftablesWarnings(Parse(Global("router_id lb1"), host)));
        Assert.Equal(0, host.IpvsQueries);
    }

    [Fact]
    public void Nftables_InheritedForwarding_IsReportedAtTheVirtualServersLbKind()
    {
        // lb_kind after the real servers: they take it at completion; so does the sorry server.
        var r = Parse(Global("lvs_backend nftables") + """

            virtual_server fwmark 7 {
                lb_algo rr
                sorry_server 10.0.0.9 0
                real_server 10.0.0.8 0 {
                    lvs_method NAT
                }
                lvs_method TUN
            }
            """, host: null);
        Assert.Equal(["10:5 virtual_server FWM 7: lvs_method TUN needs IPVS; the nftables backend does NAT only, this virtual server will not be programmed"], NftablesWarnings(r));
    }

    [Fact]
    public void Nftables_LbKindDrOverriddenByEveryServer_DoesNotWarn()
    {
        // The virtual server's lb_kind is only a default: no destination uses DR here.
        var r = Parse(Global("lvs_backend nftables") + """

            virtual_server 10.0.0.1 80 {
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 10.0.0.11 80 {
                    lvs_method NAT
                }
            }
            """, host: null);
        Assert.Empty(NftablesWarnings(r));
    }

    [Fact]
    public void Nftables_OpsResetForTcp_DoesNotWarn()
    {
        var r = Parse(Global("lvs_backend nftables") + """

            virtual_server 10.0.0.1 80 {
                lb_algo rr
                protocol TCP
                ops
                real_server 10.0.0.11 80 {
                    weight 1
                }
            }
            """, host: null);
        Assert.Empty(NftablesWarnings(r));
        Assert.Contains(r.Errors, d => d.Message == "Virtual server [10.0.0.1]:tcp:80: one packet scheduling requires UDP - resetting");
    }

    private const string SyncDaemon = """
        global_defs {
            lvs_sync_daemon eth0 VI_1
            {0}
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                192.0.2.1/24
            }
        }
        """;

    [Theory]
    [InlineData("lvs_backend nftables", null, Explicit)]
    [InlineData("lvs_backend nftables", true, Explicit)]
    [InlineData("router_id lb1", false, Auto)]
    public void SyncDaemon_OnNftables_Warns(string line, bool? hasIpvs, string backend)
    {
        var r = Parse(SyncDaemon.Replace("{0}", line, StringComparison.Ordinal), hasIpvs is null ? null : new IpvsHost(hasIpvs));
        Assert.Equal([$"2:5 lvs_sync_daemon needs IPVS; with {backend} connections are not synchronised"], NftablesWarnings(r));
        Assert.Equal(ConfigExitCode.Ok, r.ExitCode);
        Assert.NotNull(r.Config!.Global.LvsSyncDaemon);
    }

    [Theory]
    [InlineData("lvs_backend ipvs", false)]
    [InlineData("router_id lb1", true)]
    [InlineData("router_id lb1", null)]
    public void SyncDaemon_OnIpvs_DoesNotWarn(string line, bool? hasIpvs)
    {
        Assert.Empty(NftablesWarnings(Parse(SyncDaemon.Replace("{0}", line, StringComparison.Ordinal), new IpvsHost(hasIpvs))));
    }

    [Fact]
    public void SyncDaemon_FromAVrrpInstance_IsReportedThere()
    {
        var r = Parse("""
            global_defs {
                lvs_backend nftables
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                priority 100
                lvs_sync_daemon_interface eth0
                virtual_ipaddress {
                    192.0.2.1/24
                }
            }
            """, host: null);
        Assert.Equal(["8:5 lvs_sync_daemon needs IPVS; with the nftables backend connections are not synchronised"], NftablesWarnings(r));
    }

    [Fact]
    public void ConfigTest_PrintsTheWarningsWithFileAndLine_AndExitsZero()
    {
        var fs = new InMemoryFileSystem().Add("/srv/k.conf", Global("lvs_backend nftables") + Servers);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = ConfigCheck.Run(["-t", "-f", "/srv/k.conf"], stdout, stderr,
            new ConfigLoadOptions { FileSystem = fs, Host = new IpvsHost(true), ConfigId = "other" });
        Assert.True(code == 0, stderr.ToString());
        Assert.Contains(
            "/srv/k.conf:6:5: warning: virtual_server [10.0.0.1]:tcp:80: lb_kind DR needs IPVS; the nftables backend does NAT only, this virtual server will not be programmed",
            stderr.ToString().Split('\n', StringSplitOptions.TrimEntries));
    }

    // ------------------------------------------------------------------ SystemHostEnvironment

    private static bool? Probe(Action<string> build, string? release = "6.1.0-test")
    {
        var root = Directory.CreateTempSubdirectory("vigil-ipvs-probe-").FullName;
        try
        {
            build(root);
            return SystemHostEnvironment.ProbeIpvs(root, release);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Write(string root, string relative, string text = "")
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void HostProbe_IpvsLoaded()
    {
        Assert.True(Probe(root => Write(root, "proc/net/ip_vs", "IP Virtual Server version 1.2.1 (size=4096)\n")));
        Assert.True(Probe(root => Directory.CreateDirectory(Path.Combine(root, "sys/module/ip_vs"))));
    }

    [Fact]
    public void HostProbe_ModuleLoadable()
    {
        Assert.True(Probe(root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "proc/net"));
            Write(root, "lib/modules/6.1.0-test/modules.dep",
                "kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\nkernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n");
        }));
        Assert.True(Probe(root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "proc/net"));
            Write(root, "lib/modules/6.1.0-test/modules.builtin", "kernel/net/netfilter/ipvs/ip_vs.ko\n");
        }));
        // No module index: the module file itself.
        Assert.True(Probe(root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "proc/net"));
            Write(root, "lib/modules/6.1.0-test/kernel/net/netfilter/ipvs/ip_vs.ko.zst");
        }));
    }

    [Fact]
    public void HostProbe_NoIpvs()
    {
        // Only other ipvs modules (a dependency list naming ip_vs_rr is not ip_vs).
        Assert.False(Probe(root =>
        {
            Directory.CreateDirectory(Path.Combine(root, "proc/net"));
            Write(root, "lib/modules/6.1.0-test/modules.dep", "kernel/net/netfilter/nf_nat.ko: \nkernel/net/ip_vs_extra/ip_vs_rr.ko: \n");
        }));
        // A container without the host's modules: modprobe could not load ip_vs either.
        Assert.False(Probe(root => Directory.CreateDirectory(Path.Combine(root, "proc/net"))));
        Assert.False(Probe(root => Directory.CreateDirectory(Path.Combine(root, "proc/net")), release: null));
    }

    [Fact]
    public void HostProbe_NoProc_IsUnknown()
    {
        Assert.Null(Probe(_ => { }));
    }

    [Fact]
    public void HostProbe_ThisMachine_Answers()
    {
        // Whatever the kernel has, /proc is mounted here, so the answer is known.
        Assert.NotNull(SystemHostEnvironment.Instance.HasIpvs());
    }
}
