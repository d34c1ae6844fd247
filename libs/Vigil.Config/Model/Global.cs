using System.Net;

namespace Vigil.Config.Model;

public enum LvsFlushOnStop
{
    None,
    /// <summary>Flush everything ("lvs_flush_on_stop").</summary>
    Full,
    /// <summary>Remove each virtual server, letting the kernel drop its real servers ("lvs_flush_on_stop VS").</summary>
    VirtualServers,
}

/// <summary>
/// Where vigil-ipvsd programs virtual servers ("lvs_backend ipvs|nftables|auto", a Vigil extension
/// keepalived does not know): the kernel's IPVS, or nftables (DNAT: NAT forwarding only, no
/// one-packet scheduling, no connection sync) for kernels without IPVS.
/// </summary>
public enum LvsBackend
{
    /// <summary>IPVS when the kernel has it (after trying to load ip_vs), else nftables.</summary>
    Auto,
    Ipvs,
    Nftables,
}

/// <summary>The SMTP server for alerts: a host name or address, and a port (default 25).</summary>
public sealed record SmtpServer(string Host, int Port);

/// <summary>IPVS connection timeouts ("lvs_timeouts tcp N tcpfin N udp N"); null leaves the kernel's value.</summary>
public sealed record LvsTimeouts(TimeSpan? Tcp, TimeSpan? TcpFin, TimeSpan? Udp);

/// <summary>The IPVS connection synchronisation daemon ("lvs_sync_daemon IF [inst I] [id N] ...").</summary>
public sealed record LvsSyncDaemon
{
    public required string Interface { get; init; }

    /// <summary>The vrrp_instance whose state the daemon follows (master/backup), if any.</summary>
    public string? Instance { get; init; }

    /// <summary>The sync id; keepalived defaults it to the instance's VRID, or 0.</summary>
    public int SyncId { get; init; }

    public int? MaxLength { get; init; }

    public int? Port { get; init; }

    public int? Ttl { get; init; }

    public IPAddress? Group { get; init; }
}

/// <summary>nftables use for VRRP (no_accept, VMACs) or IPVS (virtual server groups).</summary>
public sealed record NftablesSettings(string Table, int Priority);

/// <summary>global_defs, with keepalived's defaults applied.</summary>
public sealed record GlobalDefs
{
    /// <summary>null: the host name (keepalived's default).</summary>
    public string? RouterId { get; init; }

    public EquatableArray<string> NotificationEmails { get; init; }

    /// <summary>null: keepalived@&lt;host name&gt;.</summary>
    public string? NotificationEmailFrom { get; init; }

    public SmtpServer? SmtpServer { get; init; }

    /// <summary>null: the host name.</summary>
    public string? SmtpHeloName { get; init; }

    public TimeSpan SmtpConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Default for all smtp_alert settings (null: not set).</summary>
    public bool? SmtpAlert { get; init; }

    public bool? SmtpAlertVrrp { get; init; }

    public bool? SmtpAlertChecker { get; init; }

    public bool NoEmailFaults { get; init; }

    public bool NoCheckerEmails { get; init; }

    public bool CheckerLogAllFailures { get; init; }

    public bool RsInitNotifies { get; init; }

    public ScriptSpec? StartupScript { get; init; }

    public TimeSpan StartupScriptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public ScriptSpec? ShutdownScript { get; init; }

    public TimeSpan ShutdownScriptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The interface for static addresses and routes without "dev" (keepalived: eth0).</summary>
    public string DefaultInterface { get; init; } = "eth0";

    public bool DynamicInterfaces { get; init; }

    public bool AllowInterfaceChanges { get; init; }

    public IPAddress VrrpMcastGroup4 { get; init; } = IPAddress.Parse("224.0.0.18");

    public IPAddress VrrpMcastGroup6 { get; init; } = IPAddress.Parse("ff02::12");

    public TimeSpan VrrpGarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);

    public int VrrpGarpMasterRepeat { get; init; } = 5;

    public TimeSpan VrrpGarpMasterRefresh { get; init; }

    public int VrrpGarpMasterRefreshRepeat { get; init; } = 1;

    /// <summary>Defaults to <see cref="VrrpGarpMasterDelay"/>.</summary>
    public TimeSpan VrrpGarpLowerPrioDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Defaults to <see cref="VrrpGarpMasterRepeat"/>.</summary>
    public int VrrpGarpLowerPrioRepeat { get; init; } = 5;

    public TimeSpan VrrpGarpInterval { get; init; }

    public TimeSpan VrrpGnaInterval { get; init; }

    /// <summary>vrrp_min_garp: one GARP/NA, no repeat (it changed the defaults above, which show its effect).</summary>
    public bool VrrpMinGarp { get; init; }

    /// <summary>Interval of periodic GARP/NA on VIP interfaces other than the instance's (0: off).</summary>
    public TimeSpan VrrpGarpExtraIf { get; init; }

    public bool VrrpGarpExtraIfAll { get; init; }

    public int VrrpDownTimerAdverts { get; init; } = 3;

    public bool VrrpLowerPrioNoAdvert { get; init; }

    public bool VrrpHigherPrioSendAdvert { get; init; }

    public int VrrpVersion { get; init; } = 2;

    public bool VrrpStrict { get; init; }

    public bool VrrpCheckUnicastSrc { get; init; }

    public bool VrrpSkipCheckAdvAddr { get; init; }

    public TimeSpan VrrpStartupDelay { get; init; }

    public bool LogUnknownVrids { get; init; }

    public bool VrrpNotifyPriorityChanges { get; init; }

    public bool FifoWriteVrrpStatesOnReload { get; init; }

    public NotifyFifo? NotifyFifo { get; init; }

    public NotifyFifo? VrrpNotifyFifo { get; init; }

    public NotifyFifo? LvsNotifyFifo { get; init; }

    public string? ScriptUser { get; init; }

    public string? ScriptGroup { get; init; }

    public bool EnableScriptSecurity { get; init; }

    public LvsTimeouts? LvsTimeouts { get; init; }

    public bool LvsFlush { get; init; }

    public LvsFlushOnStop LvsFlushOnStop { get; init; }

    /// <summary>lvs_backend (Vigil): IPVS, nftables, or whichever the host has.</summary>
    public LvsBackend LvsBackend { get; init; }

    public LvsSyncDaemon? LvsSyncDaemon { get; init; }

    /// <summary>nftables for VRRP (null: keepalived picks "keepalived" when it needs a firewall).</summary>
    public NftablesSettings? Nftables { get; init; }

    public bool NftablesIfindex { get; init; }

    public bool NftablesCounters { get; init; }

    /// <summary>nftables for IPVS virtual server groups.</summary>
    public NftablesSettings? NftablesIpvs { get; init; }

    public uint NftablesIpvsStartFwmark { get; init; } = 1000;

    public string? VmacPrefix { get; init; }

    public string? VmacAddrPrefix { get; init; }

    public uint? RandomSeed { get; init; }
}
