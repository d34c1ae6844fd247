using System.Text.Json;
using Vigil.Netlink.Route;
using Vigil.Testing;

namespace Vigil.Netlink.Tests.Lab;

/// <summary>
/// A namespace with eth0 cabled (veth) to a switch namespace, and an rtnetlink socket inside it;
/// everything is removed on dispose, even when the test failed.
/// </summary>
public sealed class NetlinkLab : IAsyncDisposable
{
    private NetlinkLab(Vigil.Testing.Lab lab, LabSwitch sw, LabHost host, Rtnetlink rtnl)
    {
        Lab = lab;
        Switch = sw;
        Host = host;
        Rtnl = rtnl;
    }

    public Vigil.Testing.Lab Lab { get; }
    public LabSwitch Switch { get; }
    public LabHost Host { get; }
    public Rtnetlink Rtnl { get; }
    public NetworkNamespace Namespace => NetworkNamespace.Named(Host.Namespace);

    public static async Task<NetlinkLab> CreateAsync()
    {
        var lab = await Vigil.Testing.Lab.CreateAsync();
        try
        {
            var sw = await lab.AddSwitchAsync();
            var host = await lab.AddHostAsync("h1", sw);
            return new NetlinkLab(lab, sw, host, Rtnetlink.Open(NetworkNamespace.Named(host.Namespace)));
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>ip -j ARGS</c> in the host's namespace and parses its JSON.</summary>
    public async Task<JsonElement> IpJsonAsync(params string[] args)
    {
        var r = await Host.CheckAsync(["ip", "-j", .. args]);
        var text = string.IsNullOrWhiteSpace(r.Stdout) ? "[]" : r.Stdout;
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Rtnl.Dispose();
        await Lab.DisposeAsync();
    }
}
