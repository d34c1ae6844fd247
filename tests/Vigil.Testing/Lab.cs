using System.Security.Cryptography;
using System.Text.Json;

namespace Vigil.Testing;

/// <summary>
/// A lab of network namespaces on this machine: "switches" (a bridge in a namespace of its own)
/// and hosts (one namespace each) cabled to them with veth pairs. Names carry a random id so
/// tests run side by side and leftovers of a crashed run never collide; everything is deleted on
/// dispose, even when the test failed. Only addresses inside these namespaces are used.
/// </summary>
public sealed class Lab : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<IAsyncDisposable> _owned = [];

    public string Id { get; }
    public string Ip { get; }

    private Lab(string id, string ip)
    {
        Id = id;
        Ip = ip;
    }

    /// <summary>Creates an empty lab; fails (never skips) when the machine cannot run one.</summary>
    public static Task<Lab> CreateAsync()
    {
        if (Environment.UserName != "root" && geteuid() != 0)
        {
            throw new InvalidOperationException("lab tests need root (network namespaces); run them as root");
        }
        var ip = Shell.Require("ip");
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        return Task.FromResult(new Lab(id, ip));
    }

    internal string NamespaceName(string name) => $"vg{Id}-{name}";

    private async Task<string> AddNamespaceAsync(string name)
    {
        var ns = NamespaceName(name);
        await Shell.CheckAsync(Ip, "netns", "add", ns);
        _namespaces.Add(ns);
        await Shell.CheckAsync(Ip, "-n", ns, "link", "set", "lo", "up");
        // Addresses are usable at once (no duplicate address detection delay), as on a quiet LAN.
        await Shell.RunAsync(Ip, "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
        return ns;
    }

    /// <summary>A switch: a bridge named br0 in a namespace of its own.</summary>
    public async Task<LabSwitch> AddSwitchAsync(string name = "lan")
    {
        var ns = await AddNamespaceAsync(name);
        await Shell.CheckAsync(Ip, "-n", ns, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0");
        await Shell.CheckAsync(Ip, "-n", ns, "link", "set", "br0", "up");
        return new LabSwitch(this, name, ns);
    }

    /// <summary>A host with interface eth0 cabled to the switch, with the given addresses (CIDR).</summary>
    public async Task<LabHost> AddHostAsync(string name, LabSwitch sw, params string[] addresses)
    {
        var host = new LabHost(this, name, await AddNamespaceAsync(name));
        await host.ConnectAsync(sw, "eth0", addresses);
        return host;
    }

    /// <summary>A host with only loopback; cable it with <see cref="LabHost.ConnectAsync"/>.</summary>
    public async Task<LabHost> AddHostAsync(string name) => new(this, name, await AddNamespaceAsync(name));

    /// <summary>Disposes the object together with the lab (before the namespaces go).</summary>
    public T Own<T>(T disposable) where T : IAsyncDisposable
    {
        lock (_owned) _owned.Add(disposable);
        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        List<IAsyncDisposable> owned;
        lock (_owned) owned = [.. _owned];
        owned.Reverse();
        foreach (var d in owned)
        {
            try { await d.DisposeAsync(); } catch (Exception) { /* cleanup goes on */ }
        }
        foreach (var ns in _namespaces.AsEnumerable().Reverse())
        {
            await KillRemainingAsync(ns);
            await Shell.RunAsync(Ip, "netns", "del", ns);
        }
    }

    /// <summary>
    /// Processes the test did not start itself (a daemon's children, a daemon that outlived its
    /// supervisor) would outlive the namespace: stop every one still inside it, by pid.
    /// </summary>
    private async Task KillRemainingAsync(string ns)
    {
        var pids = await Shell.RunAsync(Ip, "netns", "pids", ns);
        var list = pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, out var n) ? n : 0).Where(p => p > 0 && p != Environment.ProcessId).ToList();
        if (list.Count == 0) return;
        foreach (var pid in list) _ = Native.kill(pid, Native.SIGTERM);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && list.Any(p => Directory.Exists($"/proc/{p}"))) await Task.Delay(50);
        foreach (var pid in list.Where(p => Directory.Exists($"/proc/{p}"))) _ = Native.kill(pid, Native.SIGKILL);
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();
}

public sealed class LabSwitch
{
    internal LabSwitch(Lab lab, string name, string ns)
    {
        Lab = lab;
        Name = name;
        Namespace = ns;
    }

    public Lab Lab { get; }
    public string Name { get; }
    public string Namespace { get; }
}

public sealed class LabHost
{
    private readonly Lab _lab;
    private readonly Dictionary<string, (LabSwitch Switch, string Port)> _ports = [];

    internal LabHost(Lab lab, string name, string ns)
    {
        _lab = lab;
        Name = name;
        Namespace = ns;
    }

    public string Name { get; }
    public string Namespace { get; }

    /// <summary>Cables a new interface of this host to the switch and gives it the addresses.</summary>
    public async Task ConnectAsync(LabSwitch sw, string ifname, params string[] addresses)
    {
        var port = $"{Name}-{ifname}";
        if (port.Length > 15) port = port[..15];
        await Shell.CheckAsync(_lab.Ip, "-n", Namespace, "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", sw.Namespace);
        await Shell.CheckAsync(_lab.Ip, "-n", sw.Namespace, "link", "set", port, "master", "br0", "up");
        foreach (var a in addresses)
        {
            await Shell.CheckAsync(_lab.Ip, "-n", Namespace, "addr", "add", a, "dev", ifname);
        }
        await Shell.CheckAsync(_lab.Ip, "-n", Namespace, "link", "set", ifname, "up");
        _ports[ifname] = (sw, port);
        await WaitForOperUpAsync(ifname);
    }

    /// <summary>
    /// Waits until the kernel calls the interface operationally up (IFF_RUNNING, what daemons watch).
    /// The carrier is there at once, but the kernel's linkwatch may report it up to a second later
    /// on a busy machine; a daemon started in between would begin in FAULT.
    /// </summary>
    public Task WaitForOperUpAsync(string ifname) =>
        Poll.UntilAsync(async () =>
        {
            var r = await Shell.RunAsync(_lab.Ip, "-n", Namespace, "-o", "link", "show", "dev", ifname);
            return r.ExitCode == 0 && r.Stdout.Contains("state UP", StringComparison.Ordinal) && r.Stdout.Contains("LOWER_UP", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), $"{Name}'s {ifname} operationally up");

    /// <summary>Runs a command inside this host's namespace and waits for it.</summary>
    public Task<CommandResult> ExecAsync(params string[] command) =>
        Shell.RunAsync(_lab.Ip, ["netns", "exec", Namespace, .. command]);

    public Task<CommandResult> ExecAsync(TimeSpan timeout, params string[] command) =>
        Shell.RunAsync(_lab.Ip, ["netns", "exec", Namespace, .. command], timeout);

    /// <summary>Runs a command inside the namespace and throws when it fails.</summary>
    public async Task<CommandResult> CheckAsync(params string[] command) => (await ExecAsync(command)).EnsureOk();

    /// <summary>Starts a long-running program in this namespace (same pid as the program: ip execs it);
    /// it is stopped when the lab is disposed.</summary>
    public LabProcess Start(string name, string program, IEnumerable<string> args, IDictionary<string, string>? env = null) =>
        _lab.Own(LabProcess.Start($"{Name}/{name}", _lab.Ip, ["netns", "exec", Namespace, program, .. args], env));

    /// <summary>Sets an interface of this host up or down (the host's own view: "ip link set down").</summary>
    public Task SetLinkAsync(string ifname, bool up) =>
        Shell.CheckAsync(_lab.Ip, "-n", Namespace, "link", "set", ifname, up ? "up" : "down");

    /// <summary>Pulls (or plugs back) the cable: the switch's port for this interface goes down, so
    /// the host sees carrier loss but keeps its own interface configured.</summary>
    public Task SetCableAsync(string ifname, bool connected)
    {
        var (sw, port) = _ports[ifname];
        return Shell.CheckAsync(_lab.Ip, "-n", sw.Namespace, "link", "set", port, connected ? "up" : "down");
    }

    /// <summary>The addresses on an interface, as "address/prefix".</summary>
    public async Task<IReadOnlyList<string>> AddressesAsync(string ifname)
    {
        var r = await Shell.RunAsync(_lab.Ip, "-j", "-n", Namespace, "addr", "show", "dev", ifname);
        if (!r.Ok) return [];
        using var doc = JsonDocument.Parse(r.Stdout);
        var list = new List<string>();
        foreach (var link in doc.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("addr_info", out var infos)) continue;
            foreach (var info in infos.EnumerateArray())
            {
                list.Add($"{info.GetProperty("local").GetString()}/{info.GetProperty("prefixlen").GetInt32()}");
            }
        }
        return list;
    }

    public async Task<bool> HasAddressAsync(string ifname, string address)
    {
        var bare = address.Split('/')[0];
        return (await AddressesAsync(ifname)).Any(a => a.Split('/')[0] == bare);
    }

    public async Task<string> MacAsync(string ifname)
    {
        var r = await Shell.CheckAsync(_lab.Ip, "-j", "-n", Namespace, "link", "show", "dev", ifname);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement[0].GetProperty("address").GetString()!;
    }

    /// <summary>The MAC this host's neighbour table holds for the address, or null.</summary>
    public async Task<string?> NeighborMacAsync(string address)
    {
        var r = await Shell.RunAsync(_lab.Ip, "-j", "-n", Namespace, "neigh", "show", "to", address);
        if (!r.Ok || string.IsNullOrWhiteSpace(r.Stdout)) return null;
        using var doc = JsonDocument.Parse(r.Stdout);
        foreach (var n in doc.RootElement.EnumerateArray())
        {
            if (n.TryGetProperty("lladdr", out var mac)) return mac.GetString();
        }
        return null;
    }

    /// <summary>One ping with a short wait; true when answered.</summary>
    public async Task<bool> PingAsync(string address, int waitSeconds = 1)
    {
        var ping = address.Contains(':') ? new[] { "ping", "-6" } : ["ping"];
        var r = await ExecAsync(TimeSpan.FromSeconds(waitSeconds + 5), [.. ping, "-c", "1", "-W", waitSeconds.ToString(), address]);
        return r.Ok;
    }

    /// <summary>Starts tcpdump on an interface of this host; stopped and read with <see cref="Capture"/>.</summary>
    public async Task<Capture> StartCaptureAsync(string ifname, string filter)
    {
        var file = Path.Combine(Path.GetTempPath(), $"{Namespace}-{ifname}-{Guid.NewGuid():N}.pcap");
        var tcpdump = Shell.Require("tcpdump");
        // --immediate-mode: without it, packets still in the capture ring when tcpdump is stopped are
        // lost (seen here: "2 received by filter, 0 captured"). -Z root: keep the file writable.
        var p = Start("tcpdump", tcpdump, ["-Z", "root", "--immediate-mode", "-i", ifname, "-U", "-n", "-w", file, filter]);
        await Poll.UntilAsync(() => p.Stderr.Contains("listening on") || p.HasExited, TimeSpan.FromSeconds(10), "tcpdump to start", () => p.Output);
        if (p.HasExited) throw new InvalidOperationException("tcpdump failed: " + p.Output);
        return new Capture(p, file);
    }
}

/// <summary>A packet capture running in a lab host; read it with tshark.</summary>
public sealed class Capture : IAsyncDisposable
{
    private readonly LabProcess _tcpdump;

    internal Capture(LabProcess tcpdump, string file)
    {
        _tcpdump = tcpdump;
        File = file;
    }

    public string File { get; }

    /// <summary>Stops the capture (SIGINT flushes the file).</summary>
    public async Task StopAsync()
    {
        if (_tcpdump.HasExited) return;
        _tcpdump.Signal(2);
        await _tcpdump.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>tshark's one-line summaries (or fields with -T fields -e ...) of what was captured so far.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(params string[] tsharkArgs)
    {
        var tshark = Shell.Require("tshark");
        var r = await Shell.RunAsync(tshark, ["-r", File, "-n", .. tsharkArgs], TimeSpan.FromSeconds(60));
        r.EnsureOk();
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>tcpdump's own verbose decoding (-v), the format keepalived's users know.</summary>
    public async Task<IReadOnlyList<string>> ReadTcpdumpAsync()
    {
        var r = await Shell.RunAsync(Shell.Require("tcpdump"), ["-r", File, "-n", "-v"], TimeSpan.FromSeconds(60));
        r.EnsureOk();
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { System.IO.File.Delete(File); } catch (IOException) { }
    }
}
