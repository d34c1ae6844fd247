using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// One vrrp_track_file: its integer value, read again whenever the file changes (inotify through
/// <see cref="FileSystemWatcher"/>, plus a slow re-read in case a change slips by). keepalived's
/// rules: a missing or empty file reads as 0; the number is C's strtol with base 0 ("0x10" is
/// hexadecimal, "010" octal, leading blanks and a sign allowed, anything after the number ignored,
/// no digits at all is 0); a number outside the 32-bit range is ignored and the old value stays.
/// <c>init_file</c> creates the file with its value when missing (<c>overwrite</c>: always, on the
/// first load only).
/// </summary>
internal sealed partial class TrackFileWatcher : IDisposable
{
    private static readonly TimeSpan SafetyInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A writer truncates, then writes: reading at the first notification would see an empty
    /// file (value 0) for a moment and shake the priority. keepalived waits for IN_CLOSE_WRITE;
    /// FileSystemWatcher has no such event, so changes are read once they have settled this long.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(100);
    private readonly Action<TrackFileWatcher> _changed;
    private readonly ILogger _log;
    private readonly object _gate = new();
    private FileSystemWatcher? _watcher;
    private Timer? _timer;
    private Timer? _settle;
    private long _value;
    private bool _disposed;

    public TrackFileWatcher(TrackFileDefinition definition, Action<TrackFileWatcher> changed, ILogger log)
    {
        Definition = definition;
        _changed = changed;
        _log = log;
    }

    public TrackFileDefinition Definition { get; }

    public long Value => Interlocked.Read(ref _value);

    /// <param name="firstLoad">the daemon's first configuration (init_file overwrite applies only then).</param>
    public void Start(bool firstLoad)
    {
        Initialise(firstLoad);
        _value = Read() ?? 0;
        var dir = Path.GetDirectoryName(Definition.Path);
        try
        {
            if (dir is not null && Directory.Exists(dir))
            {
                _watcher = new FileSystemWatcher(dir, Path.GetFileName(Definition.Path))
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                _settle = new Timer(_ => Reread(), null, Timeout.Infinite, Timeout.Infinite);
                _watcher.Changed += (_, _) => Touched();
                _watcher.Created += (_, _) => Touched();
                _watcher.Deleted += (_, _) => Touched();
                _watcher.Renamed += (_, _) => Touched();
                _watcher.EnableRaisingEvents = true;
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            LogNoWatch(_log, Definition.Name, Definition.Path, e.Message);
        }
        _timer = new Timer(_ => Reread(), null, SafetyInterval, SafetyInterval);
    }

    private void Initialise(bool firstLoad)
    {
        if (Definition.InitValue is not { } init) return;
        try
        {
            if (File.Exists(Definition.Path))
            {
                if (!Definition.InitOverwrite || !firstLoad) return;
                if ((File.GetAttributes(Definition.Path) & FileAttributes.Directory) != 0) return;
            }
            File.WriteAllText(Definition.Path, init.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogInitFailed(_log, Definition.Name, Definition.Path, e.Message);
        }
    }

    private void Touched()
    {
        lock (_gate)
        {
            if (!_disposed) _settle?.Change(Settle, Timeout.InfiniteTimeSpan);
        }
    }

    private void Reread()
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (Read() is not { } value || value == Value) return;
            LogChanged(_log, Definition.Name, Definition.Path, Value, value);
            Interlocked.Exchange(ref _value, value);
        }
        _changed(this);
    }

    /// <summary>The file's value, or null when the number must be ignored.</summary>
    private long? Read()
    {
        byte[] buffer = new byte[127];
        int length;
        try
        {
            using var f = File.OpenHandle(Definition.Path, FileMode.Open, FileAccess.Read);
            length = RandomAccess.Read(f, buffer, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        var value = ParseLikeStrtol(System.Text.Encoding.ASCII.GetString(buffer, 0, length));
        if (value is null or < int.MinValue or > (long)int.MaxValue + 1)
        {
            LogInvalid(_log, Definition.Name, Definition.Path);
            return null;
        }
        return value;
    }

    /// <summary>strtol(text, NULL, 0): null on overflow.</summary>
    internal static long? ParseLikeStrtol(string text)
    {
        var i = 0;
        while (i < text.Length && (text[i] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')) i++;
        var negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }
        var radix = 10;
        if (i + 1 < text.Length && text[i] == '0' && (text[i + 1] is 'x' or 'X') && i + 2 < text.Length && Uri.IsHexDigit(text[i + 2]))
        {
            radix = 16;
            i += 2;
        }
        else if (i < text.Length && text[i] == '0')
        {
            radix = 8;
        }
        System.Numerics.BigInteger value = 0;
        var digits = 0;
        for (; i < text.Length; i++)
        {
            var d = text[i] switch
            {
                >= '0' and <= '9' => text[i] - '0',
                >= 'a' and <= 'f' => text[i] - 'a' + 10,
                >= 'A' and <= 'F' => text[i] - 'A' + 10,
                _ => 99,
            };
            if (d >= radix) break;
            value = value * radix + d;
            digits++;
            if (value > long.MaxValue) return null;
        }
        if (digits == 0) return 0;
        return (long)(negative ? -value : value);
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
        _watcher?.Dispose();
        _timer?.Dispose();
        _settle?.Dispose();
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "track_file {Name} ({Path}): {From} -> {To}")]
    private static partial void LogChanged(ILogger logger, string name, string path, long from, long to);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "track_file {Name}: invalid number read from {Path}, ignoring")]
    private static partial void LogInvalid(ILogger logger, string name, string path);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "track_file {Name}: cannot initialise {Path}: {Reason}")]
    private static partial void LogInitFailed(ILogger logger, string name, string path, string reason);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "track_file {Name}: cannot watch {Path} ({Reason}); reading it every 2 s")]
    private static partial void LogNoWatch(ILogger logger, string name, string path, string reason);
}
