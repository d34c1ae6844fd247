using Vigil.Testing;

namespace Vigil.Testing.Tests;

[Trait("Category", "Lab")]
public sealed class LabTests
{
    [Fact]
    public async Task TwoHostsOnASwitch_PingAndCapture_SeeEachOther()
    {
        await using var lab = await Lab.CreateAsync();
        var lan = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", lan, "10.99.0.1/24", "fd99::1/64");
        var b = await lab.AddHostAsync("b", lan, "10.99.0.2/24", "fd99::2/64");
        await using var capture = await b.StartCaptureAsync("eth0", "icmp");

        Assert.True(await a.PingAsync("10.99.0.2"));
        Assert.True(await a.PingAsync("fd99::2"));
        Assert.Equal(await b.MacAsync("eth0"), await a.NeighborMacAsync("10.99.0.2"));
        Assert.Contains("10.99.0.1/24", await a.AddressesAsync("eth0"));

        await capture.StopAsync();
        var lines = await capture.ReadAsync("-T", "fields", "-e", "ip.src", "-e", "icmp.type");
        Assert.Contains("10.99.0.1\t8", lines);

        // A pulled cable: the host keeps its address but cannot reach the other.
        await a.SetCableAsync("eth0", connected: false);
        Assert.False(await a.PingAsync("10.99.0.2"));
        await a.SetCableAsync("eth0", connected: true);
        await Poll.UntilAsync(() => a.PingAsync("10.99.0.2"), TimeSpan.FromSeconds(10), "ping after the cable is back");
    }

    [Fact]
    public async Task Dispose_AfterFailure_RemovesNamespaces()
    {
        string ns;
        var lab = await Lab.CreateAsync();
        try
        {
            var lan = await lab.AddSwitchAsync();
            var a = await lab.AddHostAsync("a", lan, "10.98.0.1/24");
            ns = a.Namespace;
            Start(a);
        }
        finally
        {
            await lab.DisposeAsync();
        }
        var list = await Shell.CheckAsync("ip", "netns", "list");
        Assert.DoesNotContain(ns, list.Stdout);

        static void Start(LabHost h) => h.Start("sleeper", "sleep", ["300"]);
    }
}
