using System.CommandLine;
using System.Globalization;
using System.Text;
using Vigil.Client;
using Vigil.Ipvs.V1;

namespace Vigil.Ctl.Commands;

/// <summary>`vigilctl lvs`: the load balancer's table as vigil-ipvsd reads it back from the kernel
/// (or nftables), printed as `ipvsadm -Ln` prints it; `--stats` as `ipvsadm -Ln --stats`.</summary>
internal static class LvsCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var stats = new Option<bool>("--stats") { Description = "counters (connections, packets, bytes) instead of weights and connections" };
        var command = new Command("lvs", "show the load balancer's virtual services and real servers (as ipvsadm -Ln)") { json, stats };
        command.SetAction(async (r, token) =>
        {
            var read = await GlobalOptions.ReadAsync(r, "ipvsd", "the table",
                (invoker, call) => new IpvsService.IpvsServiceClient(invoker).ListVirtualServersAsync(new ListVirtualServersRequest(), call), token);
            if (read.Value is not { } list) return read.Exit;
            if (r.GetValue(json))
            {
                GlobalOptions.PrintJson(list);
                return 0;
            }
            SortAsIpvsadm(list);
            Console.Out.Write(r.GetValue(stats) ? FormatStats(list) : Format(list));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// ipvsadm sorts what it lists (ipvs_cmp_services, ipvs_cmp_dests): fwmark, family, protocol,
    /// address, port, each as a C int difference of the host-order values, wrap-around included,
    /// so addresses far apart compare as ipvsadm compares them rather than numerically.
    /// </summary>
    public static void SortAsIpvsadm(ListVirtualServersResponse list)
    {
        var services = list.Services.ToList();
        services.Sort(CompareServices);
        list.Services.Clear();
        list.Services.AddRange(services);
        foreach (var v in list.Services)
        {
            var dests = v.Destinations.ToList();
            dests.Sort((a, b) => CompareAddressPort(a.Endpoint.Address, a.Endpoint.Port, b.Endpoint.Address, b.Endpoint.Port));
            v.Destinations.Clear();
            v.Destinations.AddRange(dests);
        }
    }

    private static int CompareServices(VirtualService a, VirtualService b)
    {
        var r = unchecked((int)(a.Fwmark - b.Fwmark));
        if (r != 0) return r;
        r = (a.Ipv6 ? 10 : 2) - (b.Ipv6 ? 10 : 2);
        if (r != 0) return r;
        r = ProtocolNumber(a.Protocol) - ProtocolNumber(b.Protocol);
        return r != 0 ? r : CompareAddressPort(a.Address, a.Port, b.Address, b.Port);
    }

    private static int ProtocolNumber(Protocol p) => p switch { Protocol.Udp => 17, Protocol.Sctp => 132, _ => 6 };

    private static int CompareAddressPort(string a, uint aPort, string b, uint bPort)
    {
        var x = System.Net.IPAddress.TryParse(a, out var ax) ? ax.GetAddressBytes() : new byte[4];
        var y = System.Net.IPAddress.TryParse(b, out var bx) ? bx.GetAddressBytes() : new byte[4];
        var r = x.Length - y.Length;
        for (var i = 0; r == 0 && i < x.Length; i += 4)
        {
            r = unchecked((int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(x.AsSpan(i)) - System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(y.AsSpan(i))));
        }
        return r != 0 ? r : (int)aPort - (int)bPort;
    }

    /// <summary>As <c>ipvsadm -Ln</c>.</summary>
    public static string Format(ListVirtualServersResponse list)
    {
        var s = new StringBuilder();
        Header(s, list);
        s.Append("Prot LocalAddress:Port Scheduler Flags\n");
        s.Append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        foreach (var v in list.Services)
        {
            s.Append(Service(v)).Append(' ').Append(v.Scheduler);
            if (v.PersistenceTimeout > 0)
            {
                s.Append(" persistent ").Append(v.PersistenceTimeout.ToString(CultureInfo.InvariantCulture));
                if (v.PersistenceGranularity.Length > 0 && v.PersistenceGranularity is not ("255.255.255.255" or "128")) s.Append(" mask ").Append(v.PersistenceGranularity);
            }
            var flags = v.Flags.Where(f => f is not "persistent" and not "ops").ToList();
            if (flags.Count > 0) s.Append(" (").Append(string.Join(',', flags)).Append(')');
            if (v.Flags.Contains("ops")) s.Append(" ops");
            if (v.PersistenceEngine.Length > 0) s.Append(" pe ").Append(v.PersistenceEngine);
            s.Append('\n');
            foreach (var d in v.Destinations)
            {
                s.Append(string.Create(CultureInfo.InvariantCulture, $"  -> {Endpoint(d.Endpoint.Address, d.Endpoint.Port),-28} {d.Forward,-7} {d.Weight,-6} {d.ActiveConnections,-10} {d.InactiveConnections,-10}")).Append('\n');
            }
        }
        return s.ToString();
    }

    /// <summary>As <c>ipvsadm -Ln --stats</c>.</summary>
    public static string FormatStats(ListVirtualServersResponse list)
    {
        var s = new StringBuilder();
        Header(s, list);
        s.Append("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n");
        s.Append("  -> RemoteAddress:Port\n");
        foreach (var v in list.Services)
        {
            s.Append(CultureInfo.InvariantCulture, $"{Service(v),-33} {Counters(v.Counters)}\n");
            foreach (var d in v.Destinations)
            {
                s.Append(CultureInfo.InvariantCulture, $"  -> {Endpoint(d.Endpoint.Address, d.Endpoint.Port),-28} {Counters(d.Counters)}\n");
            }
        }
        return s.ToString();
    }

    private static void Header(StringBuilder s, ListVirtualServersResponse list)
    {
        s.Append(list.Version.Length > 0 ? list.Version : "no table read yet (no configuration applied)");
        if (list.Backend is { Length: > 0 } b && b != "ipvs") s.Append(" [backend ").Append(b).Append(']');
        s.Append('\n');
    }

    private static string Service(VirtualService v) => IpvsNames.Service(v, padded: true);

    private static string Endpoint(string address, uint port) => IpvsNames.Endpoint(address, port);

    private static string Counters(Counters? c)
    {
        c ??= new Counters();
        return string.Join(' ', new[] { c.Connections, c.InPackets, c.OutPackets, c.InBytes, c.OutBytes }.Select(n => Human(n).PadLeft(8)));
    }

    /// <summary>ipvsadm's short numbers: 1234, 12345K, 1234M.</summary>
    private static string Human(ulong n) => n switch
    {
        < 100_000_000 => n.ToString(CultureInfo.InvariantCulture),
        < 100_000_000_000 => (n / 1000).ToString(CultureInfo.InvariantCulture) + "K",
        _ => (n / 1_000_000).ToString(CultureInfo.InvariantCulture) + "M",
    };
}
