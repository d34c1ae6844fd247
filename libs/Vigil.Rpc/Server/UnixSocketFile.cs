using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.Rpc.Server;

/// <summary>Preparing and owning the socket file of a server: stale files replaced safely, mode and group.</summary>
internal static partial class UnixSocketFile
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFSOCK = 0xC000;

    /// <summary>
    /// Makes the path free for a new listener: a socket file with nobody listening (left by a crash)
    /// is removed; a live server or a file that is not a socket is never touched.
    /// </summary>
    public static void PrepareForBind(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        if (!File.Exists(path) && !Directory.Exists(path)) return;
        if (!IsSocket(path))
        {
            throw new IOException($"{path} exists and is not a socket; refusing to replace it");
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            File.Delete(path); // stale: its server is gone
            return;
        }
        throw new IOException($"another server is already listening on {path}");
    }

    public static bool IsSocket(string path)
    {
        // struct stat differs between architectures; st_mode sits at offset 24 on x86_64 and 16 on arm64.
        var offset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => throw new PlatformNotSupportedException("socket file check not implemented for this architecture"),
        };
        Span<byte> buf = stackalloc byte[256];
        if (lstat(path, ref MemoryMarshal.GetReference(buf)) != 0) return false;
        var mode = MemoryMarshal.Read<uint>(buf[offset..]);
        return (mode & S_IFMT) == S_IFSOCK;
    }

    /// <summary>
    /// A new directory of mode 0700 beside <paramref name="socketPath"/> (same file system, so a rename
    /// moves the socket), or null when a socket inside it would not fit in sun_path.
    /// </summary>
    public static string? CreateStagingDirectory(string socketPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(socketPath))!;
        var staging = Path.Combine(dir, "." + Guid.NewGuid().ToString("N")[..8]);
        if (System.Text.Encoding.UTF8.GetByteCount(Path.Combine(staging, "s")) > 107) return null;
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return staging;
    }

    /// <summary>rename(2): atomic, and it replaces whatever is at the target.</summary>
    public static void Rename(string from, string to)
    {
        if (rename(from, to) != 0)
        {
            throw new IOException($"cannot move the socket {from} to {to}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sets the process umask and returns the old one (used around bind so the file is
    /// never more open than asked, even for an instant).</summary>
    public static uint SetUmask(uint mask) => umask(mask);

    public static void SetGroup(string path, uint gid)
    {
        if (chown(path, uint.MaxValue, gid) != 0)
        {
            throw new IOException($"cannot set group {gid} on {path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>The group that owns the socket file (the group whose members may connect).</summary>
    public static uint? GetGroup(string path)
    {
        var offset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 32,  // st_uid at 28, st_gid at 32
            Architecture.Arm64 => 28, // st_mode 16, st_nlink 20, st_uid 24, st_gid 28
            _ => -1,
        };
        if (offset < 0) return null;
        Span<byte> buf = stackalloc byte[256];
        if (lstat(path, ref MemoryMarshal.GetReference(buf)) != 0) return null;
        return MemoryMarshal.Read<uint>(buf[offset..]);
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lstat(string path, ref byte buf);

    [LibraryImport("libc")]
    private static partial uint umask(uint mask);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int rename(string from, string to);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int chown(string path, uint owner, uint group);
}
