namespace Vigil.Controld.Dumps;

/// <summary>Signal numbers of keepalived's dumps beyond SIGUSR1 (10) and SIGUSR2 (12).</summary>
public static class DumpSignals
{
    /// <summary>
    /// keepalived's SIGJSON is SIGRTMIN + 2; glibc's SIGRTMIN is 34 (it keeps 32 and 33 for
    /// itself), so `kill -s $((34+2))`, or `kill -RTMIN+2` in bash.
    /// </summary>
    public const int SigJson = 36;
}
