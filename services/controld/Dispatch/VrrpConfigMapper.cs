using Sockets = System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Vigil.Config.Model;
using Vigil.Vrrp.V1;
using Model = Vigil.Config.Model;

namespace Vigil.Controld.Dispatch;

/// <summary>
/// The VRRP part of a keepalived configuration as vigil-vrrpd's desired state: the config model
/// (keepalived's defaults and corrections already applied) mapped field by field to vigil.vrrp.v1.
/// </summary>
public static class VrrpConfigMapper
{
    public static VrrpConfig ToProto(KeepalivedConfig config)
    {
        var g = config.Global;
        var result = new VrrpConfig
        {
            Globals = new VrrpGlobals
            {
                StartupDelay = Duration.FromTimeSpan(g.VrrpStartupDelay),
                LogUnknownVrids = g.LogUnknownVrids,
                NotifyFifo = (g.VrrpNotifyFifo ?? g.NotifyFifo)?.Path ?? "",
                ScriptUser = User(g.ScriptUser, g.ScriptGroup),
                EnableScriptSecurity = g.EnableScriptSecurity,
                RouterId = g.RouterId ?? "",
            },
        };
        foreach (var s in config.VrrpScripts)
        {
            result.Scripts.Add(new Vrrp.V1.ScriptSpec
            {
                Name = s.Name,
                Script = s.Script.CommandLine,
                Interval = Duration.FromTimeSpan(s.Interval),
                Timeout = Duration.FromTimeSpan(s.Timeout),
                Weight = s.Weight,
                WeightReverse = s.WeightReverse,
                Rise = (uint)Math.Max(1, s.Rise),
                Fall = (uint)Math.Max(1, s.Fall),
                User = User(s.Script.User, s.Script.Group),
                InitFail = s.InitFail,
            });
        }
        foreach (var f in config.TrackFiles)
        {
            result.TrackFiles.Add(new TrackFileSpec
            {
                Name = f.Name,
                File = f.Path,
                Weight = f.Weight,
                WeightReverse = f.WeightReverse,
                HasInitValue = f.InitValue is not null,
                InitValue = f.InitValue ?? 0,
                InitOverwrite = f.InitOverwrite,
            });
        }
        foreach (var group in config.SyncGroups)
        {
            var spec = new SyncGroupSpec
            {
                Name = group.Name,
                Notify = Notify(group.NotifyMaster, group.NotifyBackup, group.NotifyFault, group.NotifyStop, null, group.Notify, null),
            };
            spec.Members.AddRange(group.Members);
            spec.TrackInterfaces.AddRange(group.TrackInterfaces.Select(TrackInterface));
            spec.TrackScripts.AddRange(group.TrackScripts.Select(TrackScript));
            spec.TrackFiles.AddRange(group.TrackFiles.Select(TrackFile));
            result.SyncGroups.Add(spec);
        }
        foreach (var i in config.Instances)
        {
            result.Instances.Add(Instance(i, config));
        }
        return result;
    }

    /// <summary>
    /// The instances vrrpd refused in its reply, one line each, for the log: vrrpd runs the
    /// others, and controld keeps running (keepalived too runs the instances it can).
    /// </summary>
    public static IEnumerable<string> Rejections(ApplyConfigResponse reply) =>
        reply.RejectedInstances.Select(r => $"vrrp_instance {r.Name} does not run: {r.Field}: {r.Reason}");

    private static InstanceSpec Instance(VrrpInstance i, KeepalivedConfig config)
    {
        var spec = new InstanceSpec
        {
            Name = i.Name,
            Interface = i.Interface ?? "",
            VirtualRouterId = (uint)i.VirtualRouterId,
            Family = i.Family == Sockets.AddressFamily.InterNetworkV6 ? Vrrp.V1.AddressFamily.Ipv6 : Vrrp.V1.AddressFamily.Ipv4,
            Version = (uint)i.Version,
            Priority = (uint)i.Priority,
            InitialMaster = i.State == VrrpState.Master,
            AdvertInterval = Duration.FromTimeSpan(i.AdvertInterval),
            Nopreempt = i.Nopreempt,
            PreemptDelay = Duration.FromTimeSpan(i.PreemptDelay),
            AuthType = i.Authentication switch
            {
                null => AuthType.None,
                { Type: VrrpAuthType.Pass } => AuthType.Pass,
                _ => AuthType.Ah,
            },
            AuthPassword = i.Authentication?.Password ?? "",
            SourceAddress = i.SourceAddress?.ToString() ?? "",
            UnicastTtl = (uint)(i.UnicastTtl ?? 255),
            CheckUnicastSource = i.CheckUnicastSource,
            MulticastGroup = i.MulticastGroup?.ToString() ?? "",
            DownTimerAdverts = (uint)i.DownTimerAdverts,
            LowerPrioNoAdvert = i.LowerPrioNoAdvert,
            HigherPrioSendAdvert = i.HigherPrioSendAdvert,
            Garp = new GarpSpec
            {
                MasterDelay = Duration.FromTimeSpan(i.GarpMasterDelay),
                MasterRepeat = (uint)i.GarpMasterRepeat,
                MasterRefresh = Duration.FromTimeSpan(i.GarpMasterRefresh),
                MasterRefreshRepeat = (uint)i.GarpMasterRefreshRepeat,
                LowerPrioDelay = Duration.FromTimeSpan(i.GarpLowerPrioDelay),
                LowerPrioRepeat = (uint)i.GarpLowerPrioRepeat,
                Interval = Duration.FromTimeSpan(i.Family == Sockets.AddressFamily.InterNetworkV6 ? config.Global.VrrpGnaInterval : config.Global.VrrpGarpInterval),
            },
            V3ChecksumAsV2 = i.V3ChecksumAsV2,
            Strict = i.StrictMode,
            SkipCheckAdvertAddresses = i.SkipCheckAdvAddr,
            SyncGroup = config.SyncGroupOf(i.Name)?.Name ?? "",
            Notify = Notify(i.NotifyMaster, i.NotifyBackup, i.NotifyFault, i.NotifyStop, i.NotifyDeletedScript, i.Notify, i.NotifyMasterRxLowerPri),
            UseVmac = i.UseVmac is not null,
            VmacInterface = i.UseVmac?.InterfaceName ?? "",
            VmacXmitBase = i.VmacXmitBase,
            DontTrackPrimary = i.DontTrackPrimary,
            Accept = i.Accept,
        };
        spec.VirtualAddresses.AddRange(i.VirtualIpAddresses.Select(Address));
        spec.ExcludedAddresses.AddRange(i.ExcludedVirtualIpAddresses.Select(Address));
        spec.UnicastPeers.AddRange(i.UnicastPeers.Select(p => new Vrrp.V1.UnicastPeer { Address = p.Address.ToString(), MinTtl = (uint)p.MinTtl, MaxTtl = (uint)p.MaxTtl }));
        spec.TrackInterfaces.AddRange(i.TrackInterfaces.Select(TrackInterface));
        spec.TrackScripts.AddRange(i.TrackScripts.Select(TrackScript));
        spec.TrackFiles.AddRange(i.TrackFiles.Select(TrackFile));
        // What vrrpd cannot install is left out (-t warned at the line: RoutingParts).
        spec.VirtualRoutes.AddRange(i.VirtualRoutes.Where(RoutingParts.IsInstallable).Select(Route));
        spec.VirtualRules.AddRange(i.VirtualRules.Where(r => r.Action != "l3mdev").Select(Rule));
        return spec;
    }

    private static VirtualRoute Route(IpRoute r) => new()
    {
        Destination = r.Destination?.ToString() ?? (r.Family == Sockets.AddressFamily.InterNetworkV6 ? "::/0" : "0.0.0.0/0"),
        Gateway = r.Via?.ToString() ?? "",
        Device = r.Device ?? "",
        Source = r.PreferredSource?.ToString() ?? "",
        Table = Table(r.Table),
        Metric = r.Metric ?? 0,
        Scope = r.Scope ?? "",
        Type = r.Type == "unicast" ? "" : r.Type,
        Onlink = r.OnLink,
        NoTrack = r.NoTrack,
    };

    private static VirtualRule Rule(IpRule r) => new()
    {
        From = r.From?.ToString() ?? "",
        To = r.To?.ToString() ?? "",
        Priority = r.Preference,
        Table = r.Action == "table" ? Table(r.Table) : 0,
        Action = r.Action == "table" ? "" : r.Action,
        GotoPriority = r.GotoTarget ?? 0,
        InputInterface = r.InputInterface ?? "",
        OutputInterface = r.OutputInterface ?? "",
        Fwmark = r.Fwmark ?? 0,
        Fwmask = r.FwmarkMask ?? 0,
        Invert = r.Not,
        Family = r.Family == Sockets.AddressFamily.InterNetworkV6 ? Vrrp.V1.AddressFamily.Ipv6 : Vrrp.V1.AddressFamily.Ipv4,
        NoTrack = r.NoTrack,
    };

    // 0 is vrrpd's "main"; a name -t could not resolve falls back to it (and was warned about).
    private static uint Table(string? table) => table is null ? 0 : RoutingParts.TableNumber(table) ?? 0;

    private static VirtualAddress Address(VirtualIpAddress a) => new()
    {
        Address = a.Address.ToString(),
        Broadcast = a.Broadcast?.ToString() ?? "",
        Device = a.Device ?? "",
        Scope = a.Scope ?? "",
        Label = a.Label ?? "",
        NoTrack = a.NoTrack,
        Nodad = a.NoDad,
        Noprefixroute = a.NoPrefixRoute,
        Home = a.Home,
    };

    private static Vrrp.V1.TrackInterface TrackInterface(TrackedInterface t) => new() { Interface = t.Name, Weight = t.Weight, Reverse = t.Reverse };

    // The model resolves a missing weight to the tracked object's own, so the reference always has one.
    private static TrackScript TrackScript(TrackedObject t) => new() { Script = t.Name, Weight = t.Weight, HasWeight = true, Reverse = t.Reverse };

    private static Vrrp.V1.TrackFile TrackFile(TrackedObject t) => new() { TrackFile_ = t.Name, Weight = t.Weight, HasWeight = true, Reverse = t.Reverse };

    private static NotifySpec Notify(Model.ScriptSpec? master, Model.ScriptSpec? backup, Model.ScriptSpec? fault, Model.ScriptSpec? stop,
        Model.ScriptSpec? deleted, Model.ScriptSpec? generic, Model.ScriptSpec? rxLower)
    {
        var user = new[] { master, backup, fault, stop, deleted, generic, rxLower }.FirstOrDefault(s => s?.User is not null);
        return new NotifySpec
        {
            NotifyMaster = master?.CommandLine ?? "",
            NotifyBackup = backup?.CommandLine ?? "",
            NotifyFault = fault?.CommandLine ?? "",
            NotifyStop = stop?.CommandLine ?? "",
            NotifyDeleted = deleted?.CommandLine ?? "",
            Notify = generic?.CommandLine ?? "",
            NotifyMasterRxLowerPri = rxLower?.CommandLine ?? "",
            User = User(user?.User, user?.Group),
        };
    }

    private static string User(string? user, string? group) => user is null ? "" : group is null ? user : $"{user}:{group}";
}
