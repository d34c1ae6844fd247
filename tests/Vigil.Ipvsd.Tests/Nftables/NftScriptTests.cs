using System.Net;
using System.Net.Sockets;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Backends.Nftables;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Tests.Nftables;

/// <summary>The nft scripts, byte for byte where the kernel's behaviour depends on them.</summary>
public sealed class NftScriptTests
{
    internal static IpvsService Tcp(string address, ushort port, string scheduler = "wrr", IpvsServiceFlags flags = 0, int? netmask = null) => new()
    {
        Family = IPAddress.Parse(address).AddressFamily,
        Protocol = IpvsProtocol.Tcp,
        Address = IPAddress.Parse(address),
        Port = port,
        Scheduler = scheduler,
        Flags = flags,
        PersistenceTimeout = (flags & IpvsServiceFlags.Persistent) != 0 ? 300u : 0,
        PersistenceNetmask = netmask,
    };

    internal static IpvsDestination Rs(string address, ushort port, int weight = 1) => new()
    {
        Address = IPAddress.Parse(address),
        Port = port,
        ForwardingMethod = IpvsForwardingMethod.Masquerade,
        Weight = weight,
    };

    private static readonly IpvsService Web = Tcp("10.0.0.1", 80);
    private const string Rs2 = "rs-tcp-10.0.0.1-80/10.0.1.2-80";
    private const string Rs3 = "rs-tcp-10.0.0.1-80/10.0.1.3-80";

    [Fact]
    public void Names_are_the_keys_spelled_as_nft_identifiers()
    {
        Assert.Equal("vs-tcp-10.0.0.1-80", NftNames.Service(Web));
        Assert.Equal(Rs2, NftNames.Destination(Web, Rs("10.0.1.2", 80)));
        Assert.Equal("vs-udp6-2001.db8..1-53", NftNames.Service(new IpvsService { Family = AddressFamily.InterNetworkV6, Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("2001:db8::1"), Port = 53 }));
        Assert.Equal("rs-tcp6-2001.db8..1-80/2001.db8..2-8080", NftNames.Destination(Tcp("2001:db8::1", 80), Rs("2001:db8::2", 8080)));
        Assert.Equal("vs-fwm-5", NftNames.Service(new IpvsService { FirewallMark = 5 }));
        Assert.Equal("vs-fwm6-5", NftNames.Service(new IpvsService { Family = AddressFamily.InterNetworkV6, FirewallMark = 5 }));
        // The slash keeps port 80's destinations apart from port 8080's.
        Assert.False(NftNames.Destination(Tcp("10.0.0.1", 8080), Rs("10.0.1.2", 80)).StartsWith(NftNames.DestinationsOf(Web), StringComparison.Ordinal));
    }

    [Fact]
    public void Each_kind_of_service_is_an_element_of_its_map()
    {
        Assert.Equal(("addr4", "10.0.0.1 . tcp . 80"), (NftNames.Map(Web), NftNames.ElementKey(Web)));
        Assert.Equal(("anyport4", "10.0.0.1 . tcp"), (NftNames.Map(Tcp("10.0.0.1", 0)), NftNames.ElementKey(Tcp("10.0.0.1", 0))));
        Assert.Equal(("addr6", "2001:db8::1 . tcp . 443"), (NftNames.Map(Tcp("2001:db8::1", 443)), NftNames.ElementKey(Tcp("2001:db8::1", 443))));
        Assert.Equal(("anyport6", "2001:db8::1 . tcp"), (NftNames.Map(Tcp("2001:db8::1", 0)), NftNames.ElementKey(Tcp("2001:db8::1", 0))));
        Assert.Equal(("mark4", "7"), (NftNames.Map(new IpvsService { FirewallMark = 7 }), NftNames.ElementKey(new IpvsService { FirewallMark = 7 })));
        Assert.Equal("mark6", NftNames.Map(new IpvsService { Family = AddressFamily.InterNetworkV6, FirewallMark = 7 }));
    }

    [Fact]
    public void Wrr_spreads_a_counter_over_ranges_as_wide_as_the_weights()
    {
        Assert.Equal(
            $"counter name vs-tcp-10.0.0.1-80 numgen inc mod 4 vmap {{ 0 : jump {Rs2}, 1-3 : jump {Rs3} }}",
            NftScript.Dispatch(Web, [Rs("10.0.1.3", 80, 3), Rs("10.0.1.2", 80, 1)]));
    }

    [Fact]
    public void Weights_are_reduced_by_their_common_divisor_and_rr_ignores_them()
    {
        Assert.Equal(
            $"counter name vs-tcp-10.0.0.1-80 numgen inc mod 5 vmap {{ 0-1 : jump {Rs2}, 2-4 : jump {Rs3} }}",
            NftScript.Dispatch(Web, [Rs("10.0.1.2", 80, 200), Rs("10.0.1.3", 80, 300)]));
        Assert.Equal(
            $"counter name vs-tcp-10.0.0.1-80 numgen inc mod 2 vmap {{ 0 : jump {Rs2}, 1 : jump {Rs3} }}",
            NftScript.Dispatch(Web with { Scheduler = "rr" }, [Rs("10.0.1.2", 80, 2), Rs("10.0.1.3", 80, 5)]));
    }

    [Theory]
    [InlineData("wlc")]
    [InlineData("lc")]
    [InlineData("sed")]
    [InlineData("nq")]
    [InlineData("ovf")]
    [InlineData("lblc")]
    [InlineData("lblcr")]
    public void Connection_count_schedulers_become_weighted_round_robin(string scheduler)
    {
        Assert.Equal(
            $"counter name vs-tcp-10.0.0.1-80 numgen inc mod 3 vmap {{ 0 : jump {Rs2}, 1-2 : jump {Rs3} }}",
            NftScript.Dispatch(Web with { Scheduler = scheduler }, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 2)]));
    }

    [Fact]
    public void Weight_zero_gets_no_range_and_a_single_server_gets_a_plain_jump()
    {
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jump {Rs3}", NftScript.Dispatch(Web, [Rs("10.0.1.2", 80, 0), Rs("10.0.1.3", 80, 4)]));
    }

    [Fact]
    public void Fo_sends_everything_to_the_first_of_the_highest_weight()
    {
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jump {Rs3}",
            NftScript.Dispatch(Web with { Scheduler = "fo" }, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 5), Rs("10.0.1.4", 80, 5)]));
    }

    [Fact]
    public void Without_a_live_server_new_connections_are_refused()
    {
        Assert.Equal("reject with tcp reset", NftScript.Dispatch(Web, []));
        Assert.Equal("reject with tcp reset", NftScript.Dispatch(Web, [Rs("10.0.1.2", 80, 0)]));
        Assert.Equal("reject with icmpx port-unreachable", NftScript.Dispatch(Web with { Protocol = IpvsProtocol.Udp }, []));
        Assert.Equal("reject with icmpx port-unreachable", NftScript.Dispatch(new IpvsService { FirewallMark = 3 }, []));
    }

    [Fact]
    public void Sh_and_persistence_hash_the_client_with_a_fixed_seed()
    {
        var two = new[] { Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 1) };
        var ranges = $"vmap {{ 0 : jump {Rs2}, 1 : jump {Rs3} }}";
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jhash ip saddr mod 2 seed 0x0 {ranges}", NftScript.Dispatch(Web with { Scheduler = "sh" }, two));
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jhash ip saddr mod 2 seed 0x0 {ranges}", NftScript.Dispatch(Web with { Scheduler = "mh" }, two));
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jhash ip saddr . th sport mod 2 seed 0x0 {ranges}",
            NftScript.Dispatch(Web with { Scheduler = "sh", Flags = IpvsServiceFlags.ShPort }, two));
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jhash ip daddr mod 2 seed 0x0 {ranges}", NftScript.Dispatch(Web with { Scheduler = "dh" }, two));
        // Persistence overrides the scheduler, weights still apply.
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jhash ip saddr mod 3 seed 0x0 vmap {{ 0 : jump {Rs2}, 1-2 : jump {Rs3} }}",
            NftScript.Dispatch(Tcp("10.0.0.1", 80, "wrr", IpvsServiceFlags.Persistent), [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 2)]));
    }

    [Theory]
    [InlineData("10.0.0.1", null, "ip saddr")]
    [InlineData("10.0.0.1", 32, "ip saddr")]
    [InlineData("10.0.0.1", 24, "@nh,96,24")]
    [InlineData("10.0.0.1", 20, "@nh,96,16")] // rounded down to whole bytes: a /20 shares one server still
    [InlineData("10.0.0.1", 8, "@nh,96,8")]
    [InlineData("10.0.0.1", 4, "")]
    [InlineData("2001:db8::1", null, "ip6 saddr")]
    [InlineData("2001:db8::1", 128, "ip6 saddr")]
    [InlineData("2001:db8::1", 64, "@nh,64,64")]
    [InlineData("2001:db8::1", 48, "@nh,64,48")]
    public void Persistence_granularity_hashes_the_leading_bytes_of_the_client(string vip, int? netmask, string key)
    {
        Assert.Equal(key, NftScript.HashKey(Tcp(vip, 80, "rr", IpvsServiceFlags.Persistent, netmask)));
    }

    [Fact]
    public void A_netmask_wider_than_a_byte_sends_every_client_to_one_server()
    {
        Assert.Equal($"counter name vs-tcp-10.0.0.1-80 jump {Rs2}",
            NftScript.Dispatch(Tcp("10.0.0.1", 80, "rr", IpvsServiceFlags.Persistent, 0), [Rs("10.0.1.2", 80), Rs("10.0.1.3", 80)]));
    }

    [Fact]
    public void Ipv6_hashes_ip6_saddr()
    {
        var s = Tcp("2001:db8::1", 80, "sh");
        Assert.Equal("counter name vs-tcp6-2001.db8..1-80 jhash ip6 saddr mod 2 seed 0x0 vmap { 0 : jump rs-tcp6-2001.db8..1-80/2001.db8..2-80, 1 : jump rs-tcp6-2001.db8..1-80/2001.db8..3-80 }",
            NftScript.Dispatch(s, [Rs("2001:db8::3", 80), Rs("2001:db8::2", 80)]));
    }

    [Fact]
    public void Destination_rules_dnat_keeping_the_port_where_there_is_none()
    {
        Assert.Equal($"meta l4proto tcp counter name {Rs2} dnat ip to 10.0.1.2:80", NftScript.DestinationRule(Web, Rs("10.0.1.2", 80)));
        Assert.Equal("counter name rs-tcp-10.0.0.1-80/10.0.1.2-0 dnat ip to 10.0.1.2", NftScript.DestinationRule(Web, Rs("10.0.1.2", 0)));
        // A port 0 service takes all ports: DNAT to the address only, whatever the destination's port.
        Assert.Equal("counter name rs-tcp-10.0.0.1-0/10.0.1.2-80 dnat ip to 10.0.1.2", NftScript.DestinationRule(Tcp("10.0.0.1", 0), Rs("10.0.1.2", 80)));
        Assert.Equal("meta l4proto udp counter name rs-udp-10.0.0.1-53/10.0.1.2-5353 dnat ip to 10.0.1.2:5353",
            NftScript.DestinationRule(Web with { Protocol = IpvsProtocol.Udp, Port = 53 }, Rs("10.0.1.2", 5353)));
        Assert.Equal("meta l4proto tcp counter name rs-tcp6-2001.db8..1-80/2001.db8..2-8080 dnat ip6 to [2001:db8::2]:8080",
            NftScript.DestinationRule(Tcp("2001:db8::1", 80), Rs("2001:db8::2", 8080)));
        Assert.Equal("counter name rs-tcp6-2001.db8..1-0/2001.db8..2-0 dnat ip6 to 2001:db8::2",
            NftScript.DestinationRule(Tcp("2001:db8::1", 0), Rs("2001:db8::2", 0)));
        Assert.Equal("meta l4proto { tcp, udp, sctp } counter name rs-fwm-5/10.0.1.2-80 dnat ip to 10.0.1.2:80",
            NftScript.DestinationRule(new IpvsService { FirewallMark = 5 }, Rs("10.0.1.2", 80)));
    }

    [Fact]
    public void A_new_table_is_one_transaction_with_base_chains_maps_and_the_service()
    {
        var entry = new LvsEntry(Web, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 3)]);
        var script = NftScript.Apply([new LvsChange.AddService(Web), .. entry.Destinations.Select(d => new LvsChange.AddDestination(Web, d))], [entry], NftTable.Missing).Script;
        Assert.Equal("""
            add table inet vigil_lvs
            add map inet vigil_lvs mark4 { type mark : verdict; }
            add map inet vigil_lvs mark6 { type mark : verdict; }
            add map inet vigil_lvs addr4 { type ipv4_addr . inet_proto . inet_service : verdict; }
            add map inet vigil_lvs addr6 { type ipv6_addr . inet_proto . inet_service : verdict; }
            add map inet vigil_lvs anyport4 { type ipv4_addr . inet_proto : verdict; }
            add map inet vigil_lvs anyport6 { type ipv6_addr . inet_proto : verdict; }
            add chain inet vigil_lvs services
            add chain inet vigil_lvs prerouting { type nat hook prerouting priority dstnat; policy accept; }
            add chain inet vigil_lvs output { type nat hook output priority -100; policy accept; }
            flush chain inet vigil_lvs services
            flush chain inet vigil_lvs prerouting
            flush chain inet vigil_lvs output
            add rule inet vigil_lvs services meta nfproto ipv4 meta l4proto { tcp, udp, sctp } meta mark vmap @mark4
            add rule inet vigil_lvs services meta nfproto ipv6 meta l4proto { tcp, udp, sctp } meta mark vmap @mark6
            add rule inet vigil_lvs services ip daddr . meta l4proto . th dport vmap @addr4
            add rule inet vigil_lvs services ip6 daddr . meta l4proto . th dport vmap @addr6
            add rule inet vigil_lvs services ip daddr . meta l4proto vmap @anyport4
            add rule inet vigil_lvs services ip6 daddr . meta l4proto vmap @anyport6
            add rule inet vigil_lvs prerouting jump services
            add rule inet vigil_lvs output jump services
            add chain inet vigil_lvs vs-tcp-10.0.0.1-80
            add counter inet vigil_lvs vs-tcp-10.0.0.1-80
            add chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.2-80
            add counter inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.2-80
            flush chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.2-80
            add rule inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.2-80 meta l4proto tcp counter name rs-tcp-10.0.0.1-80/10.0.1.2-80 dnat ip to 10.0.1.2:80 comment "vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=1"
            add chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            add counter inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            flush chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            add rule inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80 meta l4proto tcp counter name rs-tcp-10.0.0.1-80/10.0.1.3-80 dnat ip to 10.0.1.3:80 comment "vigil-rs addr=10.0.1.3 port=80 fwd=masq weight=3"
            flush chain inet vigil_lvs vs-tcp-10.0.0.1-80
            add rule inet vigil_lvs vs-tcp-10.0.0.1-80 counter name vs-tcp-10.0.0.1-80 numgen inc mod 4 vmap { 0 : jump rs-tcp-10.0.0.1-80/10.0.1.2-80, 1-3 : jump rs-tcp-10.0.0.1-80/10.0.1.3-80 } comment "vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr"
            add element inet vigil_lvs addr4 { 10.0.0.1 . tcp . 80 : jump vs-tcp-10.0.0.1-80 }

            """.Replace("\r\n", "\n"), script);
    }

    /// <summary>The table after the script above, as nft -j lists it (nft 1.0.6), with traffic counted.</summary>
    internal const string WebTableJson = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"table": {"family": "inet", "name": "vigil_lvs", "handle": 7}},
        {"counter": {"family": "inet", "name": "vs-tcp-10.0.0.1-80", "table": "vigil_lvs", "handle": 11, "packets": 40, "bytes": 2400}},
        {"counter": {"family": "inet", "name": "rs-tcp-10.0.0.1-80/10.0.1.2-80", "table": "vigil_lvs", "handle": 12, "packets": 10, "bytes": 600}},
        {"counter": {"family": "inet", "name": "rs-tcp-10.0.0.1-80/10.0.1.3-80", "table": "vigil_lvs", "handle": 13, "packets": 30, "bytes": 1800}},
        {"map": {"family": "inet", "name": "mark4", "table": "vigil_lvs", "type": "mark", "handle": 1, "map": "verdict"}},
        {"map": {"family": "inet", "name": "mark6", "table": "vigil_lvs", "type": "mark", "handle": 2, "map": "verdict"}},
        {"map": {"family": "inet", "name": "addr4", "table": "vigil_lvs", "type": ["ipv4_addr", "inet_proto", "inet_service"], "handle": 3, "map": "verdict",
          "elem": [[{"concat": ["10.0.0.1", "tcp", 80]}, {"jump": {"target": "vs-tcp-10.0.0.1-80"}}]]}},
        {"map": {"family": "inet", "name": "addr6", "table": "vigil_lvs", "type": ["ipv6_addr", "inet_proto", "inet_service"], "handle": 4, "map": "verdict"}},
        {"map": {"family": "inet", "name": "anyport4", "table": "vigil_lvs", "type": ["ipv4_addr", "inet_proto"], "handle": 5, "map": "verdict"}},
        {"map": {"family": "inet", "name": "anyport6", "table": "vigil_lvs", "type": ["ipv6_addr", "inet_proto"], "handle": 6, "map": "verdict"}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "services", "handle": 7}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "prerouting", "handle": 8, "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "output", "handle": 9, "type": "nat", "hook": "output", "prio": -100, "policy": "accept"}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "vs-tcp-10.0.0.1-80", "handle": 10}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "rs-tcp-10.0.0.1-80/10.0.1.2-80", "handle": 14}},
        {"chain": {"family": "inet", "table": "vigil_lvs", "name": "rs-tcp-10.0.0.1-80/10.0.1.3-80", "handle": 15}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 20, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 21, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 22, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 23, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 24, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "services", "handle": 25, "expr": []}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "prerouting", "handle": 26, "expr": [{"jump": {"target": "services"}}]}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "output", "handle": 27, "expr": [{"jump": {"target": "services"}}]}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "rs-tcp-10.0.0.1-80/10.0.1.2-80", "handle": 30, "comment": "vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=1",
          "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"counter": "rs-tcp-10.0.0.1-80/10.0.1.2-80"}, {"dnat": {"family": "ip", "addr": "10.0.1.2", "port": 80}}]}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "rs-tcp-10.0.0.1-80/10.0.1.3-80", "handle": 31, "comment": "vigil-rs addr=10.0.1.3 port=80 fwd=masq weight=3",
          "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"counter": "rs-tcp-10.0.0.1-80/10.0.1.3-80"}, {"dnat": {"family": "ip", "addr": "10.0.1.3", "port": 80}}]}},
        {"rule": {"family": "inet", "table": "vigil_lvs", "chain": "vs-tcp-10.0.0.1-80", "handle": 32, "comment": "vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr",
          "expr": [{"counter": "vs-tcp-10.0.0.1-80"}, {"vmap": {"key": {"numgen": {"mode": "inc", "mod": 4, "offset": 0}}, "data": {"set": [[0, {"jump": {"target": "rs-tcp-10.0.0.1-80/10.0.1.2-80"}}], [{"range": [1, 3]}, {"jump": {"target": "rs-tcp-10.0.0.1-80/10.0.1.3-80"}}]]}}}]}}
        ]}
        """;

    [Fact]
    public void The_table_read_back_is_the_table_applied_with_its_counters()
    {
        var table = NftTable.Parse(WebTableJson);
        Assert.True(table.HasBase);
        var entry = Assert.Single(table.Entries());
        Assert.Equal(Web, entry.Service with { Stats = null });
        Assert.Equal(40UL, entry.Service.Stats!.Connections);
        Assert.Equal([("10.0.1.2", 1, 10UL), ("10.0.1.3", 3, 30UL)],
            entry.Destinations.Select(d => (d.Address.ToString(), d.Weight, d.Stats!.Connections)));
        Assert.All(entry.Destinations, d => Assert.Equal(IpvsForwardingMethod.Masquerade, d.ForwardingMethod));
        Assert.All(entry.Destinations, d => Assert.Equal(0UL, d.Stats!.InPackets));
    }

    [Fact]
    public void A_service_without_its_element_or_rule_and_a_destination_without_its_rule_read_as_missing()
    {
        var noElement = WebTableJson.Replace("""[[{"concat": ["10.0.0.1", "tcp", 80]}, {"jump": {"target": "vs-tcp-10.0.0.1-80"}}]]""", "[]");
        Assert.Empty(NftTable.Parse(noElement).Entries());
        var noServiceRule = WebTableJson.Replace("\"comment\": \"vigil-vs", "\"x\": \"");
        Assert.Empty(NftTable.Parse(noServiceRule).Entries());
        var noDestinationRule = WebTableJson.Replace("\"comment\": \"vigil-rs addr=10.0.1.3", "\"x\": \"");
        Assert.Equal(["10.0.1.2"], Assert.Single(NftTable.Parse(noDestinationRule).Entries()).Destinations.Select(d => d.Address.ToString()));
        // A comment that does not match the chain's name is not believed.
        var moved = WebTableJson.Replace("vigil-rs addr=10.0.1.3", "vigil-rs addr=10.0.1.9");
        Assert.Single(Assert.Single(NftTable.Parse(moved).Entries()).Destinations);
    }

    [Fact]
    public void A_change_rewrites_only_what_differs_and_counters_outlive_the_rules()
    {
        // 10.0.1.3's weight changes, 10.0.1.2 is unchanged, 10.0.1.4 is new.
        var entry = new LvsEntry(Web, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 2), Rs("10.0.1.4", 80, 1)]);
        var script = NftScript.Apply([new LvsChange.UpdateDestination(Web, entry.Destinations[1]), new LvsChange.AddDestination(Web, entry.Destinations[2])],
            [entry], NftTable.Parse(WebTableJson)).Script;
        Assert.Equal("""
            add chain inet vigil_lvs vs-tcp-10.0.0.1-80
            add counter inet vigil_lvs vs-tcp-10.0.0.1-80
            add chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            add counter inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            flush chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80
            add rule inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80 meta l4proto tcp counter name rs-tcp-10.0.0.1-80/10.0.1.3-80 dnat ip to 10.0.1.3:80 comment "vigil-rs addr=10.0.1.3 port=80 fwd=masq weight=2"
            add chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.4-80
            add counter inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.4-80
            flush chain inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.4-80
            add rule inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.4-80 meta l4proto tcp counter name rs-tcp-10.0.0.1-80/10.0.1.4-80 dnat ip to 10.0.1.4:80 comment "vigil-rs addr=10.0.1.4 port=80 fwd=masq weight=1"
            flush chain inet vigil_lvs vs-tcp-10.0.0.1-80
            add rule inet vigil_lvs vs-tcp-10.0.0.1-80 counter name vs-tcp-10.0.0.1-80 numgen inc mod 4 vmap { 0 : jump rs-tcp-10.0.0.1-80/10.0.1.2-80, 1-2 : jump rs-tcp-10.0.0.1-80/10.0.1.3-80, 3 : jump rs-tcp-10.0.0.1-80/10.0.1.4-80 } comment "vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr"
            add element inet vigil_lvs addr4 { 10.0.0.1 . tcp . 80 : jump vs-tcp-10.0.0.1-80 }

            """.Replace("\r\n", "\n"), script);
    }

    [Fact]
    public void A_removed_destination_loses_its_chain_and_counter_after_the_jump_to_it()
    {
        var entry = new LvsEntry(Web, [Rs("10.0.1.2", 80, 1)]);
        var script = NftScript.Apply([new LvsChange.DeleteDestination(Web, Rs("10.0.1.3", 80, 3))], [entry], NftTable.Parse(WebTableJson)).Script;
        var lines = script.Split('\n');
        var flushService = Array.IndexOf(lines, "flush chain inet vigil_lvs vs-tcp-10.0.0.1-80");
        var deleteChain = Array.IndexOf(lines, $"delete chain inet vigil_lvs {Rs3}");
        Assert.InRange(flushService, 0, deleteChain - 1);
        Assert.Contains($"flush chain inet vigil_lvs {Rs3}", lines);
        Assert.Contains($"delete counter inet vigil_lvs {Rs3}", lines);
        Assert.Contains($"add rule inet vigil_lvs vs-tcp-10.0.0.1-80 counter name vs-tcp-10.0.0.1-80 jump {Rs2} comment \"vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr\"", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("add rule inet vigil_lvs " + Rs2, StringComparison.Ordinal));
    }

    [Fact]
    public void A_deleted_service_goes_with_its_element_chains_and_counters()
    {
        var script = NftScript.Apply([new LvsChange.DeleteService(Web)], [], NftTable.Parse(WebTableJson)).Script;
        Assert.Equal($$"""
            delete element inet vigil_lvs addr4 { 10.0.0.1 . tcp . 80 }
            flush chain inet vigil_lvs vs-tcp-10.0.0.1-80
            flush chain inet vigil_lvs {{Rs2}}
            delete chain inet vigil_lvs {{Rs2}}
            flush chain inet vigil_lvs {{Rs3}}
            delete chain inet vigil_lvs {{Rs3}}
            delete chain inet vigil_lvs vs-tcp-10.0.0.1-80
            delete counter inet vigil_lvs {{Rs2}}
            delete counter inet vigil_lvs {{Rs3}}
            delete counter inet vigil_lvs vs-tcp-10.0.0.1-80

            """.Replace("\r\n", "\n"), script);
        Assert.Equal("", NftScript.Apply([new LvsChange.DeleteService(Web)], [], NftTable.Missing).Script);
    }

    [Fact]
    public void The_table_a_script_leaves_is_what_the_next_script_starts_from()
    {
        var entry = new LvsEntry(Web, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 3)]);
        var (_, after) = NftScript.Apply([new LvsChange.AddService(Web)], [entry], NftTable.Missing);
        Assert.True(after.HasBase);
        Assert.Equal(entry.Destinations, Assert.Single(after.Entries()).Destinations.Select(d => d with { Family = null, Stats = null }));

        // Nothing changed: the destination chains are kept, only the dispatch is rewritten.
        var again = NftScript.Apply([new LvsChange.UpdateService(Web)], [entry], after).Script;
        Assert.DoesNotContain("add table", again, StringComparison.Ordinal);
        Assert.DoesNotContain("rule inet vigil_lvs rs-", again, StringComparison.Ordinal);

        var (script, deleted) = NftScript.Apply([new LvsChange.DeleteService(Web)], [], after);
        Assert.Contains("delete counter inet vigil_lvs rs-tcp-10.0.0.1-80/10.0.1.3-80\n", script, StringComparison.Ordinal);
        Assert.Empty(deleted.Entries());
        Assert.DoesNotContain(deleted.Chains.Keys, k => k.Contains("10.0.0.1", StringComparison.Ordinal));
        Assert.Empty(deleted.Counters);
        Assert.Equal("", NftScript.Apply([new LvsChange.DeleteService(Web)], [], deleted).Script);
    }

    [Fact]
    public void Without_the_base_chains_no_service_is_there()
    {
        var broken = WebTableJson.Replace("""{"rule": {"family": "inet", "table": "vigil_lvs", "chain": "prerouting", "handle": 26, "expr": [{"jump": {"target": "services"}}]}},""", "");
        Assert.False(NftTable.Parse(broken).HasBase);
        Assert.Empty(NftTable.Parse(broken).Entries());
        var entry = new LvsEntry(Web, [Rs("10.0.1.2", 80, 1), Rs("10.0.1.3", 80, 3)]);
        Assert.StartsWith("add table inet vigil_lvs\n", NftScript.Apply([new LvsChange.AddService(Web)], [entry], NftTable.Parse(broken)).Script, StringComparison.Ordinal);
    }

    [Fact]
    public void Unchanged_services_are_not_in_the_script()
    {
        var other = Tcp("10.0.0.2", 443);
        var target = new[] { new LvsEntry(Web, [Rs("10.0.1.2", 80), Rs("10.0.1.3", 80, 3)]), new LvsEntry(other, [Rs("10.0.1.2", 443)]) };
        var script = NftScript.Apply([new LvsChange.AddService(other), new LvsChange.AddDestination(other, Rs("10.0.1.2", 443))], target, NftTable.Parse(WebTableJson)).Script;
        Assert.DoesNotContain("10.0.0.1", script, StringComparison.Ordinal);
        Assert.DoesNotContain("add table", script, StringComparison.Ordinal);
        Assert.Contains("add element inet vigil_lvs addr4 { 10.0.0.2 . tcp . 443 : jump vs-tcp-10.0.0.2-443 }", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Fwmark_and_ipv6_services_go_to_their_maps()
    {
        var mark = new IpvsService { FirewallMark = 5, Scheduler = "rr" };
        var v6 = Tcp("2001:db8::1", 0, "sh");
        var target = new[] { new LvsEntry(mark, [Rs("10.0.1.2", 80)]), new LvsEntry(v6, [Rs("2001:db8::2", 0), Rs("2001:db8::3", 0)]) };
        var script = NftScript.Apply([new LvsChange.AddService(mark), new LvsChange.AddService(v6)], target, NftTable.Missing).Script;
        Assert.Contains("add element inet vigil_lvs mark4 { 5 : jump vs-fwm-5 }\n", script, StringComparison.Ordinal);
        Assert.Contains("add rule inet vigil_lvs rs-fwm-5/10.0.1.2-80 meta l4proto { tcp, udp, sctp } counter name rs-fwm-5/10.0.1.2-80 dnat ip to 10.0.1.2:80 comment \"vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=1\"\n", script, StringComparison.Ordinal);
        Assert.Contains("comment \"vigil-vs family=ipv4 proto=tcp fwmark=5 sched=rr\"\n", script, StringComparison.Ordinal);
        Assert.Contains("add element inet vigil_lvs anyport6 { 2001:db8::1 . tcp : jump vs-tcp6-2001.db8..1-0 }\n", script, StringComparison.Ordinal);
        Assert.Contains("add rule inet vigil_lvs rs-tcp6-2001.db8..1-0/2001.db8..2-0 counter name rs-tcp6-2001.db8..1-0/2001.db8..2-0 dnat ip6 to 2001:db8::2 comment", script, StringComparison.Ordinal);
        Assert.Contains("jhash ip6 saddr mod 2 seed 0x0 vmap", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Comments_carry_everything_the_planner_compares()
    {
        var s = Tcp("2001:db8::1", 443, "sh", IpvsServiceFlags.Persistent | IpvsServiceFlags.ShPort, 64);
        var comment = NftComments.Service(s);
        Assert.Equal("vigil-vs family=ipv6 proto=tcp addr=2001:db8::1 port=443 sched=sh flags=0x11 timeout=300 netmask=64", comment);
        Assert.Equal(s, NftComments.ParseService(comment));
        var mark = new IpvsService { Family = AddressFamily.InterNetworkV6, Protocol = IpvsProtocol.Udp, FirewallMark = 9, Scheduler = "wlc" };
        Assert.Equal(mark, NftComments.ParseService(NftComments.Service(mark)));
        // The kernel's Hashed flag is never written.
        Assert.Equal("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr", NftComments.Service(Web with { Flags = IpvsServiceFlags.Hashed }));

        var d = Rs("10.0.1.2", 8080, 7) with { UpperThreshold = 100, LowerThreshold = 50 };
        Assert.Equal("vigil-rs addr=10.0.1.2 port=8080 fwd=masq weight=7 uthreshold=100 lthreshold=50", NftComments.Destination(d));
        Assert.Equal(d with { Family = AddressFamily.InterNetwork }, NftComments.ParseDestination(NftComments.Destination(d)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("someone else's rule")]
    [InlineData("vigil-vs family=ipv5 proto=tcp addr=10.0.0.1 port=80 sched=wrr")]
    [InlineData("vigil-vs family=ipv4 proto=icmp addr=10.0.0.1 port=80 sched=wrr")]
    [InlineData("vigil-vs family=ipv4 proto=tcp addr=2001:db8::1 port=80 sched=wrr")]
    [InlineData("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=99999 sched=wrr")]
    [InlineData("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80")]
    [InlineData("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 port=81 sched=wrr")]
    [InlineData("vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=1")]
    public void Damaged_or_foreign_comments_are_no_service(string? comment)
    {
        Assert.Null(NftComments.ParseService(comment));
    }

    [Theory]
    [InlineData("vigil-rs addr=10.0.1.2 port=80 fwd=route weight=1")]
    [InlineData("vigil-rs addr=10.0.1.2 port=80 fwd=masq")]
    [InlineData("vigil-rs addr=10.0.1.2 port=80 fwd=masq weight=-1")]
    [InlineData("vigil-vs family=ipv4 proto=tcp addr=10.0.0.1 port=80 sched=wrr")]
    public void Damaged_or_foreign_comments_are_no_destination(string comment)
    {
        Assert.Null(NftComments.ParseDestination(comment));
    }

    [Fact]
    public void What_nat_cannot_do_is_refused_with_its_reason()
    {
        var backend = new NftablesBackend();
        Assert.Null(backend.CannotProgram(Web, null));
        Assert.Null(backend.CannotProgram(Web, Rs("10.0.1.2", 80)));
        Assert.Equal("lb_kind DR needs IPVS: nftables can only do NAT", backend.CannotProgram(Web, Rs("10.0.1.2", 80) with { ForwardingMethod = IpvsForwardingMethod.DirectRoute }));
        Assert.Equal("lb_kind TUN needs IPVS: nftables can only do NAT", backend.CannotProgram(Web, Rs("10.0.1.2", 80) with { ForwardingMethod = IpvsForwardingMethod.Tunnel }));
        Assert.StartsWith("ops (one-packet scheduling) needs IPVS", backend.CannotProgram(Web with { Protocol = IpvsProtocol.Udp, Flags = IpvsServiceFlags.OnePacket }, null), StringComparison.Ordinal);
        Assert.Equal("persistence_engine sip needs IPVS", backend.CannotProgram(Web with { PersistenceEngine = "sip" }, null));
        Assert.NotNull(backend.CannotProgram(Web, Rs("2001:db8::2", 80)));
        Assert.Throws<InvalidOperationException>(() => NftScript.Apply([new LvsChange.AddService(Web)],
            [new LvsEntry(Web, [Rs("10.0.1.2", 80) with { ForwardingMethod = IpvsForwardingMethod.DirectRoute }])], NftTable.Missing));
    }

    [Fact]
    public async Task Without_nft_every_call_says_what_is_missing()
    {
        await using var backend = new NftablesBackend(null, "/nonexistent/nft");
        var e = await Assert.ThrowsAsync<NftablesException>(() => backend.VersionAsync(CancellationToken.None));
        Assert.Equal("the nftables backend needs /nonexistent/nft, which is missing: install nftables", e.Message);
        await Assert.ThrowsAsync<NftablesException>(() => backend.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task No_sync_daemon_and_no_timeouts_of_its_own()
    {
        await using var backend = new NftablesBackend();
        Assert.Equal("nftables", backend.Name);
        Assert.False(backend.HasSyncDaemon);
        Assert.Empty(await backend.ListSyncDaemonsAsync(CancellationToken.None));
        await backend.SetTimeoutsAsync(new IpvsTimeouts(TimeSpan.FromSeconds(1), TimeSpan.Zero, TimeSpan.Zero), CancellationToken.None);
        var e = await Assert.ThrowsAsync<NotSupportedException>(() => backend.StartSyncDaemonAsync(new IpvsDaemon { Interface = "eth0" }, CancellationToken.None));
        Assert.Contains("lvs_sync_daemon needs IPVS", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(() => backend.StopSyncDaemonAsync(IpvsDaemonState.Master, CancellationToken.None));
    }
}
