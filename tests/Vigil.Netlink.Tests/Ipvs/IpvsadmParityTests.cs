using System.Net;
using System.Net.Sockets;
using Vigil.Netlink.Generic;
using Vigil.Netlink.Ipvs;
using Vigil.Netlink.Tests.Support;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Tests.Ipvs;

/// <summary>
/// Byte-for-byte parity with ipvsadm 1.31: Fixtures/ipvs holds strace captures of ipvsadm run
/// inside a VM whose kernel has IPVS (Fixtures/capture-ipvsadm.sh); Vigil's encoding of the same
/// request equals what ipvsadm sent, sequence number and port id aside. The family id is the one
/// the kernel assigned in that VM (the nlmsg_type of ipvsadm's IPVS messages).
/// </summary>
public sealed class IpvsadmParityTests
{
    public sealed record Case(string Fixture, int Pick, Func<ushort, NetlinkMessageBuilder> Encode);

    private static readonly IpvsService Tcp80 = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("10.0.0.1"), Port = 80, Scheduler = "rr" };
    private static readonly IpvsService Udp53 = new() { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("10.0.0.1"), Port = 53 };
    private static readonly IpvsService Udp5000 = new() { Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("10.0.0.1"), Port = 5000 };
    private static readonly IpvsService V6 = new() { Family = AddressFamily.InterNetworkV6, Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("2001:db8::1"), Port = 443 };
    private static readonly IpvsService Fwm5 = new() { FirewallMark = 5 };

    public static readonly Dictionary<string, Case> Cases = new Case[]
    {
        new("svc-add-tcp-rr", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, Tcp80)),
        new("svc-add-udp-persistent", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, Udp53 with
        {
            Scheduler = "wrr", Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300, PersistenceNetmask = 24,
        })),
        new("svc-add-fwmark", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, Fwm5 with { Scheduler = "wlc" })),
        new("svc-add-v6", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, V6 with { Scheduler = "sh", Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort })),
        new("svc-add-onepacket", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, Udp5000 with { Scheduler = "rr", Flags = IpvsServiceFlags.OnePacket })),
        new("svc-add-pe", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.NewService, Udp5000 with
        {
            Port = 5060, Scheduler = "rr", Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 60, PersistenceEngine = "sip",
        })),
        new("svc-edit", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.SetService, Tcp80 with { Scheduler = "wrr" })),
        new("svc-del", -1, id => IpvsMessages.EncodeService(id, IpvsCommand.DelService, Udp5000.Key)),
        new("dest-add-dr", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.NewDest, Tcp80,
            new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80, ForwardingMethod = IpvsForwardingMethod.DirectRoute, Weight = 3 })),
        new("dest-add-nat-thresholds", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.NewDest, Tcp80,
            new() { Address = IPAddress.Parse("10.0.0.3"), Port = 8080, ForwardingMethod = IpvsForwardingMethod.Masquerade, Weight = 5, UpperThreshold = 100, LowerThreshold = 10 })),
        new("dest-add-tun-gue", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.NewDest, Tcp80,
            new() { Address = IPAddress.Parse("10.0.0.4"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080, TunnelFlags = IpvsTunnelFlags.NoChecksum })),
        new("dest-add-fwmark", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.NewDest, Fwm5,
            new() { Address = IPAddress.Parse("10.0.0.5") })),
        new("dest-add-v6", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.NewDest, V6,
            new() { Address = IPAddress.Parse("2001:db8::2"), Port = 443 })),
        new("dest-edit", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.SetDest, Tcp80,
            new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80, Weight = 0 })),
        new("dest-del", -1, id => IpvsMessages.EncodeDestination(id, IpvsCommand.DelDest, Tcp80,
            new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80 })),
        // ipvsadm -Ln: GET_INFO, the service dump, then one GET_DEST dump per service.
        new("list", 0, id => IpvsMessages.EncodeGetInfo(id)),
        new("list", 1, id => IpvsMessages.EncodeListServices(id)),
        new("list", 2, id => IpvsMessages.EncodeListDestinations(id, Tcp80)),
        new("list", 3, id => IpvsMessages.EncodeListDestinations(id, Udp53)),
        new("list", 5, id => IpvsMessages.EncodeListDestinations(id, V6)),
        new("list", 6, id => IpvsMessages.EncodeListDestinations(id, Fwm5)),
        new("list-service", 1, id => IpvsMessages.EncodeGetService(id, Tcp80)),
        new("zero", -1, id => IpvsMessages.EncodeZero(id)),
        new("flush", -1, id => IpvsMessages.EncodeFlush(id)),
        new("timeouts-set", -1, id => IpvsMessages.EncodeSetTimeouts(id, new(TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(300)))),
        new("timeouts-get", -1, id => IpvsMessages.EncodeGetTimeouts(id)),
        new("daemon-start", -1, id => IpvsMessages.EncodeDaemon(id, IpvsCommand.NewDaemon, new() { State = IpvsDaemonState.Master, Interface = "d0", SyncId = 7 })),
        new("daemon-start-backup", -1, id => IpvsMessages.EncodeDaemon(id, IpvsCommand.NewDaemon, new()
        {
            State = IpvsDaemonState.Backup, Interface = "d0", SyncId = 3, MaxSyncLength = 1400,
            MulticastGroup = IPAddress.Parse("224.0.0.82"), MulticastPort = 8849, MulticastTtl = 2,
        })),
        new("daemon-stop", -1, id => IpvsMessages.EncodeDaemon(id, IpvsCommand.DelDaemon, new() { State = IpvsDaemonState.Master })),
        new("daemon-list", -1, id => IpvsMessages.EncodeListDaemons(id)),
    }.ToDictionary(c => c.Pick == -1 ? c.Fixture : $"{c.Fixture}#{c.Pick}");

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    /// <summary>ipvsadm's IPVS requests (not the nlctrl lookups) in the order sent, and the family id.</summary>
    internal static (IReadOnlyList<byte[]> Requests, ushort FamilyId) IpvsRequests(StraceCapture capture)
    {
        var ipvs = capture.Messages.Where(m => BitConverter.ToUInt16(m, 4) != GenericMessages.ControllerId).ToList();
        Assert.NotEmpty(ipvs);
        return (ipvs, BitConverter.ToUInt16(ipvs[0], 4));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Encode_SameRequestAsIpvsadm_SameBytes(string name)
    {
        var c = Cases[name];
        var capture = StraceCapture.Load($"ipvs/{c.Fixture}.strace");
        var (requests, familyId) = IpvsRequests(capture);
        var expected = StraceCapture.WithoutSequence(c.Pick < 0 ? requests[^1] : requests[c.Pick]);
        var ours = StraceCapture.WithoutSequence(c.Encode(familyId).ToArray());
        Assert.Equal(StraceCapture.Hex(expected), StraceCapture.Hex(ours));
    }

    [Fact]
    public void EncodeGetFamily_SameAsLibnl()
    {
        var capture = StraceCapture.Load("ipvs/svc-add-tcp-rr.strace");
        var expected = StraceCapture.WithoutSequence(capture.OfType(GenericMessages.ControllerId)[0]);
        Assert.Equal(StraceCapture.Hex(expected), StraceCapture.Hex(StraceCapture.WithoutSequence(GenericMessages.EncodeGetFamily("IPVS").ToArray())));
    }

    [Fact]
    public void Fixtures_EveryCaptureIsCovered()
    {
        var files = Directory.GetFiles(Path.Combine(StraceCapture.FixtureDirectory, "ipvs"), "*.strace").Select(Path.GetFileNameWithoutExtension).ToHashSet();
        Assert.Empty(files.Except(Cases.Values.Select(c => c.Fixture)));
    }
}
