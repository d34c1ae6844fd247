using System.Net;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Tests.Support;

namespace Vigil.Checkd.Tests.Engine;

/// <summary>AddRealServer / RemoveRealServer in the engine: merged like a reload, kept until the next one.</summary>
public sealed class RuntimeRealServerTests
{
    private static readonly VirtualServerKey Vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.1.0.1"), 80);
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);

    private static RealServerConfig Rs(string address, int? weight = null, params CheckerConfig[] checkers) => new()
    {
        Address = IPAddress.Parse(address),
        Port = 80,
        Weight = weight,
        Checkers = checkers,
    };

    private static CheckdConfig Config(params RealServerConfig[] servers) => new()
    {
        Globals = new CheckdGlobals { RouterId = "lb1" },
        VirtualServers = new[]
        {
            new VirtualServerConfig
            {
                Key = Vip,
                DelayLoop = 6 * S,
                Warmup = TimeSpan.Zero,
                Retry = 1,
                DelayBeforeRetry = S,
                ConnectTimeout = 3 * S,
                RealServers = servers,
            },
        },
    };

    private static DesiredDestination Dest(string address, int weight) => new(IPAddress.Parse(address), 80, weight, DestinationRole.RealServer);

    [Fact]
    public async Task Add_WithoutChecker_IsInThePoolAtOnce_WithItsWeight_UntilTheNextApply()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Rs("10.1.0.10")));

        var added = await h.Engine.AddRealServerAsync(Vip, Rs("10.1.0.11", weight: 5));

        Assert.True(added.InPool);
        Assert.Equal(5, added.DesiredWeight);
        var desired = Assert.Single(await h.Engine.GetDesiredDestinationsAsync());
        Assert.Equal([Dest("10.1.0.10", 1), Dest("10.1.0.11", 5)], desired.Destinations);

        // A reload applies the configuration as written: the runtime addition is gone.
        await h.Engine.ApplyConfigurationAsync(Config(Rs("10.1.0.10")));
        Assert.Equal([Dest("10.1.0.10", 1)], Assert.Single(await h.Engine.GetDesiredDestinationsAsync()).Destinations);
    }

    [Fact]
    public async Task Add_WithTcpCheck_StartsUpAsKeepalivedWithoutAlpha_AndGoesDownWhenItsCheckFails()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Rs("10.1.0.10")));

        var added = await h.Engine.AddRealServerAsync(Vip, Rs("10.1.0.12", 2, new TcpCheckConfig { Connection = new ConnectionOptions { ConnectPort = 8080 } }));
        Assert.True(added.InPool);
        Assert.Equal("TCP_CHECK", Assert.Single(added.Checkers).Keyword);
        h.Probes.Set("10.1.0.12:80", FakeBehaviour.Fail);
        await h.RunUntilAsync(10 * S);

        Assert.Contains(h.Probes.Calls, c => c.Server == "10.1.0.12:80");
        Assert.Equal([Dest("10.1.0.10", 1)], Assert.Single(await h.Engine.GetDesiredDestinationsAsync()).Destinations);
    }

    [Fact]
    public async Task Add_Errors_NotFoundDuplicateInvalid_AndNothingChanges()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Rs("10.1.0.10")));

        await Assert.ThrowsAsync<CheckdNotFoundException>(() => h.Engine.AddRealServerAsync(VirtualServerKey.ForFwmark(7), Rs("10.1.0.11")));
        await Assert.ThrowsAsync<CheckdAlreadyExistsException>(() => h.Engine.AddRealServerAsync(Vip, Rs("10.1.0.10", weight: 3)));
        await Assert.ThrowsAsync<CheckdInvalidArgumentException>(() => h.Engine.AddRealServerAsync(Vip, Rs("10.1.0.11", weight: -1)));

        Assert.Equal([Dest("10.1.0.10", 1)], Assert.Single(await h.Engine.GetDesiredDestinationsAsync()).Destinations);
    }

    [Fact]
    public async Task Remove_TakesTheServerOutOfThePool_UnknownIsNotFound()
    {
        await using var h = new EngineHarness();
        await h.Engine.ApplyConfigurationAsync(Config(Rs("10.1.0.10"), Rs("10.1.0.11")));

        await h.Engine.RemoveRealServerAsync(Vip, new RealServerKey(IPAddress.Parse("10.1.0.10"), 80));

        Assert.Equal([Dest("10.1.0.11", 1)], Assert.Single(await h.Engine.GetDesiredDestinationsAsync()).Destinations);
        await Assert.ThrowsAsync<CheckdNotFoundException>(() => h.Engine.RemoveRealServerAsync(Vip, new RealServerKey(IPAddress.Parse("10.1.0.10"), 80)));
    }
}
