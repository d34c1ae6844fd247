using System.Net;
using System.Net.Sockets;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>Drives the pure machine for one instance by hand, with an explicit clock.</summary>
internal sealed class MachineHarness(VrrpInstanceConfig config)
{
    public VrrpInstanceState State { get; private set; } = VrrpInstanceState.Initial(config);
    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(100);
    public List<VrrpAction> All { get; } = [];

    public IReadOnlyList<VrrpAction> Step(VrrpEvent e)
    {
        var r = VrrpInstanceMachine.Step(State, e, Now);
        State = r.State;
        All.AddRange(r.Actions);
        return r.Actions;
    }

    public IReadOnlyList<VrrpAction> Start(IPAddress? source = null, bool up = true) =>
        Step(new StartupEvent(source ?? (config.Family == AddressFamily.InterNetwork ? TestPackets.Src4 : TestPackets.Src6), up));

    public void Advance(TimeSpan by) => Now += by;

    /// <summary>Moves the clock to the earliest due timer (not past <paramref name="limit"/>) and fires it.</summary>
    public IReadOnlyList<VrrpAction>? FireNext(TimeSpan? limit = null)
    {
        if (State.Timers.IsEmpty) return null;
        var (kind, at) = State.Timers.MinBy(t => t.Value);
        if (limit is { } l && at > l) return null;
        if (at > Now) Now = at;
        return Step(new TimerExpiredEvent(kind));
    }

    public IReadOnlyList<VrrpAction> Fire(VrrpTimerKind kind)
    {
        var at = State.TimerDue(kind) ?? throw new InvalidOperationException($"{kind} not armed");
        if (at > Now) Now = at;
        return Step(new TimerExpiredEvent(kind));
    }

    public IReadOnlyList<VrrpAction> Receive(VrrpAdvertisement advert, IPAddress? from = null) =>
        Step(new AdvertReceivedEvent(config.Family == AddressFamily.InterNetwork
            ? TestPackets.Ipv4(advert, from ?? TestPackets.Peer4, asV2: config.V3ChecksumAsV2)
            : TestPackets.Ipv6(advert, from)));

    public VrrpAdvertisement Advert(byte priority, int? centis = null) =>
        (config with { AdvertInterval = TimeSpan.FromMilliseconds((centis ?? config.AdvertIntervalCentiseconds) * 10) }).Advertisement(priority);
}

/// <summary>
/// Several nodes (each a whole <see cref="VrrpEngineState"/>) on one simulated LAN: adverts one
/// node sends are encoded with the real codec and delivered to the others at the same instant.
/// </summary>
internal sealed class SimLan
{
    public sealed class Node(string name, IPAddress address, VrrpEngineState state)
    {
        public string Name { get; } = name;
        public IPAddress Address { get; } = address;
        public VrrpEngineState State { get; set; } = state;
        public bool Deaf { get; set; }
        public bool Mute { get; set; }
        /// <summary>Instances whose adverts are lost on the way (a filter on one VLAN).</summary>
        public HashSet<string> Muted { get; } = [];
        public List<(TimeSpan At, string Instance, VrrpAction Action)> Log { get; } = [];
        public List<SyncGroupTransition> GroupLog { get; } = [];
        public VrrpInstanceState this[string instance] => State.Instances[instance];
    }

    private readonly List<Node> _nodes = [];
    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(1000);
    public List<(TimeSpan At, string From, VrrpAdvertisement Advert)> Wire { get; } = [];

    public Node Add(string name, string address, IEnumerable<VrrpInstanceConfig> instances, IEnumerable<VrrpSyncGroupConfig>? groups = null)
    {
        var node = new Node(name, IPAddress.Parse(address), VrrpEngineState.Create(instances, groups));
        _nodes.Add(node);
        return node;
    }

    public void Start(Node node)
    {
        foreach (var name in node.State.Instances.Keys.Order().ToList()) Dispatch(node, name, new StartupEvent(node.Address, true));
    }

    public void Dispatch(Node node, string instance, VrrpEvent e)
    {
        var step = VrrpEngine.Dispatch(node.State, instance, e, Now);
        node.State = step.State;
        node.GroupLog.AddRange(step.GroupTransitions);
        foreach (var (inst, action) in step.Actions)
        {
            node.Log.Add((Now, inst, action));
            if (action is SendAdvert send && !node.Mute && !node.Muted.Contains(inst)) Transmit(node, node.State.Instances[inst], send.Priority);
        }
    }

    private void Transmit(Node from, VrrpInstanceState sender, byte priority)
    {
        var c = sender.Config;
        var advert = c.Advertisement(priority);
        Wire.Add((Now, from.Name, advert));
        foreach (var to in _nodes.Where(n => n != from && !n.Deaf))
        {
            foreach (var (name, st) in to.State.Instances)
            {
                if (st.Config.Vrid != c.Vrid || st.Config.Family != c.Family) continue;
                var packet = c.Family == AddressFamily.InterNetwork
                    ? new VrrpReceivedPacket(AddressFamily.InterNetwork, VrrpDatagram.BuildIpv4(advert, from.Address, c.MulticastDestination, c.V3ChecksumAsV2))
                    : new VrrpReceivedPacket(AddressFamily.InterNetworkV6, VrrpDatagram.BuildIpv6(advert, from.Address, c.MulticastDestination), from.Address, c.MulticastDestination, 255);
                Dispatch(to, name, new AdvertReceivedEvent(packet));
            }
        }
    }

    /// <summary>Runs every timer of every node in time order until <paramref name="until"/>.</summary>
    public void RunUntil(TimeSpan until)
    {
        while (true)
        {
            var next = _nodes
                .SelectMany(n => n.State.Instances.SelectMany(i => i.Value.Timers.Select(t => (Node: n, Instance: i.Key, Kind: t.Key, At: t.Value))))
                .Where(t => t.At <= until)
                .OrderBy(t => t.At).ThenBy(t => t.Node.Name).ThenBy(t => t.Instance)
                .Cast<(Node Node, string Instance, VrrpTimerKind Kind, TimeSpan At)?>()
                .FirstOrDefault();
            if (next is not { } t) break;
            if (t.At > Now) Now = t.At;
            Dispatch(t.Node, t.Instance, new TimerExpiredEvent(t.Kind));
        }
        if (until > Now) Now = until;
    }

    public void RunFor(TimeSpan span) => RunUntil(Now + span);
}
