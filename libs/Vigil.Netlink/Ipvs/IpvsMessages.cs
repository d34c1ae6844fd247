using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Vigil.Netlink.Generic;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Ipvs;

/// <summary>
/// Encoders and decoders of the IPVS generic netlink family (linux/ip_vs.h). Requests are laid out
/// as ipvsadm 1.31 (libipvs over libnl-genl 3) lays them out, attribute for attribute, which the
/// tests check byte for byte against strace captures of ipvsadm on a kernel with IPVS. Addresses
/// travel as a 16-byte union nf_inet_addr, ports and IPv4 netmasks in network byte order.
/// </summary>
public static class IpvsMessages
{
    public const string FamilyName = "IPVS";
    public const byte Version = 1;

    private const NetlinkMessageFlags Flags = NetlinkMessageFlags.Request | NetlinkMessageFlags.Ack;
    private const NetlinkMessageFlags DumpFlags = Flags | NetlinkMessageFlags.Dump;

    // IPVS_CMD_ATTR_*
    private const ushort CmdAttrService = 1;
    private const ushort CmdAttrDest = 2;
    private const ushort CmdAttrDaemon = 3;
    private const ushort CmdAttrTimeoutTcp = 4;
    private const ushort CmdAttrTimeoutTcpFin = 5;
    private const ushort CmdAttrTimeoutUdp = 6;

    // IPVS_SVC_ATTR_*
    private const ushort SvcAf = 1;
    private const ushort SvcProtocol = 2;
    private const ushort SvcAddr = 3;
    private const ushort SvcPort = 4;
    private const ushort SvcFwmark = 5;
    private const ushort SvcSchedName = 6;
    private const ushort SvcFlags = 7;
    private const ushort SvcTimeout = 8;
    private const ushort SvcNetmask = 9;
    private const ushort SvcStats = 10;
    private const ushort SvcPeName = 11;
    private const ushort SvcStats64 = 12;

    // IPVS_DEST_ATTR_*
    private const ushort DestAddr = 1;
    private const ushort DestPort = 2;
    private const ushort DestFwdMethod = 3;
    private const ushort DestWeight = 4;
    private const ushort DestUThresh = 5;
    private const ushort DestLThresh = 6;
    private const ushort DestActiveConns = 7;
    private const ushort DestInactConns = 8;
    private const ushort DestPersistConns = 9;
    private const ushort DestStats = 10;
    private const ushort DestAddrFamily = 11;
    private const ushort DestStats64 = 12;
    private const ushort DestTunType = 13;
    private const ushort DestTunPort = 14;
    private const ushort DestTunFlags = 15;

    // IPVS_DAEMON_ATTR_*
    private const ushort DaemonState = 1;
    private const ushort DaemonMcastIfn = 2;
    private const ushort DaemonSyncId = 3;
    private const ushort DaemonSyncMaxLen = 4;
    private const ushort DaemonMcastGroup = 5;
    private const ushort DaemonMcastGroup6 = 6;
    private const ushort DaemonMcastPort = 7;
    private const ushort DaemonMcastTtl = 8;

    // IPVS_INFO_ATTR_*
    private const ushort InfoVersion = 1;
    private const ushort InfoConnTabSize = 2;

    /// <summary>Scheduler and persistence engine names are at most IP_VS_SCHEDNAME_MAXLEN - 1 bytes.</summary>
    private const int NameMax = 15;

    public static string CommandName(IpvsCommand command) => "IPVS_CMD_" + command switch
    {
        IpvsCommand.NewService => "NEW_SERVICE",
        IpvsCommand.SetService => "SET_SERVICE",
        IpvsCommand.DelService => "DEL_SERVICE",
        IpvsCommand.GetService => "GET_SERVICE",
        IpvsCommand.NewDest => "NEW_DEST",
        IpvsCommand.SetDest => "SET_DEST",
        IpvsCommand.DelDest => "DEL_DEST",
        IpvsCommand.GetDest => "GET_DEST",
        IpvsCommand.NewDaemon => "NEW_DAEMON",
        IpvsCommand.DelDaemon => "DEL_DAEMON",
        IpvsCommand.GetDaemon => "GET_DAEMON",
        IpvsCommand.SetConfig => "SET_CONFIG",
        IpvsCommand.GetConfig => "GET_CONFIG",
        IpvsCommand.SetInfo => "SET_INFO",
        IpvsCommand.GetInfo => "GET_INFO",
        IpvsCommand.Zero => "ZERO",
        IpvsCommand.Flush => "FLUSH",
        _ => ((byte)command).ToString(),
    };

    private static NetlinkMessageBuilder Create(ushort familyId, IpvsCommand command, NetlinkMessageFlags flags = Flags) =>
        GenericMessages.Create(familyId, (byte)command, Version, flags);

    private static ushort Af(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        _ => throw new ArgumentException($"IPVS address family must be IPv4 or IPv6, not {family}"),
    };

    private static AddressFamily? FromAf(ushort af) => af switch
    {
        2 => AddressFamily.InterNetwork,
        10 => AddressFamily.InterNetworkV6,
        _ => null,
    };

    // ---------------------------------------------------------------- requests

    /// <summary>NEW/SET/DEL/GET_SERVICE or ZERO of one service: the whole service nest as
    /// ipvs_nl_fill_service_attr writes it.</summary>
    public static NetlinkMessageBuilder EncodeService(ushort familyId, IpvsCommand command, IpvsService service)
    {
        var m = Create(familyId, command);
        WriteService(m, service);
        return m;
    }

    /// <summary>NEW/SET/DEL_DEST: the service nest (its identity, as ipvsadm sends it) and the destination nest.</summary>
    public static NetlinkMessageBuilder EncodeDestination(ushort familyId, IpvsCommand command, IpvsService service, IpvsDestination destination)
    {
        var m = Create(familyId, command);
        WriteService(m, service.Key);
        WriteDestination(m, destination);
        return m;
    }

    /// <summary>GET_SERVICE dump: all services.</summary>
    public static NetlinkMessageBuilder EncodeListServices(ushort familyId) => Create(familyId, IpvsCommand.GetService, DumpFlags);

    /// <summary>GET_SERVICE of one service (<c>ipvsadm -Ln -t VIP:PORT</c>).</summary>
    public static NetlinkMessageBuilder EncodeGetService(ushort familyId, IpvsService service) =>
        EncodeService(familyId, IpvsCommand.GetService, service.Key with { PersistenceNetmask = 0 });

    /// <summary>GET_DEST dump of one service: only the identifying attributes of the service.</summary>
    public static NetlinkMessageBuilder EncodeListDestinations(ushort familyId, IpvsService service)
    {
        var m = Create(familyId, IpvsCommand.GetDest, DumpFlags);
        var nest = m.BeginNested(NetlinkAttribute.NestedFlag | CmdAttrService);
        WriteServiceIdentity(m, service);
        m.EndNested(nest);
        return m;
    }

    /// <summary>FLUSH: remove every service.</summary>
    public static NetlinkMessageBuilder EncodeFlush(ushort familyId) => Create(familyId, IpvsCommand.Flush);

    /// <summary>ZERO: reset the counters of all services, or of one.</summary>
    public static NetlinkMessageBuilder EncodeZero(ushort familyId, IpvsService? service = null) =>
        service is null ? Create(familyId, IpvsCommand.Zero) : EncodeService(familyId, IpvsCommand.Zero, service);

    /// <summary>NEW_DAEMON (start) or DEL_DAEMON (stop) of a sync daemon.</summary>
    public static NetlinkMessageBuilder EncodeDaemon(ushort familyId, IpvsCommand command, IpvsDaemon daemon)
    {
        if (daemon.Interface.Length > NameMax)
        {
            throw new ArgumentException($"sync daemon interface '{daemon.Interface}' is longer than {NameMax} bytes");
        }
        var m = Create(familyId, command);
        var nest = m.BeginNested(NetlinkAttribute.NestedFlag | CmdAttrDaemon);
        m.AddU32(DaemonState, (uint)daemon.State);
        m.AddString(DaemonMcastIfn, daemon.Interface);
        m.AddU32(DaemonSyncId, daemon.SyncId);
        if (daemon.MaxSyncLength is ushort maxlen) m.AddU16(DaemonSyncMaxLen, maxlen);
        if (daemon.MulticastPort is ushort port) m.AddU16(DaemonMcastPort, port);
        if (daemon.MulticastTtl is byte ttl) m.AddU8(DaemonMcastTtl, ttl);
        if (daemon.MulticastGroup is IPAddress group)
        {
            m.AddAddress(group.AddressFamily == AddressFamily.InterNetworkV6 ? DaemonMcastGroup6 : DaemonMcastGroup, group);
        }
        m.EndNested(nest);
        return m;
    }

    /// <summary>GET_DAEMON dump.</summary>
    public static NetlinkMessageBuilder EncodeListDaemons(ushort familyId) => Create(familyId, IpvsCommand.GetDaemon, DumpFlags);

    /// <summary>SET_CONFIG with the three timeouts in seconds (0 = unchanged).</summary>
    public static NetlinkMessageBuilder EncodeSetTimeouts(ushort familyId, IpvsTimeouts timeouts)
    {
        var m = Create(familyId, IpvsCommand.SetConfig);
        m.AddU32(CmdAttrTimeoutTcp, Seconds(timeouts.Tcp, "tcp"));
        m.AddU32(CmdAttrTimeoutTcpFin, Seconds(timeouts.TcpFin, "tcpfin"));
        m.AddU32(CmdAttrTimeoutUdp, Seconds(timeouts.Udp, "udp"));
        return m;
    }

    private static uint Seconds(TimeSpan t, string what) => t >= TimeSpan.Zero && t.TotalSeconds <= int.MaxValue
        ? (uint)t.TotalSeconds
        : throw new ArgumentOutOfRangeException(nameof(t), t, $"IPVS {what} timeout must be 0..{int.MaxValue} s");

    public static NetlinkMessageBuilder EncodeGetTimeouts(ushort familyId) => Create(familyId, IpvsCommand.GetConfig);

    public static NetlinkMessageBuilder EncodeGetInfo(ushort familyId) => Create(familyId, IpvsCommand.GetInfo);

    private static void WriteService(NetlinkMessageBuilder m, IpvsService service)
    {
        ValidateService(service);
        var nest = m.BeginNested(NetlinkAttribute.NestedFlag | CmdAttrService);
        WriteServiceIdentity(m, service);
        m.AddString(SvcSchedName, service.Scheduler);
        if (service.PersistenceEngine is not null)
        {
            m.AddString(SvcPeName, service.PersistenceEngine);
        }
        // struct ip_vs_flags { flags; mask; }: a full mask sets every flag to the value given.
        Span<byte> flags = stackalloc byte[8];
        MemoryMarshal.Write(flags, (uint)service.Flags);
        MemoryMarshal.Write(flags[4..], uint.MaxValue);
        m.AddAttribute(SvcFlags, flags);
        m.AddU32(SvcTimeout, service.PersistenceTimeout);
        m.AddAttribute(SvcNetmask, Netmask(service));
        m.EndNested(nest);
    }

    /// <summary>IPv4: the mask itself in network byte order (__be32); IPv6: the prefix length.</summary>
    private static byte[] Netmask(IpvsService service)
    {
        if (service.Family == AddressFamily.InterNetworkV6)
        {
            return BitConverter.GetBytes((uint)(service.PersistenceNetmask ?? 128));
        }
        var length = service.PersistenceNetmask ?? 32;
        var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, mask);
        return bytes;
    }

    private static void WriteServiceIdentity(NetlinkMessageBuilder m, IpvsService service)
    {
        m.AddU16(SvcAf, Af(service.Family));
        if (service.IsFirewallMark)
        {
            m.AddU32(SvcFwmark, service.FirewallMark);
        }
        else
        {
            m.AddU16(SvcProtocol, (ushort)service.Protocol);
            m.AddAttribute(SvcAddr, Union(service.Address ?? Any(service.Family)));
            m.AddU16BigEndian(SvcPort, service.Port);
        }
    }

    private static void WriteDestination(NetlinkMessageBuilder m, IpvsDestination d)
    {
        var family = d.Family ?? d.Address.AddressFamily;
        if (d.Address.AddressFamily != family)
        {
            throw new ArgumentException($"real server {d.Address} is not of family {family}");
        }
        if (d.Weight < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(d), d.Weight, $"real server {d.Address} weight must not be negative");
        }
        var nest = m.BeginNested(NetlinkAttribute.NestedFlag | CmdAttrDest);
        m.AddU16(DestAddrFamily, Af(family));
        m.AddAttribute(DestAddr, Union(d.Address));
        m.AddU16BigEndian(DestPort, d.Port);
        m.AddU32(DestFwdMethod, (uint)d.ForwardingMethod);
        m.AddS32(DestWeight, d.Weight);
        m.AddU8(DestTunType, (byte)d.TunnelType);
        m.AddU16BigEndian(DestTunPort, d.TunnelPort);
        m.AddU16(DestTunFlags, (ushort)d.TunnelFlags);
        m.AddU32(DestUThresh, d.UpperThreshold);
        m.AddU32(DestLThresh, d.LowerThreshold);
        m.EndNested(nest);
    }

    private static void ValidateService(IpvsService s)
    {
        if (!s.IsFirewallMark && s.Address is not null && s.Address.AddressFamily != s.Family)
        {
            throw new ArgumentException($"service {s}: address {s.Address} is not of family {s.Family}");
        }
        if (s.Scheduler.Length > NameMax || (s.PersistenceEngine?.Length ?? 0) > NameMax)
        {
            throw new ArgumentException($"service {s}: scheduler and persistence engine names are at most {NameMax} characters");
        }
        var max = s.Family == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (s.PersistenceNetmask is int n && (n < 0 || n > max))
        {
            throw new ArgumentOutOfRangeException(nameof(s), n, $"service {s}: persistence netmask must be a prefix length 0..{max}");
        }
    }

    private static IPAddress Any(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;

    /// <summary>union nf_inet_addr: 16 bytes, IPv4 in the first four.</summary>
    private static byte[] Union(IPAddress address)
    {
        var bytes = new byte[16];
        address.TryWriteBytes(bytes, out _);
        return bytes;
    }

    // ---------------------------------------------------------------- answers

    /// <summary>A service from a GET_SERVICE answer (payload after nlmsghdr: genlmsghdr + attributes).</summary>
    public static IpvsService DecodeService(ReadOnlySpan<byte> payload)
    {
        foreach (var a in TopLevel(payload, "IPVS service"))
        {
            if (a.Type == CmdAttrService)
            {
                return ParseService(a.Nested("IPVS_CMD_ATTR_SERVICE"));
            }
        }
        throw new NetlinkDecodeException("IPVS service message without IPVS_CMD_ATTR_SERVICE");
    }

    /// <summary>A real server from a GET_DEST answer; <paramref name="serviceFamily"/> is used when
    /// the kernel does not send the destination's own family (before Linux 4.14).</summary>
    public static IpvsDestination DecodeDestination(ReadOnlySpan<byte> payload, AddressFamily serviceFamily)
    {
        foreach (var a in TopLevel(payload, "IPVS destination"))
        {
            if (a.Type == CmdAttrDest)
            {
                return ParseDestination(a.Nested("IPVS_CMD_ATTR_DEST"), serviceFamily);
            }
        }
        throw new NetlinkDecodeException("IPVS destination message without IPVS_CMD_ATTR_DEST");
    }

    public static IpvsDaemon DecodeDaemon(ReadOnlySpan<byte> payload)
    {
        foreach (var a in TopLevel(payload, "IPVS daemon"))
        {
            if (a.Type != CmdAttrDaemon) continue;
            var d = new IpvsDaemon();
            foreach (var x in a.Nested("IPVS_CMD_ATTR_DAEMON"))
            {
                d = x.Type switch
                {
                    DaemonState => d with { State = (IpvsDaemonState)x.GetU32("IPVS_DAEMON_ATTR_STATE") },
                    DaemonMcastIfn => d with { Interface = x.GetString() },
                    DaemonSyncId => d with { SyncId = x.GetU32("IPVS_DAEMON_ATTR_SYNC_ID") },
                    DaemonSyncMaxLen => d with { MaxSyncLength = x.GetU16("IPVS_DAEMON_ATTR_SYNC_MAXLEN") },
                    DaemonMcastGroup => d with { MulticastGroup = x.GetAddress("IPVS_DAEMON_ATTR_MCAST_GROUP", AddressFamily.InterNetwork) },
                    DaemonMcastGroup6 => d with { MulticastGroup = x.GetAddress("IPVS_DAEMON_ATTR_MCAST_GROUP6", AddressFamily.InterNetworkV6) },
                    DaemonMcastPort => d with { MulticastPort = x.GetU16("IPVS_DAEMON_ATTR_MCAST_PORT") },
                    DaemonMcastTtl => d with { MulticastTtl = x.GetU8("IPVS_DAEMON_ATTR_MCAST_TTL") },
                    _ => d,
                };
            }
            return d;
        }
        throw new NetlinkDecodeException("IPVS daemon message without IPVS_CMD_ATTR_DAEMON");
    }

    public static IpvsTimeouts DecodeTimeouts(ReadOnlySpan<byte> payload)
    {
        uint tcp = 0, fin = 0, udp = 0;
        foreach (var a in TopLevel(payload, "IPVS config"))
        {
            switch (a.Type)
            {
                case CmdAttrTimeoutTcp: tcp = a.GetU32("IPVS_CMD_ATTR_TIMEOUT_TCP"); break;
                case CmdAttrTimeoutTcpFin: fin = a.GetU32("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN"); break;
                case CmdAttrTimeoutUdp: udp = a.GetU32("IPVS_CMD_ATTR_TIMEOUT_UDP"); break;
            }
        }
        return new IpvsTimeouts(TimeSpan.FromSeconds(tcp), TimeSpan.FromSeconds(fin), TimeSpan.FromSeconds(udp));
    }

    public static IpvsInfo DecodeInfo(ReadOnlySpan<byte> payload)
    {
        uint? version = null, size = null;
        foreach (var a in TopLevel(payload, "IPVS info"))
        {
            switch (a.Type)
            {
                case InfoVersion: version = a.GetU32("IPVS_INFO_ATTR_VERSION"); break;
                case InfoConnTabSize: size = a.GetU32("IPVS_INFO_ATTR_CONN_TAB_SIZE"); break;
            }
        }
        return new IpvsInfo(
            version ?? throw new NetlinkDecodeException("IPVS info without IPVS_INFO_ATTR_VERSION"),
            size ?? throw new NetlinkDecodeException("IPVS info without IPVS_INFO_ATTR_CONN_TAB_SIZE"));
    }

    private static AttributeReader TopLevel(ReadOnlySpan<byte> payload, string what)
    {
        GenlMsgHdr.Read(payload);
        return new AttributeReader(payload[GenlMsgHdr.Size..], what);
    }

    private static IpvsService ParseService(AttributeReader attributes)
    {
        ushort? af = null;
        ushort protocol = 0, port = 0;
        uint fwmark = 0, timeout = 0, flags = 0;
        byte[]? netmask = null;
        byte[]? addr = null;
        string sched = "";
        string? pe = null;
        IpvsStats? stats = null, stats64 = null;
        foreach (var a in attributes)
        {
            switch (a.Type)
            {
                case SvcAf: af = a.GetU16("IPVS_SVC_ATTR_AF"); break;
                case SvcProtocol: protocol = a.GetU16("IPVS_SVC_ATTR_PROTOCOL"); break;
                case SvcAddr: addr = a.Value.ToArray(); break;
                case SvcPort: port = a.GetU16BigEndian("IPVS_SVC_ATTR_PORT"); break;
                case SvcFwmark: fwmark = a.GetU32("IPVS_SVC_ATTR_FWMARK"); break;
                case SvcSchedName: sched = a.GetString(); break;
                case SvcPeName: pe = a.GetString(); break;
                case SvcFlags:
                    if (a.Value.Length < 8) throw new NetlinkDecodeException($"IPVS_SVC_ATTR_FLAGS: value of {a.Value.Length} bytes, expected 8");
                    // struct ip_vs_flags { flags; mask; }: only the bits the mask covers are meaningful.
                    flags = BitConverter.ToUInt32(a.Value) & BitConverter.ToUInt32(a.Value[4..]);
                    break;
                case SvcTimeout: timeout = a.GetU32("IPVS_SVC_ATTR_TIMEOUT"); break;
                case SvcNetmask:
                    if (a.Value.Length < 4) throw new NetlinkDecodeException($"IPVS_SVC_ATTR_NETMASK: value of {a.Value.Length} bytes, expected 4");
                    netmask = a.Value[..4].ToArray();
                    break;
                case SvcStats: stats = ParseStats(a.Nested("IPVS_SVC_ATTR_STATS"), "IPVS_SVC_ATTR_STATS"); break;
                case SvcStats64: stats64 = ParseStats(a.Nested("IPVS_SVC_ATTR_STATS64"), "IPVS_SVC_ATTR_STATS64"); break;
            }
        }
        var family = FromAf(af ?? throw new NetlinkDecodeException("IPVS service without IPVS_SVC_ATTR_AF"))
            ?? throw new NetlinkDecodeException($"IPVS_SVC_ATTR_AF: family {af} is neither AF_INET nor AF_INET6");
        IPAddress? address = null;
        if (fwmark == 0)
        {
            address = UnionAddress(addr ?? throw new NetlinkDecodeException("IPVS service without IPVS_SVC_ATTR_ADDR or IPVS_SVC_ATTR_FWMARK"), family, "IPVS_SVC_ATTR_ADDR");
        }
        int? prefix = null;
        if (netmask is not null)
        {
            // IPv4: a __be32 mask, read as its prefix length (leading ones); IPv6: a prefix length in host order.
            prefix = family == AddressFamily.InterNetwork
                ? System.Numerics.BitOperations.LeadingZeroCount(~BinaryPrimitives.ReadUInt32BigEndian(netmask))
                : (int)Math.Min(MemoryMarshal.Read<uint>(netmask), 128);
        }
        return new IpvsService
        {
            Family = family,
            Protocol = (IpvsProtocol)protocol,
            Address = address,
            Port = fwmark == 0 ? port : (ushort)0,
            FirewallMark = fwmark,
            Scheduler = sched,
            PersistenceEngine = pe,
            Flags = (IpvsServiceFlags)flags,
            PersistenceTimeout = timeout,
            PersistenceNetmask = prefix,
            Stats = stats64 ?? stats,
        };
    }

    private static IpvsDestination ParseDestination(AttributeReader attributes, AddressFamily serviceFamily)
    {
        byte[]? addr = null;
        ushort port = 0, tunPort = 0, tunFlags = 0;
        ushort? af = null;
        uint method = 0, upper = 0, lower = 0, active = 0, inactive = 0, persistent = 0;
        int weight = 0;
        byte tunType = 0;
        IpvsStats? stats = null, stats64 = null;
        foreach (var a in attributes)
        {
            switch (a.Type)
            {
                case DestAddr: addr = a.Value.ToArray(); break;
                case DestPort: port = a.GetU16BigEndian("IPVS_DEST_ATTR_PORT"); break;
                case DestAddrFamily: af = a.GetU16("IPVS_DEST_ATTR_ADDR_FAMILY"); break;
                case DestFwdMethod: method = a.GetU32("IPVS_DEST_ATTR_FWD_METHOD") & 0x7; break;
                case DestWeight: weight = a.GetS32("IPVS_DEST_ATTR_WEIGHT"); break;
                case DestUThresh: upper = a.GetU32("IPVS_DEST_ATTR_U_THRESH"); break;
                case DestLThresh: lower = a.GetU32("IPVS_DEST_ATTR_L_THRESH"); break;
                case DestActiveConns: active = a.GetU32("IPVS_DEST_ATTR_ACTIVE_CONNS"); break;
                case DestInactConns: inactive = a.GetU32("IPVS_DEST_ATTR_INACT_CONNS"); break;
                case DestPersistConns: persistent = a.GetU32("IPVS_DEST_ATTR_PERSIST_CONNS"); break;
                case DestTunType: tunType = a.GetU8("IPVS_DEST_ATTR_TUN_TYPE"); break;
                case DestTunPort: tunPort = a.GetU16BigEndian("IPVS_DEST_ATTR_TUN_PORT"); break;
                case DestTunFlags: tunFlags = a.GetU16("IPVS_DEST_ATTR_TUN_FLAGS"); break;
                case DestStats: stats = ParseStats(a.Nested("IPVS_DEST_ATTR_STATS"), "IPVS_DEST_ATTR_STATS"); break;
                case DestStats64: stats64 = ParseStats(a.Nested("IPVS_DEST_ATTR_STATS64"), "IPVS_DEST_ATTR_STATS64"); break;
            }
        }
        var family = af is ushort f
            ? FromAf(f) ?? throw new NetlinkDecodeException($"IPVS_DEST_ATTR_ADDR_FAMILY: family {f} is neither AF_INET nor AF_INET6")
            : serviceFamily;
        return new IpvsDestination
        {
            Address = UnionAddress(addr ?? throw new NetlinkDecodeException("IPVS destination without IPVS_DEST_ATTR_ADDR"), family, "IPVS_DEST_ATTR_ADDR"),
            Port = port,
            Family = af is null ? null : family,
            ForwardingMethod = (IpvsForwardingMethod)method,
            Weight = weight,
            UpperThreshold = upper,
            LowerThreshold = lower,
            TunnelType = (IpvsTunnelType)tunType,
            TunnelPort = tunPort,
            TunnelFlags = (IpvsTunnelFlags)tunFlags,
            ActiveConnections = active,
            InactiveConnections = inactive,
            PersistentConnections = persistent,
            Stats = stats64 ?? stats,
        };
    }

    /// <summary>IPVS_STATS_ATTR_*: counters are u32 in STATS (bytes u64) and u64 in STATS64; read either width.</summary>
    private static IpvsStats ParseStats(AttributeReader attributes, string name)
    {
        var v = new ulong[11];
        foreach (var a in attributes)
        {
            if (a.Type is >= 1 and <= 10)
            {
                v[a.Type] = a.Value.Length switch
                {
                    >= 8 => a.GetU64(name),
                    >= 4 => a.GetU32(name),
                    _ => throw new NetlinkDecodeException($"{name}: counter {a.Type} of {a.Value.Length} bytes"),
                };
            }
        }
        return new IpvsStats(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
    }

    private static IPAddress UnionAddress(byte[] bytes, AddressFamily family, string name)
    {
        var size = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        if (bytes.Length < size)
        {
            throw new NetlinkDecodeException($"{name}: {bytes.Length} bytes, expected at least {size} for {family}");
        }
        return new IPAddress(bytes.AsSpan(0, size));
    }
}
