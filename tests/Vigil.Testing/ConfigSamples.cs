namespace Vigil.Testing;

/// <summary>keepalived.conf texts that more than one test project reads (line numbers matter: tests assert them).</summary>
public static class ConfigSamples
{
    /// <summary>
    /// One instance with virtual_routes and virtual_rules of every kind vrrpd installs, IPv4 and
    /// IPv6, and one it cannot (the local route, line 11: -t warns and it is left out).
    /// </summary>
    public const string RoutingInstance = """
        vrrp_instance VI_R {
            interface eth0
            virtual_router_id 53
            virtual_ipaddress {
                192.0.2.10/24
            }
            virtual_routes {
                203.0.113.0/24 via 192.0.2.254 dev eth0 src 192.0.2.10 table main metric 20
                default via 192.0.2.254 dev eth0 table 100 no_track
                blackhole 198.51.100.0/24 no_track
                local 198.51.100.7/32 dev eth0
                fd00:1::/48 via fe80::1 dev eth0
            }
            virtual_rules {
                from 192.0.2.10 table 100 priority 90
                to 203.0.113.0/24 goto 120 priority 100
                not from 192.0.2.0/24 iif eth0 fwmark 0x10/0xff table 101 priority 110
                from fd00:2::/64 table 100 priority 90
            }
        }
        """;
}
