using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Netlink.Ipvs;
using Vigil.Netlink.Route;
using Vigil.Testing;

namespace Vigil.Netlink.Tests.Vm;

/// <summary>
/// What runs inside the QEMU VM (a kernel with IPVS and ipvlan): Vigil.Netlink against the real
/// kernel, with ipvsadm and ip as the judges. Each check prints "PASS name" or "FAIL name: why"
/// to the results file the host test reads. Started as
/// <c>dotnet exec Vigil.Netlink.Tests.dll vm-scenario RESULTS</c> (see <see cref="VmProgram"/>).
/// </summary>
internal static class VmScenario
{
    private static readonly IpvsService Web = new() { Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("10.0.0.1"), Port = 80, Scheduler = "rr" };
    private static readonly IpvsService Dns = new()
    {
        Protocol = IpvsProtocol.Udp, Address = IPAddress.Parse("10.0.0.1"), Port = 53, Scheduler = "wrr",
        Flags = IpvsServiceFlags.Persistent, PersistenceTimeout = 300, PersistenceNetmask = 24,
    };
    private static readonly IpvsService Mark = new() { FirewallMark = 5, Scheduler = "wlc" };
    private static readonly IpvsService V6 = new()
    {
        Family = AddressFamily.InterNetworkV6, Protocol = IpvsProtocol.Tcp, Address = IPAddress.Parse("2001:db8::1"), Port = 443,
        Scheduler = "sh", Flags = IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort,
    };

    public static async Task<int> RunAsync(string resultsPath)
    {
        var results = new List<string>();
        var failed = 0;
        async Task Check(string name, Func<Task> body)
        {
            try
            {
                await body();
                results.Add($"PASS {name}");
            }
            catch (Exception e)
            {
                failed++;
                results.Add($"FAIL {name}: {e.GetType().Name}: {e.Message.Replace('\n', ' ')}");
            }
            await File.WriteAllLinesAsync(resultsPath, results);
        }

        IpvsClient? ipvs = null;
        var ipvsadm = Shell.Require("ipvsadm");
        var ip = Shell.Require("ip");
        await Shell.CheckAsync(ip, "link", "set", "lo", "up");
        await Shell.CheckAsync(ip, "link", "add", "d0", "type", "dummy");
        await Shell.CheckAsync(ip, "addr", "add", "10.0.0.254/24", "dev", "d0");
        await Shell.CheckAsync(ip, "-6", "addr", "add", "2001:db8::fe/64", "dev", "d0", "nodad");
        await Shell.CheckAsync(ip, "link", "set", "d0", "up");

        await Check("ipvs-open-and-info", async () =>
        {
            ipvs = await IpvsClient.OpenAsync();
            var info = await ipvs.GetInfoAsync();
            var header = (await Shell.CheckAsync(ipvsadm, "-Ln")).Stdout.Split('\n')[0];
            Equal(header, info.ToString());
        });
        if (ipvs is null)
        {
            return 1;
        }

        await Check("services-add-as-ipvsadm-saves-them", async () =>
        {
            await ipvs.FlushAsync();
            await ipvs.AddServiceAsync(Web);
            await ipvs.AddServiceAsync(Dns);
            await ipvs.AddServiceAsync(Mark);
            await ipvs.AddServiceAsync(V6);
            await ipvs.AddDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80, Weight = 3 });
            await ipvs.AddDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.3"), Port = 8080, ForwardingMethod = IpvsForwardingMethod.Masquerade, Weight = 5, UpperThreshold = 100, LowerThreshold = 10 });
            await ipvs.AddDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.4"), Port = 80, ForwardingMethod = IpvsForwardingMethod.Tunnel, TunnelType = IpvsTunnelType.Gue, TunnelPort = 6080 });
            await ipvs.AddDestinationAsync(Dns, new() { Address = IPAddress.Parse("10.0.0.2"), Port = 53 });
            await ipvs.AddDestinationAsync(Mark, new() { Address = IPAddress.Parse("10.0.0.5") });
            await ipvs.AddDestinationAsync(V6, new() { Address = IPAddress.Parse("2001:db8::2"), Port = 443 });
            var save = Lines((await Shell.CheckAsync(ipvsadm, "-S", "-n")).Stdout);
            string[] expected =
            [
                "-A -t 10.0.0.1:80 -s rr",
                "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3",
                "-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 5", // ipvsadm -S leaves thresholds out

                "-a -t 10.0.0.1:80 -r 10.0.0.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum",
                "-A -u 10.0.0.1:53 -s wrr -p 300 -M 255.255.255.0",
                "-a -u 10.0.0.1:53 -r 10.0.0.2:53 -g -w 1",
                "-A -t [2001:db8::1]:443 -s sh -b sh-fallback,sh-port",
                "-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -g -w 1",
                "-A -f 5 -s wlc",
                "-a -f 5 -r 10.0.0.5:0 -g -w 1",
            ];
            Equal(string.Join('\n', expected.Order()), string.Join('\n', save.Order()));
            var thresholds = Lines((await Shell.CheckAsync(ipvsadm, "-Ln", "--thresholds", "-t", "10.0.0.1:80")).Stdout);
            var nat = thresholds.Single(l => l.Contains("10.0.0.3:8080")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Equal("100 10", $"{nat[2]} {nat[3]}"); // -> addr Uthreshold Lthreshold ActiveConn InActConn
        });

        await Check("services-list-as-added", async () =>
        {
            var services = await ipvs.ListServicesAsync();
            Equal(4, services.Count);
            var web = services.Single(s => s.Port == 80);
            Equal("TCP  10.0.0.1:80 rr", web.ToString());
            var dns = services.Single(s => s.Port == 53);
            Equal((300u, 24), (dns.PersistenceTimeout, dns.PersistenceNetmask!.Value));
            Equal(IpvsServiceFlags.ShFallback | IpvsServiceFlags.ShPort, services.Single(s => s.Family == AddressFamily.InterNetworkV6).Flags & ~IpvsServiceFlags.Hashed);
            Equal(5u, services.Single(s => s.IsFirewallMark).FirewallMark);
            var dests = (await ipvs.ListDestinationsAsync(Web)).OrderBy(d => d.Address.ToString()).ToList();
            Equal("-> 10.0.0.2:80 Route 3|-> 10.0.0.3:8080 Masq 5|-> 10.0.0.4:80 Tunnel 1", string.Join('|', dests.Select(d => d.ToString())));
            Equal((100u, 10u), (dests[1].UpperThreshold, dests[1].LowerThreshold));
            Equal(IpvsTunnelType.Gue, dests[2].TunnelType);
            var one = await ipvs.GetServiceAsync(Web with { Scheduler = "" });
            Equal("rr", one!.Scheduler);
            Equal(null, await ipvs.GetServiceAsync(new IpvsService { Address = IPAddress.Parse("10.9.9.9"), Port = 1 }));
        });

        await Check("service-and-destination-update", async () =>
        {
            await ipvs.UpdateServiceAsync(Web with { Scheduler = "wrr" });
            await ipvs.UpdateDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80, Weight = 0 });
            var save = Lines((await Shell.CheckAsync(ipvsadm, "-S", "-n")).Stdout);
            Contains(save, "-A -t 10.0.0.1:80 -s wrr");
            Contains(save, "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 0");
        });

        await Check("errors-name-the-command-and-reason", async () =>
        {
            var dup = await Throws(() => ipvs.AddServiceAsync(Web));
            StartsWith("IPVS_CMD_NEW_SERVICE TCP  10.0.0.1:80 rr: File exists (EEXIST): the service exists already", dup.Message);
            var missing = await Throws(() => ipvs.DeleteServiceAsync(new IpvsService { Address = IPAddress.Parse("10.9.9.9"), Port = 1 }));
            StartsWith("IPVS_CMD_DEL_SERVICE TCP  10.9.9.9:1: No such process (ESRCH): no such service", missing.Message);
            var sched = await Throws(() => ipvs.AddServiceAsync(Web with { Port = 81, Scheduler = "nosuch" }));
            StartsWith("IPVS_CMD_NEW_SERVICE TCP  10.0.0.1:81 nosuch: No such file or directory (ENOENT): unknown scheduler", sched.Message);
            var dupDest = await Throws(() => ipvs.AddDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.2"), Port = 80 }));
            Equal(Errno.EEXIST, dupDest.ErrorCode);
            var noDest = await Throws(() => ipvs.DeleteDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.99"), Port = 80 }));
            StartsWith("IPVS_CMD_DEL_DEST TCP  10.0.0.1:80 -> 10.0.0.99:80 Route 1: No such file or directory (ENOENT): no such real server", noDest.Message);
        });

        await Check("stats-count-real-traffic", async () =>
        {
            // Locally sent UDP to the VIP is scheduled by IPVS (LOCAL_OUT hook) and counted.
            await ipvs.ZeroAsync();
            using (var udp = new UdpClient(AddressFamily.InterNetwork))
            {
                for (var i = 0; i < 3; i++)
                {
                    await udp.SendAsync(new byte[100], new IPEndPoint(IPAddress.Parse("10.0.0.1"), 53));
                }
            }
            // Linux before 6.2 folds the per-CPU counters into the totals from its 2 s estimator timer.
            IpvsService dns = null!;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((dns = (await ipvs.ListServicesAsync()).Single(s => s.Port == 53)).Stats!.InPackets < 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            var exact = Lines((await Shell.CheckAsync(ipvsadm, "-Ln", "--stats", "--exact", "-u", "10.0.0.1:53")).Stdout);
            // "UDP  10.0.0.1:53   1   3   0   384   0": conns, inpkts, outpkts, inbytes, outbytes.
            var cols = exact.First(l => l.StartsWith("UDP", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Equal($"{cols[2]} {cols[3]} {cols[4]} {cols[5]} {cols[6]}", $"{dns.Stats!.Connections} {dns.Stats.InPackets} {dns.Stats.OutPackets} {dns.Stats.InBytes} {dns.Stats.OutBytes}");
            True(dns.Stats.InPackets == 3, $"expected 3 packets counted, got {dns.Stats.InPackets}");
            var dest = (await ipvs.ListDestinationsAsync(Dns)).Single();
            True(dest.Stats!.InPackets == 3, $"real server counted {dest.Stats.InPackets} packets");
            True(dest.InactiveConnections + dest.ActiveConnections + dest.PersistentConnections >= 1, "no connection on the real server");
        });

        await Check("timeouts-set-get", async () =>
        {
            await ipvs.SetTimeoutsAsync(new(TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(300)));
            Equal(new IpvsTimeouts(TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(300)), await ipvs.GetTimeoutsAsync());
            Equal("Timeout (tcp tcpfin udp): 900 120 300", Lines((await Shell.CheckAsync(ipvsadm, "-L", "--timeout")).Stdout)[0]);
        });

        await Check("sync-daemons", async () =>
        {
            await ipvs.StartDaemonAsync(new() { State = IpvsDaemonState.Master, Interface = "d0", SyncId = 7 });
            await ipvs.StartDaemonAsync(new()
            {
                State = IpvsDaemonState.Backup, Interface = "d0", SyncId = 3, MaxSyncLength = 1400,
                MulticastGroup = IPAddress.Parse("224.0.0.82"), MulticastPort = 8849, MulticastTtl = 2,
            });
            var listed = (await ipvs.ListDaemonsAsync()).Select(d => d.ToString()).ToList();
            var theirs = Lines((await Shell.CheckAsync(ipvsadm, "-L", "--daemon")).Stdout);
            Equal(string.Join('|', theirs), string.Join('|', listed));
            await ipvs.StopDaemonAsync(IpvsDaemonState.Master);
            await ipvs.StopDaemonAsync(IpvsDaemonState.Backup);
            Equal(0, (await ipvs.ListDaemonsAsync()).Count);
        });

        await Check("delete-and-flush", async () =>
        {
            await ipvs.DeleteDestinationAsync(Web, new() { Address = IPAddress.Parse("10.0.0.4"), Port = 80 });
            await ipvs.DeleteServiceAsync(V6);
            var save = Lines((await Shell.CheckAsync(ipvsadm, "-S", "-n")).Stdout);
            True(!save.Any(l => l.Contains("10.0.0.4:80") || l.Contains("2001:db8::1")), string.Join(" / ", save));
            await ipvs.FlushAsync();
            Equal(0, Lines((await Shell.CheckAsync(ipvsadm, "-S", "-n")).Stdout).Count);
            Equal(0, (await ipvs.ListServicesAsync()).Count);
        });

        await Check("ipvlan-create-as-ip-shows-it", async () =>
        {
            using var rtnl = Rtnetlink.Open();
            var l2 = await rtnl.CreateIpvlanAsync(new IpvlanLink { Name = "ipv0", Parent = "d0", Mode = IpvlanMode.L2 });
            var l3 = await rtnl.CreateIpvlanAsync(new IpvlanLink { Name = "ipv1", Parent = "d0", Mode = IpvlanMode.L3, Isolation = IpvlanIsolation.Private });
            Equal(("ipvlan", IpvlanMode.L2), (l2.Kind, l2.IpvlanMode!.Value));
            Equal((IpvlanMode.L3, IpvlanIsolation.Private), (l3.IpvlanMode!.Value, l3.IpvlanIsolation!.Value));
            var json = (await Shell.CheckAsync(ip, "-d", "-j", "link", "show", "dev", "ipv1")).Stdout;
            using var doc = JsonDocument.Parse(json);
            var info = doc.RootElement[0].GetProperty("linkinfo");
            Equal("ipvlan", info.GetProperty("info_kind").GetString());
            var data = info.GetProperty("info_data").ToString();
            True(data.Contains("\"mode\":\"l3\"") && data.Contains("private"), $"ip shows ipv1 as {data}");
            await rtnl.DeleteLinkAsync("ipv0");
            await rtnl.DeleteLinkAsync("ipv1");
            Equal(null, await rtnl.GetLinkAsync("ipv1"));
        });

        ipvs.Dispose();
        return failed == 0 ? 0 : 1;
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static void Equal<T>(T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            throw new InvalidOperationException($"expected <{expected}> but got <{actual}>");
        }
    }

    private static void True(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }

    private static void Contains(IReadOnlyList<string> lines, string line) =>
        True(lines.Contains(line), $"'{line}' not in: {string.Join(" / ", lines)}");

    private static void StartsWith(string prefix, string text) =>
        True(text.StartsWith(prefix, StringComparison.Ordinal), $"'{text}' does not start with '{prefix}'");

    private static async Task<NetlinkException> Throws(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (NetlinkException e)
        {
            return e;
        }
        throw new InvalidOperationException("no NetlinkException");
    }
}

/// <summary>The test assembly's entry point: nothing for the test host, the VM scenario on request.</summary>
public static class VmProgram
{
    public static int Main(string[] args) =>
        args is ["vm-scenario", var results] ? VmScenario.RunAsync(results).GetAwaiter().GetResult() : 0;
}
