using Vigil.Config;
using Vigil.Config.Diagnostics;
using Vigil.Controld.Api;
using Vigil.Hosting;

namespace Vigil.Controld;

public static class Program
{
    private const string Help = """
      -f, --use-file FILE        the configuration (default /etc/keepalived/keepalived.conf)
      -i, --config-id ID         the id "@ID" lines are selected by (default: short host name)
      -t, --config-test          check the configuration like keepalived -t and exit (0, 3, 4 or 5)
          --dump-config          print the configuration as Vigil reads it, as JSON
      -P, --vrrp                 run only the VRRP plane (vigil-vrrpd)
      -C, --check                run only the checkers
          --supervise MODE       spawn: start and restart the daemons as children (default);
                                 systemd: they are the units vigil-vrrpd.service, vigil-checkd.service and
                                 vigil-ipvsd.service; start none, follow their health on their sockets and
                                 ask systemd (systemctl restart) to start or restart a unit
          --programs DIR         where vigil-vrrpd and the other daemons are (default: beside this program)
          --dump-dir DIR         where SIGUSR1, SIGUSR2 and SIGJSON (SIGRTMIN+2) write keepalived.data, .stats
                                 and .json (default: $TMPDIR, else /tmp, as keepalived)
          --heartbeat-timeout S  restart a daemon that answers no health check, or reports NOT_SERVING,
                                 for S seconds (default 3)

    """;

    public static async Task<int> Main(string[] args)
    {
        if (ConfigCheck.IsRequested(args)) return ConfigCheck.Run(args, Console.Out, Console.Error);

        var (options, rest, error) = ParseOwn(args);
        if (error is not null)
        {
            Console.Error.WriteLine($"vigil-controld: {error}");
            return 2;
        }
        var (host, exitCode) = DaemonHost.Create(VigilPaths.Controld, rest, Help);
        if (host is null) return exitCode;
        await using (host)
        {
            // Children log like their parent: same level and syslog facility.
            var childArgs = new List<string>();
            if (host.Options.LogLevel <= Microsoft.Extensions.Logging.LogLevel.Debug) childArgs.Add("-D");
            if (host.Options.SyslogFacility is { } facility)
            {
                childArgs.AddRange(["-S", (facility - 16).ToString(System.Globalization.CultureInfo.InvariantCulture), "--syslog-socket", host.Options.SyslogSocket]);
            }
            if (host.Options.SocketGroup is { } gid) childArgs.AddRange(["--socket-group", gid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await using var controller = new Controller(host, options with { ChildArguments = childArgs });
            if (!controller.Start()) return ConfigExitCode.CannotRun;
            host.Server.AddService(new ControlApi(host, controller), Vigil.Control.V1.ControlService.Descriptor.FullName);
            host.OnSignal(System.Runtime.InteropServices.PosixSignal.SIGHUP, () => controller.ReloadAsync().GetAwaiter().GetResult());
            // keepalived's dump signals: SIGUSR1 data, SIGUSR2 stats, SIGJSON (SIGRTMIN+2) json.
            var dumps = new Dumps.DumpCollector(controller);
            foreach (var (signal, format) in new[] { (10, Control.V1.DumpFormat.Data), (12, Control.V1.DumpFormat.Stats), (Dumps.DumpSignals.SigJson, Control.V1.DumpFormat.Json) })
                host.OnSignal(signal, () => dumps.WriteAsync(format, host.Stopping).GetAwaiter().GetResult());
            var code = await host.RunAsync(onStopping: controller.StopAsync);
            return controller.FatalExitCode ?? code;
        }
    }

    private static (ControllerOptions Options, List<string> Remaining, string? Error) ParseOwn(string[] args)
    {
        var o = new ControllerOptions();
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string? inline = a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=') is var eq and > 2 ? a[(eq + 1)..] : null;
            var name = inline is null ? a : a[..a.IndexOf('=')];
            string? Value() => inline ?? (i + 1 < args.Length ? args[++i] : null);
            switch (name)
            {
                case "-f" or "--use-file":
                    if (Value() is not { } f) return (o, rest, $"option {name} needs a value");
                    o = o with { ConfigFile = f };
                    break;
                case "-i" or "--config-id":
                    if (Value() is not { } id) return (o, rest, $"option {name} needs a value");
                    o = o with { ConfigId = id };
                    break;
                case "-P" or "--vrrp": o = o with { VrrpOnly = true }; break;
                case "-C" or "--check": o = o with { CheckersOnly = true }; break;
                case "--programs":
                    if (Value() is not { } dir) return (o, rest, $"option {name} needs a value");
                    o = o with { ProgramsDirectory = dir };
                    break;
                case "--supervise":
                    switch (Value())
                    {
                        case "spawn": o = o with { Supervision = Supervisor.SupervisionMode.Spawn }; break;
                        case "systemd": o = o with { Supervision = Supervisor.SupervisionMode.Systemd }; break;
                        case null: return (o, rest, $"option {name} needs a value");
                        case var m: return (o, rest, $"option {name}: '{m}' is neither 'spawn' nor 'systemd'");
                    }
                    break;
                case "--dump-dir":
                    if (Value() is not { Length: > 0 } dumpDir) return (o, rest, $"option {name} needs a value");
                    o = o with { DumpDirectory = dumpDir };
                    break;
                case "--heartbeat-timeout":
                    if (Value() is not { } t) return (o, rest, $"option {name} needs a value");
                    if (!double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is <= 0 or > 3600)
                        return (o, rest, $"option {name}: '{t}' is not a number of seconds between 0 and 3600");
                    o = o with { HeartbeatTimeout = TimeSpan.FromSeconds(seconds) };
                    break;
                default: rest.Add(a); break;
            }
        }
        if (o.VrrpOnly && o.CheckersOnly) return (o, rest, "-P and -C exclude each other");
        return (o, rest, null);
    }
}
