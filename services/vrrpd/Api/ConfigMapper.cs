using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Vigil.Hosting;
using Vigil.Netlink;
using Vigil.Netlink.Route;
using Vigil.Scripts;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Daemon;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using AddressFamily = System.Net.Sockets.AddressFamily;
using ProtoFamily = Vigil.Vrrp.V1.AddressFamily;

namespace Vigil.Vrrpd.Api;

/// <summary>An instance vigil-vrrpd does not run: the field by path and what is wrong with it.</summary>
internal sealed record InstanceRejection(string Name, string Field, string Reason)
{
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>What ApplyConfig runs, and the instances it refuses (each for its own reason).</summary>
internal sealed record MappedConfig(DaemonConfig Config, IReadOnlyList<InstanceRejection> Rejected);

/// <summary>
/// vigil.vrrp.v1.VrrpConfig -> <see cref="DaemonConfig"/>. Every value is checked at this edge and a
/// problem is named by path (<c>instances[VI_1].virtual_router_id</c>) and what is wrong. A problem
/// of one instance refuses that instance only (<see cref="Map"/>): the others run, like keepalived
/// runs the instances it can. Problems of the whole (globals, scripts, track files, sync-group
/// lists) throw <see cref="InvalidArgumentException"/>, and nothing is applied.
/// Zero (unset) values that have a keepalived default get it (see the proto's InstanceSpec).
/// </summary>
internal static class ConfigMapper
{
    private const int MaxWeight = 253;

    /// <summary>All or nothing: the first problem, of an instance too, throws.</summary>
    public static DaemonConfig ToDaemonConfig(VrrpConfig? config)
    {
        var mapped = Map(config);
        if (mapped.Rejected.Count > 0) throw new InvalidArgumentException(mapped.Rejected[0].Field, mapped.Rejected[0].Reason);
        return mapped.Config;
    }

    /// <summary>
    /// Every valid instance, and the refused ones with their reasons: a bad value, a VRID or VMAC
    /// taken by an earlier instance, or membership of a sync group that has a refused member
    /// (a group runs whole or not at all).
    /// </summary>
    public static MappedConfig Map(VrrpConfig? config)
    {
        if (config is null) throw new InvalidArgumentException("config", "missing (send an empty VrrpConfig to remove every instance)");
        var globals = MapGlobals(config.Globals ?? new VrrpGlobals());

        var scripts = new Dictionary<string, TrackScriptDefinition>(StringComparer.Ordinal);
        for (var i = 0; i < config.Scripts.Count; i++)
        {
            var s = MapScript(config.Scripts[i], i);
            if (!scripts.TryAdd(s.Name, s)) throw new InvalidArgumentException($"scripts[{s.Name}].name", $"vrrp_script {s.Name} is defined twice");
        }
        var files = new Dictionary<string, TrackFileDefinition>(StringComparer.Ordinal);
        for (var i = 0; i < config.TrackFiles.Count; i++)
        {
            var f = MapTrackFile(config.TrackFiles[i], i);
            if (!files.TryAdd(f.Name, f)) throw new InvalidArgumentException($"track_files[{f.Name}].name", $"vrrp_track_file {f.Name} is defined twice");
        }

        // Which group each instance belongs to, from the groups' member lists.
        var memberOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var groupNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.SyncGroups.Count; i++)
        {
            var g = config.SyncGroups[i];
            var path = $"sync_groups[{(g.Name.Length > 0 ? g.Name : i.ToString(CultureInfo.InvariantCulture))}]";
            if (string.IsNullOrWhiteSpace(g.Name)) throw new InvalidArgumentException($"{path}.name", "a vrrp_sync_group needs a name");
            if (!groupNames.Add(g.Name)) throw new InvalidArgumentException($"{path}.name", $"vrrp_sync_group {g.Name} is defined twice");
            if (g.Members.Count == 0) throw new InvalidArgumentException($"{path}.members", $"vrrp_sync_group {g.Name} has no members");
            foreach (var m in g.Members)
            {
                if (memberOf.TryGetValue(m, out var other))
                    throw new InvalidArgumentException($"{path}.members", $"instance {m} is already a member of vrrp_sync_group {other}");
                memberOf[m] = g.Name;
            }
        }

        var instances = new List<InstanceDefinition>();
        var rejected = new List<InstanceRejection>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Instances.Count; i++)
        {
            var spec = config.Instances[i];
            var key = spec.Name.Length > 0 ? spec.Name : i.ToString(CultureInfo.InvariantCulture);
            var path = $"instances[{key}]";
            try
            {
                if (string.IsNullOrWhiteSpace(spec.Name)) throw new InvalidArgumentException($"{path}.name", "a vrrp_instance needs a name");
                // The first of two same-named instances runs; the second is refused.
                if (!names.Add(spec.Name)) throw new InvalidArgumentException($"{path}.name", $"vrrp_instance {spec.Name} is defined twice");
                memberOf.TryGetValue(spec.Name, out var group);
                if (spec.SyncGroup.Length > 0 && spec.SyncGroup != group)
                    throw new InvalidArgumentException($"{path}.sync_group", group is null
                        ? $"vrrp_sync_group {spec.SyncGroup} does not exist or does not list {spec.Name} as a member"
                        : $"names {spec.SyncGroup} but vrrp_sync_group {group} lists it");
                instances.Add(MapInstance(spec, path, group, globals, scripts, files));
            }
            catch (InvalidArgumentException e)
            {
                names.Add(spec.Name);
                rejected.Add(Rejection(key, e));
            }
        }
        foreach (var (member, group) in memberOf)
        {
            if (!names.Contains(member))
                throw new InvalidArgumentException($"sync_groups[{group}].members", $"vrrp_sync_group {group}: instance {member} does not exist");
        }
        // VRID clashes: two instances of one family on one interface cannot share a VRID unless
        // both are unicast (the sender then tells them apart), as keepalived requires. Two VMACs
        // of one name would be one interface. The first instance keeps it; later ones are refused.
        foreach (var twice in instances.Where(d => d.Vmac is not null).GroupBy(d => d.Vmac!.Name).Where(g => g.Count() > 1).ToList())
        {
            foreach (var later in twice.Skip(1))
            {
                rejected.Add(new InstanceRejection(later.Name, $"instances[{later.Name}].vmac_interface", $"VMAC {twice.Key} is used by {string.Join(" and ", twice.Select(d => d.Name))}"));
                instances.Remove(later);
            }
        }
        foreach (var clash in instances.GroupBy(d => (Interface: d.SourceInterface, d.Config.Family, d.Config.Vrid)).Where(g => g.Count() > 1).ToList())
        {
            if (clash.All(d => d.Config.IsUnicast)) continue;
            var list = clash.Select(d => d.Name).ToList();
            foreach (var later in clash.Skip(1))
            {
                rejected.Add(new InstanceRejection(later.Name, $"instances[{later.Name}].virtual_router_id",
                    $"VRID {clash.Key.Vrid} is used by {string.Join(" and ", list)} on {clash.Key.Interface} ({FamilyText(clash.Key.Family)})"));
                instances.Remove(later);
            }
        }
        // A sync group runs whole or not at all: a refused member refuses the others.
        var refusedGroups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in config.SyncGroups)
        {
            var refusedMember = g.Members.FirstOrDefault(m => !instances.Any(d => d.Name == m));
            if (refusedMember is null) continue;
            refusedGroups.Add(g.Name);
            foreach (var member in instances.Where(d => g.Members.Contains(d.Name)).ToList())
            {
                rejected.Add(new InstanceRejection(member.Name, $"instances[{member.Name}].sync_group",
                    $"vrrp_sync_group {g.Name} cannot run: its member {refusedMember} is refused"));
                instances.Remove(member);
            }
        }

        var groups = new List<SyncGroupDefinition>();
        foreach (var g in config.SyncGroups.Where(g => !refusedGroups.Contains(g.Name)))
        {
            var path = $"sync_groups[{g.Name}]";
            groups.Add(new SyncGroupDefinition(
                new VrrpSyncGroupConfig(g.Name, [.. g.Members]),
                MapNotify(g.Notify, $"{path}.notify"),
                MapTrackInterfaces(g.TrackInterfaces, path),
                MapTrackScripts(g.TrackScripts, path, scripts),
                MapTrackFiles(g.TrackFiles, path, files),
                $"{g.Name}:{string.Join(',', g.Members)}"));
        }

        var result = new DaemonConfig
        {
            Instances = instances,
            Groups = groups,
            Scripts = scripts,
            TrackFiles = files,
            Globals = globals,
        };
        try
        {
            // The engine's own checks, so nothing the engine would refuse gets half-applied.
            _ = VrrpEngineState.Create(instances.Select(d => d.Config), groups.Select(g => g.Config));
        }
        catch (ArgumentException e)
        {
            throw new InvalidArgumentException(e.ParamName ?? "config", Message(e));
        }
        return new MappedConfig(result, rejected);
    }

    private static InstanceRejection Rejection(string name, InvalidArgumentException e)
    {
        // The exception's message is "FIELD: REASON"; the rejection keeps them apart.
        var prefix = e.Field + ": ";
        return new InstanceRejection(name, e.Field, e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message);
    }

    private static DaemonGlobals MapGlobals(VrrpGlobals g) => new()
    {
        StartupDelay = Duration(g.StartupDelay, "globals.startup_delay", TimeSpan.Zero, TimeSpan.FromHours(1)) ?? TimeSpan.Zero,
        LogUnknownVrids = g.LogUnknownVrids,
        NotifyFifo = g.NotifyFifo.Length == 0 ? null
            : Path.IsPathRooted(g.NotifyFifo) ? g.NotifyFifo
            : throw new InvalidArgumentException("globals.notify_fifo", $"'{g.NotifyFifo}' must be an absolute path"),
        ScriptUser = g.ScriptUser.Length == 0 ? null : User(g.ScriptUser, "globals.script_user"),
        EnableScriptSecurity = g.EnableScriptSecurity,
        RouterId = g.RouterId.Length == 0 ? null : g.RouterId,
    };

    private static InstanceDefinition MapInstance(InstanceSpec spec, string path, string? group, DaemonGlobals globals,
        IReadOnlyDictionary<string, TrackScriptDefinition> scripts, IReadOnlyDictionary<string, TrackFileDefinition> files)
    {
        if (string.IsNullOrWhiteSpace(spec.Interface)) throw new InvalidArgumentException($"{path}.interface", "missing");
        if (spec.Interface.Length > 15) throw new InvalidArgumentException($"{path}.interface", $"'{spec.Interface}' is longer than 15 characters");
        if (spec.VirtualRouterId is < 1 or > 255) throw new InvalidArgumentException($"{path}.virtual_router_id", $"{spec.VirtualRouterId} is not 1..255");
        var priority = spec.Priority == 0 ? VrrpConstants.PriorityDefault : spec.Priority;
        if (priority > 255) throw new InvalidArgumentException($"{path}.priority", $"{spec.Priority} is not 1..255");
        var version = spec.Version switch
        {
            0 or 2 => VrrpVersion.V2,
            3 => VrrpVersion.V3,
            _ => throw new InvalidArgumentException($"{path}.version", $"{spec.Version} is not 2 or 3"),
        };
        // use_vmac: the instance runs on a macvlan named after the VRID unless named; its VIPs live there.
        var useVmac = spec.UseVmac || spec.VmacInterface.Length > 0;
        var iface = spec.Interface;
        if (useVmac)
        {
            iface = spec.VmacInterface.Length > 0 ? spec.VmacInterface : $"vrrp.{spec.VirtualRouterId}";
            if (iface.Length > 15) throw new InvalidArgumentException($"{path}.vmac_interface", $"'{iface}' is longer than 15 characters");
            if (iface == spec.Interface) throw new InvalidArgumentException($"{path}.vmac_interface", $"the VMAC cannot be the interface {spec.Interface} itself");
            if (spec.VmacXmitBase) throw new InvalidArgumentException($"{path}.vmac_xmit_base", "vmac_xmit_base is not supported yet by vigil-vrrpd");
        }

        var vips = spec.VirtualAddresses.Select((v, i) => MapVip(v, $"{path}.virtual_addresses[{i}]", iface)).ToList();
        var evips = spec.ExcludedAddresses.Select((v, i) => MapVip(v, $"{path}.excluded_addresses[{i}]", iface)).ToList();
        var source = spec.SourceAddress.Length == 0 ? null : Address(spec.SourceAddress, $"{path}.source_address");
        var peers = spec.UnicastPeers.Select((p, i) => MapPeer(p, $"{path}.unicast_peers[{i}]")).ToList();
        var group4 = spec.MulticastGroup.Length == 0 ? null : Address(spec.MulticastGroup, $"{path}.multicast_group");

        var family = spec.Family switch
        {
            ProtoFamily.Ipv4 => AddressFamily.InterNetwork,
            ProtoFamily.Ipv6 => AddressFamily.InterNetworkV6,
            ProtoFamily.Unspecified => vips.FirstOrDefault()?.Address.AddressFamily ?? source?.AddressFamily
                ?? peers.FirstOrDefault()?.Address.AddressFamily ?? AddressFamily.InterNetwork,
            _ => throw new InvalidArgumentException($"{path}.family", $"unknown family {(int)spec.Family}"),
        };
        for (var i = 0; i < vips.Count; i++)
        {
            if (vips[i].Address.AddressFamily != family)
                throw new InvalidArgumentException($"{path}.virtual_addresses[{i}]",
                    $"{vips[i].Address} is not {FamilyText(family)} like the instance (put addresses of the other family in virtual_ipaddress_excluded)");
        }
        if (useVmac && family == AddressFamily.InterNetworkV6)
            throw new InvalidArgumentException($"{path}.use_vmac", "use_vmac for IPv6 instances is not supported yet by vigil-vrrpd");
        if (group4 is not null && (!group4.IsMulticast() || group4.AddressFamily != family))
            throw new InvalidArgumentException($"{path}.multicast_group", $"{group4} is not an {FamilyText(family)} multicast address");

        var interval = Duration(spec.AdvertInterval, $"{path}.advert_interval", TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(255)) ?? TimeSpan.FromSeconds(1);
        var garp = spec.Garp;
        var auth = spec.AuthType switch
        {
            AuthType.Unspecified or AuthType.None => VrrpAuthType.None,
            AuthType.Pass => VrrpAuthType.SimplePassword,
            AuthType.Ah => VrrpAuthType.IpsecAh,
            _ => throw new InvalidArgumentException($"{path}.auth_type", $"unknown auth type {(int)spec.AuthType}"),
        };
        if (spec.DownTimerAdverts > 100) throw new InvalidArgumentException($"{path}.down_timer_adverts", $"{spec.DownTimerAdverts} is not 1..100");
        if (spec.UnicastTtl > 255) throw new InvalidArgumentException($"{path}.unicast_ttl", $"{spec.UnicastTtl} is not 1..255");

        var config = new VrrpInstanceConfig
        {
            Name = spec.Name,
            Interface = iface,
            Vrid = (byte)spec.VirtualRouterId,
            Family = family,
            Version = version,
            Priority = (byte)priority,
            InitialState = spec.InitialMaster ? VrrpStateKind.Master : VrrpStateKind.Backup,
            AdvertInterval = interval,
            // keepalived ignores nopreempt and preempt_delay on a "state MASTER" instance.
            Nopreempt = spec.Nopreempt && !spec.InitialMaster,
            PreemptDelay = spec.InitialMaster ? TimeSpan.Zero
                : Duration(spec.PreemptDelay, $"{path}.preempt_delay", TimeSpan.Zero, TimeSpan.FromSeconds(1000)) ?? TimeSpan.Zero,
            AuthType = auth,
            AuthPassword = spec.AuthPassword.Length == 0 ? null : spec.AuthPassword,
            VirtualAddresses = vips.Select(v => v.Address).ToList(),
            ExcludedVirtualAddresses = evips.Select(v => v.Address).ToList(),
            SourceAddress = source,
            UnicastPeers = peers,
            UnicastTtl = spec.UnicastTtl == 0 ? VrrpConstants.Ttl : (byte)spec.UnicastTtl,
            CheckUnicastSource = spec.CheckUnicastSource,
            MulticastGroup = group4,
            DownTimerAdverts = spec.DownTimerAdverts == 0 ? 3 : (int)spec.DownTimerAdverts,
            LowerPrioNoAdvert = spec.LowerPrioNoAdvert,
            HigherPrioSendAdvert = spec.HigherPrioSendAdvert,
            GarpMasterDelay = garp is null ? TimeSpan.FromSeconds(5) : Duration(garp.MasterDelay, $"{path}.garp.master_delay", TimeSpan.Zero, TimeSpan.FromHours(1)) ?? TimeSpan.Zero,
            GarpMasterRepeat = garp is null ? 5 : Count(garp.MasterRepeat, $"{path}.garp.master_repeat"),
            GarpMasterRefresh = garp is null ? TimeSpan.Zero : Duration(garp.MasterRefresh, $"{path}.garp.master_refresh", TimeSpan.Zero, TimeSpan.FromDays(1)) ?? TimeSpan.Zero,
            GarpMasterRefreshRepeat = garp is null ? 1 : Count(garp.MasterRefreshRepeat, $"{path}.garp.master_refresh_repeat"),
            GarpLowerPrioDelay = garp is null ? TimeSpan.Zero : Duration(garp.LowerPrioDelay, $"{path}.garp.lower_prio_delay", TimeSpan.Zero, TimeSpan.FromHours(1)) ?? TimeSpan.Zero,
            GarpLowerPrioRepeat = garp is null ? 0 : Count(garp.LowerPrioRepeat, $"{path}.garp.lower_prio_repeat"),
            StartupDelay = globals.StartupDelay,
            V3ChecksumAsV2 = spec.V3ChecksumAsV2,
            Strict = spec.Strict,
            SkipCheckAdvertAddresses = spec.SkipCheckAdvertAddresses,
            SyncGroup = group,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidArgumentException($"{path}.{ProtoField(e.ParamName)}", Message(e));
        }

        return new InstanceDefinition(
            config,
            vips,
            evips,
            MapTrackInterfaces(spec.TrackInterfaces, path),
            MapTrackScripts(spec.TrackScripts, path, scripts),
            MapTrackFiles(spec.TrackFiles, path, files),
            MapNotify(spec.Notify, $"{path}.notify"),
            spec.DontTrackPrimary,
            Key(spec) + "|" + (group ?? ""))
        {
            Vmac = useVmac ? new VmacSpec(iface, spec.Interface, MacvlanLink.VrrpMac((byte)spec.VirtualRouterId)) : null,
            Routes = spec.VirtualRoutes.Select((r, i) => MapRoute(r, $"{path}.virtual_routes[{i}]", iface)).ToList(),
            Rules = spec.VirtualRules.Select((r, i) => MapRule(r, $"{path}.virtual_rules[{i}]", family)).ToList(),
        };
    }

    /// <summary>The engine's keyword names, as the proto spells the field.</summary>
    private static string ProtoField(string? keyword) => keyword switch
    {
        null => "spec",
        "advert_int" => "advert_interval",
        "virtual_ipaddress" => "virtual_addresses",
        "unicast_peer" => "unicast_peers",
        "unicast_src_ip" => "source_address",
        "auth_pass" => "auth_password",
        "authentication" => "auth_type",
        "garp_master_delay" => "garp",
        "garp_master_repeat" => "garp",
        _ => keyword,
    };

    /// <summary>An ArgumentException's message without .NET's " (Parameter 'x')" tail.</summary>
    internal static string Message(ArgumentException e)
    {
        var tail = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && e.Message.EndsWith(tail, StringComparison.Ordinal) ? e.Message[..^tail.Length] : e.Message;
    }

    private static string Key(IMessage message) => Convert.ToBase64String(message.ToByteArray());

    private static string FamilyText(AddressFamily f) => f == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private static VirtualAddressSpec MapVip(VirtualAddress v, string path, string defaultDevice)
    {
        if (!IPPrefix.TryParse(v.Address, out var prefix))
            throw new InvalidArgumentException($"{path}.address", $"'{v.Address}' is not an address or address/prefix");
        IPAddress? brd = null;
        var autoBrd = false;
        if (v.Broadcast == "+") autoBrd = true;
        else if (v.Broadcast.Length > 0)
        {
            brd = Address(v.Broadcast, $"{path}.broadcast");
            if (!prefix.IsIPv4 || brd.AddressFamily != AddressFamily.InterNetwork)
                throw new InvalidArgumentException($"{path}.broadcast", "brd is for IPv4 addresses only");
        }
        var device = v.Device.Length == 0 ? defaultDevice : v.Device;
        if (device.Length > 15) throw new InvalidArgumentException($"{path}.device", $"'{device}' is longer than 15 characters");
        var scope = Scope(v.Scope, $"{path}.scope");
        if (v.Label.Length > 15) throw new InvalidArgumentException($"{path}.label", $"'{v.Label}' is longer than 15 characters");
        if (v.Label.Length > 0 && !prefix.IsIPv4) throw new InvalidArgumentException($"{path}.label", "labels are for IPv4 addresses only");
        var flags = AddressFlags.None;
        if (v.Nodad) flags |= AddressFlags.NoDad;
        if (v.Noprefixroute) flags |= AddressFlags.NoPrefixRoute;
        if (v.Home) flags |= AddressFlags.HomeAddress;
        return new VirtualAddressSpec(prefix, device, brd, autoBrd, scope, v.Label.Length == 0 ? null : v.Label, flags, v.NoTrack);
    }

    private static Route MapRoute(VirtualRoute r, string path, string defaultDevice)
    {
        if (!IPPrefix.TryParse(r.Destination, out var destination))
            throw new InvalidArgumentException($"{path}.destination", $"'{r.Destination}' is not an address/prefix");
        var gateway = r.Gateway.Length == 0 ? null : Address(r.Gateway, $"{path}.gateway");
        var source = r.Source.Length == 0 ? null : Address(r.Source, $"{path}.source");
        if (gateway is not null && gateway.AddressFamily != destination.AddressFamily)
            throw new InvalidArgumentException($"{path}.gateway", $"{gateway} is not of the destination's family");
        if (source is not null && source.AddressFamily != destination.AddressFamily)
            throw new InvalidArgumentException($"{path}.source", $"{source} is not of the destination's family");
        if (r.Device.Length > 15) throw new InvalidArgumentException($"{path}.device", $"'{r.Device}' is longer than 15 characters");
        RouteType? type = r.Type.ToLowerInvariant() switch
        {
            "" or "unicast" => null,
            "blackhole" => RouteType.Blackhole,
            "unreachable" => RouteType.Unreachable,
            "prohibit" => RouteType.Prohibit,
            "throw" => RouteType.Throw,
            _ => throw new InvalidArgumentException($"{path}.type", $"'{r.Type}' is not unicast, blackhole, unreachable, prohibit or throw"),
        };
        // A unicast route needs somewhere to go: without a gateway, the instance's interface.
        string? device = r.Device.Length > 0 ? r.Device : type is null && gateway is null ? defaultDevice : null;
        return new Route
        {
            Destination = destination,
            Gateway = gateway,
            Interface = device is null ? default(InterfaceRef?) : InterfaceRef.FromName(device),
            PreferredSource = source,
            Table = r.Table == 0 ? null : r.Table,
            Metric = r.Metric == 0 ? null : r.Metric,
            Scope = Scope(r.Scope, $"{path}.scope"),
            Type = type,
            OnLink = r.Onlink,
            // keepalived marks its routes as its own (RTPROT_KEEPALIVED), so they can be told apart.
            Protocol = RouteProtocol.Keepalived,
        };
    }

    private static RoutingRule MapRule(VirtualRule r, string path, AddressFamily instanceFamily)
    {
        IPPrefix? Prefix(string text, string field) =>
            text.Length == 0 ? null : IPPrefix.TryParse(text, out var p) ? p : throw new InvalidArgumentException($"{path}.{field}", $"'{text}' is not an address/prefix");
        var from = Prefix(r.From, "from");
        var to = Prefix(r.To, "to");
        if (from is { } f && to is { } t && f.AddressFamily != t.AddressFamily)
            throw new InvalidArgumentException($"{path}.to", "from and to are of different families");
        var family = from?.AddressFamily ?? to?.AddressFamily ?? r.Family switch
        {
            ProtoFamily.Ipv4 => AddressFamily.InterNetwork,
            ProtoFamily.Ipv6 => AddressFamily.InterNetworkV6,
            _ => instanceFamily,
        };
        RuleAction? action = r.Action.ToLowerInvariant() switch
        {
            "" or "table" or "lookup" => null,
            "goto" => RuleAction.Goto,
            "nop" => RuleAction.Nop,
            "blackhole" => RuleAction.Blackhole,
            "unreachable" => RuleAction.Unreachable,
            "prohibit" => RuleAction.Prohibit,
            _ => throw new InvalidArgumentException($"{path}.action", $"'{r.Action}' is not table, goto, nop, blackhole, unreachable or prohibit"),
        };
        if (action == RuleAction.Goto && (r.GotoPriority == 0 || (r.Priority != 0 && r.GotoPriority <= r.Priority)))
            throw new InvalidArgumentException($"{path}.goto_priority", "goto needs a target priority above the rule's own");
        if (r.Fwmask != 0 && r.Fwmark == 0) throw new InvalidArgumentException($"{path}.fwmask", "a mask needs a fwmark");
        if (r.InputInterface.Length > 15) throw new InvalidArgumentException($"{path}.input_interface", "longer than 15 characters");
        if (r.OutputInterface.Length > 15) throw new InvalidArgumentException($"{path}.output_interface", "longer than 15 characters");
        return new RoutingRule
        {
            Family = family,
            Priority = r.Priority == 0 ? null : r.Priority,
            From = from,
            To = to,
            Table = r.Table == 0 ? null : r.Table,
            Action = action,
            GotoPriority = action == RuleAction.Goto ? r.GotoPriority : null,
            InputInterface = r.InputInterface.Length == 0 ? null : r.InputInterface,
            OutputInterface = r.OutputInterface.Length == 0 ? null : r.OutputInterface,
            FirewallMark = r.Fwmark == 0 ? null : r.Fwmark,
            FirewallMask = r.Fwmask == 0 ? null : r.Fwmask,
            Invert = r.Invert,
            Protocol = RouteProtocol.Keepalived,
        };
    }

    private static AddressScope? Scope(string text, string path) => text.ToLowerInvariant() switch
    {
        "" => null,
        "global" => AddressScope.Global,
        "site" => AddressScope.Site,
        "link" => AddressScope.Link,
        "host" => AddressScope.Host,
        "nowhere" => AddressScope.Nowhere,
        var n when byte.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var b) => (AddressScope)b,
        _ => throw new InvalidArgumentException(path, $"'{text}' is not global, site, link, host, nowhere or 0..255"),
    };

    private static VrrpUnicastPeer MapPeer(UnicastPeer p, string path)
    {
        var address = Address(p.Address, $"{path}.address");
        if (p.MinTtl > 255) throw new InvalidArgumentException($"{path}.min_ttl", $"{p.MinTtl} is not 0..255");
        if (p.MaxTtl > 255) throw new InvalidArgumentException($"{path}.max_ttl", $"{p.MaxTtl} is not 0..255");
        var max = p.MaxTtl == 0 ? 255 : p.MaxTtl;
        if (p.MinTtl > max) throw new InvalidArgumentException($"{path}.min_ttl", $"min_ttl {p.MinTtl} is above max_ttl {max}");
        return new VrrpUnicastPeer(address, (byte)p.MinTtl, (byte)max);
    }

    private static List<TrackInterfaceSpec> MapTrackInterfaces(IEnumerable<TrackInterface> list, string path) =>
        list.Select((t, i) =>
        {
            var p = $"{path}.track_interfaces[{i}]";
            if (string.IsNullOrWhiteSpace(t.Interface) || t.Interface.Length > 15) throw new InvalidArgumentException($"{p}.interface", $"'{t.Interface}' is not an interface name");
            return new TrackInterfaceSpec(t.Interface, Weight(t.Weight, $"{p}.weight", MaxWeight), t.Reverse);
        }).ToList();

    private static List<TrackScriptRef> MapTrackScripts(IEnumerable<TrackScript> list, string path, IReadOnlyDictionary<string, TrackScriptDefinition> scripts) =>
        list.Select((t, i) =>
        {
            var p = $"{path}.track_scripts[{i}]";
            if (!scripts.TryGetValue(t.Script, out var s)) throw new InvalidArgumentException($"{p}.script", $"vrrp_script '{t.Script}' is not defined");
            return t.HasWeight
                ? new TrackScriptRef(t.Script, Weight(t.Weight, $"{p}.weight", MaxWeight), t.Reverse)
                : new TrackScriptRef(t.Script, s.Weight, s.WeightReverse ^ t.Reverse);
        }).ToList();

    private static List<TrackFileRef> MapTrackFiles(IEnumerable<TrackFile> list, string path, IReadOnlyDictionary<string, TrackFileDefinition> files) =>
        list.Select((t, i) =>
        {
            var p = $"{path}.track_files[{i}]";
            if (!files.TryGetValue(t.TrackFile_, out var f)) throw new InvalidArgumentException($"{p}.track_file", $"vrrp_track_file '{t.TrackFile_}' is not defined");
            return t.HasWeight
                ? new TrackFileRef(t.TrackFile_, Weight(t.Weight, $"{p}.weight", 254), t.Reverse)
                : new TrackFileRef(t.TrackFile_, f.Weight, f.WeightReverse ^ t.Reverse);
        }).ToList();

    private static NotifySpecs MapNotify(NotifySpec? n, string path)
    {
        if (n is null) return NotifySpecs.None;
        return new NotifySpecs
        {
            Master = Script(n.NotifyMaster, $"{path}.notify_master"),
            Backup = Script(n.NotifyBackup, $"{path}.notify_backup"),
            Fault = Script(n.NotifyFault, $"{path}.notify_fault"),
            Stop = Script(n.NotifyStop, $"{path}.notify_stop"),
            Deleted = Script(n.NotifyDeleted, $"{path}.notify_deleted"),
            Generic = Script(n.Notify, $"{path}.notify"),
            MasterRxLowerPriority = Script(n.NotifyMasterRxLowerPri, $"{path}.notify_master_rx_lower_pri"),
            User = n.User.Length == 0 ? null : User(n.User, $"{path}.user"),
        };
    }

    private static TrackScriptDefinition MapScript(ScriptSpec s, int index)
    {
        var path = $"scripts[{(s.Name.Length > 0 ? s.Name : index.ToString(CultureInfo.InvariantCulture))}]";
        if (string.IsNullOrWhiteSpace(s.Name)) throw new InvalidArgumentException($"{path}.name", "a vrrp_script needs a name");
        var command = Script(s.Script, $"{path}.script") ?? throw new InvalidArgumentException($"{path}.script", "missing");
        var interval = Duration(s.Interval, $"{path}.interval", TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
        if (interval == TimeSpan.Zero) interval = null;
        var timeout = Duration(s.Timeout, $"{path}.timeout", TimeSpan.Zero, TimeSpan.FromDays(1));
        var i = interval ?? TimeSpan.FromSeconds(1);
        if (s.Rise > 1000) throw new InvalidArgumentException($"{path}.rise", $"{s.Rise} is not 1..1000");
        if (s.Fall > 1000) throw new InvalidArgumentException($"{path}.fall", $"{s.Fall} is not 1..1000");
        return new TrackScriptDefinition(
            s.Name,
            command,
            i,
            // keepalived: without a timeout, a run may last one interval.
            timeout is { } t && t > TimeSpan.Zero ? t : i,
            Weight(s.Weight, $"{path}.weight", MaxWeight),
            s.WeightReverse,
            s.Rise == 0 ? 1 : (int)s.Rise,
            s.Fall == 0 ? 1 : (int)s.Fall,
            s.User.Length == 0 ? null : User(s.User, $"{path}.user"),
            s.InitFail,
            Key(s));
    }

    private static TrackFileDefinition MapTrackFile(TrackFileSpec f, int index)
    {
        var path = $"track_files[{(f.Name.Length > 0 ? f.Name : index.ToString(CultureInfo.InvariantCulture))}]";
        if (string.IsNullOrWhiteSpace(f.Name)) throw new InvalidArgumentException($"{path}.name", "a vrrp_track_file needs a name");
        if (f.File.Length == 0 || !Path.IsPathRooted(f.File)) throw new InvalidArgumentException($"{path}.file", $"'{f.File}' must be an absolute path");
        return new TrackFileDefinition(f.Name, f.File, Weight(f.Weight, $"{path}.weight", 254), f.WeightReverse,
            f.HasInitValue ? f.InitValue : null, f.InitOverwrite, Key(f));
    }

    private static ScriptCommand? Script(string text, string path)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!ScriptCommand.TryParse(text, out var command, out var error)) throw new InvalidArgumentException(path, error ?? "cannot be parsed");
        return command;
    }

    private static ScriptUser User(string text, string path)
    {
        try
        {
            var user = ScriptUser.Parse(text);
            _ = user.Resolve();
            return user;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new InvalidArgumentException(path, e.Message);
        }
    }

    private static IPAddress Address(string text, string path)
    {
        if (text.Contains('/') || !IPAddress.TryParse(text, out var a) || a.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || (a.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3))
            throw new InvalidArgumentException(path, $"'{text}' is not an IPv4 or IPv6 address");
        return a;
    }

    private static int Weight(int weight, string path, int max)
    {
        if (weight < -max || weight > max) throw new InvalidArgumentException(path, $"{weight} is not {-max}..{max}");
        return weight;
    }

    private static int Count(uint value, string path) =>
        value <= 10_000 ? (int)value : throw new InvalidArgumentException(path, $"{value} is more than 10000");

    private static TimeSpan? Duration(Google.Protobuf.WellKnownTypes.Duration? d, string path, TimeSpan min, TimeSpan max)
    {
        if (d is null) return null;
        if (d.Seconds < 0 || d.Nanos < 0 || d.Nanos >= 1_000_000_000) throw new InvalidArgumentException(path, $"{d} is not a valid non-negative duration");
        if (d.Seconds > (long)max.TotalSeconds + 1) throw new InvalidArgumentException(path, $"{d.Seconds} s is more than {max.TotalSeconds} s");
        var t = d.ToTimeSpan();
        if (t == TimeSpan.Zero) return null;
        if (t < min || t > max) throw new InvalidArgumentException(path, $"{t.TotalSeconds} s is not {min.TotalSeconds}..{max.TotalSeconds} s");
        return t;
    }

    private static bool IsMulticast(this IPAddress a) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 ? a.IsIPv6Multicast : (a.GetAddressBytes()[0] & 0xf0) == 0xe0;
}
