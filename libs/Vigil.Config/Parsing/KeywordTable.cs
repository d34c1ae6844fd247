namespace Vigil.Config.Parsing;

/// <summary>The kinds of block a keyword can appear in.</summary>
public enum BlockContext
{
    Root,
    GlobalDefs,
    VrrpInstance,
    Authentication,
    SyncGroup,
    VrrpScript,
    TrackFile,
    TrackProcess,
    GarpGroup,
    TrackGroup,
    BfdInstance,
    Ssl,
    VirtualServer,
    RealServer,
    TcpCheck,
    HttpCheck,
    HttpUrl,
    SmtpCheck,
    SmtpHost,
    DnsCheck,
    MiscCheck,
    PingCheck,
    UdpCheck,
    FileCheck,
    BfdCheck,
    /// <summary>consul { } (Vigil's own).</summary>
    Consul,
    ConsulTls,
    /// <summary>metrics { } (Vigil's own).</summary>
    Metrics,
}

/// <summary>How a keyword's line is followed.</summary>
public enum KeywordShape
{
    /// <summary>A single line.</summary>
    Leaf,
    /// <summary>A block of keywords ("name { ... }").</summary>
    Block,
    /// <summary>A block of values, one item per line ("virtual_ipaddress { ... }").</summary>
    ValueBlock,
}

/// <summary>What Vigil does with a keyword keepalived accepts.</summary>
public enum KeywordSupport
{
    /// <summary>Read into the typed model.</summary>
    Supported,
    /// <summary>Tuning of keepalived's own processes that has no meaning for Vigil: ignored with a warning.</summary>
    NotApplicable,
    /// <summary>SNMP and D-Bus, replaced by Vigil's gRPC API: ignored with a warning.</summary>
    ReplacedByApi,
    /// <summary>Handled while reading (include_check); never reaches the model.</summary>
    Reader,
}

/// <summary>One keyword of keepalived's configuration language.</summary>
public sealed record KeywordInfo(string Name, KeywordShape Shape, BlockContext? Child, KeywordSupport Support, string? Note = null);

/// <summary>
/// Every keyword keepalived 2.2.7 accepts (as built by Debian: VRRP, LVS, BFD, SNMP, D-Bus,
/// nftables, regex), by the block it appears in, plus the few later keywords that FEATURES.md
/// names and Vigil's own (lvs_backend, the consul and metrics blocks, noted as unknown to keepalived). A keyword missing here is reported "Unknown keyword" exactly where keepalived does.
/// </summary>
public static partial class KeywordTable
{
    // What Vigil reads but does not act on yet is listed in Unimplemented (one place), not here.
    private static readonly Dictionary<(BlockContext, string), KeywordInfo> Table = Build();

    /// <summary>Every keyword name, once (the reader shares these strings instead of copying each occurrence).</summary>
    internal static IEnumerable<string> AllNames => Table.Keys.Select(k => k.Item2).Distinct(StringComparer.Ordinal);

    public static KeywordInfo? Lookup(BlockContext context, string keyword) =>
        Table.TryGetValue((context, keyword), out var info) ? info : null;

    public static IEnumerable<KeywordInfo> KeywordsOf(BlockContext context) =>
        Table.Where(kv => kv.Key.Item1 == context).Select(kv => kv.Value);

    private static Dictionary<(BlockContext, string), KeywordInfo> Build()
    {
        var t = new Dictionary<(BlockContext, string), KeywordInfo>();

        void Add(BlockContext ctx, KeywordShape shape, BlockContext? child, KeywordSupport support, string? note, params string[] names)
        {
            foreach (var name in names)
            {
                t[(ctx, name)] = new KeywordInfo(name, shape, child, support, note);
            }
        }
        void Leaf(BlockContext ctx, params string[] names) => Add(ctx, KeywordShape.Leaf, null, KeywordSupport.Supported, null, names);
        void Values(BlockContext ctx, params string[] names) => Add(ctx, KeywordShape.ValueBlock, null, KeywordSupport.Supported, null, names);
        void Block(BlockContext ctx, string name, BlockContext child) => Add(ctx, KeywordShape.Block, child, KeywordSupport.Supported, null, name);
        void Ignored(BlockContext ctx, string note, params string[] names) => Add(ctx, KeywordShape.Leaf, null, KeywordSupport.NotApplicable, note, names);
        void Api(BlockContext ctx, params string[] names) => Add(ctx, KeywordShape.Leaf, null, KeywordSupport.ReplacedByApi, "use Vigil's gRPC API instead", names);

        const BlockContext R = BlockContext.Root;
        Ignored(R, "Vigil's processes are set up by its own command line and systemd units",
            "linkbeat_use_polling", "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "use_pid_dir", "instance", "child_wait_time");
        Block(R, "global_defs", BlockContext.GlobalDefs);
        Block(R, "track_group", BlockContext.TrackGroup);
        Values(R, "static_ipaddress", "static_routes", "static_rules");
        Block(R, "vrrp_sync_group", BlockContext.SyncGroup);
        Block(R, "garp_group", BlockContext.GarpGroup);
        Add(R, KeywordShape.ValueBlock, null, KeywordSupport.NotApplicable, "link state comes from rtnetlink", "linkbeat_interfaces");
        Values(R, "interface_up_down_delays");
        Block(R, "vrrp_instance", BlockContext.VrrpInstance);
        Block(R, "vrrp_script", BlockContext.VrrpScript);
        Block(R, "vrrp_track_process", BlockContext.TrackProcess);
        Block(R, "SSL", BlockContext.Ssl);
        Values(R, "virtual_server_group");
        Block(R, "virtual_server", BlockContext.VirtualServer);
        Block(R, "bfd_instance", BlockContext.BfdInstance);
        Block(R, "track_file", BlockContext.TrackFile);
        Block(R, "vrrp_track_file", BlockContext.TrackFile);
        ConsulKeywords(Add, Leaf);
        MetricsKeywords(Add, Leaf);

        const BlockContext G = BlockContext.GlobalDefs;
        Ignored(G, "Vigil names its own processes",
            "process_names", "process_name", "vrrp_process_name", "checker_process_name", "lvs_process_name", "bfd_process_name");
        Leaf(G, "router_id", "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout", "smtp_alert",
            "startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout",
            "smtp_alert_vrrp", "smtp_alert_checker", "checker_log_all_failures", "dynamic_interfaces", "no_email_faults",
            "default_interface", "lvs_timeouts", "lvs_flush", "lvs_flush_on_stop", "lvs_flush_onstop", "lvs_sync_daemon",
            "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_garp_master_delay", "vrrp_garp_master_repeat",
            "vrrp_garp_master_refresh", "vrrp_garp_master_refresh_repeat", "vrrp_garp_lower_prio_delay",
            "vrrp_garp_lower_prio_repeat", "vrrp_down_timer_adverts", "vrrp_garp_interval", "vrrp_gna_interval",
            "vrrp_min_garp", "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl", "vrrp_lower_prio_no_advert",
            "vrrp_higher_prio_send_advert", "vrrp_version", "nftables", "nftables_priority", "nftables_ifindex",
            "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_counters",
            "vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_strict", "notify_fifo", "notify_fifo_script",
            "vrrp_notify_fifo", "vrrp_notify_fifo_script", "vrrp_notify_priority_changes", "fifo_write_vrrp_states_on_reload",
            "lvs_notify_fifo", "lvs_notify_fifo_script", "script_user", "enable_script_security", "rs_init_notifies",
            "no_checker_emails", "vrrp_startup_delay", "log_unknown_vrids", "vmac_prefix", "vmac_addr_prefix", "random_seed");
        Add(G, KeywordShape.Leaf, null, KeywordSupport.Supported, "a Vigil extension (keepalived does not know it)", "lvs_backend");
        Values(G, "notification_email");
        Add(G, KeywordShape.Leaf, null, KeywordSupport.Reader, null, "include_check");
        Ignored(G, "keepalived process scheduling and buffer tuning has no equivalent in Vigil",
            "max_auto_priority", "min_auto_priority_delay", "disable_local_igmp",
            "vrrp_priority", "vrrp_no_swap", "vrrp_rt_priority", "vrrp_cpu_affinity", "vrrp_rlimit_rttime", "vrrp_rlimit_rtime",
            "checker_priority", "checker_no_swap", "checker_rt_priority", "checker_cpu_affinity", "checker_rlimit_rttime", "checker_rlimit_rtime",
            "bfd_priority", "bfd_no_swap", "bfd_rt_priority", "bfd_cpu_affinity", "bfd_rlimit_rttime", "bfd_rlimit_rtime",
            "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
            "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
            "lvs_netlink_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "umask",
            "reload_check_config", "reload_time_file", "reload_repeat", "reload_file", "config_save_dir",
            "tmp_config_directory", "data_use_instance");
        Ignored(G, "Vigil uses nftables only", "vrrp_iptables", "vrrp_ipsets");
        Api(G, "snmp_socket", "enable_traps", "enable_snmp_vrrp", "enable_snmp_keepalived", "enable_snmp_rfc",
            "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_checker", "enable_dbus", "dbus_service_name");

        const BlockContext V = BlockContext.VrrpInstance;
        Leaf(V, "use_vmac", "use_vmac_addr", "vmac_xmit_base", "use_ipvlan", "unicast_fault_no_peer", "check_unicast_src",
            "old_unicast_checksum", "native_ipv6", "state", "interface", "vrf", "dont_track_primary", "mcast_src_ip",
            "unicast_src_ip", "mcast_dst_ip", "track_src_ip", "virtual_router_id", "unicast_ttl", "version", "priority",
            "advert_int", "promote_secondaries", "accept", "no_accept", "skip_check_adv_addr", "strict_mode", "preempt",
            "nopreempt", "preempt_delay", "debug", "notify_backup", "notify_master", "notify_fault", "notify_stop",
            "notify_deleted", "notify", "notify_master_rx_lower_pri", "smtp_alert", "notify_priority_changes",
            "lvs_sync_daemon_interface", "garp_master_delay", "garp_master_refresh", "garp_master_repeat",
            "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "down_timer_adverts",
            "garp_extra_if", "vmac_garp_intvl", "lower_prio_no_advert", "higher_prio_send_advert", "kernel_rx_buf_size");
        Ignored(V, "link state comes from rtnetlink", "linkbeat_use_polling");
        Add(V, KeywordShape.Leaf, null, KeywordSupport.Supported, "not known to keepalived 2.2.7 (a later keepalived keyword)", "v3_checksum_as_v2");
        Values(V, "unicast_peer", "track_interface", "track_script", "track_file", "track_process", "track_bfd",
            "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules");
        Block(V, "authentication", BlockContext.Authentication);
        Leaf(BlockContext.Authentication, "auth_type", "auth_pass");

        const BlockContext S = BlockContext.SyncGroup;
        Values(S, "group", "track_interface", "track_script", "track_file", "track_process", "track_bfd");
        Leaf(S, "notify_backup", "notify_master", "notify_fault", "notify_stop", "notify", "smtp_alert", "global_tracking",
            "sync_group_tracking_weight", "notify_priority_changes");

        Leaf(BlockContext.VrrpScript, "script", "interval", "timeout", "weight", "rise", "fall", "user", "init_fail");
        Leaf(BlockContext.TrackProcess, "process", "param_match", "weight", "quorum", "quorum_max", "delay", "terminate_delay", "fork_delay", "full_command");
        Leaf(BlockContext.TrackFile, "file", "weight", "init_file");
        Leaf(BlockContext.GarpGroup, "garp_interval", "gna_interval", "interface");
        Values(BlockContext.GarpGroup, "interfaces");
        Values(BlockContext.TrackGroup, "group");
        Leaf(BlockContext.Ssl, "password", "ca", "certificate", "key");
        Leaf(BlockContext.BfdInstance, "source_ip", "neighbor_ip", "neighbour_ip", "min_rx", "min_tx", "idle_tx", "multiplier",
            "passive", "ttl", "hoplimit", "max_hops", "weight", "vrrp", "checker");

        const BlockContext VS = BlockContext.VirtualServer;
        Leaf(VS, "ip_family", "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop", "inhibit_on_failure",
            "lb_algo", "lvs_sched", "hashed", "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port",
            "mh-fallback", "lb_kind", "lvs_method", "persistence_engine", "persistence_timeout", "persistence_granularity",
            "protocol", "ha_suspend", "smtp_alert", "virtualhost", "alpha", "omega", "quorum_up", "quorum_down", "quorum",
            "hysteresis", "weight", "sorry_server", "sorry_server_inhibit", "sorry_server_lvs_method");
        Api(VS, "snmp_name");
        Block(VS, "real_server", BlockContext.RealServer);

        const BlockContext RS = BlockContext.RealServer;
        Leaf(RS, "weight", "lvs_method", "uthreshold", "lthreshold", "inhibit_on_failure", "notify_up", "notify_down", "alpha",
            "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop", "smtp_alert", "virtualhost");
        Api(RS, "snmp_name");
        Block(RS, "MISC_CHECK", BlockContext.MiscCheck);
        Block(RS, "SMTP_CHECK", BlockContext.SmtpCheck);
        Block(RS, "TCP_CHECK", BlockContext.TcpCheck);
        Block(RS, "PING_CHECK", BlockContext.PingCheck);
        Block(RS, "UDP_CHECK", BlockContext.UdpCheck);
        Block(RS, "HTTP_GET", BlockContext.HttpCheck);
        Block(RS, "SSL_GET", BlockContext.HttpCheck);
        Block(RS, "DNS_CHECK", BlockContext.DnsCheck);
        Block(RS, "FILE_CHECK", BlockContext.FileCheck);
        Block(RS, "BFD_CHECK", BlockContext.BfdCheck);

        string[] connection = ["connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "connect_timeout", "fwmark"];
        string[] common = ["retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"];
        foreach (var ctx in new[] { BlockContext.TcpCheck, BlockContext.HttpCheck, BlockContext.SmtpCheck, BlockContext.SmtpHost,
                     BlockContext.DnsCheck, BlockContext.PingCheck, BlockContext.UdpCheck })
        {
            Leaf(ctx, connection);
            Leaf(ctx, common);
        }
        Leaf(BlockContext.MiscCheck, common);
        Leaf(BlockContext.MiscCheck, "misc_path", "misc_timeout", "misc_dynamic", "user");
        Leaf(BlockContext.HttpCheck, "nb_get_retry", "virtualhost", "http_protocol", "enable_sni", "fast_recovery");
        Block(BlockContext.HttpCheck, "url", BlockContext.HttpUrl);
        Leaf(BlockContext.HttpUrl, "path", "digest", "status_code", "virtualhost", "regex", "regex_no_match", "regex_options",
            "regex_min_offset", "regex_max_offset", "regex_stack");
        Leaf(BlockContext.SmtpCheck, "helo_name");
        Block(BlockContext.SmtpCheck, "host", BlockContext.SmtpHost);
        Leaf(BlockContext.DnsCheck, "type", "name");
        Leaf(BlockContext.UdpCheck, "payload", "require_reply", "min_reply_length", "max_reply_length");
        Leaf(BlockContext.FileCheck, "track_file", "weight");
        Leaf(BlockContext.BfdCheck, "name", "alpha");
        return t;
    }
}
