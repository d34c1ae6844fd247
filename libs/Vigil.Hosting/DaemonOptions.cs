using System.Globalization;
using Microsoft.Extensions.Logging;
using Vigil.Hosting.Logging;

namespace Vigil.Hosting;

/// <summary>
/// The command-line options every daemon shares (keepalived's spellings where keepalived has
/// them). Options a daemon adds itself are left in <see cref="Remaining"/> for it to parse.
/// </summary>
public sealed record DaemonOptions
{
    public string RunDir { get; init; } = VigilPaths.DefaultRunDir;
    public LogLevel LogLevel { get; init; } = LogLevel.Information;
    /// <summary>syslog facility number (-S), or null for no syslog.</summary>
    public int? SyslogFacility { get; init; }
    public string SyslogSocket { get; init; } = VigilPaths.DefaultSyslogSocket;
    /// <summary>The group (gid) whose members may use the daemon's socket.</summary>
    public uint? SocketGroup { get; init; }
    /// <summary>--prometheus-address: serve Prometheus metrics (GET /metrics) there; null: not.</summary>
    public System.Net.IPEndPoint? PrometheusAddress { get; init; }
    /// <summary>OTLP export as OpenTelemetry's standard OTEL_EXPORTER_OTLP_* variables say (read by <see cref="Parse"/>).</summary>
    public Telemetry.TelemetryOptions Telemetry { get; init; } = new();
    public bool ShowHelp { get; init; }
    public bool ShowVersion { get; init; }
    public IReadOnlyList<string> Remaining { get; init; } = [];

    public const string Help = """
          --run-dir DIR          directory of the daemons' sockets (default /run/vigil)
      -l, --log-console          log to the console (always on; kept for keepalived compatibility)
      -D, --log-detail           detailed (debug) logging
          --log-level LEVEL      trace, debug, info, warning, error
      -S, --log-facility F       also log to syslog with facility F: 0..7 (local0..local7) or a name
          --syslog-socket PATH   the syslog socket (default /dev/log)
          --socket-group GROUP   group allowed to use the socket (name or gid)
          --prometheus-address A serve Prometheus metrics on http://A/metrics (A: 127.0.0.1:9650, [::1]:9650);
                                 OTLP export: OTEL_EXPORTER_OTLP_ENDPOINT (http(s)://host:port), OTEL_EXPORTER_OTLP_PROTOCOL
                                 (grpc, http/protobuf), OTEL_EXPORTER_OTLP_HEADERS, OTEL_METRIC_EXPORT_INTERVAL (ms)
      -n, --dont-fork            run in the foreground (always; kept for keepalived compatibility)
      -h, --help                 this help
      -v, --version              print the version
    """;

    /// <summary>Parses the shared options; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static DaemonOptions Parse(IReadOnlyList<string> args)
    {
        var o = new DaemonOptions { Telemetry = Vigil.Hosting.Telemetry.TelemetryOptions.FromEnvironment(Environment.GetEnvironmentVariable) };
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = Split(args[i]);
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new ArgumentException($"option {name} needs a value");
                return args[++i];
            }
            switch (name)
            {
                case "--run-dir": o = o with { RunDir = Value() }; break;
                case "-l" or "--log-console" or "-n" or "--dont-fork": break;
                case "-D" or "--log-detail": o = o with { LogLevel = LogLevel.Debug }; break;
                case "--log-level": o = o with { LogLevel = ParseLevel(Value()) }; break;
                case "-S" or "--log-facility":
                    var f = Value();
                    o = o with { SyslogFacility = SyslogSink.ParseFacility(f) ?? throw new ArgumentException($"option -S: invalid syslog facility '{f}' (use 0..7 for local0..local7, or a facility name)") };
                    break;
                case "--syslog-socket": o = o with { SyslogSocket = Value() }; break;
                case "--socket-group": o = o with { SocketGroup = ResolveGroup(Value()) }; break;
                case "--prometheus-address": o = o with { PrometheusAddress = ParseEndpoint(name, Value()) }; break;
                case "-h" or "--help": o = o with { ShowHelp = true }; break;
                case "-v" or "--version": o = o with { ShowVersion = true }; break;
                default: rest.Add(args[i]); break;
            }
        }
        return o with { Remaining = rest };
    }

    private static (string Name, string? Value) Split(string arg)
    {
        if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 2) return (arg[..eq], arg[(eq + 1)..]);
        return (arg, null);
    }

    /// <summary>ADDRESS:PORT, the IPv6 address in brackets; the port may be 0 (any free one).</summary>
    public static System.Net.IPEndPoint ParseEndpoint(string option, string s)
    {
        if (System.Net.IPEndPoint.TryParse(s, out var e) && s.LastIndexOf(':') > Math.Max(0, s.LastIndexOf(']')) && (e.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || s.StartsWith('[')))
            return e;
        throw new ArgumentException($"option {option}: '{s}' is not ADDRESS:PORT (for example 127.0.0.1:9650 or [::1]:9650)");
    }

    private static LogLevel ParseLevel(string s) => s.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" or "information" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new ArgumentException($"option --log-level: unknown level '{s}' (trace, debug, info, warning, error)"),
    };

    private static uint ResolveGroup(string s)
    {
        if (uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var gid)) return gid;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var parts = line.Split(':');
            if (parts.Length >= 3 && parts[0] == s && uint.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid)) return gid;
        }
        throw new ArgumentException($"option --socket-group: no group named '{s}'");
    }
}
