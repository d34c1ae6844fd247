using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Vigil.Config.Model;

namespace Vigil.Config.Output;

/// <summary>
/// Prints a model back as keepalived.conf. Every value the model holds is written out (defaults
/// that keepalived resolved become explicit), in an order keepalived accepts (definitions before
/// the instances that track them), so reading the output gives an equal model.
/// </summary>
public static class ConfigWriter
{
    public static string Write(KeepalivedConfig config)
    {
        var w = new Writer();
        WriteGlobal(w, config.Global);
        foreach (var tg in config.TrackGroups)
        {
            w.Open("track_group", tg.Name);
            w.Values("group", tg.Instances.Select(Q));
            w.Close();
        }
        WriteAddressBlock(w, "static_ipaddress", config.StaticAddresses, isStatic: true);
        if (!config.StaticRoutes.IsEmpty) w.Values("static_routes", config.StaticRoutes.Select(RouteText));
        if (!config.StaticRules.IsEmpty) w.Values("static_rules", config.StaticRules.Select(RuleText));
        foreach (var s in config.VrrpScripts) WriteScript(w, s);
        foreach (var f in config.TrackFiles) WriteTrackFile(w, f);
        foreach (var p in config.TrackProcesses) WriteTrackProcess(w, p);
        foreach (var b in config.BfdInstances) WriteBfd(w, b);
        foreach (var g in config.GarpGroups) WriteGarpGroup(w, g);
        foreach (var g in config.SyncGroups) WriteSyncGroup(w, g);
        foreach (var i in config.Instances) WriteInstance(w, i, config.Global);
        if (config.Ssl is { } ssl)
        {
            w.Open("SSL");
            w.LineIf(ssl.Password is not null, "password", Q(ssl.Password));
            w.LineIf(ssl.CaFile is not null, "ca", Q(ssl.CaFile));
            w.LineIf(ssl.CertificateFile is not null, "certificate", Q(ssl.CertificateFile));
            w.LineIf(ssl.KeyFile is not null, "key", Q(ssl.KeyFile));
            w.Close();
        }
        foreach (var g in config.VirtualServerGroups) WriteVsGroup(w, g);
        foreach (var vs in config.VirtualServers) WriteVirtualServer(w, vs);
        if (config.Consul is { } consul) WriteConsul(w, consul);
        if (config.Metrics is { } metrics) WriteMetrics(w, metrics);
        return w.ToString();
    }

    private static void WriteConsul(Writer w, ConsulSettings c)
    {
        var d = new ConsulSettings();
        w.Open("consul");
        w.LineIf(c.Address is not null, "address", Q(c.Address));
        w.LineIf(c.Token is not null, "token", Q(c.Token));
        w.LineIf(c.Datacenter is not null, "datacenter", Q(c.Datacenter));
        if (c.Tls)
        {
            w.Open("tls");
            w.LineIf(c.CaFile is not null, "ca_file", Q(c.CaFile));
            w.LineIf(c.CertFile is not null, "cert_file", Q(c.CertFile));
            w.LineIf(c.KeyFile is not null, "key_file", Q(c.KeyFile));
            w.LineIf(c.TlsServerName is not null, "server_name", Q(c.TlsServerName));
            w.Close();
        }
        w.LineIf(c.ServiceName is not null, "service_name", Q(c.ServiceName));
        if (!c.Tags.IsEmpty) w.Line("tags", [.. c.Tags.Select(Q)]);
        w.LineIf(c.Ttl != d.Ttl, "ttl", (c.Ttl.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)) + "ms");
        w.LineIf(c.DeregisterCriticalAfter != d.DeregisterCriticalAfter, "deregister_critical_after", c.DeregisterCriticalAfter.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms");
        w.LineIf(c.RegisterVirtualServers != d.RegisterVirtualServers, "virtual_servers", Bool(c.RegisterVirtualServers));
        w.Close();
    }

    private static void WriteMetrics(Writer w, MetricsSettings m)
    {
        w.Open("metrics");
        w.LineIf(m.PrometheusAddress is not null, "prometheus_address", m.PrometheusAddress?.ToString() ?? "");
        w.LineIf(m.OtlpEndpoint is not null, "otlp_endpoint", Q(m.OtlpEndpoint?.OriginalString));
        if (m.OtlpProtocol is { } p) w.Line("otlp_protocol", MetricsSettings.ProtocolName(p));
        w.LineIf(m.OtlpHeaders is not null, "otlp_headers", Q(m.OtlpHeaders));
        if (m.OtlpInterval is { } i) w.Line("otlp_interval", i.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms");
        w.Close();
    }

    // ------------------------------------------------------------------ global_defs

    private static void WriteGlobal(Writer w, GlobalDefs g)
    {
        var d = new GlobalDefs();
        w.Open("global_defs");
        w.LineIf(g.RouterId is not null, "router_id", Q(g.RouterId));
        if (!g.NotificationEmails.IsEmpty) w.Values("notification_email", g.NotificationEmails.Select(Q));
        w.LineIf(g.NotificationEmailFrom is not null, "notification_email_from", Q(g.NotificationEmailFrom));
        if (g.SmtpServer is { } smtp) w.Line("smtp_server", Q(smtp.Host), Num(smtp.Port));
        w.LineIf(g.SmtpHeloName is not null, "smtp_helo_name", Q(g.SmtpHeloName));
        w.LineIf(g.SmtpConnectTimeout != d.SmtpConnectTimeout, "smtp_connect_timeout", Num((long)g.SmtpConnectTimeout.TotalSeconds));
        w.LineIf(g.SmtpAlert is not null, "smtp_alert", Bool(g.SmtpAlert ?? false));
        w.LineIf(g.SmtpAlertVrrp is not null, "smtp_alert_vrrp", Bool(g.SmtpAlertVrrp ?? false));
        w.LineIf(g.SmtpAlertChecker is not null, "smtp_alert_checker", Bool(g.SmtpAlertChecker ?? false));
        w.LineIf(g.NoEmailFaults, "no_email_faults");
        w.LineIf(g.NoCheckerEmails, "no_checker_emails");
        w.LineIf(g.CheckerLogAllFailures, "checker_log_all_failures");
        w.LineIf(g.RsInitNotifies, "rs_init_notifies");
        if (g.StartupScript is { } start) w.Line("startup_script", ScriptText(start));
        w.LineIf(g.StartupScriptTimeout != d.StartupScriptTimeout, "startup_script_timeout", Num((long)g.StartupScriptTimeout.TotalSeconds));
        if (g.ShutdownScript is { } stop) w.Line("shutdown_script", ScriptText(stop));
        w.LineIf(g.ShutdownScriptTimeout != d.ShutdownScriptTimeout, "shutdown_script_timeout", Num((long)g.ShutdownScriptTimeout.TotalSeconds));
        w.LineIf(g.DefaultInterface != d.DefaultInterface, "default_interface", Q(g.DefaultInterface));
        if (g.DynamicInterfaces) w.Line("dynamic_interfaces", g.AllowInterfaceChanges ? "allow_if_changes" : "");
        w.LineIf(!g.VrrpMcastGroup4.Equals(d.VrrpMcastGroup4), "vrrp_mcast_group4", g.VrrpMcastGroup4.ToString());
        w.LineIf(!g.VrrpMcastGroup6.Equals(d.VrrpMcastGroup6), "vrrp_mcast_group6", g.VrrpMcastGroup6.ToString());
        // vrrp_min_garp changes the defaults below (not values set explicitly), so it comes first.
        var b = d;
        if (g.VrrpMinGarp)
        {
            w.Line("vrrp_min_garp");
            b = d with { VrrpGarpMasterRepeat = 1, VrrpGarpMasterRefreshRepeat = 0, VrrpGarpMasterDelay = TimeSpan.Zero };
        }
        w.LineIf(g.VrrpGarpMasterDelay != b.VrrpGarpMasterDelay, "vrrp_garp_master_delay", Num((long)g.VrrpGarpMasterDelay.TotalSeconds));
        w.LineIf(g.VrrpGarpMasterRepeat != b.VrrpGarpMasterRepeat, "vrrp_garp_master_repeat", Num(g.VrrpGarpMasterRepeat));
        w.LineIf(g.VrrpGarpMasterRefresh != b.VrrpGarpMasterRefresh, "vrrp_garp_master_refresh", Num((long)g.VrrpGarpMasterRefresh.TotalSeconds));
        w.LineIf(g.VrrpGarpMasterRefreshRepeat != b.VrrpGarpMasterRefreshRepeat, "vrrp_garp_master_refresh_repeat", Num(g.VrrpGarpMasterRefreshRepeat));
        w.LineIf(g.VrrpGarpLowerPrioDelay != g.VrrpGarpMasterDelay, "vrrp_garp_lower_prio_delay", Num((long)g.VrrpGarpLowerPrioDelay.TotalSeconds));
        w.LineIf(g.VrrpGarpLowerPrioRepeat != g.VrrpGarpMasterRepeat, "vrrp_garp_lower_prio_repeat", Num(g.VrrpGarpLowerPrioRepeat));
        w.LineIf(g.VrrpGarpInterval != d.VrrpGarpInterval, "vrrp_garp_interval", Sec(g.VrrpGarpInterval));
        w.LineIf(g.VrrpGnaInterval != d.VrrpGnaInterval, "vrrp_gna_interval", Sec(g.VrrpGnaInterval));
        if (g.VrrpGarpExtraIf != TimeSpan.Zero) w.Line("vrrp_garp_extra_if", g.VrrpGarpExtraIfAll ? "all" : "", Num((long)g.VrrpGarpExtraIf.TotalSeconds));
        w.LineIf(g.VrrpDownTimerAdverts != d.VrrpDownTimerAdverts, "vrrp_down_timer_adverts", Num(g.VrrpDownTimerAdverts));
        w.LineIf(g.VrrpLowerPrioNoAdvert, "vrrp_lower_prio_no_advert");
        w.LineIf(g.VrrpHigherPrioSendAdvert, "vrrp_higher_prio_send_advert");
        w.LineIf(g.VrrpVersion != d.VrrpVersion, "vrrp_version", Num(g.VrrpVersion));
        w.LineIf(g.VrrpStrict, "vrrp_strict");
        w.LineIf(g.VrrpCheckUnicastSrc, "vrrp_check_unicast_src");
        w.LineIf(g.VrrpSkipCheckAdvAddr, "vrrp_skip_check_adv_addr");
        w.LineIf(g.VrrpStartupDelay != TimeSpan.Zero, "vrrp_startup_delay", Sec(g.VrrpStartupDelay));
        w.LineIf(g.LogUnknownVrids, "log_unknown_vrids");
        w.LineIf(g.VrrpNotifyPriorityChanges, "vrrp_notify_priority_changes", "true");
        w.LineIf(g.FifoWriteVrrpStatesOnReload, "fifo_write_vrrp_states_on_reload");
        WriteFifo(w, "notify_fifo", g.NotifyFifo);
        WriteFifo(w, "vrrp_notify_fifo", g.VrrpNotifyFifo);
        WriteFifo(w, "lvs_notify_fifo", g.LvsNotifyFifo);
        if (g.ScriptUser is not null) w.Line("script_user", Q(g.ScriptUser), g.ScriptGroup is null ? "" : Q(g.ScriptGroup));
        w.LineIf(g.EnableScriptSecurity, "enable_script_security");
        if (g.LvsTimeouts is { } t)
        {
            w.Line("lvs_timeouts",
                t.Tcp is { } tcp ? "tcp " + Num((long)tcp.TotalSeconds) : "",
                t.TcpFin is { } fin ? "tcpfin " + Num((long)fin.TotalSeconds) : "",
                t.Udp is { } udp ? "udp " + Num((long)udp.TotalSeconds) : "");
        }
        w.LineIf(g.LvsFlush, "lvs_flush");
        if (g.LvsFlushOnStop != LvsFlushOnStop.None) w.Line("lvs_flush_on_stop", g.LvsFlushOnStop == LvsFlushOnStop.VirtualServers ? "VS" : "");
        if (g.LvsBackend != LvsBackend.Auto) w.Line("lvs_backend", g.LvsBackend == LvsBackend.Ipvs ? "ipvs" : "nftables");
        if (g.LvsSyncDaemon is { } s)
        {
            w.Line("lvs_sync_daemon", Q(s.Interface),
                s.Instance is null ? "" : "inst " + Q(s.Instance),
                "id " + Num(s.SyncId),
                s.MaxLength is { } ml ? "maxlen " + Num(ml) : "",
                s.Port is { } p ? "port " + Num(p) : "",
                s.Ttl is { } ttl ? "ttl " + Num(ttl) : "",
                s.Group is { } grp ? "group " + grp : "");
        }
        if (g.Nftables is { } nft)
        {
            w.Line("nftables", Q(nft.Table));
            w.LineIf(nft.Priority != -1, "nftables_priority", Num(nft.Priority));
        }
        w.LineIf(g.NftablesIfindex, "nftables_ifindex");
        w.LineIf(g.NftablesCounters, "nftables_counters");
        if (g.NftablesIpvs is { } ipvs)
        {
            w.Line("nftables_ipvs", Q(ipvs.Table));
            w.LineIf(ipvs.Priority != -1, "nftables_ipvs_priority", Num(ipvs.Priority));
        }
        w.LineIf(g.NftablesIpvsStartFwmark != d.NftablesIpvsStartFwmark, "nftables_ipvs_start_fwmark", Num(g.NftablesIpvsStartFwmark));
        w.LineIf(g.VmacPrefix is not null, "vmac_prefix", Q(g.VmacPrefix));
        w.LineIf(g.VmacAddrPrefix is not null, "vmac_addr_prefix", Q(g.VmacAddrPrefix));
        w.LineIf(g.RandomSeed is not null, "random_seed", Num(g.RandomSeed ?? 0));
        w.Close();
    }

    private static void WriteFifo(Writer w, string keyword, NotifyFifo? fifo)
    {
        if (fifo is null) return;
        w.Line(keyword, Q(fifo.Path), fifo.User is null ? "" : Q(fifo.User), fifo.Group is null ? "" : Q(fifo.Group));
        if (fifo.Script is { } s) w.Line(keyword + "_script", ScriptText(s));
    }

    // ------------------------------------------------------------------ VRRP

    private static void WriteScript(Writer w, VrrpScript s)
    {
        w.Open("vrrp_script", Q(s.Name));
        w.Line("script", QuoteEscaped(s.Script.CommandLine));
        w.LineIf(s.Interval != TimeSpan.FromSeconds(1), "interval", Num((long)s.Interval.TotalSeconds));
        w.LineIf(s.Timeout != TimeSpan.Zero, "timeout", Num((long)s.Timeout.TotalSeconds));
        if (s.Weight != 0 || s.WeightReverse) w.Line("weight", Num(s.Weight), s.WeightReverse ? "reverse" : "");
        w.LineIf(s.Rise != 1, "rise", Num(s.Rise));
        w.LineIf(s.Fall != 1, "fall", Num(s.Fall));
        if (s.Script.User is not null) w.Line("user", Q(s.Script.User), s.Script.Group is null ? "" : Q(s.Script.Group));
        w.LineIf(s.InitFail, "init_fail");
        w.Close();
    }

    private static void WriteTrackFile(Writer w, TrackFile f)
    {
        w.Open("track_file", Q(f.Name));
        w.Line("file", Q(f.Path));
        if (f.Weight != 1 || f.WeightReverse) w.Line("weight", Num(f.Weight), f.WeightReverse ? "reverse" : "");
        if (f.InitValue is { } v) w.Line("init_file", Num(v), f.InitOverwrite ? "overwrite" : "");
        w.Close();
    }

    private static void WriteTrackProcess(Writer w, TrackProcess p)
    {
        w.Open("vrrp_track_process", Q(p.Name));
        w.Line("process", Q(p.Process), string.Join(' ', p.Parameters.Select(Q)));
        var implied = p.Parameters.IsEmpty ? ProcessParamMatch.None : ProcessParamMatch.Exact;
        if (p.ParamMatch != implied)
        {
            w.Line("param_match", p.ParamMatch switch { ProcessParamMatch.Initial => "initial", ProcessParamMatch.Partial => "partial", _ => "" });
        }
        if (p.Weight != 0 || p.WeightReverse) w.Line("weight", Num(p.Weight), p.WeightReverse ? "reverse" : "");
        w.LineIf(p.QuorumMax != int.MaxValue, "quorum_max", Num(p.QuorumMax));
        w.LineIf(p.Quorum != 1 && p.QuorumMax != 0, "quorum", Num(p.Quorum));
        w.LineIf(p.ForkDelay != TimeSpan.Zero, "fork_delay", Sec(p.ForkDelay));
        w.LineIf(p.TerminateDelay != TimeSpan.Zero, "terminate_delay", Sec(p.TerminateDelay));
        w.LineIf(p.FullCommand && p.Parameters.IsEmpty && p.ParamMatch == ProcessParamMatch.None, "full_command");
        w.Close();
    }

    private static void WriteBfd(Writer w, BfdInstance b)
    {
        var d = new BfdInstance { Name = b.Name };
        w.Open("bfd_instance", Q(b.Name));
        w.LineIf(b.NeighborAddress is not null, "neighbor_ip", b.NeighborAddress?.ToString());
        w.LineIf(b.SourceAddress is not null, "source_ip", b.SourceAddress?.ToString());
        w.LineIf(b.MinRx != d.MinRx, "min_rx", Ms(b.MinRx));
        w.LineIf(b.MinTx != d.MinTx, "min_tx", Ms(b.MinTx));
        w.LineIf(b.IdleTx != d.IdleTx, "idle_tx", Ms(b.IdleTx));
        w.LineIf(b.Multiplier != d.Multiplier, "multiplier", Num(b.Multiplier));
        w.LineIf(b.Passive, "passive");
        w.LineIf(b.Ttl is not null, "ttl", Num(b.Ttl ?? 0));
        w.LineIf(b.MaxHops != 0, "max_hops", Num(b.MaxHops));
        if (b.Weight != 0 || b.WeightReverse) w.Line("weight", Num(b.Weight), b.WeightReverse ? "reverse" : "");
        w.LineIf(b.ToVrrp, "vrrp");
        w.LineIf(b.ToChecker, "checker");
        w.Close();

        static string Ms(TimeSpan t) => ((decimal)t.Ticks / TimeSpan.TicksPerMillisecond).ToString("0.###", CultureInfo.InvariantCulture);
    }

    private static void WriteGarpGroup(Writer w, GarpGroup g)
    {
        w.Open("garp_group");
        w.LineIf(g.GarpInterval is not null, "garp_interval", Sec(g.GarpInterval ?? default));
        w.LineIf(g.GnaInterval is not null, "gna_interval", Sec(g.GnaInterval ?? default));
        if (!g.Interfaces.IsEmpty) w.Values("interfaces", g.Interfaces.Select(Q));
        w.Close();
    }

    private static void WriteTracking(Writer w, IEnumerable<TrackedInterface> interfaces, IEnumerable<TrackedObject> scripts,
        IEnumerable<TrackedObject> files, IEnumerable<TrackedObject> processes, IEnumerable<TrackedObject> bfds)
    {
        var ifs = interfaces.ToList();
        if (ifs.Count > 0) w.Values("track_interface", ifs.Select(t => $"{Q(t.Name)} weight {Num(t.Weight)}{(t.Reverse ? " reverse" : "")}"));
        foreach (var (keyword, list) in new[] { ("track_script", scripts), ("track_file", files), ("track_process", processes), ("track_bfd", bfds) })
        {
            var items = list.ToList();
            if (items.Count > 0) w.Values(keyword, items.Select(t => $"{Q(t.Name)} weight {Num(t.Weight)} {(t.Reverse ? "reverse" : "noreverse")}"));
        }
    }

    private static void WriteSyncGroup(Writer w, VrrpSyncGroup g)
    {
        w.Open("vrrp_sync_group", Q(g.Name));
        w.Values("group", g.Members.Select(Q));
        WriteTracking(w, g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackProcesses, g.TrackBfds);
        if (g.NotifyMaster is { } m) w.Line("notify_master", ScriptText(m));
        if (g.NotifyBackup is { } b) w.Line("notify_backup", ScriptText(b));
        if (g.NotifyFault is { } f) w.Line("notify_fault", ScriptText(f));
        if (g.NotifyStop is { } s) w.Line("notify_stop", ScriptText(s));
        if (g.Notify is { } n) w.Line("notify", ScriptText(n));
        w.Line("smtp_alert", Bool(g.SmtpAlert));
        w.LineIf(g.TrackingWeight, "sync_group_tracking_weight");
        w.Line("notify_priority_changes", Bool(g.NotifyPriorityChanges));
        w.Close();
    }

    private static void WriteInstance(Writer w, VrrpInstance i, GlobalDefs g)
    {
        w.Open("vrrp_instance", Q(i.Name));
        w.Line("state", i.State == VrrpState.Master ? "MASTER" : "BACKUP");
        w.LineIf(i.Interface is not null, "interface", Q(i.Interface));
        w.LineIf(i.Vrf is not null, "vrf", Q(i.Vrf));
        if (i.UseVmac is { } vmac)
        {
            w.Line("use_vmac", vmac.InterfaceName is null ? "" : Q(vmac.InterfaceName), vmac.Mac is null ? "" : Mac(vmac.Mac));
        }
        w.LineIf(i.UseVmacAddr, "use_vmac_addr");
        w.LineIf(i.VmacXmitBase, "vmac_xmit_base");
        if (i.UseIpvlan is { } ipvlan)
        {
            w.Line("use_ipvlan", ipvlan.InterfaceName is null ? "" : Q(ipvlan.InterfaceName), ipvlan.Address?.ToString() ?? "", ipvlan.Mode.ToString().ToLowerInvariant());
        }
        // The version first: afterwards an IPv6 address would make "version 2" a conflict.
        if (i.NativeIpv6) w.Line("native_ipv6");
        else w.Line("version", Num(i.Version));
        w.Line("virtual_router_id", Num(i.VirtualRouterId));
        w.Line("priority", Num(i.Priority));
        w.Line("advert_int", Sec(i.AdvertInterval));
        if (i.Authentication is { } auth)
        {
            w.Open("authentication");
            w.Line("auth_type", auth.Type == VrrpAuthType.Ah ? "AH" : "PASS");
            w.Line("auth_pass", Q(auth.Password));
            w.Close();
        }
        w.LineIf(i.DontTrackPrimary, "dont_track_primary");
        WriteTracking(w, i.TrackInterfaces, i.TrackScripts, i.TrackFiles, i.TrackProcesses, i.TrackBfds);
        if (i.SourceAddress is { } src) w.Line(i.Unicast ? "unicast_src_ip" : "mcast_src_ip", src.ToString());
        w.LineIf(i.TrackSourceAddress, "track_src_ip");
        var defaultGroup = i.Family == AddressFamily.InterNetwork ? g.VrrpMcastGroup4 : g.VrrpMcastGroup6;
        w.LineIf(!i.Unicast && i.MulticastGroup is not null && !i.MulticastGroup.Equals(defaultGroup), "mcast_dst_ip", i.MulticastGroup?.ToString());
        if (i.Unicast)
        {
            w.Values("unicast_peer", i.UnicastPeers.Select(p =>
                p.Address + (p.MinTtl != 0 ? " min_ttl " + Num(p.MinTtl) : "") + (p.MaxTtl != 255 ? " max_ttl " + Num(p.MaxTtl) : "")));
            if (i.UnicastTtl is { } ttl && !(i.Family == AddressFamily.InterNetwork && ttl == 255)) w.Line("unicast_ttl", Num(ttl));
        }
        w.LineIf(i.UnicastFaultNoPeer, "unicast_fault_no_peer");
        // A peer's min_ttl/max_ttl implies check_unicast_src.
        w.LineIf(i.CheckUnicastSource && !g.VrrpCheckUnicastSrc && (!i.Unicast || i.UnicastPeers.All(p => p.MinTtl == 0 && p.MaxTtl == 255)), "check_unicast_src");
        if (i.OldUnicastChecksum != OldUnicastChecksum.Auto) w.Line("old_unicast_checksum", i.OldUnicastChecksum == OldUnicastChecksum.Never ? "never" : "");
        w.LineIf(i.V3ChecksumAsV2, "v3_checksum_as_v2");
        WriteAddressBlock(w, "virtual_ipaddress", i.VirtualIpAddresses, isStatic: false);
        WriteAddressBlock(w, "virtual_ipaddress_excluded", i.ExcludedVirtualIpAddresses, isStatic: false);
        if (!i.VirtualRoutes.IsEmpty) w.Values("virtual_routes", i.VirtualRoutes.Select(RouteText));
        if (!i.VirtualRules.IsEmpty) w.Values("virtual_rules", i.VirtualRules.Select(RuleText));
        w.LineIf(i.PromoteSecondaries, "promote_secondaries");
        w.Line(i.Accept ? "accept" : "no_accept");
        w.Line(i.Nopreempt ? "nopreempt" : "preempt");
        w.LineIf(i.PreemptDelay != TimeSpan.Zero, "preempt_delay", Sec(i.PreemptDelay));
        w.LineIf(i.SkipCheckAdvAddr && !g.VrrpSkipCheckAdvAddr, "skip_check_adv_addr");
        w.Line("strict_mode", Bool(i.StrictMode));
        w.LineIf(i.Debug != 0, "debug", Num(i.Debug));
        if (i.NotifyMaster is { } m) w.Line("notify_master", ScriptText(m));
        if (i.NotifyBackup is { } b) w.Line("notify_backup", ScriptText(b));
        if (i.NotifyFault is { } f) w.Line("notify_fault", ScriptText(f));
        if (i.NotifyStop is { } s) w.Line("notify_stop", ScriptText(s));
        if (i.NotifyDeleted) w.Line("notify_deleted", i.NotifyDeletedScript is { } ds ? ScriptText(ds) : "");
        if (i.Notify is { } n) w.Line("notify", ScriptText(n));
        if (i.NotifyMasterRxLowerPri is { } rx) w.Line("notify_master_rx_lower_pri", ScriptText(rx));
        w.Line("smtp_alert", Bool(i.SmtpAlert));
        w.Line("notify_priority_changes", Bool(i.NotifyPriorityChanges));
        // Instances start from the global GARP settings; only differences are written.
        w.LineIf(i.GarpMasterDelay != g.VrrpGarpMasterDelay, "garp_master_delay", Num((long)i.GarpMasterDelay.TotalSeconds));
        w.LineIf(i.GarpMasterRepeat != g.VrrpGarpMasterRepeat, "garp_master_repeat", Num(i.GarpMasterRepeat));
        w.LineIf(i.GarpMasterRefresh != g.VrrpGarpMasterRefresh, "garp_master_refresh", Num((long)i.GarpMasterRefresh.TotalSeconds));
        w.LineIf(i.GarpMasterRefreshRepeat != g.VrrpGarpMasterRefreshRepeat, "garp_master_refresh_repeat", Num(i.GarpMasterRefreshRepeat));
        w.Line("garp_lower_prio_delay", Num((long)i.GarpLowerPrioDelay.TotalSeconds));
        w.Line("garp_lower_prio_repeat", Num(i.GarpLowerPrioRepeat));
        if (i.GarpExtraIf != g.VrrpGarpExtraIf || i.GarpExtraIfAll != g.VrrpGarpExtraIfAll)
        {
            w.Line("garp_extra_if", i.GarpExtraIfAll ? "all" : "", Num((long)i.GarpExtraIf.TotalSeconds));
        }
        w.LineIf(i.DownTimerAdverts != g.VrrpDownTimerAdverts, "down_timer_adverts", Num(i.DownTimerAdverts));
        w.Line("lower_prio_no_advert", Bool(i.LowerPrioNoAdvert));
        w.Line("higher_prio_send_advert", Bool(i.HigherPrioSendAdvert));
        w.LineIf(i.KernelRxBufSize is not null, "kernel_rx_buf_size", Num(i.KernelRxBufSize ?? 0));
        w.Close();
    }

    private static void WriteAddressBlock(Writer w, string keyword, EquatableArray<VirtualIpAddress> addresses, bool isStatic)
    {
        if (addresses.IsEmpty) return;
        w.Values(keyword, addresses.Select(a => AddressText(a, isStatic)));
    }

    private static string AddressText(VirtualIpAddress a, bool isStatic)
    {
        var parts = new List<string> { a.Peer is null ? a.Address.ToString() : a.Address.Address.ToString() };
        if (a.Peer is { } peer) parts.Add($"peer {peer.Address}/{a.Address.PrefixLength}");
        if (a.Broadcast is { } brd) parts.Add("brd " + brd);
        if (a.Device is not null) parts.Add("dev " + Q(a.Device));
        if (a.Scope is not null) parts.Add("scope " + a.Scope);
        if (a.Label is not null) parts.Add("label " + Q(a.Label));
        if (a.Home) parts.Add("home");
        if (a.NoDad) parts.Add("-nodad");
        if (a.ManageTempAddr) parts.Add("mngtmpaddr");
        if (a.NoPrefixRoute) parts.Add("noprefixroute");
        if (a.AutoJoin) parts.Add("autojoin");
        if (a.NoTrack) parts.Add("no_track");
        if (a.PreferredLifetime is { } lft) parts.Add("preferred_lft " + (lft == uint.MaxValue ? "forever" : Num(lft)));
        if (a.UseVmac && !isStatic) parts.Add("use_vmac");
        if (a.TrackGroup is not null && isStatic) parts.Add("track_group " + Q(a.TrackGroup));
        return string.Join(' ', parts);
    }

    private static string RouteText(IpRoute r)
    {
        var parts = new List<string>();
        if (r.Destination is null && r.Family == AddressFamily.InterNetworkV6) parts.Add("inet6");
        if (r.Type != "unicast") parts.Add(r.Type);
        parts.Add(r.Destination?.ToString() ?? "default");
        if (r.PreferredSource is { } src) parts.Add("src " + src);
        if (r.From is { } from) parts.Add("from " + from);
        if (r.Via is { } via) parts.Add("via " + via);
        if (r.Device is not null) parts.Add("dev " + Q(r.Device));
        if (r.Table is not null) parts.Add("table " + Q(r.Table));
        if (r.Metric is { } metric) parts.Add("metric " + Num(metric));
        if (r.Protocol is not null) parts.Add("protocol " + Q(r.Protocol));
        if (r.Scope is not null) parts.Add("scope " + r.Scope);
        if (r.Tos is not null) parts.Add("tos " + Q(r.Tos));
        if (r.OnLink) parts.Add("onlink");
        parts.AddRange(r.Options);
        if (r.Install != RouteInstall.Prepend) parts.Add(r.Install.ToString().ToLowerInvariant());
        if (r.OrVia is { } or) parts.Add("or " + or);
        if (r.NoTrack) parts.Add("no_track");
        if (r.TrackGroup is not null) parts.Add("track_group " + Q(r.TrackGroup));
        if (r.Vrf is not null) parts.Add("vrf " + Q(r.Vrf));
        foreach (var hop in r.Nexthops) parts.Add("nexthop " + hop);
        return string.Join(' ', parts);
    }

    private static string RuleText(IpRule r)
    {
        var parts = new List<string>();
        if (r.From is null && r.To is null && r.Family == AddressFamily.InterNetworkV6) parts.Add("inet6");
        if (r.Not) parts.Add("not");
        if (r.From is { } from) parts.Add("from " + from);
        if (r.To is { } to) parts.Add("to " + to);
        parts.Add("preference " + Num(r.Preference));
        switch (r.Action)
        {
            case "table":
                parts.Add("table " + Q(r.Table));
                break;
            case "goto":
                parts.Add("goto " + Num(r.GotoTarget ?? 0));
                break;
            default:
                parts.Add(r.Action);
                break;
        }
        if (r.Tos is not null) parts.Add("tos " + Q(r.Tos));
        if (r.Fwmark is { } fw) parts.Add("fwmark " + Num(fw) + (r.FwmarkMask is { } mask ? "/" + Num(mask) : ""));
        if (r.InputInterface is not null) parts.Add("iif " + Q(r.InputInterface));
        if (r.OutputInterface is not null) parts.Add("oif " + Q(r.OutputInterface));
        if (r.Protocol is not null) parts.Add("protocol " + Q(r.Protocol));
        parts.AddRange(r.Options);
        if (r.NoTrack) parts.Add("no_track");
        if (r.TrackGroup is not null) parts.Add("track_group " + Q(r.TrackGroup));
        return string.Join(' ', parts);
    }

    // ------------------------------------------------------------------ LVS

    private static void WriteVsGroup(Writer w, VirtualServerGroup g)
    {
        w.Values("virtual_server_group " + Q(g.Name), g.Entries.Select(e =>
            e.Fwmark is { } fw
                ? "fwmark " + Num(fw) + (e.FwmarkFamily is { } f ? f == AddressFamily.InterNetwork ? " inet" : " inet6" : "")
                : (Equals(e.Start, e.End) ? e.Start!.ToString() : $"{e.Start}-{e.End}") + (e.Port != 0 ? " " + Num(e.Port) : "")));
    }

    private static void WriteVirtualServer(Writer w, VirtualServer vs)
    {
        switch (vs.Kind)
        {
            case VirtualServerKind.Fwmark:
                w.Open("virtual_server", "fwmark", Num(vs.Fwmark ?? 0));
                w.Line("ip_family", vs.Family == AddressFamily.InterNetworkV6 ? "inet6" : "inet");
                break;
            case VirtualServerKind.Group:
                w.Open("virtual_server", "group", Q(vs.Group));
                w.Line("ip_family", vs.Family == AddressFamily.InterNetworkV6 ? "inet6" : "inet");
                break;
            default:
                w.Open("virtual_server", vs.Address!.ToString(), vs.Port == 0 ? "" : Num(vs.Port));
                break;
        }
        w.Line("lb_algo", vs.Scheduler);
        // Scheduler flags by the scheduler's own names where it has them (sh, mh), else generically.
        var prefix = vs.Scheduler is "sh" or "mh" ? vs.Scheduler : null;
        w.LineIf(vs.SchedulerFlags.HasFlag(SchedulerFlags.Ops), "ops");
        w.LineIf(vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag1), prefix is null ? "flag-1" : prefix + "-fallback");
        w.LineIf(vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag2), prefix is null ? "flag-2" : prefix + "-port");
        w.LineIf(vs.SchedulerFlags.HasFlag(SchedulerFlags.Flag3), "flag-3");
        w.Line("lb_kind", ForwardingText(vs.Forwarding));
        w.LineIf(vs.PersistenceTimeout is not null, "persistence_timeout", Num((long)(vs.PersistenceTimeout?.TotalSeconds ?? 0)));
        w.LineIf(vs.PersistenceGranularity is not null, "persistence_granularity", vs.PersistenceGranularity);
        w.LineIf(vs.PersistenceEngine is not null, "persistence_engine", Q(vs.PersistenceEngine));
        w.LineIf(vs.Protocol is not null, "protocol", vs.Protocol?.ToString().ToUpperInvariant());
        w.LineIf(vs.HaSuspend, "ha_suspend");
        w.Line("smtp_alert", Bool(vs.SmtpAlert));
        w.LineIf(vs.VirtualHost is not null, "virtualhost", Q(vs.VirtualHost));
        w.LineIf(vs.Alpha, "alpha");
        w.LineIf(vs.Omega, "omega");
        w.LineIf(vs.Quorum != 1, "quorum", Num(vs.Quorum));
        w.LineIf(vs.Hysteresis != 0, "hysteresis", Num(vs.Hysteresis));
        if (vs.QuorumUp is { } up) w.Line("quorum_up", ScriptText(up));
        if (vs.QuorumDown is { } down) w.Line("quorum_down", ScriptText(down));
        w.LineIf(vs.Weight != 1, "weight", Num(vs.Weight));
        w.LineIf(vs.DelayLoop != TimeSpan.FromSeconds(60), "delay_loop", Sec(vs.DelayLoop));
        w.LineIf(vs.ConnectTimeout != TimeSpan.FromSeconds(5), "connect_timeout", Sec(vs.ConnectTimeout));
        w.LineIf(vs.InhibitOnFailure, "inhibit_on_failure");
        if (vs.SorryServer is { } ss)
        {
            w.Line("sorry_server", ss.Address.ToString(), ss.Port == 0 ? "" : Num(ss.Port));
            w.LineIf(ss.Inhibit, "sorry_server_inhibit");
            w.Line("sorry_server_lvs_method", ForwardingText(ss.Forwarding));
        }
        foreach (var rs in vs.RealServers) WriteRealServer(w, rs);
        w.Close();
    }

    private static string ForwardingText(Forwarding f)
    {
        var method = f.Method.ToString().ToUpperInvariant();
        if (f.Method != ForwardingMethod.Tun) return method;
        var parts = new List<string> { method, "type", f.TunnelType.ToString().ToLowerInvariant() };
        if (f.TunnelPort is { } port) parts.Add("port " + Num(port));
        if (f.TunnelChecksum != TunnelChecksum.NoChecksum) parts.Add(f.TunnelChecksum == TunnelChecksum.Checksum ? "csum" : "remcsum");
        return string.Join(' ', parts);
    }

    private static void WriteRealServer(Writer w, RealServer rs)
    {
        w.Open("real_server", rs.Address.ToString(), rs.Port == 0 ? "" : Num(rs.Port));
        w.Line("weight", Num(rs.Weight));
        w.Line("lvs_method", ForwardingText(rs.Forwarding));
        w.LineIf(rs.UpperThreshold is not null, "uthreshold", Num(rs.UpperThreshold ?? 0));
        w.LineIf(rs.LowerThreshold is not null, "lthreshold", Num(rs.LowerThreshold ?? 0));
        w.Line("inhibit_on_failure", Bool(rs.InhibitOnFailure));
        if (rs.NotifyUp is { } up) w.Line("notify_up", ScriptText(up));
        if (rs.NotifyDown is { } down) w.Line("notify_down", ScriptText(down));
        w.Line("alpha", Bool(rs.Alpha));
        w.Line("smtp_alert", Bool(rs.SmtpAlert));
        w.LineIf(rs.VirtualHost is not null, "virtualhost", Q(rs.VirtualHost));
        foreach (var c in rs.Checkers) WriteChecker(w, c);
        w.Close();
    }

    private static void WriteChecker(Writer w, Checker c)
    {
        w.Open(c.Keyword);
        if (c is FileCheck file)
        {
            w.Line("track_file", Q(file.TrackFile));
            w.Line("weight", Num(file.Weight), file.WeightReverse ? "reverse" : "noreverse");
            w.Close();
            return;
        }
        if (c is BfdCheck bfd)
        {
            w.Line("name", Q(bfd.Name));
            w.Line("alpha", Bool(bfd.Alpha));
            w.Close();
            return;
        }
        w.Line("alpha", Bool(c.Alpha));
        w.Line("retry", Num(c.Retry));
        w.Line("delay_before_retry", Sec(c.DelayBeforeRetry));
        w.Line("warmup", Sec(c.Warmup));
        w.Line("delay_loop", Sec(c.DelayLoop));
        w.Line("log_all_failures", Bool(c.LogAllFailures));
        var connection = c switch
        {
            TcpCheck t => t.Connection,
            HttpCheck h => h.Connection,
            SmtpCheck s => s.Connection,
            DnsCheck d => d.Connection,
            PingCheck p => p.Connection,
            UdpCheck u => u.Connection,
            _ => null,
        };
        if (connection is not null)
        {
            w.Line("connect_ip", connection.ConnectIp.ToString());
            w.LineIf(connection.ConnectPort != 0, "connect_port", Num(connection.ConnectPort));
            w.LineIf(connection.BindTo is not null, "bindto", connection.BindTo?.ToString());
            w.LineIf(connection.BindPort is not null, "bind_port", Num(connection.BindPort ?? 0));
            w.LineIf(connection.BindInterface is not null, "bind_if", Q(connection.BindInterface));
            w.Line("connect_timeout", Sec(connection.ConnectTimeout));
            w.LineIf(connection.Fwmark is not null, "fwmark", Num(connection.Fwmark ?? 0));
        }
        switch (c)
        {
            case HttpCheck h:
                w.Line("http_protocol", h.Protocol switch { HttpProtocol.Http11 => "1.1", HttpProtocol.Http10Close => "1.0C", _ => "1.0" });
                w.LineIf(h.VirtualHost is not null, "virtualhost", Q(h.VirtualHost));
                w.LineIf(h.EnableSni, "enable_sni");
                w.LineIf(h.FastRecovery, "fast_recovery");
                foreach (var url in h.Urls)
                {
                    w.Open("url");
                    w.Line("path", Q(url.Path));
                    w.LineIf(url.Digest is not null, "digest", url.Digest);
                    w.Line("status_code", string.Join(' ', url.StatusCodes.Select(r => r.Min == r.Max ? Num(r.Min) : $"{Num(r.Min)}-{Num(r.Max)}")));
                    w.LineIf(url.VirtualHost is not null, "virtualhost", Q(url.VirtualHost));
                    if (url.Regex is not null)
                    {
                        w.Line("regex", QuoteEscaped(url.Regex));
                        w.LineIf(url.RegexNoMatch, "regex_no_match");
                        if (!url.RegexOptions.IsEmpty) w.Line("regex_options", string.Join(' ', url.RegexOptions));
                        w.LineIf(url.RegexMinOffset is not null, "regex_min_offset", Num(url.RegexMinOffset ?? 0));
                        w.LineIf(url.RegexMaxOffset is not null, "regex_max_offset", Num(url.RegexMaxOffset ?? 0));
                    }
                    w.Close();
                }
                break;
            case SmtpCheck s:
                w.Line("helo_name", Q(s.HeloName));
                break;
            case DnsCheck d:
                w.Line("type", d.QueryType);
                w.Line("name", Q(d.Name));
                break;
            case MiscCheck m:
                w.Line("misc_path", QuoteEscaped(m.Script.CommandLine));
                w.LineIf(m.Timeout is not null, "misc_timeout", Num((long)(m.Timeout?.TotalSeconds ?? 0)));
                w.LineIf(m.Dynamic, "misc_dynamic");
                if (m.Script.User is not null) w.Line("user", Q(m.Script.User), m.Script.Group is null ? "" : Q(m.Script.Group));
                break;
            case UdpCheck u:
                if (u.Payload is { } payload) w.Line("payload", Convert.ToHexStringLower(payload.AsSpan()));
                if (u.RequireReply) w.Line("require_reply", u.ReplyData is { } data ? HexWithMask(data, u.ReplyMask) : "");
                w.LineIf(u.MinReplyLength != 0, "min_reply_length", Num(u.MinReplyLength));
                w.LineIf(u.MaxReplyLength != 255, "max_reply_length", Num(u.MaxReplyLength));
                break;
        }
        w.Close();
    }

    private static string HexWithMask(EquatableArray<byte> data, EquatableArray<byte>? mask)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < data.Count; i++)
        {
            var m = mask is { } mk && i < mk.Count ? mk[i] : (byte)0;
            sb.Append((m & 0xf0) != 0 ? 'x' : "0123456789abcdef"[data[i] >> 4]);
            sb.Append((m & 0x0f) != 0 ? 'x' : "0123456789abcdef"[data[i] & 0xf]);
        }
        return sb.ToString();
    }

    // ------------------------------------------------------------------ text helpers

    private static string ScriptText(ScriptSpec s) =>
        QuoteEscaped(s.CommandLine) + (s.User is null ? "" : " " + Q(s.User) + (s.Group is null ? "" : " " + Q(s.Group)));

    /// <summary>A word as keepalived's tokenizer reads it back: quoted when it holds blanks, braces or comment characters.</summary>
    internal static string Q(string? s)
    {
        if (s is null) return "";
        if (s.Length == 0) return "\"\"";
        var needs = s.Any(c => char.IsWhiteSpace(c) || c is '{' or '}' or '#' or '!' or '"') || s[0] == '$' || s[0] == '@' || s[0] == '~';
        return needs ? "\"" + s + "\"" : s;
    }

    /// <summary>A script or regex: double quotes, with backslash and double quote escaped (keepalived's quoted-escaped reading).</summary>
    internal static string QuoteEscaped(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                // Three octal digits: keepalived reads at most three (a \x escape would run on into hex digits).
                case < ' ' or '\x7f': sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0')); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    private static string Bool(bool b) => b ? "true" : "false";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Num(ulong n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Seconds with up to microsecond precision, keepalived's timer syntax.</summary>
    private static string Sec(TimeSpan t) => ((decimal)t.Ticks / TimeSpan.TicksPerSecond).ToString("0.######", CultureInfo.InvariantCulture);

    private static string Mac(System.Net.NetworkInformation.PhysicalAddress mac) =>
        string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));

    private sealed class Writer
    {
        private readonly StringBuilder _sb = new();
        private int _depth;

        public void Open(string keyword, params string[] args)
        {
            Line(keyword, args);
            _sb.Length -= Environment.NewLine.Length;
            _sb.Append(" {").AppendLine();
            _depth++;
        }

        public void Close()
        {
            _depth--;
            Indent();
            _sb.AppendLine("}");
        }

        public void Line(string keyword, params string?[] args)
        {
            Indent();
            _sb.Append(keyword);
            foreach (var a in args)
            {
                if (string.IsNullOrEmpty(a)) continue;
                _sb.Append(' ').Append(a);
            }
            _sb.AppendLine();
        }

        public void LineIf(bool condition, string keyword, params string?[] args)
        {
            if (condition) Line(keyword, args);
        }

        public void Values(string keyword, IEnumerable<string> values)
        {
            Open(keyword);
            foreach (var v in values)
            {
                Indent();
                _sb.AppendLine(ProtectFirstWord(v));
            }
            Close();
        }

        /// <summary>
        /// A value line whose first word the reader would take as a directive (include..., $NAME,
        /// @id, ~SEQ) gets that word quoted; keepalived drops the quotes when it reads the value.
        /// </summary>
        private static string ProtectFirstWord(string line)
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var first = space < 0 ? line : line[..space];
            var directive = first is "include" or "includer" or "includem" or "includew" or "includeb" or "includea"
                || (first.Length > 0 && first[0] is '$' or '@' or '~');
            return directive && !first.StartsWith('"') ? "\"" + first + "\"" + line[first.Length..] : line;
        }

        private void Indent() => _sb.Append(' ', _depth * 4);

        public override string ToString() => _sb.ToString();
    }
}
