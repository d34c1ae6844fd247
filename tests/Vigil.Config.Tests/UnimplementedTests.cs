using Vigil.Config.Parsing;

namespace Vigil.Config.Tests;

/// <summary>Everything read but not acted on is a warning naming the keyword at its file:line, and never changes the status.</summary>
public sealed class UnimplementedTests
{
    private const string Text = """
        global_defs {
            vrrp_strict
            vrrp_garp_interval 0.1
            smtp_alert_vrrp
        }
        static_ipaddress {
            192.0.2.200/24 dev eth0
        }
        static_routes {
            198.51.100.0/24 via 192.0.2.254
        }
        static_rules {
            from 192.0.2.0/24 table 100
        }
        garp_group {
            garp_interval 0.5
            interface eth0
        }
        vrrp_track_process nginx {
            process nginx
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 1
            no_accept
            smtp_alert
            authentication {
                auth_type AH
                auth_pass secret
            }
            track_process {
                nginx
            }
            virtual_ipaddress {
                192.0.2.1
            }
            virtual_routes {
                203.0.113.0/24 via 192.0.2.254
                198.51.100.0/24 via 192.0.2.254 tos 0x10 nexthop via 192.0.2.253
            }
            virtual_rules {
                from 192.0.2.1 table 100
                from 192.0.2.2 table 101 tos 0x10
            }
        }
        vrrp_instance VI_6 {
            interface eth0
            virtual_router_id 2
            use_vmac
            virtual_ipaddress {
                fe80::1
            }
        }
        """;

    [Fact]
    public void Load_UnimplementedKeywords_WarnAtTheirLine_StatusUnchanged()
    {
        var r = TestSupport.Parse(Text);
        var notes = r.Diagnostics.Where(d => !d.CountsForExitCode).Select(d => $"{d.Position.Line}: {d}").ToList();
        string At(int line, string keyword) => notes.SingleOrDefault(n => n.StartsWith($"{line}: ", StringComparison.Ordinal) && n.Contains($"warning: '{keyword}' is not", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no warning for {keyword} at line {line}; notes:\n{string.Join("\n", notes)}");

        Assert.Contains("firewall", At(2, "vrrp_strict"), StringComparison.Ordinal);
        At(3, "vrrp_garp_interval");
        At(4, "smtp_alert_vrrp");
        At(6, "static_ipaddress");
        At(9, "static_routes");
        At(12, "static_rules");
        At(15, "garp_group");
        At(19, "vrrp_track_process");
        At(25, "no_accept");
        At(26, "smtp_alert");
        Assert.Contains("AH", At(28, "auth_type"), StringComparison.Ordinal);
        At(31, "track_process");
        // Routes and rules are installed; only the parts vrrpd leaves out are warned, at their line.
        Assert.DoesNotContain(notes, n => n.StartsWith("38: ", StringComparison.Ordinal) || n.StartsWith("42: ", StringComparison.Ordinal));
        var route = At(39, "virtual_routes");
        Assert.Contains("leaves out: tos, nexthop", route, StringComparison.Ordinal);
        Assert.Contains("leaves out: tos", At(43, "virtual_rules"), StringComparison.Ordinal);
        Assert.Contains("IPv6", At(49, "use_vmac"), StringComparison.Ordinal);
        Assert.Contains("/etc/keepalived/keepalived.conf:49:5: warning: 'use_vmac' is not fully supported yet by Vigil", At(49, "use_vmac"), StringComparison.Ordinal);
        // keepalived has its own say on the rest (strict mode and AH), never these notes.
        Assert.All(r.Diagnostics.Where(d => d.Message.Contains("by Vigil", StringComparison.Ordinal)), d => Assert.False(d.CountsForExitCode));
    }

    [Fact]
    public void Load_PassAuthAndIpv4Vmac_AreNotWarned()
    {
        var r = TestSupport.Parse("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 1
                use_vmac
                authentication {
                    auth_type PASS
                    auth_pass secret
                }
                virtual_ipaddress {
                    192.0.2.1
                }
            }
            """);
        Assert.Equal(0, r.ExitCode);
        Assert.Empty(r.Diagnostics);
    }

    [Fact]
    public void All_EveryEntryIsAKeywordOfItsBlock()
    {
        Assert.All(Unimplemented.All, e => Assert.True(KeywordTable.Lookup(e.Context, e.Keyword) is not null, $"{e.Keyword} is not a keyword of {e.Context}"));
        Assert.Equal(Unimplemented.All.Count, Unimplemented.All.Select(e => (e.Context, e.Keyword, e.Missing)).Distinct().Count());
    }
}
