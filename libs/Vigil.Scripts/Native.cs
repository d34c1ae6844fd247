using System.Runtime.InteropServices;

namespace Vigil.Scripts;

/// <summary>libc entry points used to start scripts in their own process group and reap them
/// without disturbing System.Diagnostics.Process (which only reaps the children it started).</summary>
internal static unsafe partial class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int EINTR = 4;
    public const int ESRCH = 3;
    public const int EAGAIN = 11;

    public const short POSIX_SPAWN_SETPGROUP = 0x02;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETSID = 0x80;

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int WNOHANG = 1;
    public const short POLLIN = 0x1;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    // glibc's opaque types, sized generously so the layout of any architecture fits.
    public const int SpawnAttrSize = 1024;
    public const int FileActionsSize = 512;
    public const int SigSetSize = 128;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawnattr_setpgroup(void* attr, int pgroup);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_addopen(void* actions, int fd, byte* path, int oflag, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigfillset(void* set);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigemptyset(void* set);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sigdelset(void* set, int signo);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, int arg1, uint arg2);

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint getegid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpwnam_r(byte* name, void* pwd, byte* buf, nuint buflen, void** result);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpwuid_r(uint uid, void* pwd, byte* buf, nuint buflen, void** result);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getgrnam_r(byte* name, void* grp, byte* buf, nuint buflen, void** result);

    // pidfd_open has the same number on every architecture (new syscalls share one table since 5.x).
    private const long SYS_pidfd_open = 434;

    /// <summary>pidfd_open(2): a descriptor that becomes readable when the process exits.</summary>
    public static int PidfdOpen(int pid) => (int)syscall(SYS_pidfd_open, pid, 0);

    public static bool WIfExited(int status) => (status & 0x7f) == 0;
    public static int WExitStatus(int status) => (status >> 8) & 0xff;
    public static bool WIfSignaled(int status) => (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
    public static int WTermSig(int status) => status & 0x7f;
}
