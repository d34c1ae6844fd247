using System.Net;
using Vigil.Netlink;
using Vigil.Netlink.Route;
using Vigil.Scripts;
using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// The whole desired configuration of the daemon, validated and resolved: what ApplyConfig
/// carries, in core types. Immutable; a reload replaces it.
/// </summary>
public sealed record DaemonConfig
{
    public static readonly DaemonConfig Empty = new();

    public IReadOnlyList<InstanceDefinition> Instances { get; init; } = [];
    public IReadOnlyList<SyncGroupDefinition> Groups { get; init; } = [];

    /// <summary>vrrp_script blocks by name.</summary>
    public IReadOnlyDictionary<string, TrackScriptDefinition> Scripts { get; init; } = new Dictionary<string, TrackScriptDefinition>();

    /// <summary>vrrp_track_file blocks by name.</summary>
    public IReadOnlyDictionary<string, TrackFileDefinition> TrackFiles { get; init; } = new Dictionary<string, TrackFileDefinition>();

    public DaemonGlobals Globals { get; init; } = new();

    public InstanceDefinition? Instance(string name) => Instances.FirstOrDefault(i => i.Name == name);

    public SyncGroupDefinition? Group(string name) => Groups.FirstOrDefault(g => g.Name == name);
}

/// <summary>global_defs settings of the VRRP plane.</summary>
public sealed record DaemonGlobals
{
    public TimeSpan StartupDelay { get; init; }
    public bool LogUnknownVrids { get; init; }

    /// <summary>notify_fifo / vrrp_notify_fifo; null for none.</summary>
    public string? NotifyFifo { get; init; }

    /// <summary>script_user: the user of scripts that name none; null = the daemon's own.</summary>
    public ScriptUser? ScriptUser { get; init; }

    public bool EnableScriptSecurity { get; init; }
    public string? RouterId { get; init; }
}

/// <summary>
/// One vrrp_instance: the engine's <see cref="VrrpInstanceConfig"/> plus what the daemon around
/// it needs (address options, trackers, notify scripts).
/// </summary>
/// <param name="FullKey">identifies the whole specification (trackers and notifies included): equal
/// keys mean nothing about the instance changed on a reload.</param>
public sealed record InstanceDefinition(
    VrrpInstanceConfig Config,
    IReadOnlyList<VirtualAddressSpec> VirtualAddresses,
    IReadOnlyList<VirtualAddressSpec> ExcludedAddresses,
    IReadOnlyList<TrackInterfaceSpec> TrackInterfaces,
    IReadOnlyList<TrackScriptRef> TrackScripts,
    IReadOnlyList<TrackFileRef> TrackFiles,
    NotifySpecs Notify,
    bool DontTrackPrimary,
    string FullKey)
{
    public string Name => Config.Name;

    /// <summary><c>use_vmac</c>: the instance's <see cref="VrrpInstanceConfig.Interface"/> is this macvlan.</summary>
    public VmacSpec? Vmac { get; init; }

    /// <summary>virtual_routes: added (protocol keepalived) with the VIPs, removed before them.</summary>
    public IReadOnlyList<Route> Routes { get; init; } = [];

    /// <summary>virtual_rules: added after the routes, removed first.</summary>
    public IReadOnlyList<RoutingRule> Rules { get; init; } = [];

    /// <summary>The interface whose address adverts are sent from (the VMAC's parent with use_vmac).</summary>
    public string SourceInterface => Vmac?.BaseInterface ?? Config.Interface;

    /// <summary>Every address the instance adds when MASTER.</summary>
    public IEnumerable<VirtualAddressSpec> AllAddresses => VirtualAddresses.Concat(ExcludedAddresses);
}

/// <summary>One address of virtual_ipaddress / virtual_ipaddress_excluded, with its "ip addr add" options.</summary>
public sealed record VirtualAddressSpec(
    IPPrefix Prefix,
    string Device,
    IPAddress? Broadcast = null,
    bool AutoBroadcast = false,
    AddressScope? Scope = null,
    string? Label = null,
    AddressFlags Flags = AddressFlags.None,
    bool NoTrack = false)
{
    public IPAddress Address => Prefix.Address;

    /// <summary>What is sent to the kernel (IPv6 VIPs get nodad always, as keepalived gives them).</summary>
    public InterfaceAddress ToInterfaceAddress() => new()
    {
        Interface = Device,
        Address = Prefix,
        Broadcast = Broadcast,
        AutoBroadcast = AutoBroadcast,
        Scope = Scope,
        Label = Label,
        Flags = Prefix.IsIPv4 ? Flags : Flags | AddressFlags.NoDad,
    };

    public override string ToString() => ToInterfaceAddress().ToString();
}

/// <summary>track_interface entry: weight -253..253, 0 = FAULT while down.</summary>
public sealed record TrackInterfaceSpec(string Interface, int Weight, bool Reverse);

/// <summary>track_script entry: the vrrp_script and the weight in effect for this instance.</summary>
public sealed record TrackScriptRef(string Script, int Weight, bool Reverse);

/// <summary>track_file entry: the vrrp_track_file and the weight in effect for this instance.</summary>
public sealed record TrackFileRef(string TrackFile, int Weight, bool Reverse);

/// <summary>notify_* scripts of an instance or a sync group.</summary>
public sealed record NotifySpecs
{
    public static readonly NotifySpecs None = new();

    public ScriptCommand? Master { get; init; }
    public ScriptCommand? Backup { get; init; }
    public ScriptCommand? Fault { get; init; }
    public ScriptCommand? Stop { get; init; }
    public ScriptCommand? Deleted { get; init; }

    /// <summary>The generic <c>notify</c> script: gets INSTANCE|GROUP name state priority appended.</summary>
    public ScriptCommand? Generic { get; init; }

    public ScriptCommand? MasterRxLowerPriority { get; init; }

    /// <summary>The user the scripts run as; null = script_user.</summary>
    public ScriptUser? User { get; init; }
}

/// <summary>One vrrp_sync_group.</summary>
public sealed record SyncGroupDefinition(
    VrrpSyncGroupConfig Config,
    NotifySpecs Notify,
    IReadOnlyList<TrackInterfaceSpec> TrackInterfaces,
    IReadOnlyList<TrackScriptRef> TrackScripts,
    IReadOnlyList<TrackFileRef> TrackFiles,
    string Key)
{
    public string Name => Config.Name;
}

/// <summary>A vrrp_script block.</summary>
public sealed record TrackScriptDefinition(
    string Name,
    ScriptCommand Command,
    TimeSpan Interval,
    TimeSpan Timeout,
    int Weight,
    bool WeightReverse,
    int Rise,
    int Fall,
    ScriptUser? User,
    bool InitFail,
    string Key);

/// <summary>A vrrp_track_file block.</summary>
public sealed record TrackFileDefinition(
    string Name,
    string Path,
    int Weight,
    bool WeightReverse,
    long? InitValue,
    bool InitOverwrite,
    string Key);
