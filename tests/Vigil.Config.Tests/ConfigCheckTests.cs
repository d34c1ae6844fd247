using System.Text.Json;
using Vigil.Config.Output;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>vigil-controld -t / --dump-config, through <see cref="ConfigCheck.Run"/>.</summary>
public sealed class ConfigCheckTests
{
    private const string Valid = """
        global_defs {
            router_id LB1
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            @lb1 priority 150
            @^lb1 priority 100
            virtual_ipaddress {
                192.0.2.1/24
            }
        }
        """;

    private const string Broken = """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 300
            prority 100
            virtual_ipaddress {
                192.0.2.1/24
            }
        }
        """;

    /// <summary>A fake machine: eth0 and lo exist, /usr/bin/true is a script, root is a user, the kernel has IPVS.</summary>
    private sealed class FakeHost : IHostEnvironment
    {
        public bool? InterfaceIsLoopback(string name) => name switch
        {
            "lo" => true,
            "eth0" => false,
            _ => null,
        };

        public ScriptProbe ProbeScript(string command) => command == "/usr/bin/true" ? ScriptProbe.Executable : ScriptProbe.NotFound;

        public bool UserExists(string name) => name == "root";

        public bool GroupExists(string name) => name == "root";

        public bool? HasIpvs() => true;
    }

    private static (int Code, string Out, string Err) Run(InMemoryFileSystem fs, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = ConfigCheck.Run(args, stdout, stderr, new ConfigLoadOptions { FileSystem = fs, Host = new FakeHost(), ConfigId = "other" });
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static InMemoryFileSystem Files(string path, string text) => new InMemoryFileSystem().Add(path, text);

    [Fact]
    public void Test_ValidFile_ExitsZeroAndPrintsNothing()
    {
        var (code, stdout, stderr) = Run(Files("/srv/k.conf", Valid), "-t", "-f", "/srv/k.conf");
        Assert.Equal(0, code);
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void Test_DefaultsToEtcKeepalivedKeepalivedConf()
    {
        var (code, _, stderr) = Run(Files("/etc/keepalived/keepalived.conf", Broken), "-t");
        Assert.Equal(5, code);
        Assert.StartsWith("/etc/keepalived/keepalived.conf:3:23: error: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_PrintsFileLineColumnSeverityMessage_AndExits4()
    {
        var (code, stdout, stderr) = Run(Files("/srv/k.conf", Broken), "--config-test", "--use-file", "/srv/k.conf");
        Assert.Equal(5, code);
        Assert.Equal("", stdout);
        Assert.Equal(
            [
                "/srv/k.conf:3:23: error: number '300' outside range [1, 255]",
                "/srv/k.conf:3:23: error: (VI_1): VRID '300' not valid - must be between 1 & 255",
                "/srv/k.conf:4:5: warning: Unknown keyword 'prority'",
                "/srv/k.conf:1:1: error: (VI_1) the virtual router id must be set",
                "/srv/k.conf:1:1: warning: keepalived stops its VRRP process at this error, so the configuration does not run (later VRRP problems are not checked)",
            ],
            stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Test_MissingFile_CannotRun()
    {
        var (code, _, stderr) = Run(new InMemoryFileSystem(), "-t", "-f", "/srv/none.conf");
        Assert.Equal(4, code);
        Assert.Contains("/srv/none.conf", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_NonExistentInterface_CannotRun()
    {
        // keepalived's status is that of its most severe class: the general error of the
        // interface warning ranks above "bad interface" (status 5), yet the configuration does not run.
        var fs = Files("/srv/k.conf", Valid.Replace("eth0", "eth9", StringComparison.Ordinal));
        var (code, _, stderr) = Run(fs, "-t", "-f", "/srv/k.conf");
        Assert.Equal(5, code);
        Assert.Null(ConfigLoader.Load("/srv/k.conf", new ConfigLoadOptions { FileSystem = fs, Host = new FakeHost() }).Config);
        Assert.Contains("/srv/k.conf:5:15: warning: WARNING - interface eth9 for vrrp_instance VI_1 doesn't exist", stderr, StringComparison.Ordinal);
        Assert.Contains("error: Non-existent interface specified in configuration", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_NoHostChecks_SkipsInterfaces()
    {
        var (code, _, _) = Run(Files("/srv/k.conf", Valid.Replace("eth0", "eth9", StringComparison.Ordinal)), "-t", "-f", "/srv/k.conf", "--no-host-checks");
        Assert.Equal(0, code);
    }

    [Fact]
    public void Test_ScriptsWithoutScriptSecurity_Exit5()
    {
        const string text = """
            vrrp_script chk {
                script /usr/bin/true
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                track_script {
                    chk
                }
            }
            """;
        var (code, _, stderr) = Run(Files("/srv/k.conf", text), "-t", "-f", "/srv/k.conf");
        Assert.Equal(6, code);
        Assert.Equal("/srv/k.conf:2:12: error: SECURITY VIOLATION - scripts are being executed but script_security not enabled.\n", stderr);
        var (fixedCode, _, _) = Run(Files("/srv/k.conf", "global_defs {\n    enable_script_security\n    script_user root\n}\n" + text), "-t", "-f", "/srv/k.conf");
        Assert.Equal(0, fixedCode);
    }

    [Fact]
    public void Test_MissingTrackScript_IsDisabledOnTheHost()
    {
        const string text = """
            global_defs {
                enable_script_security
                script_user root
            }
            vrrp_script chk {
                script /usr/local/bin/not-there
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                track_script {
                    chk
                }
            }
            """;
        var (code, _, stderr) = Run(Files("/srv/k.conf", text), "-t", "-f", "/srv/k.conf");
        Assert.Equal(5, code);
        Assert.Contains("/srv/k.conf:5:1: error: Disabling track script chk since not found/accessible", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Test_ConfigIdSelectsConditionalLines()
    {
        var fs = Files("/srv/k.conf", Valid);
        var (_, lb1, _) = Run(fs, "--dump-config", "-f", "/srv/k.conf", "-i", "lb1");
        var (_, other, _) = Run(fs, "--dump-config", "-f", "/srv/k.conf", "--config-id=lb2");
        Assert.Equal(150, Priority(lb1));
        Assert.Equal(100, Priority(other));

        static int Priority(string json) =>
            JsonDocument.Parse(json).RootElement.GetProperty("instances")[0].GetProperty("priority").GetInt32();
    }

    [Fact]
    public void DumpConfig_PrintsTheModelAsJson()
    {
        var fs = Files("/srv/k.conf", Valid);
        var (code, stdout, stderr) = Run(fs, "--dump-config", "-f", "/srv/k.conf", "-i", "lb1");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var model = ConfigLoader.Load("/srv/k.conf", new ConfigLoadOptions { FileSystem = fs, ConfigId = "lb1" }).Config!;
        Assert.Equal(ConfigJson.Serialize(model) + Environment.NewLine, stdout);
        using var doc = JsonDocument.Parse(stdout);
        var vi = doc.RootElement.GetProperty("instances")[0];
        Assert.Equal("VI_1", vi.GetProperty("name").GetString());
        Assert.Equal("192.0.2.1/24", vi.GetProperty("virtualIpAddresses")[0].GetProperty("address").GetString());
        Assert.Equal("LB1", doc.RootElement.GetProperty("global").GetProperty("routerId").GetString());
    }

    [Fact]
    public void DumpConfig_InterfaceAbsentOnThisHost_PrintsTheModel_WhileTestStillChecks()
    {
        // A seed configuration of another node: its eth1 does not exist here.
        var fs = Files("/srv/k.conf", Valid.Replace("eth0", "eth1", StringComparison.Ordinal));
        var (code, stdout, stderr) = Run(fs, "--dump-config", "-f", "/srv/k.conf");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal("eth1", JsonDocument.Parse(stdout).RootElement.GetProperty("instances")[0].GetProperty("interface").GetString());

        var (testCode, _, testErr) = Run(fs, "-t", "-f", "/srv/k.conf");
        Assert.Equal(5, testCode);
        Assert.Contains("warning: WARNING - interface eth1 for vrrp_instance VI_1 doesn't exist", testErr, StringComparison.Ordinal);
        var (both, bothOut, _) = Run(fs, "-t", "--dump-config", "-f", "/srv/k.conf");
        Assert.Equal(5, both);
        Assert.Equal("", bothOut);
    }

    [Fact]
    public void DumpConfig_OfAConfigurationThatCannotRun_PrintsOnlyDiagnostics()
    {
        var (code, stdout, stderr) = Run(Files("/srv/k.conf", Broken), "--dump-config", "-f", "/srv/k.conf");
        Assert.Equal(5, code);
        Assert.Equal("", stdout);
        Assert.NotEqual("", stderr);
    }

    [Fact]
    public void ConfigTestWithLogFile_WritesTheDiagnosticsThere()
    {
        var log = Path.Combine(Path.GetTempPath(), $"vigil-config-{Guid.NewGuid():N}.log");
        try
        {
            var (code, _, stderr) = Run(Files("/srv/k.conf", Broken), "--config-test=" + log, "-f", "/srv/k.conf");
            Assert.Equal(5, code);
            Assert.Equal("", stderr);
            Assert.Contains("/srv/k.conf:4:5: warning: Unknown keyword 'prority'", File.ReadAllText(log), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public void KeepalivedLoggingFlags_AreAccepted()
    {
        var (code, _, _) = Run(Files("/srv/k.conf", Valid), "-t", "-l", "-D", "-n", "-S", "3", "-f", "/srv/k.conf");
        Assert.Equal(0, code);
    }

    [Fact]
    public void BadArguments_Exit2WithUsage()
    {
        var (unknown, _, err1) = Run(new InMemoryFileSystem(), "-t", "--bogus");
        Assert.Equal(2, unknown);
        Assert.Contains("usage:", err1, StringComparison.Ordinal);
        var (noValue, _, err2) = Run(new InMemoryFileSystem(), "-t", "-f");
        Assert.Equal(2, noValue);
        Assert.Contains("-f needs a value", err2, StringComparison.Ordinal);
        var (nothing, _, _) = Run(new InMemoryFileSystem(), "-f", "/srv/k.conf");
        Assert.Equal(2, nothing);
    }

    [Theory]
    [InlineData(new[] { "-t" }, true)]
    [InlineData(new[] { "--config-test" }, true)]
    [InlineData(new[] { "--config-test=/tmp/log" }, true)]
    [InlineData(new[] { "-f", "/x", "--dump-config" }, true)]
    [InlineData(new[] { "-f", "/x" }, false)]
    [InlineData(new string[0], false)]
    public void IsRequested_RecognisesTheCheckFlags(string[] args, bool expected) => Assert.Equal(expected, ConfigCheck.IsRequested(args));
}
