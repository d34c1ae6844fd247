using System.Net;
using Vigil.Scripts;

namespace Vigil.Checkd.Model;

/// <summary>
/// Everything checkd needs from keepalived.conf: global settings and the virtual servers. Built by
/// controld from the parsed configuration (or by tests); immutable and compared by value, so a
/// reload can keep the state of what did not change. Defaults are keepalived's.
/// </summary>
public sealed record CheckdConfig
{
    public CheckdGlobals Globals { get; init; } = new();

    public EquatableArray<VirtualServerConfig> VirtualServers { get; init; }
}

/// <summary>global_defs settings that concern the checker.</summary>
public sealed record CheckdGlobals
{
    /// <summary><c>router_id</c>; keepalived defaults to the host name. Shown in alert subjects.</summary>
    public string RouterId { get; init; } = Dns.GetHostName();

    /// <summary><c>checker_log_all_failures</c>.</summary>
    public bool LogAllFailures { get; init; }

    /// <summary><c>rs_init_notifies</c>: run notify_up for real servers that start up.</summary>
    public bool RealServerInitNotifies { get; init; }

    /// <summary><c>script_user</c>: who runs scripts that name no user (null: the daemon's user).</summary>
    public ScriptUser? DefaultScriptUser { get; init; }

    public AlertSettings Alerts { get; init; } = new();

    /// <summary>The global <c>SSL { ca certificate key password }</c> block for SSL_GET.</summary>
    public TlsSettings? Ssl { get; init; }
}

/// <summary>Mail alerts (global_defs).</summary>
public sealed record AlertSettings
{
    /// <summary><c>notification_email { ... }</c>; no recipients: no mail is sent.</summary>
    public EquatableArray<string> Recipients { get; init; }

    /// <summary><c>notification_email_from</c>; keepalived defaults to USER@HOSTNAME.</summary>
    public string? From { get; init; }

    /// <summary><c>smtp_server ADDRESS|NAME [PORT]</c>; null: no mail is sent.</summary>
    public SmtpServerAddress? Server { get; init; }

    /// <summary><c>smtp_helo_name</c>; keepalived defaults to the host name.</summary>
    public string? HeloName { get; init; }

    /// <summary><c>smtp_connect_timeout</c> (keepalived: 30 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Global <c>smtp_alert</c>.</summary>
    public bool? SmtpAlert { get; init; }

    /// <summary><c>smtp_alert_checker</c> (overrides <c>smtp_alert</c> for checker mails).</summary>
    public bool? SmtpAlertChecker { get; init; }

    /// <summary><c>no_checker_emails</c>: a checker's mail only when the real server changes.</summary>
    public bool NoCheckerEmails { get; init; }
}

/// <summary><c>smtp_server</c>: an IP address or a host name, port 25 by default.</summary>
public sealed record SmtpServerAddress(string Host, ushort Port = 25);

/// <summary>Client TLS material for SSL_GET: with <see cref="CaFile"/> the server's certificate is
/// verified against it; without, it is not verified (keepalived never verifies).</summary>
public sealed record TlsSettings(string? CaFile = null, string? CertificateFile = null, string? KeyFile = null, string? Password = null);

/// <summary>A script with an optional user: <c>notify_up "/path arg" [user [group]]</c>.</summary>
public sealed record NotifyScript(string Command, ScriptUser? User = null);

/// <summary>
/// <c>virtual_server</c>. Only what the checker uses: the IPVS parameters (scheduler, forwarding,
/// persistence) belong to ipvsd.
/// </summary>
public sealed record VirtualServerConfig
{
    public required VirtualServerKey Key { get; init; }

    /// <summary><c>alpha</c>: real servers start down until their first successful check.</summary>
    public bool Alpha { get; init; }

    /// <summary><c>omega</c>: on shutdown run the down notifiers.</summary>
    public bool Omega { get; init; }

    /// <summary><c>quorum</c>: minimum total weight of live real servers (default 1).</summary>
    public uint Quorum { get; init; } = 1;

    /// <summary><c>hysteresis</c> around the quorum (default 0).</summary>
    public uint Hysteresis { get; init; }

    public NotifyScript? QuorumUp { get; init; }

    public NotifyScript? QuorumDown { get; init; }

    /// <summary><c>ha_suspend</c>: checks pause while this host does not hold the virtual address.</summary>
    public bool HaSuspend { get; init; }

    /// <summary><c>smtp_alert</c> (null: the global setting, else off).</summary>
    public bool? SmtpAlert { get; init; }

    /// <summary>Default <c>virtualhost</c> for HTTP_GET / SSL_GET.</summary>
    public string? Virtualhost { get; init; }

    /// <summary><c>inhibit_on_failure</c> default for the real servers.</summary>
    public bool InhibitOnFailure { get; init; }

    /// <summary><c>connect_timeout</c> (keepalived: 5 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>delay_loop</c> (keepalived: 60 s).</summary>
    public TimeSpan DelayLoop { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>warmup</c>; null: delay_loop.</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary><c>retry</c>; null: the checker type's default.</summary>
    public int? Retry { get; init; }

    /// <summary><c>delay_before_retry</c>; null: the checker type's default.</summary>
    public TimeSpan? DelayBeforeRetry { get; init; }

    /// <summary>The real server's weight when it does not set one (keepalived: 1).</summary>
    public int DefaultWeight { get; init; } = 1;

    /// <summary><c>sorry_server</c> (+ <c>sorry_server_inhibit</c>).</summary>
    public SorryServerConfig? SorryServer { get; init; }

    public EquatableArray<RealServerConfig> RealServers { get; init; }
}

/// <summary><c>sorry_server IP PORT</c>: put in the pool (weight 1) while the quorum is lost.</summary>
public sealed record SorryServerConfig(IPAddress Address, ushort Port, bool Inhibit = false)
{
    public RealServerKey Key => new(Address, Port);
}

/// <summary><c>real_server IP PORT { ... }</c>. Null settings inherit the virtual server's.</summary>
public sealed record RealServerConfig
{
    public required IPAddress Address { get; init; }

    public required ushort Port { get; init; }

    /// <summary><c>weight</c>; null: the virtual server's default (1).</summary>
    public int? Weight { get; init; }

    public bool? InhibitOnFailure { get; init; }

    public NotifyScript? NotifyUp { get; init; }

    public NotifyScript? NotifyDown { get; init; }

    /// <summary><c>smtp_alert</c> (null: global smtp_alert_checker/smtp_alert, else on).</summary>
    public bool? SmtpAlert { get; init; }

    public string? Virtualhost { get; init; }

    public bool? Alpha { get; init; }

    public TimeSpan? ConnectTimeout { get; init; }

    public TimeSpan? DelayLoop { get; init; }

    public TimeSpan? Warmup { get; init; }

    public int? Retry { get; init; }

    public TimeSpan? DelayBeforeRetry { get; init; }

    public EquatableArray<CheckerConfig> Checkers { get; init; }

    public RealServerKey Key => new(Address, Port);
}
