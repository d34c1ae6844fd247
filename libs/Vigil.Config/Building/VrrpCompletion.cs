using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    /// <summary>
    /// keepalived's vrrp_complete_init(): minimal configuration, sync groups, each instance's
    /// defaults and corrections (vrrp_complete_instance), duplicate VRIDs, unused scripts. Where
    /// keepalived stops the VRRP process at the first bad instance, Vigil reports every bad instance
    /// and leaves them out of the model.
    /// </summary>
    private KeepalivedConfig CompleteVrrp(KeepalivedConfig config)
    {
        var g = config.Global;
        DisableMissingTrackScripts();
        // chk_min_cfg: keepalived's VRRP process stops at the first instance that fails it.
        foreach (var v in _instances)
        {
            if (v.Vrid == 0)
            {
                _diag.Error(v.At, $"({v.Name}) the virtual router id must be set");
                StopVrrp(v.At);
            }
            // keepalived 2.2.7 checks this before it decides an instance is unicast, so even a
            // unicast instance needs an interface.
            if (v.Interface is null)
            {
                _diag.Error(v.At, $"({v.Name}) Unknown interface!");
                StopVrrp(v.At);
            }
        }

        var groups = new List<VrrpSyncGroup>();
        foreach (var sg in _syncGroups)
        {
            if (sg.Members is null)
            {
                _diag.Error(sg.At, $"Sync group {sg.Name} has no virtual router(s). removing");
                continue;
            }
            // keepalived's group state: master while every member so far is an address owner in
            // state MASTER; a later member wanting BACKUP then cannot work.
            bool? groupMaster = null;
            foreach (var member in sg.Members)
            {
                var v = _instances.FirstOrDefault(i => i.Name == member.Text);
                if (v is null)
                {
                    _diag.Error(member.Position, $"Virtual router {member.Text} specified in sync group {sg.Name} doesn't exist - ignoring");
                    continue;
                }
                if (v.Sync is not null)
                {
                    _diag.Error(member.Position, $"Virtual router {member.Text} cannot exist in more than one sync group; ignoring {sg.Name}");
                    continue;
                }
                v.Sync = sg;
                sg.ResolvedMembers.Add(v.Name);
                if (groupMaster == true && v.WantState == VrrpState.Backup)
                {
                    _diag.Error(sg.At, $"Sync group {sg.Name} has some member(s) as address owner and some not as address owner. This won't work.");
                }
                if (groupMaster != false) groupMaster = v.WantState == VrrpState.Master && v.BasePriority == 255;
            }
            if (sg.ResolvedMembers.Count == 0)
            {
                _diag.Error(sg.At, $"Sync group {sg.Name}, no matching virtual router found in group declaration - removing");
                continue;
            }
            if (sg.ResolvedMembers.Count == 1)
            {
                _diag.Error(sg.At, $"Sync group {sg.Name} has only 1 virtual router(s) - this probably isn't what you want");
            }
        }

        var instances = new List<VrrpInstance>();
        var completed = new List<(VrrpDraft Draft, VrrpInstance Model)>();
        foreach (var v in _instances)
        {
            if (v.Vrid == 0 || v.Interface is null) continue;
            if (CompleteInstance(v, g) is not { } model)
            {
                StopVrrp(v.At);
                continue;
            }
            completed.Add((v, model));
        }

        // Duplicate VRIDs: the same family, VRID and interface (and multicast group), or for unicast
        // the same local address with overlapping peers. Only instances with the same family, VRID
        // and unicast-ness can conflict, so pairs are taken within those buckets, in keepalived's order.
        var conflicted = new HashSet<string>();
        var candidates = completed
            .Select((c, index) => (c, index))
            .GroupBy(x => (x.c.Model.Family, x.c.Model.VirtualRouterId, x.c.Model.Unicast))
            .Where(grp => grp.Skip(1).Any())
            .SelectMany(grp => grp.SelectMany((x, k) => grp.Skip(k + 1).Select(y => (I: x.index, J: y.index))))
            .OrderBy(p => p.I).ThenBy(p => p.J);
        foreach (var (i, j) in candidates)
        {
            var (_, a) = completed[i];
            var (db, b) = completed[j];
            if (a.Unicast)
            {
                if (a.Interface is not null && b.Interface is not null && a.Interface != b.Interface) continue;
                if (a.SourceAddress is null || b.SourceAddress is null || !a.SourceAddress.Equals(b.SourceAddress)) continue;
                if (!a.UnicastPeers.Any(p => b.UnicastPeers.Any(q => q.Address.Equals(p.Address)))) continue;
                _diag.Error(db.At, $"({a.Name}) duplicate VRID conflict with {b.Name} VRID {a.VirtualRouterId}");
            }
            else
            {
                if (a.Interface != b.Interface || !Equals(a.MulticastGroup, b.MulticastGroup)) continue;
                _diag.Error(db.At, $"{a.Name} and {b.Name} both use VRID {a.VirtualRouterId} with IPv{(a.Family == AddressFamily.InterNetwork ? 4 : 6)} on interface {a.Interface}");
            }
            conflicted.Add(a.Name);
            conflicted.Add(b.Name);
        }
        if (conflicted.Count > 0) StopVrrp(completed.First(c => conflicted.Contains(c.Model.Name)).Draft.At);
        instances.AddRange(completed.Where(c => !conflicted.Contains(c.Model.Name)).Select(c => c.Model));

        foreach (var sg in _syncGroups)
        {
            if (sg.ResolvedMembers.Count == 0) continue;
            groups.Add(new VrrpSyncGroup
            {
                Name = sg.Name,
                Members = [.. sg.ResolvedMembers],
                TrackInterfaces = [.. sg.TrackInterfaces],
                TrackScripts = [.. sg.TrackScripts],
                TrackFiles = [.. sg.TrackFiles],
                TrackProcesses = [.. sg.TrackProcesses],
                TrackBfds = [.. sg.TrackBfds],
                NotifyMaster = sg.NotifyMaster,
                NotifyBackup = sg.NotifyBackup,
                NotifyFault = sg.NotifyFault,
                NotifyStop = sg.NotifyStop,
                Notify = sg.Notify,
                SmtpAlert = sg.SmtpAlert ?? g.SmtpAlertVrrp ?? g.SmtpAlert ?? false,
                TrackingWeight = sg.TrackingWeight,
                NotifyPriorityChanges = sg.NotifyPriorityChanges ?? g.VrrpNotifyPriorityChanges,
            });
        }

        // lvs_sync_daemon follows a vrrp_instance; its sync id defaults to the instance's VRID.
        if (g.LvsSyncDaemon is { } lsd)
        {
            if (lsd.Instance is not null)
            {
                var inst = instances.FirstOrDefault(i => i.Name == lsd.Instance);
                if (inst is null)
                {
                    _diag.Error(_syncDaemonAt, $"Unable to find vrrp instance {lsd.Instance} for lvs_syncd - clearing lvs_syncd config");
                    g = g with { LvsSyncDaemon = null };
                }
                else if (lsd.SyncId < 0)
                {
                    g = g with { LvsSyncDaemon = lsd with { SyncId = inst.VirtualRouterId } };
                }
            }
            else if (lsd.SyncId < 0)
            {
                g = g with { LvsSyncDaemon = lsd with { SyncId = 0 } };
            }
        }

        // keepalived drops scripts nothing tracks (after the corrections above removed some tracking).
        foreach (var s in _scripts.Where(s => !s.Disabled))
        {
            s.Used = instances.Any(i => i.TrackScripts.Any(t => t.Name == s.Model.Name)) || groups.Any(sg => sg.TrackScripts.Any(t => t.Name == s.Model.Name));
            if (!s.Used)
            {
                _diag.Warning(s.At, $"Warning - script {s.Model.Name} is not used");
            }
        }
        _diag.Muted = false;
        return config with
        {
            Global = g,
            Instances = [.. instances],
            SyncGroups = [.. groups],
            VrrpScripts = [.. _scripts.Where(s => s.Used && !s.Disabled).Select(s => s.Model)],
        };
    }

    /// <summary>
    /// keepalived's VRRP process exits with a configuration error (and keepalived with it) when
    /// vrrp_complete_init fails; it checks nothing further, and the configuration does not run.
    /// </summary>
    private void StopVrrp(SourcePosition at)
    {
        if (_vrrpStopped) return;
        _diag.Note(at, "keepalived stops its VRRP process at this error, so the configuration does not run (later VRRP problems are not checked)");
        _vrrpStopped = true;
        _diag.Muted = true;
    }

    /// <summary>
    /// keepalived -t checks every vrrp_script's command on the host; one that cannot be found is
    /// disabled, and instances stop tracking it.
    /// </summary>
    private void DisableMissingTrackScripts()
    {
        if (_host is null || _instances.Count == 0) return;
        foreach (var s in _scripts)
        {
            if (_host.ProbeScript(s.Model.Script.Args[0]) != ScriptProbe.NotFound) continue;
            _diag.Error(s.At, $"Disabling track script {s.Model.Name} since not found/accessible");
            s.Disabled = true;
        }
        var disabled = _scripts.Where(s => s.Disabled).Select(s => s.Model.Name).ToHashSet();
        if (disabled.Count == 0) return;
        foreach (var v in _instances) v.TrackScripts.RemoveAll(t => disabled.Contains(t.Name));
        foreach (var g in _syncGroups) g.TrackScripts.RemoveAll(t => disabled.Contains(t.Name));
    }

    /// <summary>keepalived's vrrp_complete_instance(), for the parts that do not depend on live interfaces.</summary>
    private VrrpInstance? CompleteInstance(VrrpDraft v, GlobalDefs g)
    {
        var name = v.Name;
        var at = v.At;
        var strict = v.StrictMode ?? g.VrrpStrict;

        if (v.Family == AddressFamily.InterNetworkV6)
        {
            if (v.Version == 2 && strict)
            {
                _diag.Error(at, $"({name}) cannot use IPv6 with VRRP version 2; setting version 3");
                v.Version = 3;
            }
            else if (v.Version == 0)
            {
                v.Version = 3;
            }
        }
        var family = v.Family ?? AddressFamily.InterNetwork;
        if (v.UseVmac && family == AddressFamily.InterNetworkV6) _diag.Note(v.UseVmacAt, Unimplemented.UseVmacIpv6.Message);
        if (v.Version == 0) v.Version = family == AddressFamily.InterNetworkV6 ? 3 : g.VrrpVersion;

        if (v.Vips.Count == 0)
        {
            if (v.Version == 3 || strict)
            {
                _diag.Error(at, $"({name}) No VIP specified; at least one is required");
                return null;
            }
            _diag.Warning(at, $"({name}) No VIP specified; at least one is sensible");
        }

        if (v.BasePriority == 0) v.BasePriority = v.WantState == VrrpState.Master ? 255 : 100;
        var state = v.WantState ?? (v.BasePriority == 255 ? VrrpState.Master : VrrpState.Backup);
        if (v.WantState is not null && strict && (state == VrrpState.Master) != (v.BasePriority == 255))
        {
            _diag.Error(at, $"({name}) State MASTER must match being address owner");
            state = v.BasePriority == 255 ? VrrpState.Master : VrrpState.Backup;
        }

        VrrpAuthentication? auth = null;
        if (v.AuthType is { } authType)
        {
            if (strict) _diag.Error(at, $"({name}) Strict mode does not support authentication. Ignoring.");
            else if (v.Version == 3) _diag.Error(at, $"({name}) VRRP version 3 does not support authentication. Ignoring.");
            else if (v.AuthPass.Length == 0) _diag.Error(at, $"({name}) Authentication specified but no password given. Ignoring");
            else if (family == AddressFamily.InterNetworkV6 && authType == VrrpAuthType.Ah) _diag.Error(at, $"({name}) Cannot use AH authentication with IPv6. ignoring");
            else
            {
                auth = new VrrpAuthentication(authType, v.AuthPass);
                if (authType == VrrpAuthType.Ah && state == VrrpState.Master && v.BasePriority != 255)
                {
                    _diag.Error(at, $"({name}) Initial state master is incompatible with AH authentication - clearing");
                    state = VrrpState.Backup;
                }
            }
        }

        var unicast = v.UnicastConfigured && v.UnicastPeers.Count > 0;
        if (v.UnicastConfigured && v.UnicastPeers.Count == 0 && !v.UnicastFaultNoPeer)
        {
            _diag.Warning(at, $"({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.", ConfigErrorClass.Deprecated);
        }

        var mac = v.VmacMac;
        if (strict && mac is not null)
        {
            _diag.Error(at, $"({name}): cannot specify MAC address with strict mode - clearing");
            mac = null;
        }
        if (mac is not null && v.VmacMacUsesVrid)
        {
            var bytes = mac.GetAddressBytes();
            bytes[5] = (byte)v.Vrid;
            mac = new System.Net.NetworkInformation.PhysicalAddress(bytes);
        }

        if (family == AddressFamily.InterNetworkV6 && !unicast && v.Vips.Count > 0 && !v.Vips[0].Address.Address.IsIPv6LinkLocal)
        {
            if (strict) _diag.Error(v.VipPositions[0], $"({name}) the first IPv6 VIP address must be link local");
            else _diag.Note(v.VipPositions[0], $"({name}) the first IPv6 VIP address should be link local");
        }

        var vrf = v.Vrf;
        if (vrf is not null && (v.Interface is not null || !unicast))
        {
            _diag.Error(at, $"({name}) vrf can only be specified with{(v.Interface is not null ? "out interface" : " unicast")} - clearing");
            vrf = null;
        }

        // The VIPs must fit in an advert (an MTU of 1500 and at most 255 addresses); the rest become eVIPs.
        var vips = v.Vips.ToList();
        var evips = v.Evips.ToList();
        var header = family == AddressFamily.InterNetwork ? 14 + 20 + 8 + (v.Version == 2 ? 8 + (auth?.Type == VrrpAuthType.Ah ? 24 : 0) : 0) : 14 + 40 + 8;
        var maxAddr = Math.Min(255, (1500 - header) / (family == AddressFamily.InterNetwork ? 4 : 16));
        if (vips.Count > maxAddr)
        {
            _diag.Error(at, $"({name}) Number of VIPs ({vips.Count}) exceeds maximum/space available in packet (max {maxAddr} addresses) - excess moved to eVIPs");
            evips.InsertRange(0, vips.Skip(maxAddr));
            vips = vips.Take(maxAddr).ToList();
        }

        var nopreempt = v.Nopreempt;
        var preemptDelay = v.PreemptDelay;
        if (v.BasePriority == 255 && nopreempt)
        {
            _diag.Error(at, $"({name}) nopreempt is incompatible with priority 255. resetting nopreempt");
            nopreempt = false;
        }
        if (state == VrrpState.Master)
        {
            if (nopreempt)
            {
                _diag.Error(at, $"({name}) Warning - nopreempt will not work with initial state MASTER - clearing");
                nopreempt = false;
            }
            if (preemptDelay > TimeSpan.Zero)
            {
                _diag.Error(at, $"({name}) Warning - preempt delay will not work with initial state MASTER - clearing");
                preemptDelay = TimeSpan.Zero;
            }
        }
        if (preemptDelay > TimeSpan.Zero)
        {
            if (strict)
            {
                _diag.Error(at, $"({name}) preempt_delay is incompatible with strict mode - resetting");
                preemptDelay = TimeSpan.Zero;
            }
            if (nopreempt)
            {
                _diag.Error(at, $"({name}) preempt_delay is incompatible with nopreempt mode - resetting");
                preemptDelay = TimeSpan.Zero;
            }
        }

        var downTimer = v.DownTimerAdverts;
        if (downTimer != 3 && strict)
        {
            _diag.Error(at, $"({name}) down_timer_adverts is incompatible with strict mode - resetting");
            downTimer = 3;
        }

        var accept = v.Accept ?? (v.BasePriority == 255 || !strict);
        if (accept && v.BasePriority != 255 && strict && v.Version == 2)
        {
            _diag.Error(at, $"({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting");
            accept = false;
        }

        IPAddress? mcast = null;
        if (!unicast) mcast = v.McastDst ?? (family == AddressFamily.InterNetwork ? g.VrrpMcastGroup4 : g.VrrpMcastGroup6);
        else if (v.McastDst is not null) _diag.Error(at, $"({name}) multicast destination specified with unicast - ignoring");

        int lowerRep;
        if (v.GarpLowerPrioRepeat is not int lr) lowerRep = strict ? 0 : g.VrrpGarpLowerPrioRepeat;
        else if (strict && lr != 0)
        {
            _diag.Error(at, $"({name}) Strict mode requires no repeat garps. resetting");
            lowerRep = 0;
        }
        else lowerRep = lr;

        TimeSpan lowerDelay;
        if (v.GarpLowerPrioDelay is not TimeSpan ld) lowerDelay = strict ? TimeSpan.Zero : g.VrrpGarpLowerPrioDelay;
        else if (strict && ld != TimeSpan.Zero)
        {
            _diag.Error(at, $"({name}) Strict mode requires no repeat garp delay. resetting");
            lowerDelay = TimeSpan.Zero;
        }
        else lowerDelay = ld;

        bool lowerNoAdvert;
        if (v.LowerPrioNoAdvert is not bool lna) lowerNoAdvert = strict || g.VrrpLowerPrioNoAdvert;
        else if (strict && !lna)
        {
            _diag.Error(at, $"({name}) Strict mode requires no lower priority advert. resetting");
            lowerNoAdvert = true;
        }
        else lowerNoAdvert = lna;

        bool higherSend;
        if (v.HigherPrioSendAdvert is not bool hs) higherSend = !strict && g.VrrpHigherPrioSendAdvert;
        else if (strict && hs)
        {
            _diag.Error(at, $"({name}) strict mode requires higher_prio_send_advert to be clear. resetting");
            higherSend = false;
        }
        else higherSend = hs;

        var smtpAlert = v.SmtpAlert ?? g.SmtpAlertVrrp ?? g.SmtpAlert ?? false;
        var notifyPriorityChanges = v.NotifyPriorityChanges ?? v.Sync?.NotifyPriorityChanges ?? g.VrrpNotifyPriorityChanges;

        var advert = AdvertInterval(v, name, at);

        var vmacXmitBase = v.VmacXmitBase;
        var promote = v.PromoteSecondaries;
        if (v.UseVmac)
        {
            if (strict && vmacXmitBase)
            {
                _diag.Error(at, $"({name}) xmit_base is incompatible with strict mode - resetting");
                vmacXmitBase = false;
            }
        }
        if (promote && (v.UseVmac || v.UseIpvlan))
        {
            _diag.Error(at, $"({name}) promote_secondaries is automatically set for vmacs - ignoring");
            promote = false;
        }
        if (v.UseIpvlan && family == AddressFamily.InterNetwork && v.IpvlanAddress is null)
        {
            _diag.Error(at, $"({name}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state");
        }

        var trackInterfaces = v.TrackInterfaces.ToList();
        foreach (var t in trackInterfaces.Where(t => t.Name == v.Interface).ToList())
        {
            _diag.Error(at, $"({name}) Ignoring track_interface {t.Name} since own interface");
            trackInterfaces.Remove(t);
        }
        if (vmacXmitBase && !v.UseVmac)
        {
            _diag.Error(at, $"({name}) vmac_xmit_base is only valid with a vmac");
            vmacXmitBase = false;
        }
        foreach (var vip in vips.Concat(evips))
        {
            if (vip.UseVmac && (vip.Device is null || vip.Device == v.Interface) && v.UseVmac && vip.Family == family)
            {
                _diag.Error(at, $"({name}) use_vmac specified for VIP/eVIP {vip.Address} and vrrp instance");
            }
            else if (vip.UseVmac && ((vip.Device is not null && vip.Device != v.Interface) || vip.Family != family) && v.UseVmacAddr)
            {
                _diag.Error(at, $"({name}) use_vmac_addr specified and use_vmac specified for VIP/eVIP {vip.Address}");
            }
        }

        // In a sync group (without sync_group_tracking_weight) or as address owner, weights are not used.
        var trackScripts = v.TrackScripts.ToList();
        var trackFiles = v.TrackFiles.ToList();
        var trackBfds = v.TrackBfds.ToList();
        var syncNoWeight = v.Sync is not null && !v.Sync.TrackingWeight;
        if (syncNoWeight || v.BasePriority == 255)
        {
            var why = syncNoWeight ? "SYNC group" : "address owner";
            var why2 = syncNoWeight ? "SYNC group" : "address_owner";
            for (var i = trackInterfaces.Count - 1; i >= 0; i--)
            {
                var t = trackInterfaces[i];
                if (t.Weight == 0) continue;
                _diag.Error(at, $"({name}) ignoring {t.Name} tracked interface {(syncNoWeight ? "weight " : "")}due to {why}");
                if (syncNoWeight) trackInterfaces[i] = t with { Weight = 0 };
                else trackInterfaces.RemoveAt(i);
            }
            foreach (var t in trackScripts.Where(t => t.Weight != 0).ToList())
            {
                _diag.Error(at, $"({name}) ignoring tracked script {t.Name} with weights due to {why2}");
                trackScripts.Remove(t);
            }
            for (var i = trackFiles.Count - 1; i >= 0; i--)
            {
                var t = trackFiles[i];
                if (t.Weight == 1)
                {
                    _diag.Error(at, $"({name}) ignoring weight from tracked file {t.Name} due to {why2}. specify weight 0");
                    trackFiles[i] = t with { Weight = 0 };
                }
                else if (t.Weight != 0)
                {
                    _diag.Error(at, $"({name}) ignoring tracked file {t.Name} with weight {t.Weight} due to {why2}");
                    trackFiles.RemoveAt(i);
                }
            }
            foreach (var t in trackBfds.Where(t => t.Weight != 0).ToList())
            {
                _diag.Error(at, $"({name}) ignoring tracked bfd {t.Name} with weight {t.Weight} due to {why2}");
                trackBfds.Remove(t);
            }
        }
        var ttl = unicast ? (v.Ttl >= 0 ? v.Ttl : family == AddressFamily.InterNetwork ? 255 : (int?)null) : null;
        return new VrrpInstance
        {
            Name = name,
            State = state,
            Interface = v.Interface,
            Vrf = vrf,
            UseVmac = v.UseVmac ? new VmacSettings { InterfaceName = v.VmacName, Mac = mac } : null,
            UseVmacAddr = v.UseVmacAddr,
            VmacXmitBase = vmacXmitBase,
            UseIpvlan = v.UseIpvlan ? new IpvlanSettings { InterfaceName = v.IpvlanName, Address = v.IpvlanAddress, Mode = v.IpvlanMode } : null,
            NativeIpv6 = v.NativeIpv6,
            Family = family,
            Version = v.Version,
            VirtualRouterId = v.Vrid,
            Priority = v.BasePriority,
            AdvertInterval = advert,
            Authentication = auth,
            DontTrackPrimary = v.DontTrackPrimary,
            TrackInterfaces = [.. trackInterfaces],
            TrackScripts = [.. trackScripts],
            TrackFiles = [.. trackFiles],
            TrackProcesses = [.. v.TrackProcesses],
            TrackBfds = [.. trackBfds],
            SourceAddress = v.SourceAddress,
            TrackSourceAddress = v.TrackSourceAddress && v.SourceAddress is not null,
            MulticastGroup = mcast,
            UnicastPeers = unicast ? [.. v.UnicastPeers] : [],
            UnicastTtl = ttl,
            UnicastFaultNoPeer = v.UnicastFaultNoPeer,
            CheckUnicastSource = v.CheckUnicastSource || g.VrrpCheckUnicastSrc,
            OldUnicastChecksum = v.OldChecksum,
            V3ChecksumAsV2 = v.V3ChecksumAsV2,
            VirtualIpAddresses = [.. vips],
            ExcludedVirtualIpAddresses = [.. evips],
            VirtualRoutes = [.. v.Routes],
            VirtualRules = [.. v.Rules],
            PromoteSecondaries = promote,
            Accept = accept,
            Nopreempt = nopreempt,
            PreemptDelay = preemptDelay,
            SkipCheckAdvAddr = v.SkipCheckAdvAddr,
            StrictMode = strict,
            Debug = v.Debug,
            NotifyMaster = v.NotifyMaster,
            NotifyBackup = v.NotifyBackup,
            NotifyFault = v.NotifyFault,
            NotifyStop = v.NotifyStop,
            NotifyDeleted = v.NotifyDeleted,
            NotifyDeletedScript = v.NotifyDeletedScript,
            Notify = v.Notify,
            NotifyMasterRxLowerPri = v.NotifyMasterRxLowerPri,
            SmtpAlert = smtpAlert,
            NotifyPriorityChanges = notifyPriorityChanges,
            GarpMasterDelay = v.GarpDelay,
            GarpMasterRepeat = v.GarpRepeat,
            GarpMasterRefresh = v.GarpRefresh,
            GarpMasterRefreshRepeat = v.GarpRefreshRepeat,
            GarpLowerPrioDelay = lowerDelay,
            GarpLowerPrioRepeat = lowerRep,
            GarpExtraIf = v.GarpExtraIf ?? g.VrrpGarpExtraIf,
            GarpExtraIfAll = v.GarpExtraIf is null ? g.VrrpGarpExtraIfAll || v.GarpExtraIfAll : v.GarpExtraIfAll,
            DownTimerAdverts = downTimer,
            LowerPrioNoAdvert = lowerNoAdvert,
            HigherPrioSendAdvert = higherSend,
            KernelRxBufSize = v.KernelRxBufSize,
        };
    }

    /// <summary>Default 1 s; VRRPv2 whole seconds below 256 s; VRRPv3 centiseconds below 40.96 s (rounded, as keepalived does).</summary>
    private TimeSpan AdvertInterval(VrrpDraft v, string name, SourcePosition at)
    {
        var micros = v.AdvertInterval == TimeSpan.Zero ? 1_000_000L : v.AdvertInterval.Ticks / 10;
        var seconds = (micros / 1_000_000.0).ToString("0.00", CultureInfo.InvariantCulture);
        var full = (micros / 1_000_000.0).ToString("F6", CultureInfo.InvariantCulture);
        if (v.Version == 2)
        {
            if (micros >= 256 * 1_000_000L)
            {
                _diag.Error(at, $"({name}) VRRPv2 advertisement interval {seconds}s is out of range. Must be less than 256s. Setting to 255s");
                micros = 255 * 1_000_000L;
            }
            else if (micros % 1_000_000 != 0)
            {
                _diag.Error(at, $"({name}) VRRPv2 advertisement interval {full}s must be an integer. rounding");
                micros += 500_000;
                micros -= micros % 1_000_000;
                if (micros == 0) micros = 1_000_000;
            }
        }
        else
        {
            if (micros >= 4096 * 10_000L)
            {
                _diag.Error(at, $"({name}) VRRPv3 advertisement interval {seconds}s is out of range. Must be less than 40.96s. Setting to 40.95s");
                micros = 4095 * 10_000L;
            }
            else if (micros % 10_000 != 0)
            {
                _diag.Error(at, $"({name}) VRRPv3 advertisement interval {full}s must be in units of 10ms - rounding");
                micros += 5_000;
                micros -= micros % 10_000;
                if (micros == 0) micros = 10_000;
            }
        }
        return TimeSpan.FromTicks(micros * 10);
    }
}
