using System.Diagnostics;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Ipvsd.Tests.Scenarios;

/// <summary>S6 end to end: traffic to the VIP through the directors' nftables load balancer,
/// health checks taking a real server out, and a director failover (see <see cref="LvsNatLab"/>).</summary>
[Trait("Category", "Lab")]
public sealed class LvsNatLabTests(ITestOutputHelper output)
{
    private static string Show(Dictionary<string, int> counts) => string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    [Fact]
    public async Task S6_TrafficSpreads_ServerFailureLeavesPool_DirectorFailoverMovesService()
    {
        await using var lab = await LvsNatLab.CreateAsync();
        await lab.StartDirectorAsync(0);
        await lab.StartDirectorAsync(1);

        // Every real server answers the VIP (rr: in turn).
        await Poll.UntilAsync(async () => await lab.FetchAsync() is not null, TimeSpan.FromSeconds(30), "the VIP to answer", () => Task.FromResult(lab.Output()));
        var counts = await lab.FetchManyAsync(20);
        output.WriteLine("both up: " + Show(counts));
        Assert.True(counts.GetValueOrDefault("rs1") >= 8 && counts.GetValueOrDefault("rs2") >= 8, Show(counts) + "\n" + await lab.VigilctlAsync(0, "lvs"));
        var table = await lab.VigilctlAsync(0, "lvs");
        output.WriteLine(table);
        Assert.Contains("TCP  10.200.6.131:80 rr", table);
        Assert.Contains("-> 10.200.16.130:80", table);

        // rs1's nginx stops: HTTP_GET (retry 3, delay_before_retry 1, delay_loop 1) takes it out.
        var watch = Stopwatch.StartNew();
        await lab.StopNginxAsync(0);
        await Poll.UntilAsync(async () => !(await lab.VigilctlAsync(0, "lvs")).Contains("10.200.16.130", StringComparison.Ordinal), TimeSpan.FromSeconds(20),
            "rs1 out of the pool", async () => await lab.VigilctlAsync(0, "lvs") + lab.Output());
        output.WriteLine($"rs1 left the pool {watch.Elapsed.TotalSeconds:0.0} s after its nginx stopped");
        counts = await lab.FetchManyAsync(10);
        Assert.Equal(10, counts.GetValueOrDefault("rs2"));

        // rs1 back: back in the pool.
        await lab.StartNginxAsync(0);
        await Poll.UntilAsync(async () => (await lab.VigilctlAsync(0, "lvs")).Contains("10.200.16.130", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "rs1 back");

        // The master director stops: the backup takes both VIPs and the service.
        watch.Restart();
        await lab.StopDirectorAsync(0);
        await Poll.UntilAsync(async () => await lab.FetchAsync() is not null, TimeSpan.FromSeconds(20), "the VIP through d2", () => Task.FromResult(lab.Output()));
        output.WriteLine($"service back through d2 {watch.Elapsed.TotalSeconds:0.0} s after d1 stopped");
        counts = await lab.FetchManyAsync(10);
        Assert.True(counts.GetValueOrDefault("rs1") >= 4 && counts.GetValueOrDefault("rs2") >= 4, Show(counts));
        // d1 removed what it programmed on stop.
        var d1 = await lab.Directors[0].ExecAsync("nft", "list", "ruleset");
        Assert.DoesNotContain("10.200.6.131", d1.Stdout);
        Assert.DoesNotContain("10.200.16.130", d1.Stdout);
    }
}
