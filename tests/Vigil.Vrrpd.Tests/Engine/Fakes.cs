using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

internal sealed record Sent(TimeSpan At, string Instance, byte[] Packet, IPAddress Destination)
{
    /// <summary>The VRRP message: after the IPv4 header for IPv4, the whole packet for IPv6.</summary>
    public VrrpAdvertisement Advert(AddressFamily family = AddressFamily.InterNetwork)
    {
        var offset = family == AddressFamily.InterNetwork ? 20 : 0;
        Assert.True(VrrpMessage.TryParse(Packet.AsSpan(offset), family, out var a, out var why), why.ToString());
        return a!;
    }
}

/// <summary>Records what the driver does through its interfaces; can forward adverts to other drivers.</summary>
internal sealed class FakeHost(ManualTimeProvider clock, string name = "node") : IVrrpTransport, IAddressManager, IArpSender, INotifier, IVrrpEventSink
{
    public string Name { get; } = name;
    public IPAddress Address { get; init; } = IPAddress.Parse("10.0.0.1");
    public ConcurrentQueue<Sent> Sent { get; } = new();
    public ConcurrentQueue<string> Calls { get; } = new();
    public ConcurrentQueue<(string Instance, VrrpAction Action)> Actions { get; } = new();
    public List<VrrpDriver> Peers { get; } = [];
    public Func<VrrpInstanceConfig, Exception?> AddVipsFails { get; set; } = _ => null;
    public bool Cabled { get; set; } = true;

    public ValueTask SendAsync(VrrpInstanceConfig instance, ReadOnlyMemory<byte> packet, IPAddress destination, CancellationToken ct)
    {
        Sent.Enqueue(new Sent(clock.Elapsed, instance.Name, packet.ToArray(), destination));
        if (Cabled)
            foreach (var peer in Peers)
                peer.PostPacket(new VrrpReceivedPacket(instance.Family, packet.ToArray(), Interface: instance.Interface));
        return ValueTask.CompletedTask;
    }

    public ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken ct)
    {
        if (AddVipsFails(instance) is { } e) throw e;
        Calls.Enqueue($"add {instance.Name}");
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken ct)
    {
        Calls.Enqueue($"remove {instance.Name}");
        return ValueTask.CompletedTask;
    }

    public ValueTask ChangeVipsAsync(VrrpInstanceConfig instance, IReadOnlyList<IPAddress> added, IReadOnlyList<IPAddress> removed, CancellationToken ct)
    {
        Calls.Enqueue($"change {instance.Name} +[{string.Join(' ', added)}] -[{string.Join(' ', removed)}]");
        return ValueTask.CompletedTask;
    }

    public ValueTask AnnounceAsync(string interfaceName, IPAddress address, CancellationToken ct)
    {
        Calls.Enqueue($"garp {interfaceName} {address} @{clock.Elapsed.TotalSeconds:0.######}");
        return ValueTask.CompletedTask;
    }

    public ValueTask NotifyInstanceAsync(string instance, VrrpNotifyState state, byte priority, CancellationToken ct)
    {
        Calls.Enqueue($"notify INSTANCE {instance} {state.ToString().ToUpperInvariant()} {priority}");
        return ValueTask.CompletedTask;
    }

    public ValueTask NotifyGroupAsync(string group, VrrpStateKind state, CancellationToken ct)
    {
        Calls.Enqueue($"notify GROUP {group} {state.ToString().ToUpperInvariant()}");
        return ValueTask.CompletedTask;
    }

    public void OnAction(string instance, VrrpAction action, VrrpInstanceState state) => Actions.Enqueue((instance, action));
    public void OnGroupTransition(SyncGroupTransition transition) => Calls.Enqueue($"group {transition.Group} {transition.From}->{transition.To}");
    public void OnUnknownVrid(string? interfaceName, AddressFamily family, byte vrid, IPAddress? source) => Calls.Enqueue($"unknown vrid {vrid}");

    public VrrpDriverDependencies Dependencies() => new(this, this, this, this, clock, null, this);
}
