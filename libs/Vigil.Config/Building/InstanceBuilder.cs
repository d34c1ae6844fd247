using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    /// <summary>A vrrp_instance as read, with keepalived's "not set" markers, before completion.</summary>
    private sealed class VrrpDraft
    {
        public required string Name { get; init; }
        public required SourcePosition At { get; init; }
        public SourcePosition End { get; set; }
        public VrrpState? WantState { get; set; }
        public string? Interface { get; set; }
        public SourcePosition InterfaceAt { get; set; }
        public string? Vrf { get; set; }
        public bool UseVmac { get; set; }
        public SourcePosition UseVmacAt { get; set; }
        public string? VmacName { get; set; }
        public PhysicalAddress? VmacMac { get; set; }
        public bool VmacMacUsesVrid { get; set; }
        public bool UseVmacAddr { get; set; }
        public bool VmacXmitBase { get; set; }
        public bool UseIpvlan { get; set; }
        public string? IpvlanName { get; set; }
        public IpPrefix? IpvlanAddress { get; set; }
        public IpvlanMode IpvlanMode { get; set; }
        public bool UnicastConfigured { get; set; }
        public bool UnicastFaultNoPeer { get; set; }
        public bool CheckUnicastSource { get; set; }
        public OldUnicastChecksum OldChecksum { get; set; }
        public AddressFamily? Family { get; set; }
        public int Version { get; set; }
        public int Vrid { get; set; }
        public int Ttl { get; set; } = -1;
        public int BasePriority { get; set; }
        public TimeSpan AdvertInterval { get; set; }
        public int Debug { get; set; }
        public bool SkipCheckAdvAddr { get; set; }
        public bool? StrictMode { get; set; }
        public bool Nopreempt { get; set; }
        public TimeSpan PreemptDelay { get; set; }
        public ScriptSpec? NotifyMaster { get; set; }
        public ScriptSpec? NotifyBackup { get; set; }
        public ScriptSpec? NotifyFault { get; set; }
        public ScriptSpec? NotifyStop { get; set; }
        public ScriptSpec? NotifyDeletedScript { get; set; }
        public bool NotifyDeleted { get; set; }
        public ScriptSpec? Notify { get; set; }
        public ScriptSpec? NotifyMasterRxLowerPri { get; set; }
        public bool? SmtpAlert { get; set; }
        public bool? NotifyPriorityChanges { get; set; }
        public TimeSpan GarpDelay { get; set; }
        public int GarpRepeat { get; set; }
        public TimeSpan GarpRefresh { get; set; }
        public int GarpRefreshRepeat { get; set; }
        public TimeSpan? GarpLowerPrioDelay { get; set; }
        public int? GarpLowerPrioRepeat { get; set; }
        public TimeSpan? GarpExtraIf { get; set; }
        public bool GarpExtraIfAll { get; set; }
        public int DownTimerAdverts { get; set; }
        public bool? LowerPrioNoAdvert { get; set; }
        public bool? HigherPrioSendAdvert { get; set; }
        public uint? KernelRxBufSize { get; set; }
        public VrrpAuthType? AuthType { get; set; }
        public string AuthPass { get; set; } = "";
        public bool? Accept { get; set; }
        public IPAddress? SourceAddress { get; set; }
        public bool TrackSourceAddress { get; set; }
        public IPAddress? McastDst { get; set; }
        public bool PromoteSecondaries { get; set; }
        public bool DontTrackPrimary { get; set; }
        public bool NativeIpv6 { get; set; }
        public bool V3ChecksumAsV2 { get; set; }
        public List<TrackedInterface> TrackInterfaces { get; } = [];
        public List<TrackedObject> TrackScripts { get; } = [];
        public List<TrackedObject> TrackFiles { get; } = [];
        public List<TrackedObject> TrackProcesses { get; } = [];
        public List<TrackedObject> TrackBfds { get; } = [];
        public List<UnicastPeer> UnicastPeers { get; } = [];
        public List<VirtualIpAddress> Vips { get; } = [];
        public List<SourcePosition> VipPositions { get; } = [];
        public List<VirtualIpAddress> Evips { get; } = [];
        public List<IpRoute> Routes { get; } = [];
        public List<IpRule> Rules { get; } = [];
        public SyncGroupDraft? Sync { get; set; }
    }

    private void VrrpInstanceBlock(ConfigNode node)
    {
        ReportChildren(node);
        if (node.ArgCount != 1)
        {
            _diag.Error(node.Position, "vrrp_instance must have a name");
            return;
        }
        var name = node.Arg(0)!;
        if (_instances.Any(i => i.Name == name))
        {
            _diag.Error(node.ArgPosition(0), $"vrrp instance {name} already defined");
            return;
        }
        var g = _global;
        var v = new VrrpDraft
        {
            Name = name,
            At = node.Position,
            End = node.End,
            GarpDelay = g.VrrpGarpMasterDelay,
            GarpRepeat = g.VrrpGarpMasterRepeat,
            GarpRefresh = g.VrrpGarpMasterRefresh,
            GarpRefreshRepeat = g.VrrpGarpMasterRefreshRepeat,
            DownTimerAdverts = g.VrrpDownTimerAdverts,
            SkipCheckAdvAddr = g.VrrpSkipCheckAdvAddr,
        };
        foreach (var n in node.Children) InstanceKeyword(v, n);
        InstanceEnd(v);
        _instances.Add(v);
    }

    private void InstanceKeyword(VrrpDraft v, ConfigNode n)
    {
        var name = v.Name;
        switch (n.Keyword)
        {
            case "use_vmac":
                UseVmacKeyword(v, n);
                break;
            case "use_vmac_addr":
                v.UseVmacAddr = true;
                break;
            case "vmac_xmit_base":
                v.VmacXmitBase = true;
                break;
            case "use_ipvlan":
                UseIpvlanKeyword(v, n);
                break;
            case "unicast_peer":
                v.UnicastConfigured = true;
                foreach (var p in n.Children) UnicastPeerLine(v, p);
                break;
            case "unicast_fault_no_peer":
                v.UnicastConfigured = true;
                v.UnicastFaultNoPeer = true;
                break;
            case "check_unicast_src":
                v.UnicastConfigured = true;
                v.CheckUnicastSource = true;
                break;
            case "old_unicast_checksum":
                v.UnicastConfigured = true;
                if (n.ArgCount >= 1)
                {
                    if (n.Arg(0) == "never") v.OldChecksum = OldUnicastChecksum.Never;
                    else _diag.Error(n.ArgPosition(0), $"({name}) Unknown old_unicast_chksum mode {n.Arg(0)} - ignoring");
                }
                else
                {
                    v.OldChecksum = OldUnicastChecksum.Use;
                }
                break;
            case "native_ipv6":
                if (v.Family == AddressFamily.InterNetwork)
                {
                    _diag.Error(n.Position, $"({name}) Cannot specify native_ipv6 with IPv4 addresses");
                    break;
                }
                v.NativeIpv6 = true;
                v.Family = AddressFamily.InterNetworkV6;
                v.Version = 3;
                break;
            case "state":
                if (_values.Required(n, 0) is not { } state) break;
                if (state == "MASTER") v.WantState = VrrpState.Master;
                else if (state == "BACKUP")
                {
                    if (v.WantState == VrrpState.Master) _diag.Error(n.ArgPosition(0), $"({name}) state previously set as MASTER - ignoring BACKUP");
                    else v.WantState = VrrpState.Backup;
                }
                else
                {
                    _diag.Error(n.ArgPosition(0), $"({name}) unknown state '{state}', defaulting to BACKUP");
                    v.WantState = VrrpState.Backup;
                }
                break;
            case "interface":
                InterfaceKeyword(v, n);
                break;
            case "vrf":
                if (_values.Required(n, 0) is not { } vrf) break;
                if (vrf.Length >= 16) _diag.Error(n.ArgPosition(0), $"({name}) VRF interface name '{vrf}' too long - ignoring");
                else if (v.Interface is not null) _diag.Error(n.ArgPosition(0), $"({name}) Cannot specify VRF interface and interface - ignoring");
                else if (v.Vrf is not null) _diag.Error(n.ArgPosition(0), $"({name}) VRF interface already specified as '{v.Vrf}' - ignoring");
                else if (!CheckInterfaceExists(n.Token(1)!.Value, fatal: false, what: "vrf")) _diag.Warning(n.ArgPosition(0), $"({name}) WARNING - VRF interface {vrf} doesn't exist");
                else v.Vrf = vrf;
                break;
            case "dont_track_primary":
                v.DontTrackPrimary = true;
                break;
            case "track_interface":
                foreach (var c in n.Children) TrackInterface(name, c, v.TrackInterfaces);
                break;
            case "track_script":
                foreach (var c in n.Children) TrackScript(name, c, v.TrackScripts);
                break;
            case "track_file":
                foreach (var c in n.Children) TrackFileRef(name, c, v.TrackFiles);
                break;
            case "track_process":
                foreach (var c in n.Children) TrackProcessRef(name, c, v.TrackProcesses);
                break;
            case "track_bfd":
                foreach (var c in n.Children) TrackBfdRef(name, c, v.TrackBfds);
                break;
            case "mcast_src_ip":
            case "unicast_src_ip":
                if (n.Keyword == "unicast_src_ip") v.UnicastConfigured = true;
                SourceIpKeyword(v, n);
                break;
            case "mcast_dst_ip":
                McastDstKeyword(v, n);
                break;
            case "track_src_ip":
                v.TrackSourceAddress = true;
                break;
            case "virtual_router_id":
                if (_values.TryUnsigned(n, 0, 1, 255, out var vrid)) v.Vrid = (int)vrid;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): VRID '{n.Arg(0)}' not valid - must be between 1 & 255");
                break;
            case "unicast_ttl":
                if (_values.TryUnsigned(n, 0, 0, 255, out var ttl)) v.Ttl = (int)ttl;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): TTL '{n.Arg(0)}' not valid - must be between 0 & 255");
                break;
            case "version":
                if (!_values.TryInt(n, 0, 2, 3, out var version))
                {
                    if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): Version must be either 2 or 3");
                    break;
                }
                if ((v.Version != 0 && v.Version != version) || (version == 2 && v.Family == AddressFamily.InterNetworkV6))
                {
                    _diag.Error(n.ArgPosition(0), $"({name}) vrrp_version {version} conflicts with configured or deduced version {v.Version}; ignoring.");
                    break;
                }
                v.Version = (int)version;
                break;
            case "priority":
                if (_values.TryUnsigned(n, 0, 1, 255, out var prio)) v.BasePriority = (int)prio;
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"({name}) Priority not valid! must be between 1 & 255. Using default 100");
                    v.BasePriority = 100;
                }
                break;
            case "advert_int":
                if (_values.Required(n, 0) is { } adv)
                {
                    if (_values.TryDecimal(adv, n.ArgPosition(0), 6, 10_000, 255UL * 1_000_000, out var micros) && micros > 0)
                    {
                        v.AdvertInterval = TimeSpan.FromTicks((long)micros * 10);
                    }
                    else
                    {
                        _diag.Error(n.ArgPosition(0), $"({name}) Advert interval ({adv}) not valid! Must be > 0 - ignoring");
                    }
                }
                break;
            case "virtual_ipaddress":
                foreach (var c in n.Children) VipLine(v, c);
                break;
            case "virtual_ipaddress_excluded":
                foreach (var c in n.Children) ParseAddress(c, v.Evips, isStatic: false, vrrpName: name);
                break;
            case "virtual_routes":
                foreach (var c in n.Children) ParseRoute(c, v.Routes, isStatic: false);
                break;
            case "virtual_rules":
                foreach (var c in n.Children) ParseRule(c, v.Rules, isStatic: false);
                break;
            case "promote_secondaries":
                v.PromoteSecondaries = true;
                break;
            case "accept":
                v.Accept = true;
                break;
            case "no_accept":
                v.Accept = false;
                break;
            case "skip_check_adv_addr":
                if (n.ArgCount >= 1 && Values.TrueFalse(n.Arg(0)!) is null) _diag.Error(n.ArgPosition(0), $"({name}) invalid skip_check_adv_addr {n.Arg(0)} specified");
                else v.SkipCheckAdvAddr = true;
                break;
            case "strict_mode":
                if (n.ArgCount >= 1)
                {
                    if (Values.TrueFalse(n.Arg(0)!) is bool sm) v.StrictMode = sm;
                    else _diag.Error(n.ArgPosition(0), $"({name}) invalid strict_mode {n.Arg(0)} specified");
                }
                else
                {
                    v.StrictMode = true;
                }
                break;
            case "preempt":
                v.Nopreempt = false;
                break;
            case "nopreempt":
                v.Nopreempt = true;
                break;
            case "preempt_delay":
                if (_values.Required(n, 0) is { } pd)
                {
                    if (_values.TryDecimal(pd, n.ArgPosition(0), 6, 0, 1000UL * 1_000_000, out var pdm))
                    {
                        v.PreemptDelay = TimeSpan.FromTicks((long)pdm * 10);
                    }
                    else
                    {
                        _diag.Error(n.ArgPosition(0), $"({name}) Preempt_delay not valid! must be between 0-1000");
                        v.PreemptDelay = TimeSpan.Zero;
                    }
                }
                break;
            case "debug":
                if (_values.TryUnsigned(n, 0, 0, 4, out var dbg)) v.Debug = (int)dbg;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}) Debug value '{n.Arg(0)}' not valid; must be between 0-4");
                break;
            case "notify_backup":
                v.NotifyBackup = InstanceNotify(v, n, v.NotifyBackup);
                break;
            case "notify_master":
                v.NotifyMaster = InstanceNotify(v, n, v.NotifyMaster);
                break;
            case "notify_fault":
                v.NotifyFault = InstanceNotify(v, n, v.NotifyFault);
                break;
            case "notify_stop":
                v.NotifyStop = InstanceNotify(v, n, v.NotifyStop);
                break;
            case "notify":
                v.Notify = InstanceNotify(v, n, v.Notify);
                break;
            case "notify_master_rx_lower_pri":
                v.NotifyMasterRxLowerPri = InstanceNotify(v, n, v.NotifyMasterRxLowerPri);
                break;
            case "notify_deleted":
                if (v.NotifyDeleted)
                {
                    _diag.Error(n.Position, $"({name}) notify_deleted already specified - ignoring {n.Arg(0) ?? ""}");
                    break;
                }
                if (n.ArgCount > 0) v.NotifyDeletedScript = NotifyScript(n);
                v.NotifyDeleted = true;
                break;
            case "smtp_alert":
                if (OptionalBool(n, "Invalid vrrp_instance smtp_alert parameter {0}") is bool sa) v.SmtpAlert = sa;
                break;
            case "notify_priority_changes":
                if (OptionalBool(n, $"({name}) Invalid value '{{0}}' for notify_priority_changes specified") is bool npc) v.NotifyPriorityChanges = npc;
                break;
            case "lvs_sync_daemon_interface":
                _diag.Error(n.Position, $"({name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.");
                _diag.Error(n.Position, "      Please use global lvs_sync_daemon");
                if (_global.LvsSyncDaemon is { } existing)
                {
                    _diag.Error(n.Position, $"({name}) lvs_sync_daemon_interface has already been specified as {existing.Interface} - ignoring");
                }
                else if (_values.Required(n, 0) is { } lsd)
                {
                    _global = _global with { LvsSyncDaemon = new LvsSyncDaemon { Interface = lsd, Instance = name, SyncId = -1 } };
                    _syncDaemonAt = n.Position;
                }
                break;
            case "garp_master_delay":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var gd)) v.GarpDelay = TimeSpan.FromSeconds(gd);
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): garp_master_delay '{n.Arg(0)}' invalid - ignoring");
                break;
            case "garp_master_refresh":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var gr)) v.GarpRefresh = TimeSpan.FromSeconds(gr);
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"({name}): Invalid garp_master_refresh '{n.Arg(0)}' - ignoring");
                    v.GarpRefresh = TimeSpan.Zero;
                }
                break;
            case "garp_master_repeat":
                if (Repeats(n, "garp_master_repeat", $"({name}): ") is int grep) v.GarpRepeat = grep;
                break;
            case "garp_master_refresh_repeat":
                if (Repeats(n, "garp_master_refresh_repeat", $"({name}): ") is int grr) v.GarpRefreshRepeat = grr;
                break;
            case "garp_lower_prio_delay":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var gld)) v.GarpLowerPrioDelay = TimeSpan.FromSeconds(gld);
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): garp_lower_prio_delay '{n.Arg(0)}' invalid - ignoring");
                break;
            case "garp_lower_prio_repeat":
                if (_values.TryUnsigned(n, 0, 0, int.MaxValue, out var glr)) v.GarpLowerPrioRepeat = (int)glr;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): Invalid garp_lower_prio_repeat '{n.Arg(0)}'");
                break;
            case "down_timer_adverts":
                if (_values.TryUnsigned(n, 0, 1, 100, out var dta)) v.DownTimerAdverts = (int)dta;
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): Invalid down_timer_adverts [1:100] '{n.Arg(0)}'");
                break;
            case "garp_extra_if":
            case "vmac_garp_intvl":
                GarpExtraIfKeyword(v, n);
                break;
            case "lower_prio_no_advert":
                if (n.ArgCount >= 1)
                {
                    if (Values.TrueFalse(n.Arg(0)!) is bool lp) v.LowerPrioNoAdvert = lp;
                    else _diag.Error(n.ArgPosition(0), $"({name}) invalid lower_prio_no_advert {n.Arg(0)} specified");
                }
                else
                {
                    v.LowerPrioNoAdvert = true;
                }
                break;
            case "higher_prio_send_advert":
                if (n.ArgCount >= 1)
                {
                    if (Values.TrueFalse(n.Arg(0)!) is bool hp) v.HigherPrioSendAdvert = hp;
                    else _diag.Error(n.ArgPosition(0), $"({name}) invalid higher_prio_send_advert {n.Arg(0)} specified");
                }
                else
                {
                    v.HigherPrioSendAdvert = true;
                }
                break;
            case "kernel_rx_buf_size":
                if (n.ArgCount == 1 && _values.TryUnsigned(n, 0, 0, uint.MaxValue, out var rx)) v.KernelRxBufSize = (uint)rx;
                else _diag.Error(n.Position, $"({name}) invalid kernel_rx_buf_size specified");
                break;
            case "v3_checksum_as_v2":
                if (n.ArgCount >= 1)
                {
                    if (Values.TrueFalse(n.Arg(0)!) is bool cs) v.V3ChecksumAsV2 = cs;
                    else _diag.Error(n.ArgPosition(0), $"({name}) invalid v3_checksum_as_v2 {n.Arg(0)} specified");
                }
                else
                {
                    v.V3ChecksumAsV2 = true;
                }
                break;
            case "authentication":
                ReportChildren(n);
                foreach (var a in n.Children)
                {
                    if (a.Keyword == "auth_type")
                    {
                        if (_values.Required(a, 0) is not { } type) continue;
                        if (type == "AH") v.AuthType = VrrpAuthType.Ah;
                        else if (type == "PASS") v.AuthType = VrrpAuthType.Pass;
                        else _diag.Error(a.ArgPosition(0), $"({name}) unknown authentication type '{type}'");
                    }
                    else if (a.Keyword == "auth_pass")
                    {
                        if (_values.Required(a, 0) is not { } pass) continue;
                        if (System.Text.Encoding.UTF8.GetByteCount(pass) > 8)
                        {
                            _diag.Error(a.ArgPosition(0), "Truncating auth_pass to 8 characters");
                            pass = TruncateUtf8(pass, 8);
                        }
                        v.AuthPass = pass;
                    }
                }
                break;
        }
    }

    private static string TruncateUtf8(string s, int bytes)
    {
        var b = System.Text.Encoding.UTF8.GetBytes(s);
        return System.Text.Encoding.UTF8.GetString(b, 0, Math.Min(bytes, b.Length));
    }

    private ScriptSpec? InstanceNotify(VrrpDraft v, ConfigNode n, ScriptSpec? existing)
    {
        if (existing is not null)
        {
            _diag.Error(n.Position, $"({v.Name}) {n.Keyword} script already specified - ignoring {n.Arg(0)}");
            return existing;
        }
        return NotifyScript(n);
    }

    private void InterfaceKeyword(VrrpDraft v, ConfigNode n)
    {
        if (_values.Required(n, 0) is not { } ifname) return;
        if (ifname.Length >= 16)
        {
            _diag.Error(n.ArgPosition(0), $"Interface name '{ifname}' too long - ignoring");
            return;
        }
        v.Interface = ifname;
        v.InterfaceAt = n.ArgPosition(0);
        if (_host is null || _global.DynamicInterfaces) return;
        var loopback = _host.InterfaceIsLoopback(ifname);
        if (loopback is null)
        {
            _diag.Warning(n.ArgPosition(0), $"WARNING - interface {ifname} for vrrp_instance {v.Name} doesn't exist");
            _nonExistentInterface ??= n.ArgPosition(0);
            v.Interface = null;
        }
        else if (loopback == true)
        {
            _diag.Error(n.ArgPosition(0), $"({v.Name}) cannot use a loopback interface ({ifname}) for vrrp - ignoring");
            v.Interface = null;
        }
    }

    private void SourceIpKeyword(VrrpDraft v, ConfigNode n)
    {
        if (_values.Required(n, 0) is not { } text) return;
        var addr = Values.ParseAddress(text);
        if (addr is null)
        {
            _diag.Error(n.ArgPosition(0), $"Configuration error: VRRP instance[{v.Name}] malformed src address[{text}]. Skipping...");
            return;
        }
        if (v.Family is null) v.Family = addr.AddressFamily;
        else if (v.Family != addr.AddressFamily)
        {
            _diag.Error(n.ArgPosition(0), $"Configuration error: VRRP instance[{v.Name}] and src address[{text}] MUST be of the same family !!! Skipping...");
            v.SourceAddress = null;
            return;
        }
        v.SourceAddress = addr;
    }

    private void McastDstKeyword(VrrpDraft v, ConfigNode n)
    {
        if (_values.Required(n, 0) is not { } text) return;
        var addr = Values.ParseAddress(text);
        if (addr is null)
        {
            _diag.Error(n.ArgPosition(0), $"({v.Name}) malformed mcast dest address {text}. Skipping...");
            return;
        }
        if (v.Family is null) v.Family = addr.AddressFamily;
        else if (v.Family != addr.AddressFamily)
        {
            _diag.Error(n.ArgPosition(0), $"({v.Name}) mcast dest address {text} MUST match VRRP instance family. Skipping...");
            return;
        }
        var ok = addr.AddressFamily == AddressFamily.InterNetwork ? Values.IsMulticast(addr) : Values.IsLinkLocalMulticast6(addr);
        if (!ok)
        {
            _diag.Error(n.ArgPosition(0), $"({v.Name}) mcast_dst_ip {text} not{(addr.AddressFamily == AddressFamily.InterNetworkV6 ? " link-local" : "")} multicast. Skipping...");
            return;
        }
        v.McastDst = addr;
    }

    private void UnicastPeerLine(VrrpDraft v, ConfigNode p)
    {
        var text = p.Tokens[0].Text;
        var addr = Values.ParseAddress(text);
        if (addr is null)
        {
            _diag.Error(p.Position, $"Configuration error: VRRP instance[{v.Name}] malformed unicast peer address[{text}]. Skipping...");
            return;
        }
        if (v.Family is null) v.Family = addr.AddressFamily;
        else if (v.Family != addr.AddressFamily)
        {
            _diag.Error(p.Position, $"Configuration error: VRRP instance[{v.Name}] and unicast peer address[{text}] MUST be of the same family !!! Skipping...");
            return;
        }
        int min = 0, max = 255;
        for (var i = 1; i < p.Tokens.Count; i += 2)
        {
            if (i + 1 >= p.Tokens.Count)
            {
                _diag.Error(p.Tokens[i].Position, $"({v.Name}) {p.Tokens[i].Text} is missing a value");
                break;
            }
            if (_values.TryUnsigned(p.Tokens[i + 1].Text, p.Tokens[i + 1].Position, 0, 255, out var ttl))
            {
                if (p.Tokens[i].Text == "min_ttl") min = (int)ttl;
                else if (p.Tokens[i].Text == "max_ttl") max = (int)ttl;
                else
                {
                    _diag.Error(p.Tokens[i].Position, $"({v.Name}) unknown unicast_peer option {p.Tokens[i].Text}");
                    break;
                }
                v.CheckUnicastSource = true;
            }
        }
        if (min > max) _diag.Error(p.Position, $"({v.Name}) min_ttl {min} > max_ttl {max} - all packets will be discarded");
        v.UnicastPeers.Add(new UnicastPeer(addr, min, max));
    }

    private void VipLine(VrrpDraft v, ConfigNode c)
    {
        var before = v.Vips.Count;
        ParseAddress(c, v.Vips, isStatic: false, vrrpName: v.Name);
        if (v.Vips.Count == before) return;
        var family = v.Vips[^1].Family;
        if (v.Family is null) v.Family = family;
        else if (v.Family != family)
        {
            _diag.Error(c.Position, $"({v.Name}): address family must match VRRP instance [{c.Tokens[0].Text}] - ignoring");
            v.Vips.RemoveAt(v.Vips.Count - 1);
            return;
        }
        v.VipPositions.Add(c.Position);
    }

    private void UseVmacKeyword(VrrpDraft v, ConfigNode n)
    {
        v.UseVmac = true;
        v.UseVmacAt = n.Position;
        for (var i = 0; i < n.ArgCount; i++)
        {
            var word = n.Arg(i)!;
            var at = n.ArgPosition(i);
            if (word.Contains(':'))
            {
                if (v.VmacMac is not null)
                {
                    _diag.Error(at, "VMAC interface address already specified");
                    continue;
                }
                if (word.Any(c => !Uri.IsHexDigit(c) && c != ':'))
                {
                    _diag.Error(at, $"VMAC invalid MAC address {word}");
                    continue;
                }
                var parts = word.TrimEnd(':').Split(':');
                if ((parts.Length != 6 && parts.Length != 5) || parts.Any(p => p.Length is 0 or > 2))
                {
                    _diag.Error(at, $"VMAC invalid MAC address {word} - ignored");
                    continue;
                }
                var bytes = new byte[6];
                for (var k = 0; k < parts.Length; k++) bytes[k] = byte.Parse(parts[k], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if ((bytes[0] & 1) != 0)
                {
                    _diag.Error(at, $"VMAC MAC address is multicast {word} - ignoring");
                    continue;
                }
                if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x5e && bytes[3] == 0 && bytes[4] is 1 or 2)
                {
                    _diag.Error(at, $"VMAC MAC address not allowed to be RFC5798 address ({word}) - ignoring");
                    continue;
                }
                v.VmacMac = new PhysicalAddress(bytes);
                v.VmacMacUsesVrid = parts.Length == 5;
                continue;
            }
            if (word == "netlink_notify_msg") continue;
            if (word == "group")
            {
                i++;
                continue;
            }
            if (word == "name")
            {
                i++;
                if (i >= n.ArgCount) break;
                word = n.Arg(i)!;
                at = n.ArgPosition(i);
            }
            if (v.VmacName is not null)
            {
                _diag.Error(at, "VMAC interface name already specified");
                continue;
            }
            if (word.Length == 0 || word.Length >= 16 || word is "." or ".." || word.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)))
            {
                _diag.Error(at, $"VMAC interface name '{word}' too long or invalid characters - ignoring");
                continue;
            }
            if (_instances.FirstOrDefault(o => o.VmacName == word || o.IpvlanName == word) is { } other)
            {
                _diag.Error(at, $"({v.Name}) VRRP instance {other.Name} is already using {word} - ignoring name");
                continue;
            }
            v.VmacName = word;
        }
    }

    private void UseIpvlanKeyword(VrrpDraft v, ConfigNode n)
    {
        if (v.UseIpvlan)
        {
            _diag.Error(n.Position, $"({v.Name}) use_ipvlan already specified");
            return;
        }
        v.UseIpvlan = true;
        var hadMode = false;
        for (var i = 0; i < n.ArgCount; i++)
        {
            var word = n.Arg(i)!;
            var at = n.ArgPosition(i);
            if (word is "bridge" or "private" or "vepa")
            {
                if (hadMode) _diag.Error(at, $"({v.Name}) ipvlan type already specified - ignoring '{word}'");
                else
                {
                    v.IpvlanMode = word switch { "private" => IpvlanMode.Private, "vepa" => IpvlanMode.Vepa, _ => IpvlanMode.Bridge };
                    hadMode = true;
                }
                continue;
            }
            if (word == "group")
            {
                i++;
                continue;
            }
            if (word == "name")
            {
                i++;
                if (i >= n.ArgCount) break;
                word = n.Arg(i)!;
                at = n.ArgPosition(i);
            }
            else if (AddressParser.ParsePrefix(word, allowPrefix: true) is { } prefix)
            {
                if (v.IpvlanAddress is not null)
                {
                    _diag.Error(at, $"({v.Name}) ipvlan address already specified - ignoring '{word}'");
                    continue;
                }
                if (v.Family is null) v.Family = prefix.Family;
                else if (v.Family != prefix.Family)
                {
                    _diag.Error(at, $"({v.Name}) ipvlan address[{word}] MUST match vrrp instance family !!! Skipping...");
                    continue;
                }
                v.IpvlanAddress = prefix;
                v.SourceAddress ??= prefix.Address;
                continue;
            }
            if (v.IpvlanName is not null || v.VmacName is not null)
            {
                _diag.Error(at, $"({v.Name}) IPVLAN interface already specified - ignoring '{word}'");
                continue;
            }
            if (word.Length >= 16)
            {
                _diag.Error(at, $"({v.Name}) IPVLAN interface name '{word}' too long - ignoring");
                continue;
            }
            if (_instances.FirstOrDefault(o => o.VmacName == word || o.IpvlanName == word) is { } other)
            {
                _diag.Error(at, $"({v.Name}) VRRP instance {other.Name} is already using {word} - ignoring name");
                continue;
            }
            v.IpvlanName = word;
        }
    }

    private void GarpExtraIfKeyword(VrrpDraft v, ConfigNode n)
    {
        var cmd = n.Keyword;
        if (cmd == "vmac_garp_intvl")
        {
            _diag.Warning(n.Position, "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"", ConfigErrorClass.Deprecated);
        }
        ulong delay = ulong.MaxValue;
        for (var i = 0; i < n.ArgCount; i++)
        {
            if (n.Arg(i) == "all") v.GarpExtraIfAll = true;
            else if (!_values.TryUnsigned(n.Arg(i)!, n.ArgPosition(i), 0, 86400, out delay))
            {
                _diag.Error(n.ArgPosition(i), $"({v.Name}): {cmd} '{n.Arg(i)}' invalid - ignoring");
                return;
            }
        }
        if (delay == ulong.MaxValue)
        {
            _diag.Error(n.Position, $"({v.Name}): {cmd} specified without time - ignoring");
            return;
        }
        v.GarpExtraIf = TimeSpan.FromSeconds(delay);
    }

    /// <summary>keepalived's vrrp_end_handler(): checks made when the instance's block closes.</summary>
    private void InstanceEnd(VrrpDraft v)
    {
        if (v.UnicastConfigured && (v.UseVmac || v.UseIpvlan))
        {
            if (v.Interface is null)
            {
                _diag.Error(v.End, $"({v.Name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac");
                v.UseVmac = false;
                v.UseIpvlan = false;
                v.VmacName = null;
            }
            else if (!v.VmacXmitBase)
            {
                _diag.Error(v.End, $"({v.Name}) unicast with use_vmac requires vmac_xmit_base - setting");
                v.VmacXmitBase = true;
            }
        }
        if (v.UnicastPeers.Count == 0 && v.Ttl != -1)
        {
            _diag.Error(v.End, $"({v.Name}): Cannot use unicast_ttl without unicast peers - resetting");
            v.Ttl = -1;
        }
    }
}
