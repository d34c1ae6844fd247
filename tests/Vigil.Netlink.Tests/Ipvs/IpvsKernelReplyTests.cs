using System.Net;
using System.Net.Sockets;
using Vigil.Netlink.Generic;
using Vigil.Netlink.Ipvs;
using Vigil.Netlink.Tests.Support;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Tests.Ipvs;

/// <summary>
/// The IPVS decoders against what a real kernel answered ipvsadm (recvmsg dumps in the captures
/// from the VM), checked against ipvsadm's own listing of the same table (list.txt, save.txt,
/// daemon-list.txt, captured in the same run).
/// </summary>
public sealed class IpvsKernelReplyTests
{
    private static List<NetlinkMessage> Replies(string fixture, out ushort familyId)
    {
        var capture = StraceCapture.Load($"ipvs/{fixture}.strace");
        familyId = IpvsadmParityTests.IpvsRequests(capture).FamilyId;
        var id = familyId;
        return capture.Received.SelectMany(d => NetlinkMessage.Split(d)).Where(m => m.Type == id).ToList();
    }

    private static byte Command(NetlinkMessage m) => m.Payload.Span[0];

    [Fact]
    public void DecodeServicesAndDestinations_ListDump_AgreesWithIpvsadmSave()
    {
        var replies = Replies("list", out _);
        var services = replies.Where(m => Command(m) == (byte)IpvsCommand.NewService).Select(m => IpvsMessages.DecodeService(m.Payload.Span)).ToList();
        // ipvsadm -S -n of the same table, one service per -A line.
        var save = File.ReadAllLines(Path.Combine(StraceCapture.FixtureDirectory, "ipvs", "save.txt"));
        Assert.Equal(save.Count(l => l.StartsWith("-A", StringComparison.Ordinal)), services.Count);

        var tcp = services.Single(s => s.Port == 80);
        Assert.Equal(IpvsProtocol.Tcp, tcp.Protocol);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), tcp.Address);
        Assert.Equal("rr", tcp.Scheduler);
        Assert.Equal(32, tcp.PersistenceNetmask);
        Assert.Equal(IpvsServiceFlags.Hashed, tcp.Flags); // the kernel marks services in its table
        Assert.NotNull(tcp.Stats);

        var dns = services.Single(s => s.Port == 53);
        Assert.Equal(IpvsProtocol.Udp, dns.Protocol);
        Assert.Equal("wrr", dns.Scheduler);
        Assert.True(dns.Flags.HasFlag(IpvsServiceFlags.Persistent));
        Assert.Equal(300u, dns.PersistenceTimeout);
        Assert.Equal(24, dns.PersistenceNetmask); // -M 255.255.255.0

        Assert.True(services.Single(s => s.Port == 5000).Flags.HasFlag(IpvsServiceFlags.OnePacket));

        var v6 = services.Single(s => s.Family == AddressFamily.InterNetworkV6);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.Address);
        Assert.Equal(443, v6.Port);
        Assert.Equal("sh", v6.Scheduler);
        Assert.Equal(IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort, v6.Flags & ~IpvsServiceFlags.Hashed);
        Assert.Equal(128, v6.PersistenceNetmask);

        var fwm = services.Single(s => s.IsFirewallMark);
        Assert.Equal(5u, fwm.FirewallMark);
        Assert.Equal("wlc", fwm.Scheduler);
        Assert.Null(fwm.Address);

        // The GET_DEST answers follow in ipvsadm's order: tcp 80 (3 servers), udp 53, udp 5000, v6, fwmark.
        var dests = replies.Where(m => Command(m) == (byte)IpvsCommand.NewDest).ToList();
        Assert.Equal(save.Count(l => l.StartsWith("-a", StringComparison.Ordinal)), dests.Count);
        // The kernel lists a service's servers newest first; ipvsadm sorts them.
        var d = dests.Take(3).Select(m => IpvsMessages.DecodeDestination(m.Payload.Span, AddressFamily.InterNetwork)).OrderBy(x => x.Address.ToString()).ToList();
        Assert.Equal(["-> 10.0.0.2:80 Route 3", "-> 10.0.0.3:8080 Masq 5", "-> 10.0.0.4:80 Tunnel 1"], d.Select(x => x.ToString()));
        Assert.Equal((100u, 10u), (d[1].UpperThreshold, d[1].LowerThreshold));
        Assert.Equal((IpvsTunnelType.Gue, (ushort)6080, IpvsTunnelFlags.NoChecksum), (d[2].TunnelType, d[2].TunnelPort, d[2].TunnelFlags));
        Assert.Equal(AddressFamily.InterNetwork, d[0].Family);
        Assert.Equal(0u, d[0].ActiveConnections);
        Assert.NotNull(d[0].Stats);
        var d6 = IpvsMessages.DecodeDestination(dests[3].Payload.Span, AddressFamily.InterNetworkV6);
        Assert.Equal("-> [2001:db8::2]:443 Route 1", d6.ToString());
        Assert.Equal("-> 10.0.0.5:0 Route 1", IpvsMessages.DecodeDestination(dests[4].Payload.Span, AddressFamily.InterNetwork).ToString());
    }

    [Fact]
    public void DecodeInfo_KernelAnswer_Version121()
    {
        var info = IpvsMessages.DecodeInfo(Replies("list", out _).First(m => Command(m) == (byte)IpvsCommand.SetInfo).Payload.Span);
        var header = File.ReadLines(Path.Combine(StraceCapture.FixtureDirectory, "ipvs", "list.txt")).First();
        Assert.Equal(header, info.ToString()); // "IP Virtual Server version 1.2.1 (size=4096)"
    }

    [Fact]
    public void DecodeTimeouts_AfterSet_WhatWasSet()
    {
        var t = IpvsMessages.DecodeTimeouts(Replies("timeouts-get", out _).Single(m => Command(m) == (byte)IpvsCommand.SetConfig).Payload.Span);
        Assert.Equal(new IpvsTimeouts(TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(300)), t);
    }

    [Fact]
    public void DecodeDaemons_AgreesWithIpvsadm()
    {
        var daemons = Replies("daemon-list", out _).Where(m => Command(m) == (byte)IpvsCommand.NewDaemon).Select(m => IpvsMessages.DecodeDaemon(m.Payload.Span)).ToList();
        var expected = File.ReadAllLines(Path.Combine(StraceCapture.FixtureDirectory, "ipvs", "daemon-list.txt")).Where(l => l.Length > 0);
        Assert.Equal(expected, daemons.Select(d => d.ToString()));
    }

    [Fact]
    public void DecodeFamily_ControllerAnswer_IpvsWithItsId()
    {
        var capture = StraceCapture.Load("ipvs/svc-add-tcp-rr.strace");
        var (_, id) = IpvsadmParityTests.IpvsRequests(capture);
        var reply = capture.Received.SelectMany(d => NetlinkMessage.Split(d)).First(m => m.Type == GenericMessages.ControllerId);
        var family = GenericMessages.DecodeFamily(reply.Payload.Span);
        Assert.Equal("IPVS", family.Name);
        Assert.Equal(id, family.Id);
        Assert.Equal(1u, family.Version);
    }

    [Fact]
    public void Kernel_SchedulerMissing_ErrorInCapture()
    {
        // ipvsadm --pe sip without the ip_vs_pe_sip module: the kernel's NLMSG_ERROR, as the socket parses it.
        var capture = StraceCapture.Load("ipvs/svc-add-pe.strace");
        var errors = capture.Received.SelectMany(d => NetlinkMessage.Split(d)).Where(m => m.Type == NetlinkMessageType.Error)
            .Select(m => NetlinkError.ParseError(m.Header, m.Payload.Span)).ToList();
        Assert.Contains(errors, e => e.Errno == Errno.ENOENT);
    }
}
