using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Vigil.Testing;

/// <summary>
/// Runs code inside a lab host's network namespace, in this process: a fresh thread enters the
/// namespace with setns(2) and runs the code there. Sockets it creates stay in that namespace
/// for their whole life, whichever thread later uses them; the thread itself then ends, so no
/// pooled thread is ever left in a foreign namespace.
/// </summary>
public static partial class Netns
{
    private const int CLONE_NEWNET = 0x40000000;

    public static T Run<T>(LabHost host, Func<T> code)
    {
        ArgumentNullException.ThrowIfNull(host);
        return Run(host.Namespace, code);
    }

    public static void Run(LabHost host, Action code)
    {
        ArgumentNullException.ThrowIfNull(code);
        Run(host, () =>
        {
            code();
            return 0;
        });
    }

    /// <summary>Runs the code in the named namespace (/run/netns/NAME).</summary>
    public static T Run<T>(string ns, Func<T> code)
    {
        ArgumentNullException.ThrowIfNull(code);
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{ns}");
                if (setns((int)handle.DangerousGetHandle(), CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"setns into {ns} failed: errno {Marshal.GetLastPInvokeError()} (lab tests need root)");
                result = code();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        }) { IsBackground = true, Name = $"netns {ns}" };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
