using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Vigil.Testing;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Platform;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Platform;

/// <summary>Real sockets between two namespaces on a bridge; tcpdump / tshark judge the wire.</summary>
[Trait("Category", "Lab")]
public sealed class RawSocketLabTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    internal static VrrpInstanceConfig V2(string vip = "10.77.0.100", byte prio = 150) => new()
    {
        Name = "VI_1",
        Interface = "eth0",
        Vrid = 51,
        Priority = prio,
        AuthType = VrrpAuthType.SimplePassword,
        AuthPassword = "1111",
        VirtualAddresses = [IPAddress.Parse(vip)],
    };

    internal static VrrpInstanceConfig V3Six(byte prio = 150) => new()
    {
        Name = "VI_6",
        Interface = "eth0",
        Vrid = 61,
        Family = AddressFamily.InterNetworkV6,
        Version = VrrpVersion.V3,
        Priority = prio,
        VirtualAddresses = [IPAddress.Parse("fd00:77::100")],
    };

    /// <summary>A receiver in a namespace: every packet its transport gets, in a channel.</summary>
    internal sealed class Receiver : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _loop;
        public LinuxVrrpTransport Transport { get; }
        public Channel<VrrpReceivedPacket> Packets { get; } = Channel.CreateUnbounded<VrrpReceivedPacket>();

        public Receiver(LabHost host, params VrrpInstanceConfig[] instances)
        {
            Transport = Netns.Run(host, () => LinuxVrrpTransport.Open(instances));
            _loop = Transport.ReceiveAsync(p => Packets.Writer.TryWrite(p), _cts.Token);
        }

        public async Task<VrrpReceivedPacket> NextAsync(Func<VrrpReceivedPacket, bool>? match = null)
        {
            using var cts = new CancellationTokenSource(Deadline);
            while (true)
            {
                var p = await Packets.Reader.ReadAsync(cts.Token);
                if (match is null || match(p)) return p;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            try { await _loop; } catch (OperationCanceledException) { }
            Transport.Dispose();
        }
    }

    private static byte[] BuildV2(VrrpInstanceConfig c, byte prio, IPAddress src) =>
        VrrpDatagram.BuildIpv4(c.Advertisement(prio), src, VrrpConstants.MulticastGroupV4, false, 255, 7);

    [Fact]
    public async Task Ipv4V2Advert_SentAndReceived_Ttl255MulticastDecodedByTcpdumpAndTshark()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var cfg = V2();
        await using var capture = await b.StartCaptureAsync("eth0", "ip proto 112");
        await using var rx = new Receiver(b, cfg);
        using var tx = Netns.Run(a, () => LinuxVrrpTransport.Open([cfg]));

        var packet = BuildV2(cfg, 150, IPAddress.Parse("10.77.0.1"));
        for (var i = 0; i < 3; i++) await tx.SendAsync(cfg, packet, VrrpConstants.MulticastGroupV4, CancellationToken.None);

        var got = await rx.NextAsync();
        Assert.Equal("eth0", got.Interface);
        var check = VrrpReceiveCheck.Check(got, cfg.CheckOptions());
        Assert.True(check.Accepted, check.Reason.ToString());
        Assert.Equal(255, check.Ttl);
        Assert.Equal(IPAddress.Parse("10.77.0.1"), check.Source);
        Assert.Equal(VrrpConstants.MulticastGroupV4, check.Destination);
        Assert.Equal(packet, got.Data.ToArray());

        await Poll.UntilAsync(async () => (await capture.ReadAsync()).Count >= 3, Deadline, "3 adverts captured");
        await capture.StopAsync();
        var tcpdump = string.Join('\n', await capture.ReadTcpdumpAsync());
        // The line keepalived's users know from "tcpdump -v vrrp" (scenarios.md S1).
        Assert.True(tcpdump.Contains("ttl 255") && tcpdump.Contains("proto VRRP (112)") && tcpdump.Contains("10.77.0.1 > 224.0.0.18")
            && tcpdump.Contains("VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s, length 20"), tcpdump);
        var fields = await capture.ReadAsync("-T", "fields", "-E", "separator=,", "-e", "ip.ttl", "-e", "ip.dst", "-e", "ip.proto", "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.virt_rtr_id", "-e", "vrrp.checksum.status");
        Assert.All(fields, f => Assert.Equal("255,224.0.0.18,112,2,150,51,1", f));
    }

    [Fact]
    public async Task Ipv6V3Advert_SentAndReceived_HopLimitAndPktinfoAndKernelChecksum()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "fd00:77::1/64");
        var b = await lab.AddHostAsync("b", sw, "fd00:77::2/64");
        var cfg = V3Six();
        var aInfo = await Poll.ForAsync(() => Task.FromResult(Netns.Run(a, () => LinuxInterfaces.Get("eth0"))), i => i.LinkLocalIpv6 is not null, Deadline, "link-local on a");
        await using var capture = await b.StartCaptureAsync("eth0", "ip6 proto 112");
        await using var rx = new Receiver(b, cfg);
        using var tx = Netns.Run(a, () => LinuxVrrpTransport.Open([cfg]));

        // Checksum left for the kernel (IPV6_CHECKSUM): build without knowing the source.
        var payload = VrrpDatagram.BuildIpv6(cfg.Advertisement(150), null, VrrpConstants.MulticastGroupV6);
        await Poll.UntilAsync(async () =>
        {
            await tx.SendAsync(cfg, payload, VrrpConstants.MulticastGroupV6, CancellationToken.None);
            return rx.Packets.Reader.Count > 0;
        }, Deadline, "an IPv6 advert to arrive (DAD may delay the link-local source)");

        var got = await rx.NextAsync();
        Assert.Equal(255, got.HopLimit);
        Assert.True(got.Destination!.IsIPv6Multicast);
        Assert.True(VrrpReceiveCheck.SameAddress(aInfo.LinkLocalIpv6, got.Source), $"source {got.Source}, a's link-local {aInfo.LinkLocalIpv6}");
        var check = VrrpReceiveCheck.Check(got, cfg.CheckOptions());
        Assert.True(check.Accepted, check.Reason.ToString());

        await capture.StopAsync();
        var fields = await capture.ReadAsync("-T", "fields", "-E", "separator=,", "-e", "ipv6.hlim", "-e", "ipv6.dst", "-e", "vrrp.version", "-e", "vrrp.prio", "-e", "vrrp.checksum.status");
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.Equal("255,ff02::12,3,150,1", f));
    }

    [Fact]
    public async Task Ipv4Unicast_ToPeerWithSourceIp_ReceivedAsUnicast()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "10.77.0.11/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var cfg = V2() with
        {
            SourceAddress = IPAddress.Parse("10.77.0.11"),
            UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.77.0.2"))],
        };
        var rxCfg = cfg with { SourceAddress = null, UnicastPeers = [new VrrpUnicastPeer(IPAddress.Parse("10.77.0.11"))], CheckUnicastSource = true };
        await using var rx = new Receiver(b, rxCfg);
        using var tx = Netns.Run(a, () => LinuxVrrpTransport.Open([cfg]));
        var packet = VrrpDatagram.BuildIpv4(cfg.Advertisement(150), IPAddress.Parse("10.77.0.11"), IPAddress.Parse("10.77.0.2"), false);

        // The first send may wait for ARP resolution of the peer; keep sending until one arrives.
        await Poll.UntilAsync(async () =>
        {
            await tx.SendAsync(cfg, packet, IPAddress.Parse("10.77.0.2"), CancellationToken.None);
            return rx.Packets.Reader.Count > 0;
        }, Deadline, "a unicast advert to arrive");
        var got = await rx.NextAsync();
        var check = VrrpReceiveCheck.Check(got, rxCfg.CheckOptions());
        Assert.True(check.Accepted, check.Reason.ToString());
        Assert.Equal(IPAddress.Parse("10.77.0.11"), check.Source);
        Assert.Equal(IPAddress.Parse("10.77.0.2"), check.Destination);
    }

    [Fact]
    public async Task GratuitousArpAndUnsolicitedNa_OnTheWire_AsKeepalivedSendsThem()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24", "fd00:77::1/64");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        var aMac = await a.MacAsync("eth0");
        await using var capture = await b.StartCaptureAsync("eth0", "arp or icmp6");
        using var arp = Netns.Run(a, () =>
        {
            var s = new LinuxArpSender();
            s.Prepare("eth0");
            return s;
        });
        await arp.AnnounceAsync("eth0", IPAddress.Parse("10.77.0.100"), CancellationToken.None);
        await arp.AnnounceAsync("eth0", IPAddress.Parse("fd00:77::100"), CancellationToken.None);

        await Poll.UntilAsync(async () =>
            (await capture.ReadAsync("-Y", "arp.src.proto_ipv4 == 10.77.0.100 || icmpv6.type == 136")).Count >= 2, Deadline, "GARP and NA captured");
        await capture.StopAsync();
        var garp = await capture.ReadAsync("-Y", "arp.src.proto_ipv4 == 10.77.0.100", "-T", "fields", "-E", "separator=,",
            "-e", "eth.dst", "-e", "eth.src", "-e", "arp.opcode", "-e", "arp.src.hw_mac", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "arp.isgratuitous");
        Assert.Equal($"ff:ff:ff:ff:ff:ff,{aMac},1,{aMac},10.77.0.100,10.77.0.100,1", Assert.Single(garp));
        var na = await capture.ReadAsync("-Y", "icmpv6.type == 136", "-T", "fields", "-E", "separator=,",
            "-e", "eth.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ipv6.hlim", "-e", "icmpv6.nd.na.target_address", "-e", "icmpv6.nd.na.flag.o",
            "-e", "icmpv6.opt.target_linkaddr", "-e", "icmpv6.checksum.status");
        Assert.Equal($"33:33:00:00:00:01,fd00:77::100,ff02::1,255,fd00:77::100,1,{aMac},1", Assert.Single(na));
    }
}
