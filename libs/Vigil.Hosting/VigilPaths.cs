namespace Vigil.Hosting;

/// <summary>
/// Every default path of Vigil in one place. Each can be overridden on the command line, so a
/// test or lab can run many nodes on one machine.
/// </summary>
public static class VigilPaths
{
    /// <summary>Where the daemons' sockets (and pid files) live: --run-dir.</summary>
    public const string DefaultRunDir = "/run/vigil";

    /// <summary>keepalived's own default, so an existing installation needs no -f.</summary>
    public const string DefaultConfigFile = "/etc/keepalived/keepalived.conf";

    /// <summary>The local syslog socket (-S facility logs there).</summary>
    public const string DefaultSyslogSocket = "/dev/log";

    public const string Controld = "vigil-controld";
    public const string Vrrpd = "vigil-vrrpd";
    public const string Checkd = "vigil-checkd";
    public const string Ipvsd = "vigil-ipvsd";

    /// <summary>The socket of a daemon: RUN_DIR/controld.sock, vrrpd.sock, checkd.sock, ipvsd.sock.</summary>
    public static string Socket(string runDir, string daemon) =>
        Path.Combine(runDir, (daemon.StartsWith("vigil-", StringComparison.Ordinal) ? daemon["vigil-".Length..] : daemon) + ".sock");

    public static string PidFile(string runDir, string daemon) =>
        Path.Combine(runDir, (daemon.StartsWith("vigil-", StringComparison.Ordinal) ? daemon["vigil-".Length..] : daemon) + ".pid");
}
