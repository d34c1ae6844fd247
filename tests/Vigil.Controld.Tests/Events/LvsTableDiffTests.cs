using Vigil.Controld.Events;
using Vigil.Ipvs.V1;

namespace Vigil.Controld.Tests.Events;

public sealed class LvsTableDiffTests
{
    private static VirtualService Web(params (string Address, int Weight)[] dests)
    {
        var s = new VirtualService { Address = "10.0.0.1", Port = 80, Protocol = Protocol.Tcp, Scheduler = "rr" };
        foreach (var (a, w) in dests)
            s.Destinations.Add(new Destination { Endpoint = new Check.V1.Endpoint { Address = a, Port = 80 }, Forward = "Masq", Weight = w, Counters = new Counters { Connections = 5 } });
        return s;
    }

    [Fact]
    public void Describe_NamesAddedRemovedAndReweightedRealServers_AsIpvsadm()
    {
        var before = Web(("10.0.1.2", 1), ("10.0.1.3", 1));
        var after = Web(("10.0.1.2", 0), ("10.0.1.4", 2));
        Assert.Equal(
            ["~ TCP 10.0.0.1:80 -> 10.0.1.2:80 Masq weight 1 -> Masq weight 0", "+ TCP 10.0.0.1:80 -> 10.0.1.4:80 Masq weight 2", "- TCP 10.0.0.1:80 -> 10.0.1.3:80"],
            LvsTableDiff.Describe([before], [after]));
    }

    [Fact]
    public void Describe_CountersAloneAreNoChange()
    {
        var before = Web(("10.0.1.2", 1));
        var after = before.Clone();
        after.Destinations[0].Counters.Connections = 900;
        after.Destinations[0].ActiveConnections = 12;
        Assert.Empty(LvsTableDiff.Describe([before], [after]));
    }

    [Fact]
    public void Describe_ServicesAddedRemovedAndRescheduled()
    {
        var web = Web(("10.0.1.2", 1));
        var wlc = web.Clone();
        wlc.Scheduler = "wlc";
        var mark = new VirtualService { Fwmark = 5, Scheduler = "rr", Protocol = Protocol.Tcp };
        Assert.Equal(["~ TCP 10.0.0.1:80 rr -> wlc", "- FWM 5"], LvsTableDiff.Describe([web, mark], [wlc]));
        Assert.Equal(["+ FWM 5 rr"], LvsTableDiff.Describe([], [mark]));
    }
}
