namespace Vigil.Config;

/// <summary>What a script path resolves to on the host.</summary>
public enum ScriptProbe
{
    /// <summary>An executable file: keepalived would run it.</summary>
    Executable,
    /// <summary>A file that exists but cannot be executed.</summary>
    NotExecutable,
    /// <summary>Not found (nor on the PATH for a bare name).</summary>
    NotFound,
    /// <summary>"&lt;/path": keepalived only checks the file can be opened.</summary>
    System,
}

/// <summary>
/// The parts of a configuration check that depend on the machine: interfaces, scripts, users, IPVS.
/// keepalived -t checks them on the host it runs on; a pure parse (tests, a reload RPC
/// validating text for another node) passes no environment and skips them.
/// </summary>
public interface IHostEnvironment
{
    /// <summary>null if the interface does not exist; otherwise whether it is a loopback.</summary>
    bool? InterfaceIsLoopback(string name);

    ScriptProbe ProbeScript(string command);

    bool UserExists(string name);

    bool GroupExists(string name);

    /// <summary>
    /// Whether the kernel has IPVS (loaded, or the ip_vs module could be loaded); null if that
    /// cannot be told. Decides what lvs_backend auto means: without IPVS vigil-ipvsd uses nftables.
    /// </summary>
    bool? HasIpvs();
}

/// <summary>The machine Vigil runs on: /sys/class/net, the PATH, /etc/passwd and /etc/group, /proc and /lib/modules for IPVS.</summary>
public sealed class SystemHostEnvironment : IHostEnvironment
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static SystemHostEnvironment Instance { get; } = new();

    public bool? InterfaceIsLoopback(string name)
    {
        if (name.Length == 0 || name.Contains('/') || name is "." or "..") return null;
        var dir = "/sys/class/net/" + name;
        if (!Directory.Exists(dir)) return null;
        try
        {
            // ARPHRD_LOOPBACK is 772.
            return File.ReadAllText(dir + "/type").Trim() == "772";
        }
        catch (IOException)
        {
            return false;
        }
    }

    public ScriptProbe ProbeScript(string command)
    {
        if (command.StartsWith('<') && command.AsSpan(1).TrimStart(" \t").StartsWith("/", StringComparison.Ordinal)) return ScriptProbe.System;
        string? path = null;
        if (command.Contains('/'))
        {
            path = command;
        }
        else
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? DefaultPath).Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, command);
                if (File.Exists(candidate))
                {
                    path = candidate;
                    break;
                }
            }
        }
        if (path is null || !File.Exists(path)) return ScriptProbe.NotFound;
        try
        {
            var mode = File.GetUnixFileMode(path);
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0
                ? ScriptProbe.Executable
                : ScriptProbe.NotExecutable;
        }
        catch (IOException)
        {
            return ScriptProbe.NotFound;
        }
    }

    public bool UserExists(string name) => NameInFile("/etc/passwd", name);

    public bool GroupExists(string name) => NameInFile("/etc/group", name);

    public bool? HasIpvs()
    {
        string? release;
        try
        {
            release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            release = null;
        }
        return ProbeIpvs("/", release);
    }

    /// <summary>
    /// IPVS under <paramref name="root"/>: /proc/net/ip_vs or /sys/module/ip_vs (loaded or built
    /// in), else an ip_vs.ko* among the modules of kernel <paramref name="release"/> (modprobe
    /// could load it). false when /proc is there but neither is; null when /proc is not mounted.
    /// </summary>
    internal static bool? ProbeIpvs(string root, string? release)
    {
        if (File.Exists(Path.Combine(root, "proc/net/ip_vs")) || Directory.Exists(Path.Combine(root, "sys/module/ip_vs"))) return true;
        if (release is { Length: > 0 } && !release.Contains('/'))
        {
            var modules = Path.Combine(root, "lib/modules", release);
            try
            {
                foreach (var index in new[] { "modules.dep", "modules.builtin" })
                {
                    var file = Path.Combine(modules, index);
                    if (File.Exists(file) && File.ReadLines(file).Any(IsIpvsModuleLine)) return true;
                }
                if (!File.Exists(Path.Combine(modules, "modules.dep")) && Directory.Exists(modules)
                    && Directory.EnumerateFiles(modules, "ip_vs.ko*", SearchOption.AllDirectories).Any())
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        return Directory.Exists(Path.Combine(root, "proc/net")) ? false : null;
    }

    /// <summary>"kernel/net/netfilter/ipvs/ip_vs.ko.zst: ..." (modules.dep) or "kernel/.../ip_vs.ko" (modules.builtin).</summary>
    private static bool IsIpvsModuleLine(string line)
    {
        var end = line.IndexOf(':');
        var path = end < 0 ? line.AsSpan().TrimEnd() : line.AsSpan(0, end);
        var slash = path.LastIndexOf('/');
        var name = slash < 0 ? path : path[(slash + 1)..];
        return name is "ip_vs.ko" || name.StartsWith("ip_vs.ko.", StringComparison.Ordinal);
    }

    private static bool NameInFile(string file, string name)
    {
        try
        {
            return File.ReadLines(file).Any(l => l.StartsWith(name + ":", StringComparison.Ordinal)) || uint.TryParse(name, out _);
        }
        catch (IOException)
        {
            return true;
        }
    }
}
