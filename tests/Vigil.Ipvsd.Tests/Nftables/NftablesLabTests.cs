using System.Net;
using System.Net.Sockets;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Backends.Nftables;
using Vigil.Ipvsd.Engine;
using Vigil.Netlink.Ipvs;
using Vigil.Testing;
using Xunit.Abstractions;
using static Vigil.Ipvsd.Tests.Nftables.NftablesLab;

namespace Vigil.Ipvsd.Tests.Nftables;

/// <summary>
/// The nftables backend programming a director's namespace, proven by a client's HTTP requests
/// to the VIPs: who answers, how often, and what the backend reads back. Changes are planned by
/// ipvsd's own planner from what the backend reads, as the reconciler does.
/// </summary>
[Trait("Category", "Lab")]
public sealed class NftablesLabTests(NftablesLab lab, ITestOutputHelper output) : IClassFixture<NftablesLab>, IAsyncLifetime
{
    private readonly NftablesBackend _backend = new(lab.Director.Namespace);
    private readonly HashSet<IpvsService> _owned = [];

    public Task InitializeAsync() => _backend.FlushAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _backend.FlushAsync(CancellationToken.None);
        await _backend.DisposeAsync();
    }

    private static IpvsService Http(string vip = Vip, ushort port = 80, string scheduler = "wrr") => new()
    {
        Family = IPAddress.Parse(vip).AddressFamily,
        Protocol = IpvsProtocol.Tcp,
        Address = IPAddress.Parse(vip),
        Port = port,
        Scheduler = scheduler,
    };

    private static IpvsDestination Rs(int index, int weight = 1, ushort port = 80, bool v6 = false) => new()
    {
        Address = IPAddress.Parse(v6 ? Addresses6[index] : Addresses[index]),
        Port = port,
        ForwardingMethod = IpvsForwardingMethod.Masquerade,
        Weight = weight,
    };

    /// <summary>One reconcile: read, plan the difference, apply it; returns the changes.</summary>
    private async Task<IReadOnlyList<LvsChange>> ReconcileAsync(params LvsEntry[] target)
    {
        _owned.UnionWith(target.Select(e => e.Service.Key));
        var plan = Planner.Plan(target, await _backend.ReadAsync(CancellationToken.None), _owned);
        await _backend.ApplyAsync(plan, target, CancellationToken.None);
        await AssertReadsBackAsync(target);
        return plan;
    }

    /// <summary>What is read back is what was applied: the planner finds nothing to change.</summary>
    private async Task AssertReadsBackAsync(params LvsEntry[] target)
    {
        var read = await _backend.ReadAsync(CancellationToken.None);
        Assert.Empty(Planner.Plan(target, read, _owned));
        Assert.Equal(target.Length, read.Count);
    }

    private async Task<LvsEntry> ReadAsync(IpvsService service) =>
        Assert.Single(await _backend.ReadAsync(CancellationToken.None), e => e.Service.Key == service.Key);

    private static ulong Connections(LvsEntry entry, int index) =>
        entry.Destinations.Single(d => d.Address.Equals(IPAddress.Parse(Addresses[index])) || d.Address.Equals(IPAddress.Parse(Addresses6[index]))).Stats!.Connections;

    [Fact]
    public async Task Wrr_weights_1_and_3_share_40_connections_10_to_30_and_count_them()
    {
        var web = Http();
        await ReconcileAsync(new LvsEntry(web, [Rs(0, 1), Rs(1, 3)]));
        output.WriteLine(await lab.NftAsync("list", "table", "inet", "vigil_lvs"));

        var hits = await lab.HitsAsync(Vip, 80, 40);
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 10, ["rs2"] = 30 }, hits);

        var read = await ReadAsync(web);
        Assert.Equal("wrr", read.Service.Scheduler);
        Assert.Equal(40UL, read.Service.Stats!.Connections);
        Assert.Equal((10UL, 30UL), (Connections(read, 0), Connections(read, 1)));
        Assert.Equal([1, 3], read.Destinations.Select(d => d.Weight).Order());
        Assert.All(read.Destinations, d => Assert.Equal(IpvsForwardingMethod.Masquerade, d.ForwardingMethod));
    }

    [Fact]
    public async Task A_weight_0_server_gets_no_connections_but_stays_listed()
    {
        var web = Http(scheduler: "rr");
        await ReconcileAsync(new LvsEntry(web, [Rs(0), Rs(1), Rs(2, 0)]));

        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 10, ["rs2"] = 10 }, await lab.HitsAsync(Vip, 80, 20));
        var read = await ReadAsync(web);
        Assert.Equal(0, read.Destinations.Single(d => d.Address.ToString() == Addresses[2]).Weight);
        Assert.Equal(0UL, Connections(read, 2));
    }

    [Fact]
    public async Task Removing_a_server_moves_its_traffic_and_adding_one_brings_it_some()
    {
        var web = Http(scheduler: "rr");
        await ReconcileAsync(new LvsEntry(web, [Rs(0), Rs(1)]));
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 5, ["rs2"] = 5 }, await lab.HitsAsync(Vip, 80, 10));

        var plan = await ReconcileAsync(new LvsEntry(web, [Rs(0)]));
        Assert.IsType<LvsChange.DeleteDestination>(Assert.Single(plan));
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 10 }, await lab.HitsAsync(Vip, 80, 10));
        Assert.DoesNotContain("10.2.0.12", await lab.NftAsync("list", "table", "inet", "vigil_lvs"), StringComparison.Ordinal);

        await ReconcileAsync(new LvsEntry(web, [Rs(0), Rs(2)]));
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 5, ["rs3"] = 5 }, await lab.HitsAsync(Vip, 80, 10));
        // rs1's counter went on through both changes.
        Assert.Equal(20UL, Connections(await ReadAsync(web), 0));
    }

    [Fact]
    public async Task Sh_sticks_each_client_to_one_server_and_persistence_a_whole_netmask()
    {
        var sh = Http(scheduler: "sh");
        var persistent = Http(port: 8080, scheduler: "rr") with { Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300, PersistenceNetmask = 24 };
        var servers = new[] { Rs(0), Rs(1), Rs(2) };
        await ReconcileAsync(new LvsEntry(sh, servers), new LvsEntry(persistent, servers.Select(d => d with { Port = 80 }).ToList()));

        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var client in Clients)
        {
            var hits = await lab.HitsAsync(Vip, 80, 4, client);
            chosen.Add(Assert.Single(hits).Key);
        }
        Assert.True(chosen.Count >= 2, $"16 clients all hashed to {string.Join(",", chosen)}");

        var netmask = new HashSet<string>(StringComparer.Ordinal);
        foreach (var client in Clients) netmask.UnionWith((await lab.HitsAsync(Vip, 8080, 2, client)).Keys);
        Assert.Single(netmask);
        var read = await ReadAsync(persistent);
        Assert.Equal((IpvsServiceFlags.Persistent, 300u, 24), (read.Service.Flags, read.Service.PersistenceTimeout, read.Service.PersistenceNetmask));
    }

    [Fact]
    public async Task Without_a_live_server_connections_are_refused()
    {
        var web = Http();
        await ReconcileAsync(new LvsEntry(web, [Rs(0, 0)]));
        var e = await Assert.ThrowsAsync<SocketException>(() => GetAsync(lab.Client, Vip, 80));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);

        await ReconcileAsync(new LvsEntry(web, [Rs(0, 1)]));
        Assert.Equal("rs1", await GetAsync(lab.Client, Vip, 80));
    }

    [Fact]
    public async Task Out_of_band_deletions_read_as_missing_and_are_put_back()
    {
        var web = Http(scheduler: "rr");
        var target = new LvsEntry(web, [Rs(0), Rs(1), Rs(2, 0)]);
        await ReconcileAsync(target);
        var rs2 = NftNames.Destination(web, Rs(1));
        var rs3 = NftNames.Destination(web, Rs(2));

        // A destination's rule: the destination is gone.
        var table = await _backend.ReadTableAsync(CancellationToken.None);
        await lab.NftAsync("delete", "rule", "inet", "vigil_lvs", rs2, "handle", table.Chains[rs2].Rules[0].Handle.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([Addresses[0], Addresses[2]], (await ReadAsync(web)).Destinations.Select(d => d.Address.ToString()).Order());
        var plan = await ReconcileAsync(target);
        Assert.Equal(Addresses[1], Assert.IsType<LvsChange.AddDestination>(Assert.Single(plan)).Destination.Address.ToString());
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 2, ["rs2"] = 2 }, await lab.HitsAsync(Vip, 80, 4));

        // A drained destination's chain (no jump leads to it, so nft lets it go).
        await lab.NftAsync("delete", "chain", "inet", "vigil_lvs", rs3);
        Assert.Equal([Addresses[0], Addresses[1]], (await ReadAsync(web)).Destinations.Select(d => d.Address.ToString()).Order());
        plan = await ReconcileAsync(target);
        Assert.Equal(Addresses[2], Assert.IsType<LvsChange.AddDestination>(Assert.Single(plan)).Destination.Address.ToString());

        // The service's dispatch rule, then its map element: the service is gone.
        var vs = NftNames.Service(web);
        table = await _backend.ReadTableAsync(CancellationToken.None);
        await lab.NftAsync("delete", "rule", "inet", "vigil_lvs", vs, "handle", table.Chains[vs].Rules[0].Handle.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(await _backend.ReadAsync(CancellationToken.None));
        plan = await ReconcileAsync(target);
        Assert.IsType<LvsChange.AddService>(plan[0]);
        await lab.NftAsync("delete", "element", "inet", "vigil_lvs", "addr4", "{ 10.1.0.100 . tcp . 80 }");
        Assert.Empty(await _backend.ReadAsync(CancellationToken.None));
        await ReconcileAsync(target);
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 2, ["rs2"] = 2 }, await lab.HitsAsync(Vip, 80, 4));
    }

    [Fact]
    public async Task Changing_service_B_leaves_service_A_chains_rules_and_counters_untouched()
    {
        var a = Http(scheduler: "rr");
        var b = Http(port: 8080);
        var entryA = new LvsEntry(a, [Rs(0), Rs(1)]);
        await ReconcileAsync(entryA, new LvsEntry(b, [Rs(0), Rs(1)]));
        await lab.HitsAsync(Vip, 80, 6);
        await lab.HitsAsync(Vip, 8080, 4);
        var before = await _backend.ReadTableAsync(CancellationToken.None);

        var plan = await ReconcileAsync(entryA, new LvsEntry(b, [Rs(0), Rs(1, 3), Rs(2)]));
        Assert.All(plan, c => Assert.Equal(8080, ServiceOf(c).Port));
        var after = await _backend.ReadTableAsync(CancellationToken.None);

        static string Snapshot(NftTable t, Func<string, bool> mine) => string.Join("\n",
            t.Chains.Values.Where(c => mine(c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => $"{c.Name} #{c.Handle}: {string.Join(",", c.Rules.Select(r => r.Handle))}")
                .Concat(t.Counters.Where(kv => mine(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")));
        bool IsA(string name) => name == NftNames.Service(a) || name.StartsWith(NftNames.DestinationsOf(a), StringComparison.Ordinal);
        output.WriteLine(Snapshot(after, _ => true));
        Assert.Equal(Snapshot(before, IsA), Snapshot(after, IsA));
        Assert.Contains("=6", Snapshot(after, IsA), StringComparison.Ordinal);
        // B's unchanged rs1 kept its rule; rs2's rule was rewritten for its weight but kept its counter.
        var rs1 = NftNames.Destination(b, Rs(0));
        var rs2 = NftNames.Destination(b, Rs(1));
        Assert.Equal(before.Chains[rs1].Rules[0].Handle, after.Chains[rs1].Rules[0].Handle);
        Assert.NotEqual(before.Chains[rs2].Rules[0].Handle, after.Chains[rs2].Rules[0].Handle);
        Assert.Equal((2UL, 2UL), (after.Counters[rs1], after.Counters[rs2]));

        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 1, ["rs2"] = 3, ["rs3"] = 1 }, await lab.HitsAsync(Vip, 8080, 5));
    }

    [Fact]
    public async Task An_ipv6_service_balances_ipv6_clients()
    {
        var web6 = Http(Vip6);
        await ReconcileAsync(new LvsEntry(web6, [Rs(0, v6: true), Rs(1, 1, v6: true)]));
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 5, ["rs2"] = 5 }, await lab.HitsAsync(Vip6, 80, 10));
        Assert.Equal((5UL, 5UL), (Connections(await ReadAsync(web6), 0), Connections(await ReadAsync(web6), 1)));
    }

    [Fact]
    public async Task A_port_0_service_takes_every_port_and_keeps_it()
    {
        var any = Http(Vip2, 0, "rr");
        await ReconcileAsync(new LvsEntry(any, [Rs(2, port: 0)]));
        Assert.Equal("rs3", await GetAsync(lab.Client, Vip2, 80));
        // Port 81 reaches rs3's port 81, where nothing listens: rs3 itself refuses.
        var e = await Assert.ThrowsAsync<SocketException>(() => GetAsync(lab.Client, Vip2, 81));
        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        Assert.Equal(2UL, Connections(await ReadAsync(any), 2));
    }

    [Fact]
    public async Task A_fwmark_service_balances_what_another_table_marks_and_flush_leaves_that_table_alone()
    {
        await lab.Director.CheckAsync(lab.Nft, "add table inet vgtest_mark; add chain inet vgtest_mark pre { type filter hook prerouting priority mangle; }; add rule inet vgtest_mark pre ip daddr 10.1.0.102 tcp dport 80 meta mark set 7");
        try
        {
            var fwm = new IpvsService { FirewallMark = 7, Scheduler = "rr" };
            await ReconcileAsync(new LvsEntry(fwm, [Rs(1), Rs(2)]));
            Assert.Equal(new Dictionary<string, int> { ["rs2"] = 2, ["rs3"] = 2 }, await lab.HitsAsync(Vip3, 80, 4));

            await _backend.FlushAsync(CancellationToken.None);
            var tables = await lab.NftAsync("list", "tables");
            Assert.DoesNotContain("vigil_lvs", tables, StringComparison.Ordinal);
            Assert.Contains("table inet vgtest_mark", tables, StringComparison.Ordinal);
            Assert.Empty(await _backend.ReadAsync(CancellationToken.None));
        }
        finally
        {
            await lab.NftAsync("delete", "table", "inet", "vgtest_mark");
        }
    }

    [Fact]
    public async Task The_directors_own_connections_are_balanced_too()
    {
        await ReconcileAsync(new LvsEntry(Http(scheduler: "rr"), [Rs(0), Rs(1)]));
        Assert.Equal(new Dictionary<string, int> { ["rs1"] = 2, ["rs2"] = 2 }, await lab.HitsAsync(Vip, 80, 4, from: lab.Director));
    }

    [Fact]
    public async Task A_missing_table_reads_empty_and_the_version_is_nfts()
    {
        Assert.Empty(await _backend.ReadAsync(CancellationToken.None));
        await _backend.FlushAsync(CancellationToken.None);
        Assert.StartsWith("nftables v", await _backend.VersionAsync(CancellationToken.None), StringComparison.Ordinal);
        await _backend.ApplyAsync([], [], CancellationToken.None);
        Assert.DoesNotContain("vigil_lvs", await lab.NftAsync("list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_apply_on_stale_knowledge_fails_once_and_the_next_reads_again()
    {
        var a = new LvsEntry(Http(), [Rs(0)]);
        var b = new LvsEntry(Http(port: 8080), [Rs(1)]);
        await ReconcileAsync(a);
        await lab.NftAsync("delete", "table", "inet", "vigil_lvs");
        // The backend still believes in the table it just wrote: the transaction fails, nothing half done.
        await Assert.ThrowsAsync<NftablesException>(() => _backend.ApplyAsync([new LvsChange.AddService(b.Service)], [a, b], CancellationToken.None));
        await _backend.ApplyAsync([new LvsChange.AddService(a.Service), new LvsChange.AddService(b.Service)], [a, b], CancellationToken.None);
        await AssertReadsBackAsync(a, b);
        Assert.Equal("rs2", await GetAsync(lab.Client, Vip, 8080));
    }

    [Fact]
    public async Task A_namespace_that_does_not_exist_is_an_error_not_an_empty_table()
    {
        await using var backend = new NftablesBackend($"vg-none-{Guid.NewGuid():N}"[..20]);
        var e = await Assert.ThrowsAsync<NftablesException>(() => backend.ReadAsync(CancellationToken.None));
        Assert.Contains("Cannot open network namespace", e.Message, StringComparison.Ordinal);
    }

    private static IpvsService ServiceOf(LvsChange change) => change switch
    {
        LvsChange.AddService c => c.Service,
        LvsChange.UpdateService c => c.Service,
        LvsChange.DeleteService c => c.Service,
        LvsChange.AddDestination c => c.Service,
        LvsChange.UpdateDestination c => c.Service,
        LvsChange.DeleteDestination c => c.Service,
        _ => throw new ArgumentOutOfRangeException(nameof(change)),
    };
}
