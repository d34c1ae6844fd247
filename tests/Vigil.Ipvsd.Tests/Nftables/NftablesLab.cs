using System.Net;
using System.Net.Sockets;
using System.Text;
using Vigil.Testing;

namespace Vigil.Ipvsd.Tests.Nftables;

/// <summary>
/// An LVS-NAT network in namespaces: a client on the front LAN (with extra addresses, to be many
/// clients), a director on both LANs forwarding between them (holding the VIPs), and three real
/// servers on the back LAN whose default route is the director, each serving HTTP on port 80
/// with its own name as the page. Shared by the tests of a class; deleted on dispose.
/// </summary>
public sealed class NftablesLab : IAsyncLifetime
{
    public const string Vip = "10.1.0.100";
    /// <summary>For the port 0 service.</summary>
    public const string Vip2 = "10.1.0.101";
    /// <summary>For the fwmark service.</summary>
    public const string Vip3 = "10.1.0.102";
    public const string Vip6 = "fd01::100";
    public static readonly string[] Names = ["rs1", "rs2", "rs3"];
    public static readonly string[] Addresses = ["10.2.0.11", "10.2.0.12", "10.2.0.13"];
    public static readonly string[] Addresses6 = ["fd02::11", "fd02::12", "fd02::13"];
    /// <summary>The client's extra source addresses, one /24.</summary>
    public static readonly string[] Clients = Enumerable.Range(50, 16).Select(i => $"10.1.0.{i}").ToArray();

    private Lab? _lab;
    private string? _dir;

    public LabHost Client { get; private set; } = null!;
    public LabHost Director { get; private set; } = null!;
    public LabHost[] Servers { get; private set; } = [];
    public string Nft { get; } = Shell.Require("/usr/sbin/nft");

    public async Task InitializeAsync()
    {
        _lab = await Lab.CreateAsync();
        try
        {
            await BuildAsync(_lab);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync(Lab lab)
    {
        var front = await lab.AddSwitchAsync("front");
        var back = await lab.AddSwitchAsync("back");
        Director = await lab.AddHostAsync("director", front, "10.1.0.1/24", $"{Vip}/24", $"{Vip2}/24", $"{Vip3}/24", "fd01::1/64", $"{Vip6}/64");
        await Director.ConnectAsync(back, "eth1", "10.2.0.1/24", "fd02::1/64");
        // keepalived never enables forwarding; an LVS-NAT director needs it.
        await Director.CheckAsync("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        Client = await lab.AddHostAsync("client", front, ["10.1.0.2/24", "fd01::2/64", .. Clients.Select(c => c + "/24")]);
        await Client.CheckAsync("ip", "route", "add", "default", "via", "10.1.0.1");
        await Client.CheckAsync("ip", "-6", "route", "add", "default", "via", "fd01::1");
        _dir = Directory.CreateTempSubdirectory("vigil-nft-lab-").FullName;
        var servers = new List<LabHost>();
        for (var i = 0; i < Names.Length; i++)
        {
            var rs = await lab.AddHostAsync(Names[i], back, $"{Addresses[i]}/24", $"{Addresses6[i]}/64");
            await rs.CheckAsync("ip", "route", "add", "default", "via", "10.2.0.1");
            await rs.CheckAsync("ip", "-6", "route", "add", "default", "via", "fd02::1");
            var root = Path.Combine(_dir, Names[i]);
            Directory.CreateDirectory(root);
            await File.WriteAllTextAsync(Path.Combine(root, "index.html"), Names[i] + "\n");
            // http.server run as a module binds "::" dual-stack: one server for IPv4 and IPv6.
            rs.Start("http", Shell.Require("/usr/bin/python3"), ["-m", "http.server", "80", "--bind", "::", "--directory", root]);
            servers.Add(rs);
        }
        Servers = [.. servers];
        for (var i = 0; i < Names.Length; i++)
        {
            var (name, v4, v6) = (Names[i], Addresses[i], Addresses6[i]);
            await Poll.UntilAsync(async () => await TryGetAsync(Director, v4, 80) == name && await TryGetAsync(Director, v6, 80) == name,
                TimeSpan.FromSeconds(20), $"{name}'s HTTP server");
        }
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null) await _lab.DisposeAsync();
        _lab = null;
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
        _dir = null;
    }

    /// <summary>
    /// One HTTP/1.0 GET on a new connection (NAT decides per connection) from a socket made in
    /// the host's namespace, optionally from one of its addresses; the page (a server's name).
    /// </summary>
    public static async Task<string> GetAsync(LabHost from, string address, int port, string? source = null)
    {
        var ip = IPAddress.Parse(address);
        using var socket = Netns.Run(from, () =>
        {
            var s = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (source is not null) s.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            return s;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.ConnectAsync(new IPEndPoint(ip, port), timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET / HTTP/1.0\r\nHost: {address}\r\n\r\n"), SocketFlags.None, timeout.Token);
        using var response = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) response.Write(buffer, 0, n);
        var text = Encoding.ASCII.GetString(response.ToArray());
        var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (!text.StartsWith("HTTP/1.0 200", StringComparison.Ordinal) || body < 0) throw new InvalidOperationException($"unexpected answer from {address}:{port}: {text}");
        return text[(body + 4)..].Trim();
    }

    public static async Task<string?> TryGetAsync(LabHost from, string address, int port)
    {
        try
        {
            return await GetAsync(from, address, port);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Which server answered how many of <paramref name="count"/> requests.</summary>
    public async Task<Dictionary<string, int>> HitsAsync(string address, int port, int count, string? source = null, LabHost? from = null)
    {
        var hits = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = await GetAsync(from ?? Client, address, port, source);
            hits[name] = hits.GetValueOrDefault(name) + 1;
        }
        return hits;
    }

    /// <summary>Runs nft in the director's namespace (an out-of-band edit, or a listing).</summary>
    public async Task<string> NftAsync(params string[] args) => (await Director.CheckAsync([Nft, .. args])).Stdout;
}
