using System.Runtime.InteropServices;
using Vigil.Netlink.Interop;

namespace Vigil.Netlink;

/// <summary>
/// The network namespace a netlink socket talks to. A socket stays in the namespace it was
/// created in, so sockets for another namespace are created on a short-lived thread that enters
/// it with setns(2) and leaves again; the rest of the process never changes namespace.
/// </summary>
public sealed class NetworkNamespace
{
    /// <summary>Where <c>ip netns add NAME</c> binds its namespaces.</summary>
    public const string NamedDirectory = "/var/run/netns";

    private NetworkNamespace(string? path, string? name)
    {
        Path = path;
        Name = name;
    }

    /// <summary>The caller's own namespace (no setns).</summary>
    public static NetworkNamespace Current { get; } = new(null, null);

    /// <summary>A namespace made by <c>ip netns add NAME</c> (/var/run/netns/NAME).</summary>
    public static NetworkNamespace Named(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/') || name is "." or "..")
        {
            throw new ArgumentException($"invalid network namespace name '{name}'", nameof(name));
        }
        return new NetworkNamespace($"{NamedDirectory}/{name}", name);
    }

    /// <summary>A namespace given by a file such as /proc/PID/ns/net.</summary>
    public static NetworkNamespace FromPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new NetworkNamespace(path, null);
    }

    public string? Path { get; }
    public string? Name { get; }
    public bool IsCurrent => Path is null;

    public override string ToString() => Name ?? Path ?? "current";

    /// <summary>Runs <paramref name="action"/> on a thread that has entered this namespace.</summary>
    internal T RunInside<T>(Func<T> action)
    {
        if (IsCurrent)
        {
            return action();
        }
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = EnterAndRun(action);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = $"netns {this}",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }
        return result;
    }

    private T EnterAndRun<T>(Func<T> action)
    {
        var target = Libc.Open(Path!, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (target < 0)
        {
            throw new NetlinkException($"open network namespace {Path}", Marshal.GetLastPInvokeError());
        }
        var home = Libc.Open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC);
        try
        {
            if (home < 0)
            {
                throw new NetlinkException("open /proc/thread-self/ns/net", Marshal.GetLastPInvokeError());
            }
            if (Libc.SetNs(target, Libc.CLONE_NEWNET) != 0)
            {
                throw new NetlinkException($"setns into network namespace {Path}", Marshal.GetLastPInvokeError());
            }
            try
            {
                return action();
            }
            finally
            {
                // Go home before the thread ends, so nothing else ever runs in the wrong namespace.
                // If that failed the thread is about to exit anyway.
                _ = Libc.SetNs(home, Libc.CLONE_NEWNET);
            }
        }
        finally
        {
            if (home >= 0)
            {
                Libc.Close(home);
            }
            Libc.Close(target);
        }
    }
}
