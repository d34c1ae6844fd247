using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Vigil.Testing;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Platform;

namespace Vigil.Vrrpd.Tests;

/// <summary>
/// A Vigil VRRP node inside a lab host, in this process: real raw sockets and AF_PACKET frames
/// opened in the host's namespace, the real driver, and VIPs set with "ip addr" (the daemon will
/// use Vigil.Netlink; this test stand-in has the same visible effect).
/// </summary>
internal sealed class VigilNode : IAsyncDisposable, IAddressManager, INotifier
{
    private readonly CancellationTokenSource _cts = new();
    private readonly LabHost _host;
    private Task? _loop;
    private Task? _receive;

    public VrrpDriver Driver { get; }
    public LinuxVrrpTransport Transport { get; }
    public LinuxArpSender Arp { get; }
    public ConcurrentQueue<string> Notifications { get; } = new();

    private VigilNode(LabHost host, VrrpInstanceConfig[] instances, VrrpSyncGroupConfig[] groups)
    {
        _host = host;
        (Transport, Arp) = Netns.Run(host, () =>
        {
            var t = LinuxVrrpTransport.Open(instances);
            var a = new LinuxArpSender();
            foreach (var i in instances.Select(i => i.Interface).Distinct()) a.Prepare(i);
            return (t, a);
        });
        Driver = new VrrpDriver(VrrpEngineState.Create(instances, groups), new VrrpDriverDependencies(Transport, this, Arp, this));
    }

    public static async Task<VigilNode> StartAsync(LabHost host, VrrpInstanceConfig[] instances, VrrpSyncGroupConfig[]? groups = null)
    {
        var node = new VigilNode(host, instances, groups ?? []);
        node._loop = node.Driver.RunAsync(node._cts.Token);
        node._receive = node.Transport.ReceiveAsync(node.Driver.PostPacket, node._cts.Token);
        // A veth reports carrier (IFF_RUNNING) a moment after "ip link set up" (linkwatch), and the
        // daemon learns it from its link monitor; here the node simply starts once the lab is ready.
        Dictionary<string, LinuxInterfaceInfo> infos = [];
        await Poll.UntilAsync(() =>
        {
            infos = Netns.Run(host, () => instances.Select(i => i.Interface).Distinct().ToDictionary(n => n, LinuxInterfaces.Get));
            return instances.All(i => infos[i.Interface].IsUp && infos[i.Interface].SourceFor(i.Family) is not null);
        }, TimeSpan.FromSeconds(10), $"{host.Name}'s interfaces to be up with addresses", () => string.Join("; ", infos.Values));
        await node.Driver.StartAllAsync(c => (infos[c.Interface].SourceFor(c.Family), infos[c.Interface].IsUp));
        return node;
    }

    public VrrpInstanceState this[string instance] => Driver.State.Instances[instance];

    public Task WaitForStateAsync(string instance, VrrpStateKind state, TimeSpan timeout) =>
        Poll.UntilAsync(() => this[instance].State == state, timeout, $"{_host.Name}/{instance} to be {state}",
            () => $"{_host.Name}/{instance} is {this[instance].State}, stats {this[instance].Stats}");

    /// <summary>Clean stop: masters send priority 0 and release their VIPs.</summary>
    public async Task StopAsync()
    {
        if (_loop is null) return;
        await Driver.StopAsync();
        await Halt();
    }

    /// <summary>As if the process were killed: no priority 0, VIPs stay where they are.</summary>
    public Task CrashAsync() => Halt();

    private async Task Halt()
    {
        await _cts.CancelAsync();
        try { if (_loop is not null) await _loop; } catch (OperationCanceledException) { }
        try { if (_receive is not null) await _receive; } catch (OperationCanceledException) { }
        _loop = null;
        Transport.Dispose();
        Arp.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_loop is not null) await Halt();
    }

    private static string Cidr(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork ? $"{a}/32" : $"{a}/128";

    public async ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        foreach (var vip in instance.VirtualAddresses.Concat(instance.ExcludedVirtualAddresses))
            await _host.CheckAsync("ip", "addr", "replace", Cidr(vip), "dev", instance.Interface);
    }

    public async ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        foreach (var vip in instance.VirtualAddresses.Concat(instance.ExcludedVirtualAddresses))
            await _host.ExecAsync("ip", "addr", "del", Cidr(vip), "dev", instance.Interface);
    }

    public async ValueTask ChangeVipsAsync(VrrpInstanceConfig instance, IReadOnlyList<IPAddress> added, IReadOnlyList<IPAddress> removed, CancellationToken cancellationToken)
    {
        foreach (var vip in removed) await _host.ExecAsync("ip", "addr", "del", Cidr(vip), "dev", instance.Interface);
        foreach (var vip in added) await _host.CheckAsync("ip", "addr", "replace", Cidr(vip), "dev", instance.Interface);
    }

    public ValueTask NotifyInstanceAsync(string instance, VrrpNotifyState state, byte priority, CancellationToken cancellationToken)
    {
        Notifications.Enqueue($"INSTANCE \"{instance}\" {state.ToString().ToUpperInvariant()} {priority}");
        return ValueTask.CompletedTask;
    }

    public ValueTask NotifyGroupAsync(string group, VrrpStateKind state, CancellationToken cancellationToken)
    {
        Notifications.Enqueue($"GROUP \"{group}\" {state.ToString().ToUpperInvariant()}");
        return ValueTask.CompletedTask;
    }
}
