using System.Net;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    private GlobalDefs _global = new();
    private bool _globalLowerPrioDelaySet;
    private bool _globalLowerPrioRepeatSet;
    private readonly List<string> _emails = [];

    private void GlobalKeyword(ConfigNode n)
    {
        ReportSupport(n);
        var g = _global;
        switch (n.Keyword)
        {
            case "router_id":
                if (n.ArgCount < 1) _diag.Error(n.Position, "routerid name missing - ignoring");
                else g = g with { RouterId = n.Arg(0) };
                break;
            case "notification_email_from":
                if (n.ArgCount < 1) _diag.Error(n.Position, "emailfrom missing - ignoring");
                else g = g with { NotificationEmailFrom = n.Arg(0) };
                break;
            case "smtp_server":
                g = SmtpServerKeyword(n, g);
                break;
            case "smtp_helo_name":
                if (n.ArgCount >= 1) g = g with { SmtpHeloName = n.Arg(0) };
                break;
            case "smtp_connect_timeout":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var sct))
                {
                    if (sct == 0)
                    {
                        _diag.Error(n.ArgPosition(0), "smtp_conect_timeout must be greater than 0, setting to 1");
                        sct = 1;
                    }
                    g = g with { SmtpConnectTimeout = TimeSpan.FromSeconds(sct) };
                }
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"smtp_connect_timeout '{n.Arg(0)}' must be in [0, {uint.MaxValue / 1_000_000}] - ignoring");
                }
                break;
            case "notification_email":
                if (n.Children.Count == 0) _diag.Error(n.Position, "Warning - empty notification_email block");
                foreach (var v in n.Children) _emails.AddRange(v.Tokens.Select(t => t.Text));
                break;
            case "smtp_alert":
                if (OptionalBool(n, "Invalid value '{0}' for global smtp_alert specified") is bool sa) g = g with { SmtpAlert = sa };
                break;
            case "smtp_alert_vrrp":
                if (OptionalBool(n, "Invalid value '{0}' for global smtp_alert_vrrp specified") is bool sav) g = g with { SmtpAlertVrrp = sav };
                break;
            case "smtp_alert_checker":
                if (OptionalBool(n, "Invalid value '{0}' for global smtp_alert_checker specified") is bool sac) g = g with { SmtpAlertChecker = sac };
                break;
            case "checker_log_all_failures":
                if (n.ArgCount > 0 && Values.TrueFalse(n.Arg(0)!) is null) _diag.Error(n.ArgPosition(0), "Invalid value for checker_log_all_failures specified");
                else g = g with { CheckerLogAllFailures = n.ArgCount == 0 || Values.TrueFalse(n.Arg(0)!) == true };
                break;
            case "no_email_faults":
                g = g with { NoEmailFaults = true };
                break;
            case "no_checker_emails":
                if (OptionalBool(n, "Invalid value '{0}' for global no_checker_emails specified") is bool nce) g = g with { NoCheckerEmails = nce };
                break;
            case "rs_init_notifies":
                if (OptionalBool(n, "Invalid value '{0}' for global rs_init_notifies specified") is bool rin) g = g with { RsInitNotifies = rin };
                break;
            case "startup_script":
            case "shutdown_script":
                g = StartStopScript(n, g);
                break;
            case "startup_script_timeout":
            case "shutdown_script_timeout":
                g = StartStopTimeout(n, g);
                break;
            case "dynamic_interfaces":
                g = g with { DynamicInterfaces = true };
                if (n.ArgCount >= 1)
                {
                    if (n.Arg(0) == "allow_if_changes") g = g with { AllowInterfaceChanges = true };
                    else _diag.Error(n.ArgPosition(0), $"Unknown dynamic_interfaces option '{n.Arg(0)}'");
                }
                break;
            case "default_interface":
                if (n.ArgCount < 1) _diag.Error(n.Position, "default_interface requires interface name");
                else g = g with { DefaultInterface = n.Arg(0)! };
                break;
            case "lvs_timeouts":
                g = LvsTimeoutsKeyword(n, g);
                break;
            case "lvs_flush":
                g = g with { LvsFlush = true };
                break;
            case "lvs_flush_on_stop":
            case "lvs_flush_onstop":
                if (n.ArgCount == 0) g = g with { LvsFlushOnStop = LvsFlushOnStop.Full };
                else if (n.Arg(0) == "VS") g = g with { LvsFlushOnStop = LvsFlushOnStop.VirtualServers };
                else _diag.Error(n.ArgPosition(0), $"Unknown lvs_flush_on_stop type {n.Arg(0)}");
                break;
            case "lvs_backend":
                if (n.ArgCount == 0) _diag.Error(n.Position, "lvs_backend requires a type (ipvs, nftables or auto) - ignoring");
                else if (n.Arg(0) == "ipvs") g = g with { LvsBackend = LvsBackend.Ipvs };
                else if (n.Arg(0) == "nftables") g = g with { LvsBackend = LvsBackend.Nftables };
                else if (n.Arg(0) == "auto") g = g with { LvsBackend = LvsBackend.Auto };
                else _diag.Error(n.ArgPosition(0), $"Unknown lvs_backend type {n.Arg(0)}");
                break;
            case "lvs_sync_daemon":
                g = LvsSyncDaemonKeyword(n, g);
                break;
            case "vrrp_mcast_group4":
                if (McastGroup(n, AddressFamily.InterNetwork) is { } m4) g = g with { VrrpMcastGroup4 = m4 };
                break;
            case "vrrp_mcast_group6":
                if (McastGroup(n, AddressFamily.InterNetworkV6) is { } m6) g = g with { VrrpMcastGroup6 = m6 };
                break;
            case "vrrp_garp_master_delay":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var gmd)) g = g with { VrrpGarpMasterDelay = TimeSpan.FromSeconds(gmd) };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"vrrp_garp_master_delay '{n.Arg(0)}' invalid - ignoring");
                break;
            case "vrrp_garp_master_repeat":
                if (Repeats(n, "vrrp_garp_master_repeat") is int gmr) g = g with { VrrpGarpMasterRepeat = gmr };
                break;
            case "vrrp_garp_master_refresh":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var gmf)) g = g with { VrrpGarpMasterRefresh = TimeSpan.FromSeconds(gmf) };
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"Invalid vrrp_garp_master_refresh '{n.Arg(0)}' - ignoring");
                    g = g with { VrrpGarpMasterRefresh = TimeSpan.Zero };
                }
                break;
            case "vrrp_garp_master_refresh_repeat":
                if (Repeats(n, "vrrp_garp_master_refresh_repeat") is int gfr) g = g with { VrrpGarpMasterRefreshRepeat = gfr };
                break;
            case "vrrp_garp_lower_prio_delay":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var gld))
                {
                    g = g with { VrrpGarpLowerPrioDelay = TimeSpan.FromSeconds(gld) };
                    _globalLowerPrioDelaySet = true;
                }
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"vrrp_garp_lower_prio_delay '{n.Arg(0)}' invalid - ignoring");
                }
                break;
            case "vrrp_garp_lower_prio_repeat":
                if (_values.TryUnsigned(n, 0, 0, int.MaxValue, out var glr))
                {
                    g = g with { VrrpGarpLowerPrioRepeat = (int)glr };
                    _globalLowerPrioRepeatSet = true;
                }
                else if (n.ArgCount > 0)
                {
                    _diag.Error(n.ArgPosition(0), $"Invalid vrrp_garp_lower_prio_repeat '{n.Arg(0)}'");
                }
                break;
            case "vrrp_down_timer_adverts":
                if (_values.TryUnsigned(n, 0, 1, 100, out var dta)) g = g with { VrrpDownTimerAdverts = (int)dta };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Invalid vrrp_down_timer_adverts [1:100] '{n.Arg(0)}'");
                break;
            case "vrrp_garp_interval":
            case "vrrp_gna_interval":
                if (_values.Required(n, 0) is { } gi)
                {
                    if (_values.TryDecimal(gi, n.ArgPosition(0), 6, 1, uint.MaxValue, out var giv))
                    {
                        var ts = TimeSpan.FromTicks((long)giv * 10);
                        g = n.Keyword == "vrrp_garp_interval" ? g with { VrrpGarpInterval = ts } : g with { VrrpGnaInterval = ts };
                    }
                    else
                    {
                        _diag.Error(n.ArgPosition(0), $"{n.Keyword} '{gi}' is invalid");
                    }
                }
                break;
            case "vrrp_min_garp":
                g = MinGarp(n, g);
                break;
            case "vrrp_garp_extra_if":
            case "vrrp_vmac_garp_intvl":
                g = GlobalGarpExtraIf(n, g);
                break;
            case "vrrp_lower_prio_no_advert":
                if (n.ArgCount >= 1 && Values.TrueFalse(n.Arg(0)!) is null) _diag.Error(n.ArgPosition(0), "Invalid value for vrrp_lower_prio_no_advert specified");
                else g = g with { VrrpLowerPrioNoAdvert = n.ArgCount == 0 || Values.TrueFalse(n.Arg(0)!) == true };
                break;
            case "vrrp_higher_prio_send_advert":
                if (n.ArgCount >= 1 && Values.TrueFalse(n.Arg(0)!) is null) _diag.Error(n.ArgPosition(0), "Invalid value for vrrp_higher_prio_send_advert specified");
                else g = g with { VrrpHigherPrioSendAdvert = n.ArgCount == 0 || Values.TrueFalse(n.Arg(0)!) == true };
                break;
            case "vrrp_version":
                if (_values.TryInt(n, 0, 2, 3, out var ver)) g = g with { VrrpVersion = (int)ver };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), "VRRP Error: Version must be either 2 or 3");
                break;
            case "vrrp_iptables":
                _diag.Error(n.Position, "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option");
                g = g with { Nftables = new NftablesSettings("keepalived", -1) };
                break;
            case "nftables":
                if (g.Nftables is not null) _diag.Error(n.Position, "nftables already specified - ignoring");
                else if (n.ArgCount >= 1 && n.Arg(0)!.Length >= 256) _diag.Error(n.ArgPosition(0), "nftables table name too long - ignoring");
                else g = g with { Nftables = new NftablesSettings(n.Arg(0) ?? "keepalived", -1) };
                break;
            case "nftables_priority":
                if (_values.TryInt(n, 0, int.MinValue, int.MaxValue, out var np)) g = g with { Nftables = (g.Nftables ?? new NftablesSettings("keepalived", -1)) with { Priority = (int)np } };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"invalid nftables chain priority '{n.Arg(0)}'", ConfigErrorClass.InvalidNumber);
                break;
            case "nftables_ifindex":
                g = g with { NftablesIfindex = true };
                break;
            case "nftables_counters":
                g = g with { NftablesCounters = true };
                break;
            case "nftables_ipvs":
                if (g.NftablesIpvs is not null) _diag.Error(n.Position, "ipvs nftables already specified - ignoring");
                else if (n.ArgCount >= 1 && n.Arg(0)!.Length >= 256) _diag.Error(n.ArgPosition(0), "ipvs nftables table name too long - ignoring");
                else g = g with { NftablesIpvs = new NftablesSettings(n.Arg(0) ?? "keepalived_ipvs", -1), NftablesIpvsStartFwmark = 1000 };
                break;
            case "nftables_ipvs_priority":
                if (_values.TryInt(n, 0, int.MinValue, int.MaxValue, out var nip)) g = g with { NftablesIpvs = (g.NftablesIpvs ?? new NftablesSettings("keepalived_ipvs", -1)) with { Priority = (int)nip } };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"invalid ipvs nftables chain priority '{n.Arg(0)}'", ConfigErrorClass.InvalidNumber);
                break;
            case "nftables_ipvs_start_fwmark":
                if (_values.TryUnsigned(n, 0, 1, uint.MaxValue, out var nsf)) g = g with { NftablesIpvsStartFwmark = (uint)nsf };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"invalid ipvs nftables start_fwmark priority '{n.Arg(0)}'", ConfigErrorClass.InvalidNumber);
                break;
            case "vrrp_check_unicast_src":
                g = g with { VrrpCheckUnicastSrc = true };
                break;
            case "vrrp_skip_check_adv_addr":
                g = g with { VrrpSkipCheckAdvAddr = true };
                break;
            case "vrrp_strict":
                g = g with { VrrpStrict = true };
                break;
            case "notify_fifo":
                g = g with { NotifyFifo = Fifo(n, "", g.NotifyFifo) };
                break;
            case "vrrp_notify_fifo":
                g = g with { VrrpNotifyFifo = Fifo(n, "vrrp_", g.VrrpNotifyFifo) };
                break;
            case "lvs_notify_fifo":
                g = g with { LvsNotifyFifo = Fifo(n, "lvs_", g.LvsNotifyFifo) };
                break;
            case "notify_fifo_script":
                g = g with { NotifyFifo = FifoScript(n, "", g.NotifyFifo) };
                break;
            case "vrrp_notify_fifo_script":
                g = g with { VrrpNotifyFifo = FifoScript(n, "vrrp_", g.VrrpNotifyFifo) };
                break;
            case "lvs_notify_fifo_script":
                g = g with { LvsNotifyFifo = FifoScript(n, "lvs_", g.LvsNotifyFifo) };
                break;
            case "vrrp_notify_priority_changes":
                if (OptionalBool(n, "Invalid value '{0}' for global vrrp_notify_priority_changes specified") is bool npc) g = g with { VrrpNotifyPriorityChanges = npc };
                break;
            case "fifo_write_vrrp_states_on_reload":
                g = g with { FifoWriteVrrpStatesOnReload = true };
                break;
            case "script_user":
                if (n.ArgCount < 1)
                {
                    _diag.Error(n.Position, "No script username specified");
                    break;
                }
                _defaultUserDecided = true;
                if (_host is not null && (!_host.UserExists(n.Arg(0)!) || (n.ArgCount > 1 && !_host.GroupExists(n.Arg(1)!))))
                {
                    _diag.Error(n.ArgPosition(0), "Error setting global script uid/gid");
                    _defaultUserFailed = true;
                }
                else g = g with { ScriptUser = n.Arg(0), ScriptGroup = n.Arg(1) };
                break;
            case "enable_script_security":
                _scriptSecurity = true;
                g = g with { EnableScriptSecurity = true };
                break;
            case "vrrp_startup_delay":
                if (_values.Required(n, 0) is { } sd)
                {
                    if (_values.TryDecimal(sd, n.ArgPosition(0), 6, 1000, uint.MaxValue, out var sdv)) g = g with { VrrpStartupDelay = TimeSpan.FromTicks((long)sdv * 10) };
                    else _diag.Error(n.ArgPosition(0), $"vrrp_startup_delay '{sd}' is invalid");
                }
                break;
            case "log_unknown_vrids":
                g = g with { LogUnknownVrids = true };
                break;
            case "vmac_prefix":
                if (g.VmacPrefix is not null) _diag.Error(n.Position, $"vmac prefix has already been specified - ignoring {n.Arg(0)}");
                else if (_values.Required(n, 0) is { } vp) g = g with { VmacPrefix = vp };
                break;
            case "vmac_addr_prefix":
                if (g.VmacAddrPrefix is not null) _diag.Error(n.Position, $"vmac_addr prefix has already been specified - ignoring {n.Arg(0)}");
                else if (_values.Required(n, 0) is { } vap) g = g with { VmacAddrPrefix = vap };
                break;
            case "random_seed":
                if (_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var seed)) g = g with { RandomSeed = (uint)seed };
                else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"random_seed {n.Arg(0)} invalid");
                break;
        }
        _global = g;
    }

    private GlobalDefs SmtpServerKeyword(ConfigNode n, GlobalDefs g)
    {
        var host = _values.Required(n, 0);
        if (host is null) return g;
        var portText = n.Arg(1) ?? "25";
        if (!_values.TryUnsigned(portText, n.ArgPosition(1), 1, 65535, out var port) || host.Length == 0)
        {
            _diag.Error(n.ArgPosition(0), $"Invalid smtp server {host} {portText}");
            return g;
        }
        // An address, or a domain name resolved when alerts are sent.
        return g with { SmtpServer = new SmtpServer(host, (int)port) };
    }

    private GlobalDefs StartStopScript(ConfigNode n, GlobalDefs g)
    {
        var startup = n.Keyword == "startup_script";
        var type = startup ? "startup" : "shutdown";
        if ((startup ? g.StartupScript : g.ShutdownScript) is not null)
        {
            _diag.Error(n.Position, $"{type} script already specified");
            return g;
        }
        if (n.ArgCount < 1)
        {
            _diag.Error(n.Position, $"{type} script missing");
            return g;
        }
        var script = NotifyScript(n);
        if (script is null)
        {
            _diag.Error(n.Position, $"Invalid {type} script");
            return g;
        }
        return startup ? g with { StartupScript = script } : g with { ShutdownScript = script };
    }

    private GlobalDefs StartStopTimeout(ConfigNode n, GlobalDefs g)
    {
        var startup = n.Keyword.StartsWith("startup", StringComparison.Ordinal);
        var type = startup ? "startup" : "shutdown";
        if (n.ArgCount < 1)
        {
            _diag.Error(n.Position, $"{type}_script_timeout requires value");
            return g;
        }
        if (!_values.TryUnsigned(n.Arg(0)!, n.ArgPosition(0), 1, 1000, out var secs))
        {
            _diag.Error(n.ArgPosition(0), $"{type}_script_timeout '{n.Arg(0)}' must be in [1, 1000] - ignoring");
            return g;
        }
        var t = TimeSpan.FromSeconds(secs);
        return startup ? g with { StartupScriptTimeout = t } : g with { ShutdownScriptTimeout = t };
    }

    private GlobalDefs LvsTimeoutsKeyword(ConfigNode n, GlobalDefs g)
    {
        if (n.ArgCount < 2)
        {
            _diag.Error(n.Position, "lvs_timeouts requires at least one option");
            return g;
        }
        var t = g.LvsTimeouts ?? new LvsTimeouts(null, null, null);
        for (var i = 0; i < n.ArgCount; i++)
        {
            var word = n.Arg(i)!;
            if (word is "tcp" or "tcpfin" or "udp")
            {
                if (i == n.ArgCount - 1)
                {
                    _diag.Error(n.ArgPosition(i), $"No value specified for lvs_timeout {word} - ignoring");
                    continue;
                }
                if (!_values.TryUnsigned(n.Arg(i + 1)!, n.ArgPosition(i + 1), 0, 86400 * 31, out var v))
                {
                    _diag.Error(n.ArgPosition(i + 1), $"Invalid lvs_timeout {word} ({n.Arg(i + 1)}) - ignoring");
                }
                else
                {
                    var ts = TimeSpan.FromSeconds(v);
                    t = word switch
                    {
                        "tcp" => t with { Tcp = ts },
                        "tcpfin" => t with { TcpFin = ts },
                        _ => t with { Udp = ts },
                    };
                }
                i++;
                continue;
            }
            _diag.Error(n.ArgPosition(i), $"Unknown option {word} specified for lvs_timeouts");
        }
        // Nothing valid given: keepalived's timeouts stay unset (null in the model).
        return t is { Tcp: null, TcpFin: null, Udp: null } ? g : g with { LvsTimeouts = t };
    }

    private GlobalDefs LvsSyncDaemonKeyword(ConfigNode n, GlobalDefs g)
    {
        if (g.LvsSyncDaemon is { } existing)
        {
            _diag.Error(n.Position, $"lvs_sync_daemon has already been specified as {existing.Interface} {existing.Instance ?? ""} - ignoring");
            return g;
        }
        if (n.ArgCount < 1)
        {
            _diag.Error(n.Position, "lvs_sync_daemon requires interface");
            return g;
        }
        if (n.Arg(0)!.Length >= 16)
        {
            _diag.Error(n.ArgPosition(0), $"lvs_sync_daemon interface name '{n.Arg(0)}' too long - ignoring");
            return g;
        }
        var d = new LvsSyncDaemon { Interface = n.Arg(0)!, SyncId = -1 };
        for (var i = 1; i < n.ArgCount; i++)
        {
            var word = n.Arg(i)!;
            var hasValue = i + 1 < n.ArgCount;
            switch (word)
            {
                case "inst":
                    if (d.Instance is not null) _diag.Error(n.ArgPosition(i), $"lvs_sync_daemon vrrp instance has already been specified as {d.Instance} - ignoring");
                    else if (hasValue) d = d with { Instance = n.Arg(i + 1) };
                    else _values.Required(n, i + 1);
                    i++;
                    continue;
                case "id":
                    if (!hasValue)
                    {
                        _diag.Error(n.ArgPosition(i), "No value specified for lvs_sync_daemon id, defaulting to vrid");
                        continue;
                    }
                    if (_values.TryUnsigned(n.Arg(i + 1)!, n.ArgPosition(i + 1), 0, 255, out var id)) d = d with { SyncId = (int)id };
                    else _diag.Error(n.ArgPosition(i + 1), $"Invalid syncid ({n.Arg(i + 1)}) - defaulting to vrid");
                    i++;
                    continue;
                case "maxlen" or "port" or "ttl":
                    if (!hasValue)
                    {
                        _diag.Error(n.ArgPosition(i), $"No value specified for lvs_sync_daemon {word} - ignoring");
                        continue;
                    }
                    var (lo, hi) = word switch { "maxlen" => (1UL, 65535UL - 20 - 8), "port" => (1UL, 65535UL), _ => (1UL, 255UL) };
                    if (_values.TryUnsigned(n.Arg(i + 1)!, n.ArgPosition(i + 1), lo, hi, out var v))
                    {
                        d = word switch
                        {
                            "maxlen" => d with { MaxLength = (int)v },
                            "port" => d with { Port = (int)v },
                            _ => d with { Ttl = (int)v },
                        };
                    }
                    else
                    {
                        _diag.Error(n.ArgPosition(i + 1), $"Invalid lvs_sync_daemon {word} ({n.Arg(i + 1)}) - ignoring");
                    }
                    i++;
                    continue;
                case "group":
                    if (!hasValue)
                    {
                        _diag.Error(n.ArgPosition(i), "No value specified for lvs_sync_daemon group - ignoring");
                        continue;
                    }
                    var addr = Values.ParseAddress(n.Arg(i + 1)!);
                    if (addr is null) _diag.Error(n.ArgPosition(i + 1), $"Invalid lvs_sync_daemon group ({n.Arg(i + 1)}) - ignoring");
                    else if (!Values.IsMulticast(addr)) _diag.Error(n.ArgPosition(i + 1), $"lvs_sync_daemon group address {n.Arg(i + 1)} is not multicast - ignoring");
                    else d = d with { Group = addr };
                    i++;
                    continue;
            }
            // Backward compatibility: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
            if (i == 1)
            {
                d = d with { Instance = word };
                continue;
            }
            if (i == 2)
            {
                if (_values.TryUnsigned(word, n.ArgPosition(i), 0, 255, out var sid))
                {
                    _diag.Error(n.ArgPosition(i), "Please use keyword \"id\" before lvs_sync_daemon SYNCID");
                    d = d with { SyncId = (int)sid };
                }
                else
                {
                    _diag.Error(n.ArgPosition(i), $"Invalid syncid ({word}) - defaulting to vrid");
                }
                continue;
            }
            _diag.Error(n.ArgPosition(i), $"Unknown option {word} specified for lvs_sync_daemon");
        }
        _syncDaemonAt = n.Position;
        return g with { LvsSyncDaemon = d };
    }

    private SourcePosition _syncDaemonAt;

    private IPAddress? McastGroup(ConfigNode n, AddressFamily family)
    {
        var text = _values.Required(n, 0);
        if (text is null) return null;
        var name = family == AddressFamily.InterNetwork ? "vrrp_mcast_group4" : "vrrp_mcast_group6";
        var at = n.ArgPosition(0);
        var addr = Values.ParseAddress(text);
        if (addr is null)
        {
            _diag.Error(at, $"Can't parse {name} [{text}]. Skipping");
            return null;
        }
        if (addr.AddressFamily != family)
        {
            _diag.Error(at, $"{name} [{text}] is not IPv{(family == AddressFamily.InterNetwork ? 4 : 6)}. Skipping");
            return null;
        }
        if (!Values.IsMulticast(addr))
        {
            _diag.Error(at, $"{name} [{text}] is not multicast. Skipping");
            return null;
        }
        if (family == AddressFamily.InterNetworkV6 && !Values.IsLinkLocalMulticast6(addr))
        {
            _diag.Warning(at, $"{name} [{text}] should be link-local multicast.", ConfigErrorClass.Warning);
        }
        return addr;
    }

    private int? Repeats(ConfigNode n, string name, string prefix = "")
    {
        if (!_values.TryUnsigned(n, 0, 0, uint.MaxValue, out var r))
        {
            if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"{prefix}{name} '{n.Arg(0)}' invalid - ignoring");
            return null;
        }
        if (r == 0)
        {
            // 0 was allowed before keepalived 2.0.7; it now means 1.
            _diag.Error(n.ArgPosition(0), $"{prefix}{name} must be greater than 0, setting to 1");
            r = 1;
        }
        return (int)Math.Min(r, int.MaxValue);
    }

    private GlobalDefs MinGarp(ConfigNode n, GlobalDefs g)
    {
        if (n.ArgCount >= 1)
        {
            var v = Values.TrueFalse(n.Arg(0)!);
            if (v is null)
            {
                _diag.Error(n.ArgPosition(0), "Invalid value for vrrp_min_garp specified");
                return g;
            }
            if (v == false) return g;
        }
        // One GARP/NA with no repeat, without overriding values already set.
        return g with
        {
            VrrpMinGarp = true,
            VrrpGarpMasterRepeat = g.VrrpGarpMasterRepeat == 5 ? 1 : g.VrrpGarpMasterRepeat,
            VrrpGarpMasterRefreshRepeat = g.VrrpGarpMasterRefreshRepeat == 1 ? 0 : g.VrrpGarpMasterRefreshRepeat,
            VrrpGarpMasterDelay = g.VrrpGarpMasterDelay == TimeSpan.FromSeconds(5) ? TimeSpan.Zero : g.VrrpGarpMasterDelay,
        };
    }

    private GlobalDefs GlobalGarpExtraIf(ConfigNode n, GlobalDefs g)
    {
        var name = n.Keyword;
        if (name == "vrrp_vmac_garp_intvl")
        {
            _diag.Warning(n.Position, "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"", ConfigErrorClass.Deprecated);
        }
        ulong delay = 0;
        var all = g.VrrpGarpExtraIfAll;
        for (var i = 0; i < n.ArgCount; i++)
        {
            if (n.Arg(i) == "all") all = true;
            else if (!_values.TryUnsigned(n.Arg(i)!, n.ArgPosition(i), 1, 86400, out delay))
            {
                _diag.Error(n.ArgPosition(i), $"{name} '{n.Arg(i)}' invalid - ignoring");
                return g with { VrrpGarpExtraIfAll = all };
            }
        }
        if (delay == 0)
        {
            _diag.Error(n.Position, $"{name} specified without time - ignoring");
            return g with { VrrpGarpExtraIfAll = all };
        }
        return g with { VrrpGarpExtraIf = TimeSpan.FromSeconds(delay), VrrpGarpExtraIfAll = all };
    }

    private NotifyFifo? Fifo(ConfigNode n, string type, NotifyFifo? existing)
    {
        if (n.ArgCount < 1)
        {
            _diag.Error(n.Position, $"No {type}notify_fifo name specified");
            return existing;
        }
        if (existing?.Path.Length > 0)
        {
            _diag.Error(n.ArgPosition(0), $"{type}notify_fifo already specified - ignoring {n.Arg(0)}");
            return existing;
        }
        string? user = null, group = null;
        if (n.ArgCount > 1)
        {
            user = n.Arg(1);
            group = n.Arg(2);
            if (_host is not null && (!_host.UserExists(user!) || (group is not null && !_host.GroupExists(group))))
            {
                _diag.Note(n.ArgPosition(1), $"Invalid user/group for {type} fifo {n.Arg(0)} - ignoring");
                return existing;
            }
        }
        else if (DefaultScriptUserFails(n.Position))
        {
            _diag.Note(n.Position, $"Failed to set default user for {type} fifo {n.Arg(0)} - ignoring");
            return existing;
        }
        return (existing ?? new NotifyFifo { Path = "" }) with { Path = n.Arg(0)!, User = user, Group = group };
    }

    private NotifyFifo? FifoScript(ConfigNode n, string type, NotifyFifo? existing)
    {
        if (n.ArgCount < 1)
        {
            _diag.Error(n.Position, $"No {type}notify_fifo_script specified");
            return existing;
        }
        if (existing?.Script is not null)
        {
            _diag.Error(n.ArgPosition(0), $"{type}notify_fifo_script already specified - ignoring {n.Arg(0)}");
            return existing;
        }
        var script = NotifyScript(n);
        return (existing ?? new NotifyFifo { Path = "" }) with { Script = script };
    }

    /// <summary>Global defaults that depend on other settings (keepalived applies them after reading).</summary>
    private GlobalDefs CompleteGlobal()
    {
        var g = _global with { NotificationEmails = [.. _emails] };
        if (!_globalLowerPrioDelaySet) g = g with { VrrpGarpLowerPrioDelay = g.VrrpGarpMasterDelay };
        if (!_globalLowerPrioRepeatSet) g = g with { VrrpGarpLowerPrioRepeat = g.VrrpGarpMasterRepeat };
        foreach (var (fifo, name) in new[] { (g.NotifyFifo, "notify_fifo"), (g.VrrpNotifyFifo, "vrrp_notify_fifo"), (g.LvsNotifyFifo, "lvs_notify_fifo") })
        {
            if (fifo is { Path.Length: 0 })
            {
                _diag.Note(SourcePosition.WholeFile(_mainFile), $"{name}_script is set but {name} is not - the script will not be run");
            }
        }
        if (g.NotifyFifo is { Path.Length: 0 }) g = g with { NotifyFifo = null };
        if (g.VrrpNotifyFifo is { Path.Length: 0 }) g = g with { VrrpNotifyFifo = null };
        if (g.LvsNotifyFifo is { Path.Length: 0 }) g = g with { LvsNotifyFifo = null };
        if (g.NotifyFifo is { } nf && g.VrrpNotifyFifo is { } vf && nf.Path == vf.Path)
        {
            _diag.Note(SourcePosition.WholeFile(_mainFile), $"notify FIFO {vf.Path} has been specified for global and vrrp FIFO - ignoring vrrp FIFO");
            g = g with { VrrpNotifyFifo = null };
        }
        if (g.NotifyFifo is { } nf2 && g.LvsNotifyFifo is { } lf && nf2.Path == lf.Path)
        {
            _diag.Note(SourcePosition.WholeFile(_mainFile), $"notify FIFO {lf.Path} has been specified for global and LVS FIFO - ignoring LVS FIFO");
            g = g with { LvsNotifyFifo = null };
        }
        return g;
    }
}
