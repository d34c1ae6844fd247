using System.Runtime.InteropServices;
using System.Text;

namespace Vigil.Scripts;

/// <summary>How a child process ended, with what it printed.</summary>
internal readonly record struct ChildExit(int WaitStatus, string Output, bool OutputTruncated);

/// <summary>
/// Waits for the script processes this library starts, on one background thread that polls a
/// pidfd per child (readable when the child exits) and the read end of each child's output pipe.
/// Only our own pids are ever passed to waitpid, so System.Diagnostics.Process, which reaps the
/// children it started, keeps working in the same process. Thousands of children cost one thread.
/// </summary>
internal sealed unsafe class ChildReaper
{
    private static readonly Lazy<ChildReaper> s_instance = new(() => new ChildReaper());

    private readonly object _gate = new();
    private readonly List<Child> _pending = [];
    private readonly List<Child> _children = [];
    private readonly int _wakeFd;

    public static ChildReaper Instance => s_instance.Value;

    private ChildReaper()
    {
        _wakeFd = Native.eventfd(0, Native.O_CLOEXEC | Native.O_NONBLOCK);
        if (_wakeFd < 0) throw new InvalidOperationException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        var thread = new Thread(Run) { IsBackground = true, Name = "vigil-script-reaper" };
        thread.Start();
    }

    /// <summary>Starts watching a child; the task completes when it has exited (and is reaped).</summary>
    /// <param name="outputFd">read end of the child's stdout/stderr pipe (taken over), or -1.</param>
    public Task<ChildExit> Watch(int pid, int outputFd, int maxOutputBytes)
    {
        var child = new Child(pid, outputFd, maxOutputBytes);
        child.PidFd = Native.PidfdOpen(pid);
        if (outputFd >= 0)
        {
            var flags = Native.fcntl(outputFd, Native.F_GETFL, 0);
            Native.fcntl(outputFd, Native.F_SETFL, flags | Native.O_NONBLOCK);
        }
        lock (_gate) _pending.Add(child);
        Wake();
        return child.Completion.Task;
    }

    private void Wake()
    {
        ulong one = 1;
        Native.write(_wakeFd, (byte*)&one, 8);
    }

    private void Run()
    {
        var fds = new List<Native.PollFd>();
        var owners = new List<(Child Child, bool IsPipe)>();
        var buffer = new byte[4096];
        while (true)
        {
            lock (_gate)
            {
                _children.AddRange(_pending);
                _pending.Clear();
            }

            fds.Clear();
            owners.Clear();
            fds.Add(new Native.PollFd { Fd = _wakeFd, Events = Native.POLLIN });
            owners.Add((null!, false));
            var needTimedPoll = false;
            foreach (var c in _children)
            {
                if (c.PidFd >= 0)
                {
                    fds.Add(new Native.PollFd { Fd = c.PidFd, Events = Native.POLLIN });
                    owners.Add((c, false));
                }
                else
                {
                    // No pidfd (kernel before 5.3): fall back to checking with WNOHANG.
                    needTimedPoll = true;
                }
                if (c.OutputFd >= 0)
                {
                    fds.Add(new Native.PollFd { Fd = c.OutputFd, Events = Native.POLLIN });
                    owners.Add((c, true));
                }
            }

            var array = fds.ToArray();
            int ready;
            fixed (Native.PollFd* p = array)
            {
                ready = Native.poll(p, (nuint)array.Length, needTimedPoll ? 50 : -1);
            }
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == Native.EINTR) continue;
                Thread.Sleep(10);
                continue;
            }

            if ((array[0].Revents & Native.POLLIN) != 0)
            {
                ulong value;
                Native.read(_wakeFd, (byte*)&value, 8);
            }

            for (var i = 1; i < array.Length; i++)
            {
                if (array[i].Revents == 0) continue;
                var (child, isPipe) = owners[i];
                if (isPipe) Drain(child, buffer);
                else TryReap(child);
            }
            if (needTimedPoll)
            {
                foreach (var c in _children) if (c.PidFd < 0) TryReap(c);
            }

            for (var i = _children.Count - 1; i >= 0; i--)
            {
                var c = _children[i];
                if (!c.Exited) continue;
                // The child is gone: take what is already in the pipe, but do not wait for
                // grandchildren that may still hold it open.
                Drain(c, buffer);
                CloseOutput(c);
                if (c.PidFd >= 0) Native.close(c.PidFd);
                _children.RemoveAt(i);
                c.Completion.TrySetResult(new ChildExit(c.Status, c.OutputText(), c.Truncated));
            }
        }
    }

    private static void TryReap(Child c)
    {
        if (c.Exited) return;
        int status;
        var r = Native.waitpid(c.Pid, &status, Native.WNOHANG);
        if (r == c.Pid)
        {
            c.Status = status;
            c.Exited = true;
        }
        else if (r < 0 && Marshal.GetLastPInvokeError() != Native.EINTR)
        {
            // ECHILD: someone else reaped it (a SIG_IGN'd SIGCHLD); report an unknown status.
            c.Status = 0xff << 8;
            c.Exited = true;
        }
    }

    private static void Drain(Child c, byte[] buffer)
    {
        if (c.OutputFd < 0) return;
        fixed (byte* b = buffer)
        {
            while (true)
            {
                var n = (int)Native.read(c.OutputFd, b, buffer.Length);
                if (n > 0)
                {
                    c.Append(buffer.AsSpan(0, n));
                    continue;
                }
                if (n < 0 && Marshal.GetLastPInvokeError() == Native.EINTR) continue;
                if (n == 0 || Marshal.GetLastPInvokeError() != Native.EAGAIN) CloseOutput(c);
                return;
            }
        }
    }

    private static void CloseOutput(Child c)
    {
        if (c.OutputFd < 0) return;
        Native.close(c.OutputFd);
        c.OutputFd = -1;
    }

    private sealed class Child(int pid, int outputFd, int maxOutputBytes)
    {
        private readonly MemoryStream _output = new();

        public int Pid { get; } = pid;
        public int PidFd { get; set; } = -1;
        public int OutputFd { get; set; } = outputFd;
        public int Status { get; set; }
        public bool Exited { get; set; }
        public bool Truncated { get; private set; }
        public TaskCompletionSource<ChildExit> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Append(ReadOnlySpan<byte> data)
        {
            var room = maxOutputBytes - (int)_output.Length;
            if (data.Length > room)
            {
                Truncated = true;
                data = data[..Math.Max(room, 0)];
            }
            _output.Write(data);
        }

        public string OutputText() => Encoding.UTF8.GetString(_output.GetBuffer(), 0, (int)_output.Length);
    }
}
