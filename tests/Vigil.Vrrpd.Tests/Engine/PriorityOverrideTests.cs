using System.Net;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>SetInstancePriority in the pure engine: a runtime priority applied like a reload's, cleared explicitly or by a reload.</summary>
public sealed class PriorityOverrideTests
{
    private static VrrpInstanceConfig Vi(byte prio) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 51,
        Priority = prio,
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "1111",
        VirtualAddresses = [IPAddress.Parse("10.0.0.100")],
    };

    private static TimeSpan S(double s) => TimeSpan.FromSeconds(s);

    private static (SimLan Lan, SimLan.Node A, SimLan.Node B) Pair()
    {
        var lan = new SimLan();
        var a = lan.Add("a", "10.0.0.1", [Vi(150)]);
        var b = lan.Add("b", "10.0.0.2", [Vi(100)]);
        lan.Start(a);
        lan.Start(b);
        lan.RunFor(S(10));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_1"].State);
        return (lan, a, b);
    }

    [Fact]
    public void Override_HigherOnPreemptingBackup_TakesOver_AndClearingGivesMasterBack()
    {
        var (lan, a, b) = Pair();

        lan.Dispatch(b, "VI_1", new PriorityOverrideEvent(200));
        Assert.Equal(200, b["VI_1"].EffectivePriority);
        Assert.Equal((byte?)200, b["VI_1"].PriorityOverride);
        Assert.Equal(100, b["VI_1"].Config.Priority);
        Assert.Contains(b.Log, l => l.Action is PriorityChanged(100, 200));
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, a["VI_1"].State);

        lan.Dispatch(b, "VI_1", new PriorityOverrideEvent(null));
        Assert.Null(b["VI_1"].PriorityOverride);
        Assert.Equal(100, b["VI_1"].EffectivePriority);
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, b["VI_1"].State);
    }

    [Fact]
    public void Override_LowerOnMaster_AdvertisesAtOnce_AndThePreemptingBackupTakesOver()
    {
        var (lan, a, b) = Pair();
        var sent = lan.Wire.Count;

        lan.Dispatch(a, "VI_1", new PriorityOverrideEvent(50));

        // The new priority goes on the wire in the same step, not at the next advert_int.
        Assert.Equal(50, lan.Wire[sent].Advert.Priority);
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);
        Assert.Equal(VrrpStateKind.Backup, a["VI_1"].State);
    }

    [Fact]
    public void Override_ClearedByReload_EvenWhenTheConfigurationIsUnchanged()
    {
        var (lan, a, b) = Pair();
        lan.Dispatch(b, "VI_1", new PriorityOverrideEvent(200));
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, b["VI_1"].State);

        var step = VrrpEngine.Reload(b.State, [Vi(100)], null, new HashSet<string>(), lan.Now, unchanged: new HashSet<string> { "VI_1" });
        b.State = step.Step.State;

        Assert.Null(b["VI_1"].PriorityOverride);
        Assert.Equal(100, b["VI_1"].EffectivePriority);
        Assert.Contains(step.Step.Actions, x => x.Action is PriorityChanged(200, 100));
        lan.RunFor(S(5));
        Assert.Equal(VrrpStateKind.Master, a["VI_1"].State);
    }

    [Fact]
    public void Override_TrackerWeightsStillAdd_AndTheSameValueTwiceIsANoOp()
    {
        var m = new MachineHarness(Vi(100));
        m.Start();
        m.Step(new TrackersChangedEvent(10, 0));
        m.Step(new PriorityOverrideEvent(120));
        Assert.Equal(130, m.State.EffectivePriority);
        Assert.Empty(m.Step(new PriorityOverrideEvent(120)));
    }
}
