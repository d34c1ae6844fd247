using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>
/// One broken configuration per kind of error, with the exact messages, positions and exit status
/// (each checked by hand against keepalived 2.2.7 -t, whose wording Vigil keeps).
/// </summary>
public sealed class ErrorTests
{
    /// <summary>Parses and compares the reported diagnostics ("LINE:COL severity message", any order).</summary>
    private static ConfigLoadResult AssertReports(string text, int exit, params string[] expected)
    {
        var result = TestSupport.Parse(text);
        var actual = result.Reported().Select(Format).ToList();
        Assert.True(
            expected.Order(StringComparer.Ordinal).SequenceEqual(actual.Order(StringComparer.Ordinal)),
            "expected:\n  " + string.Join("\n  ", expected) + "\nactual:\n  " + string.Join("\n  ", actual));
        Assert.Equal(exit, result.ExitCode);
        return result;
    }

    private static string Format(Diagnostic d) =>
        $"{d.Position.Line}:{d.Position.Column} {(d.Severity == DiagnosticSeverity.Error ? "error" : "warning")} {d.Message}";

    [Fact]
    public void UnknownKeyword_IsAWarningAndTheConfigurationStillRuns()
    {
        var r = AssertReports("""
            global_defs {
                router_idd lb1
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                prority 100
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 5,
            "2:5 warning Unknown keyword 'router_idd'",
            "7:5 warning Unknown keyword 'prority'");
        Assert.NotNull(r.Config);
        Assert.Equal(100, r.Config!.Instances[0].Priority);
        Assert.Equal(ConfigErrorClass.UnknownKeyword, r.Diagnostics[0].Class);
    }

    [Fact]
    public void UnknownBlock_IsNotSkipped_ItsLinesAreReadAtTheSameLevelAndItsBraceClosesTheEnclosingBlock()
    {
        // keepalived does exactly this: the '{' is "unexpected", "priority 50" is applied to the
        // instance, and the block's '}' ends vrrp_instance, so "advert_int 3" is a top-level word.
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                my_options {
                    priority 50
                }
                advert_int 3
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 5,
            "4:5 warning Unknown keyword 'my_options'",
            "4:16 error Unexpected '{' - ignoring",
            "7:5 warning Unknown keyword 'advert_int'",
            "8:5 warning Unknown keyword 'virtual_ipaddress'",
            "8:23 error Unexpected '{' - ignoring",
            "9:9 warning Unknown keyword '192.0.2.1'",
            "10:5 warning Unknown keyword '}'",
            "11:1 warning Unknown keyword '}'",
            "1:1 warning (VI_1) No VIP specified; at least one is sensible");
        Assert.Equal(50, r.Config!.Instances[0].Priority);
        Assert.Equal(TimeSpan.FromSeconds(1), r.Config.Instances[0].AdvertInterval);
    }

    [Fact]
    public void ExtraClosingBrace_IsReportedTwiceLikeKeepalived()
    {
        AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            }
            """, 5,
            "8:1 error Extra '}' found",
            "8:1 warning Unknown keyword '}'");
    }

    [Fact]
    public void MissingClosingBrace_IsCountedAtTheEnd()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
            """, 5,
            "1:20 error There are 1 missing '}'s or extra '{'s");
        Assert.Single(r.Config!.Instances);
    }

    [Fact]
    public void MissingOpeningBrace_ReadsTheFollowingLinesAsTheBlock()
    {
        AssertReports("""
            vrrp_instance VI_1
                interface eth0
                virtual_router_id 1
            """, 5,
            "2:5 error Missing '{' at beginning of configuration block",
            "1:1 warning (VI_1) No VIP specified; at least one is sensible");
    }

    [Fact]
    public void UnterminatedQuote_ReportsKeepalivedsThreeMessages()
    {
        AssertReports("""
            global_defs {
                enable_script_security
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                notify_master "/usr/bin/true arg
            }
            """, 5,
            "10:5 error Unterminated quote 'notify_master \"/usr/bin/true arg'",
            "10:19 error Unmatched quote: 'notify_master \"/usr/bin/true arg'",
            "10:19 error String 'notify_master \"/usr/bin/true arg': missing terminating \"");
    }

    [Fact]
    public void MissingParameter_StopsTheParse_AndCannotRun()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                priority
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 2,
            "4:13 error *** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2");
        Assert.Null(r.Config);
    }

    [Fact]
    public void InvalidNumber_KeepsTheDefault()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                priority high
                advert_int 1.5
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 5,
            "4:14 error invalid number 'high'",
            "4:14 error (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            "1:1 error (VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding");
        Assert.Equal(100, r.Config!.Instances[0].Priority);
        Assert.Equal(TimeSpan.FromSeconds(2), r.Config.Instances[0].AdvertInterval);
    }

    [Fact]
    public void Ranges_PriorityVridWeights_AndKeepalivedStopsAtTheFirstInstanceWithoutAVrid()
    {
        var r = AssertReports("""
            global_defs {
                enable_script_security
            }
            vrrp_script chk {
                script /usr/bin/true
                weight 300
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 256
                priority 256
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            vrrp_instance VI_2 {
                interface eth0
                virtual_router_id 0
                priority 0
                virtual_ipaddress {
                    192.0.2.2
                }
            }
            vrrp_instance VI_3 {
                version 3
                interface eth1
                virtual_router_id 3
                virtual_ipaddress {
                    192.0.2.3
                }
                track_script {
                    chk weight 254
                }
            }
            """, 5,
            "6:12 error number '300' outside range [-253, 253]",
            "6:12 error vrrp_script chk weight 300 must be in [-253, 253]",
            "10:23 error number '256' outside range [1, 255]",
            "10:23 error (VI_1): VRID '256' not valid - must be between 1 & 255",
            "11:14 error number '256' outside range [1, 255]",
            "11:14 error (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            "18:23 error number '0' outside range [1, 255]",
            "18:23 error (VI_2): VRID '0' not valid - must be between 1 & 255",
            "19:14 error number '0' outside range [1, 255]",
            "19:14 error (VI_2) Priority not valid! must be between 1 & 255. Using default 100",
            "32:20 error (VI_3) weight for chk cannot be +/-254. Setting to +/-253",
            "8:1 error (VI_1) the virtual router id must be set");
        Assert.Null(r.Config);
        Assert.Contains(r.Diagnostics, d => d.Class == ConfigErrorClass.None && d.Message.StartsWith("keepalived stops its VRRP process", StringComparison.Ordinal));
    }

    [Fact]
    public void Advert_V2WholeSeconds_V3Centiseconds()
    {
        var r = AssertReports("""
            vrrp_instance V2 {
                interface eth0
                virtual_router_id 1
                advert_int 255
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            vrrp_instance V3 {
                version 3
                interface eth0
                virtual_router_id 2
                advert_int 0.013
                virtual_ipaddress {
                    192.0.2.2
                }
            }
            vrrp_instance V4 {
                version 3
                interface eth1
                virtual_router_id 3
                advert_int 41
                virtual_ipaddress {
                    192.0.2.3
                }
            }
            """, 5,
            "9:1 error (V3) VRRPv3 advertisement interval 0.013000s must be in units of 10ms - rounding",
            "18:1 error (V4) VRRPv3 advertisement interval 41.00s is out of range. Must be less than 40.96s. Setting to 40.95s");
        Assert.Equal(TimeSpan.FromSeconds(255), r.Config!.FindInstance("V2")!.AdvertInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(10), r.Config.FindInstance("V3")!.AdvertInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(40950), r.Config.FindInstance("V4")!.AdvertInterval);
    }

    [Fact]
    public void SyncGroupNamingAMissingInstance_AndTrackScriptNamingAMissingScript()
    {
        var r = AssertReports("""
            vrrp_sync_group G {
                group {
                    VI_1
                    VI_MISSING
                }
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                track_script {
                    chk_missing
                }
            }
            """, 5,
            "14:9 error (VI_1) track script chk_missing not found, ignoring...",
            "4:9 error Virtual router VI_MISSING specified in sync group G doesn't exist - ignoring",
            "1:1 error Sync group G has only 1 virtual router(s) - this probably isn't what you want");
        Assert.Equal(["VI_1"], r.Config!.SyncGroups[0].Members);
        Assert.Empty(r.Config.Instances[0].TrackScripts);
    }

    [Fact]
    public void TrackScriptBeforeItsVrrpScript_IsNotFoundLikeInKeepalived()
    {
        var r = AssertReports("""
            global_defs {
                enable_script_security
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                track_script {
                    chk_late
                }
            }
            vrrp_script chk_late {
                script /usr/bin/true
            }
            """, 5,
            "11:9 error (VI_1) track script chk_late not found, ignoring...",
            "14:1 warning Warning - script chk_late is not used");
        Assert.Contains(r.Diagnostics, d => d.Class == ConfigErrorClass.None && d.Message.Contains("defined after", StringComparison.Ordinal));
    }

    [Fact]
    public void NopreemptWithStateMaster_IsCleared()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                state MASTER
                nopreempt
                interface eth0
                virtual_router_id 1
                priority 100
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 5,
            "1:1 error (VI_1) Warning - nopreempt will not work with initial state MASTER - clearing");
        Assert.False(r.Config!.Instances[0].Nopreempt);
    }

    [Fact]
    public void SameVridInterfaceAndFamily_StopsVrrp()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 7
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            vrrp_instance VI_2 {
                interface eth0
                virtual_router_id 7
                virtual_ipaddress {
                    192.0.2.2
                }
            }
            vrrp_instance VI_OTHER_IF {
                interface eth1
                virtual_router_id 7
                virtual_ipaddress {
                    192.0.2.3
                }
            }
            """, 5,
            "8:1 error VI_1 and VI_2 both use VRID 7 with IPv4 on interface eth0");
        Assert.Null(r.Config);
    }

    [Fact]
    public void StrictMode_Conflicts()
    {
        AssertReports("""
            global_defs {
                vrrp_strict
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 1
                priority 100
                authentication {
                    auth_type PASS
                    auth_pass secret
                }
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            vrrp_instance VI_2 {
                interface eth1
                virtual_router_id 2
            }
            """, 5,
            "4:1 error (VI_1) State MASTER must match being address owner",
            "4:1 error (VI_1) Strict mode does not support authentication. Ignoring.",
            "17:1 error (VI_2) No VIP specified; at least one is required");
    }

    [Fact]
    public void StrictMode_V2WithIpv6_SwitchesToV3()
    {
        var r = AssertReports("""
            vrrp_instance VI_6 {
                strict_mode
                version 2
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    fe80::1
                }
            }
            """, 5,
            "1:1 error (VI_6) cannot use IPv6 with VRRP version 2; setting version 3");
        Assert.Equal(3, r.Config!.Instances[0].Version);
    }

    [Fact]
    public void ScriptsWithoutScriptSecurity_Exit5()
    {
        var r = AssertReports("""
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
            """, 6,
            "2:12 error SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
        Assert.NotNull(r.Config);
        Assert.Equal(ConfigErrorClass.SecurityError, r.Reported()[0].Class);
    }

    [Fact]
    public void UndefinedParameter_IsLeftAsText_AndItsBracesSplitTheLine()
    {
        // keepalived splits "${UNDEFINED}" at the braces: "priority $", "{", "UNDEFINED", "}" -
        // and that '}' ends the vrrp_instance block.
        AssertReports("""
            $VRID=5
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id $VRID
                priority ${UNDEFINED}
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """, 5,
            "5:14 error invalid number '$'",
            "5:14 error (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            "5:15 error Unexpected '{' - ignoring",
            "5:16 warning Unknown keyword 'UNDEFINED'",
            "6:5 warning Unknown keyword 'virtual_ipaddress'",
            "6:23 error Unexpected '{' - ignoring",
            "7:9 warning Unknown keyword '192.0.2.1'",
            "8:5 warning Unknown keyword '}'",
            "9:1 warning Unknown keyword '}'",
            "2:1 warning (VI_1) No VIP specified; at least one is sensible");
    }

    [Fact]
    public void BadSequences()
    {
        AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    ~SEQ(A, 1, 0, 3) 192.0.2.${A}
                    ~SEQ(B, x, 3) 192.0.2.${B}
                    ~LST(C) 192.0.2.${C}
                    192.0.2.9
                }
            }
            """, 5,
            "5:9 error Invalid ~SEQ values '~SEQ(A, 1, 0, 3) 192.0.2.${A}'",
            "5:9 error Invalid ~SEQ specification '~SEQ(A, 1, 0, 3) 192.0.2.${A}'",
            "6:9 error Invalid ~SEQ definition '~SEQ(B, x, 3) 192.0.2.${B}'",
            "6:9 error Invalid ~SEQ specification '~SEQ(B, x, 3) 192.0.2.${B}'",
            "7:9 error Invalid ~LST specification '~LST(C) 192.0.2.${C}'");
    }

    [Fact]
    public void VirtualServer_Errors()
    {
        var r = AssertReports("""
            virtual_server 192.0.2.10 80 {
                lb_algo nosuch
                lb_kind XXX
                delay_loop 0
                real_server 10.0.0.1 80 {
                    HTTP_GET {
                        url {
                            status_code 200
                        }
                    }
                }
            }
            virtual_server 192.0.2.11 80 {
            }
            """, 5,
            "2:13 error Invalid lvs_scheduler 'nosuch' - ignoring",
            "3:13 error PARSER : unknown [XXX] routing method for virtual server.",
            "4:16 error number '0' outside range [0.000001, 18446744073709.551614]",
            "4:16 error virtual server delay loop '0' invalid - ignoring",
            "9:13 error HTTP/SSL_GET checker url has no path - ignoring",
            "10:9 error HTTP/SSL_GET checker has no urls specified - ignoring",
            "1:1 error Virtual server [192.0.2.10]:none:80: no protocol set - defaulting to UDP",
            "1:1 error Virtual server [192.0.2.10]:udp:80: no scheduler set, setting default 'wlc'",
            "1:1 error Virtual server [192.0.2.10]:udp:80: no forwarding method set, setting default NAT",
            "13:1 error Virtual server [192.0.2.11]:none:80 has no real servers - ignoring");
        var vs = Assert.Single(r.Config!.VirtualServers);
        Assert.Equal("wlc", vs.Scheduler);
        Assert.Empty(vs.RealServers[0].Checkers);
    }

    [Fact]
    public void VirtualRouteWithoutInterface_IsNotTracked()
    {
        var r = AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
                virtual_routes {
                    blackhole 10.99.0.0/16
                    10.98.0.0/16 via 192.0.2.254 dev eth0
                }
            }
            """, 5,
            "8:9 error Warning - cannot track route 10.99.0.0/16 with no interface specified, not tracking");
        Assert.True(r.Config!.Instances[0].VirtualRoutes[0].NoTrack);
        Assert.False(r.Config.Instances[0].VirtualRoutes[1].NoTrack);
    }

    [Fact]
    public void MixedAddressFamilies_InOneInstance()
    {
        AssertReports("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                    2001:db8::1/64
                }
            }
            """, 5,
            "6:9 error (VI_1): address family must match VRRP instance [2001:db8::1/64] - ignoring");
    }

    [Fact]
    public void Includes_RequiredFileMissing_CannotRun_OptionalMissing_IsOnlyANote()
    {
        var fs = new InMemoryFileSystem();
        var optional = TestSupport.Parse("include /etc/keepalived/nothere.conf\n", fs: fs);
        Assert.Equal(0, optional.ExitCode);
        Assert.Contains(optional.Diagnostics, d => d.Message == "Config files missing '/etc/keepalived/nothere.conf'." && !d.CountsForExitCode);

        var required = TestSupport.Parse("includem /etc/keepalived/nothere.conf\n", fs: fs);
        Assert.Equal(4, required.ExitCode);
        Assert.Null(required.Config);
        Assert.Equal("1:1 error Config files missing '/etc/keepalived/nothere.conf'.", Format(Assert.Single(required.Reported())));

        // A missing directory is a missing file to keepalived's glob; an empty one is "no match".
        var noDir = TestSupport.Parse("includew /etc/keepalived/conf.d/*.conf\n", fs: fs);
        Assert.Equal(4, noDir.ExitCode);
        Assert.Equal("1:1 error Config files missing '/etc/keepalived/conf.d/*.conf'.", Format(Assert.Single(noDir.Reported())));
        fs.AddDirectory("/etc/keepalived/conf.d");
        var glob = TestSupport.Parse("includew /etc/keepalived/conf.d/*.conf\n", fs: fs);
        Assert.Equal(4, glob.ExitCode);
        Assert.Equal("1:1 error No config files matched '/etc/keepalived/conf.d/*.conf'.", Format(Assert.Single(glob.Reported())));
        Assert.Equal(0, TestSupport.Parse("include /etc/keepalived/conf.d/*.conf\n", fs: fs).ExitCode);
    }

    [Fact]
    public void Includes_Cycle_IsReportedWithTheChain()
    {
        var fs = new InMemoryFileSystem();
        fs.Add("/etc/keepalived/a.conf", "include b.conf\n");
        fs.Add("/etc/keepalived/b.conf", "include a.conf\n");
        var r = TestSupport.Parse("include a.conf\n", fs: fs);
        var d = Assert.Single(r.Reported());
        Assert.Equal("/etc/keepalived/b.conf:1:1: error: Configuration file '/etc/keepalived/a.conf' includes itself (include cycle: /etc/keepalived/keepalived.conf -> /etc/keepalived/a.conf -> /etc/keepalived/b.conf -> /etc/keepalived/a.conf) - skipping", d.ToString());
        Assert.Equal(4, r.ExitCode);
    }

    [Fact]
    public void ErrorsInIncludedFiles_NameThatFile()
    {
        var fs = new InMemoryFileSystem();
        fs.Add("/etc/keepalived/conf.d/vi.conf", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    priority 300\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n");
        var r = TestSupport.Parse("include conf.d/*.conf\n", fs: fs);
        Assert.Equal(
            [
                "/etc/keepalived/conf.d/vi.conf:4:14: error: number '300' outside range [1, 255]",
                "/etc/keepalived/conf.d/vi.conf:4:14: error: (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
            ],
            r.Reported().Select(d => d.ToString()));
    }

    [Fact]
    public void NotSupportedYet_IsAWarningThatKeepsStatusZero()
    {
        var r = TestSupport.Parse("""
            vrrp_instance VI_1 {
                interface eth0
                use_ipvlan ipvl0 192.0.2.9/24
                virtual_router_id 1
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """);
        Assert.Equal(0, r.ExitCode);
        var d = Assert.Single(r.Warnings);
        Assert.Equal("/etc/keepalived/keepalived.conf:3:5: warning: 'use_ipvlan' is not supported yet by Vigil - ignored", d.ToString());
    }
}
