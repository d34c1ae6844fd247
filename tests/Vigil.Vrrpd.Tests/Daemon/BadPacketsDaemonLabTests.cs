using System.Net;
using System.Net.Sockets;
using Vigil.Testing;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Platform;
using Vigil.Vrrpd.Protocol;
using AddressFamily = System.Net.Sockets.AddressFamily;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// Malformed and hostile adverts sent into the lab from another host with a raw socket (our own
/// header: IP_HDRINCL): each lands in its own counter (keepalived's names, read with
/// ListInstances), is published as PacketRejected, and changes nothing.
/// </summary>
[Trait("Category", "Lab")]
public sealed class BadPacketsDaemonLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private static readonly IPAddress Sender = IPAddress.Parse("10.77.0.3");
    private static readonly IPAddress Group = VrrpConstants.MulticastGroupV4;
    private static readonly IPAddress Vip = IPAddress.Parse("10.77.0.100");

    private static byte[] Pass(string s)
    {
        var b = new byte[8];
        System.Text.Encoding.ASCII.GetBytes(s).CopyTo(b, 0);
        return b;
    }

    private static VrrpAdvertisement V2(byte vrid = 51, byte prio = 200, int seconds = 1, string? pass = "1111") =>
        new(VrrpVersion.V2, vrid, prio, seconds * 100, [Vip], pass is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword, pass is null ? default : Pass(pass));

    private static byte[] Datagram(VrrpAdvertisement a, byte ttl = 255) => VrrpDatagram.BuildIpv4(a, Sender, Group, false, ttl, 99);

    [Fact]
    public async Task BadAdverts_EachCountedUnderItsOwnCounter_StateUnchanged()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var c = await lab.AddHostAsync("c", sw, "10.77.0.3/24");
        await using var nb = await VrrpdNode.StartAsync(b);
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip.ToString())));
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        var watch = await nb.WatchAsync();
        var before = await nb.GetAsync();

        var badChecksum = Datagram(V2());
        badChecksum[20 + 6] ^= 0x55;
        var truncated = Datagram(V2());
        truncated[20 + 3] = 2; // says two addresses, carries one
        var cases = new (string Counter, byte[] Packet)[]
        {
            ("ip_ttl_err", Datagram(V2(), ttl: 64)),
            ("chk_err", badChecksum),
            ("auth_failure", Datagram(V2(pass: "2222"))),
            ("authtype_mismatch", Datagram(V2(pass: null))),
            ("packet_len_err", truncated),
            ("vers_err", Datagram(new VrrpAdvertisement(VrrpVersion.V3, 51, 200, 100, [Vip]))),
            ("advert_interval_err", Datagram(V2(seconds: 2))),
        };

        using var socket = Netns.Run(c, () => VrrpRawSocket.Open("eth0", LinuxInterfaces.Get("eth0").Index, AddressFamily.InterNetwork, []));
        foreach (var (counter, packet) in cases)
        {
            socket.Send(packet, Group);
            await Poll.UntilAsync(async () => await nb.CounterAsync(counter) == 1, Deadline, $"{counter} to count the packet",
                async () => $"{await nb.Describe()}\n{nb.Tail()}");
        }
        // A VRID nobody runs here: not an instance's business, counted by the daemon.
        socket.Send(Datagram(V2(vrid: 99)), Group);
        await Poll.UntilAsync(async () => (await nb.ListAsync()).Counters["unknown_vrid"] == 1, Deadline, "unknown_vrid");
        // Too short to carry a VRRP header at all.
        socket.Send(Datagram(V2())[..21], Group);
        await Poll.UntilAsync(async () => (await nb.ListAsync()).Counters["packet_too_short"] == 1, Deadline, "packet_too_short");

        var after = await nb.GetAsync();
        Assert.Equal(InstanceState.Master, after.State);
        Assert.Equal(before.LastTransition, after.LastTransition);
        Assert.Equal(0ul, after.Counters["advert_rcvd"]);
        Assert.Equal(1ul, after.Counters["become_master"]);
        Assert.Equal(0ul, after.Counters["other_master_seen"]);
        foreach (var (counter, _) in cases) Assert.Equal(1ul, after.Counters[counter]);
        Assert.DoesNotContain(watch.Transitions(), _ => true);
        await Poll.UntilAsync(() => cases.All(k => watch.Messages.Any(m => m.PacketRejected is { Instance: "VI_1" } r && r.Reason == k.Counter && r.Source == "10.77.0.3")),
            Deadline, "a PacketRejected event for each", () => watch.Dump());
        Assert.Contains("VI_1: rejected packet from 10.77.0.3: AuthFailure (counted as auth_failure)", nb.Log);
        // The good master never flapped: still advertising, still holding the VIP.
        Assert.True(await b.HasAddressAsync("eth0", Vip.ToString()));
        Assert.False(nb.Process.HasExited);
    }
}
