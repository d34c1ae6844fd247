using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Vigil.Hosting.Logging;

/// <summary>Where log lines go (stderr, syslog); each sink formats the line its own way.</summary>
internal interface ILogSink : IDisposable
{
    void Write(LogLevel level, string message);
}

/// <summary>syslog severities (RFC 5424 numbers) for each log level.</summary>
internal static class Severity
{
    public static int Of(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };
}

/// <summary>
/// stderr. Under systemd (JOURNAL_STREAM set) each line starts with "&lt;N&gt;" so the journal
/// records its priority; otherwise with a timestamp, the program and its pid, like keepalived -l.
/// </summary>
internal sealed class StderrSink(string program) : ILogSink
{
    private readonly bool _journal = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
    private readonly object _gate = new();
    private readonly int _pid = Environment.ProcessId;

    public void Write(LogLevel level, string message)
    {
        var line = _journal
            ? $"<{Severity.Of(level)}>{message}"
            : $"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} {program}[{_pid}] {Label(level)}: {message}";
        lock (_gate)
        {
            Console.Error.WriteLine(line);
        }
    }

    private static string Label(LogLevel level) => level switch
    {
        LogLevel.Critical => "crit",
        LogLevel.Error => "error",
        LogLevel.Warning => "warning",
        LogLevel.Information => "info",
        _ => "debug",
    };

    public void Dispose() { }
}

/// <summary>
/// Local syslog (RFC 3164 datagrams to /dev/log): "&lt;PRI&gt;Mmm dd hh:mm:ss TAG[PID]: message", with
/// the facility chosen by -S like keepalived (0..7 = local0..local7, or a name).
/// </summary>
internal sealed class SyslogSink : ILogSink
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endpoint;
    private readonly int _facility;
    private readonly string _tag;
    private readonly object _gate = new();

    public SyslogSink(string program, int facility, string socketPath)
    {
        _facility = facility;
        _tag = $"{program}[{Environment.ProcessId}]";
        _endpoint = new UnixDomainSocketEndPoint(socketPath);
    }

    public void Write(LogLevel level, string message)
    {
        var pri = _facility * 8 + Severity.Of(level);
        var stamp = DateTime.Now.ToString("MMM dd HH:mm:ss", CultureInfo.InvariantCulture);
        if (stamp[4] == '0') stamp = stamp[..4] + " " + stamp[5..]; // RFC 3164 pads the day with a space
        var bytes = Encoding.UTF8.GetBytes($"<{pri}>{stamp} {_tag}: {message}");
        lock (_gate)
        {
            try
            {
                _socket.SendTo(bytes, _endpoint);
            }
            catch (SocketException)
            {
                // No syslog daemon: the line still went to stderr.
            }
        }
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Parses -S's argument: 0..7 (local0..local7), localN, or a facility name. Null if invalid.</summary>
    public static int? ParseFacility(string text)
    {
        text = text.Trim().ToLowerInvariant();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n is >= 0 and <= 7 ? 16 + n : null;
        if (text.StartsWith("local", StringComparison.Ordinal) && text.Length == 6 && text[5] is >= '0' and <= '7') return 16 + (text[5] - '0');
        return text switch
        {
            "kern" => 0,
            "user" => 1,
            "mail" => 2,
            "daemon" => 3,
            "auth" => 4,
            "syslog" => 5,
            "lpr" => 6,
            "news" => 7,
            "uucp" => 8,
            "cron" => 9,
            "authpriv" => 10,
            "ftp" => 11,
            _ => null,
        };
    }
}

internal sealed class SinkLoggerProvider(IReadOnlyList<ILogSink> sinks, LogLevel minimum) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new SinkLogger(sinks, minimum);

    public void Dispose()
    {
        foreach (var s in sinks) s.Dispose();
    }

    private sealed class SinkLogger(IReadOnlyList<ILogSink> sinks, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            if (exception is not null) message += $" ({exception.GetType().Name}: {exception.Message})";
            var sb = new StringBuilder(message);
            foreach (var s in sinks) s.Write(logLevel, sb.ToString());
        }
    }
}
