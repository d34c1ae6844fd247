using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Vigil.Controld.Dumps;
using Vigil.Vrrp.V1;

namespace Vigil.Controld.Tests;

/// <summary>keepalived's dump formats (vrrp_print.c, vrrp_json.c of 2.2.7) from vrrpd's instances.</summary>
public sealed class StateDumpTests
{
    private static Instance Backup()
    {
        var i = new Instance
        {
            Name = "VI_1",
            VirtualRouterId = 51,
            Interface = "eth0",
            Version = 2,
            State = InstanceState.Backup,
            BasePriority = 100,
            EffectivePriority = 200,
            PriorityOverride = 200,
            MasterAddress = "10.0.0.1",
            MasterPriority = 150,
            SourceAddress = "10.0.0.2",
            AdvertInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
            MasterAdvertInterval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
            LastTransition = Timestamp.FromDateTime(new DateTime(2026, 12, 7, 16, 0, 0, DateTimeKind.Utc)),
        };
        i.VirtualAddresses.Add("10.0.0.10/24");
        i.Counters["advert_rcvd"] = 42;
        i.Counters["advert_sent"] = 3;
        i.Counters["become_master"] = 1;
        i.Counters["release_master"] = 1;
        i.Counters["auth_failure"] = 2;
        return i;
    }

    [Fact]
    public void Data_HasKeepalivedsSectionsAndLabels()
    {
        var text = StateDump.Data([Backup()], null, ["vigil-checkd: Unavailable: connection refused"]);

        Assert.Contains("------< VRRP Topology >------\n VRRP Instance = VI_1\n   VRRP Version = 2\n   State = BACKUP\n   Master router = 10.0.0.1\n   Master priority = 150\n", text);
        Assert.Contains("   Last transition = 1796659200 (", text);
        Assert.Contains("   Virtual Router ID = 51\n   Priority = 100\n   Runtime priority = 200", text);
        Assert.Contains("   Effective priority = 200\n   Advert interval = 1 sec\n", text);
        Assert.Contains("   Virtual IP (1):\n     10.0.0.10/24 dev eth0\n", text);
        Assert.Contains(" Not answering = vigil-checkd: Unavailable: connection refused", text);
        Assert.DoesNotContain("LVS Topology", text);
    }

    [Fact]
    public void Stats_IsKeepalivedsLayout()
    {
        Assert.Equal("""
            VRRP Instance: VI_1
              Advertisements:
                Received: 42
                Sent: 3
              Became master: 1
              Released master: 1
              Packet Errors:
                Length: 0
                TTL: 0
                Invalid Type: 0
                Advertisement Interval: 0
                Address List: 0
              Authentication Errors:
                Invalid Type: 0
                Type Mismatch: 0
                Failure: 2
              Priority Zero:
                Received: 0
                Sent: 0

            """.ReplaceLineEndings("\n"), StateDump.Stats([Backup()]));
    }

    [Fact]
    public void Json_IsAnArrayOfDataAndStatsObjects_WithKeepalivedsNamesAndStateNumbers()
    {
        using var doc = JsonDocument.Parse(StateDump.Json([Backup()]));
        var o = Assert.Single(doc.RootElement.EnumerateArray().ToList());
        var data = o.GetProperty("data");
        Assert.Equal("VI_1", data.GetProperty("iname").GetString());
        Assert.Equal("eth0", data.GetProperty("ifp_ifname").GetString());
        Assert.Equal(1, data.GetProperty("state").GetInt32());
        Assert.Equal(100, data.GetProperty("base_priority").GetInt32());
        Assert.Equal(200, data.GetProperty("effective_priority").GetInt32());
        Assert.Equal(51, data.GetProperty("vrid").GetInt32());
        Assert.Equal(1.0, data.GetProperty("adver_int").GetDouble());
        Assert.Equal("10.0.0.10/24 dev eth0", Assert.Single(data.GetProperty("vips").EnumerateArray().ToList()).GetString());
        var stats = o.GetProperty("stats");
        Assert.Equal(42, stats.GetProperty("advert_rcvd").GetInt32());
        Assert.Equal(2, stats.GetProperty("auth_failure").GetInt32());
        Assert.Equal(0, stats.GetProperty("pri_zero_sent").GetInt32());
    }
}
