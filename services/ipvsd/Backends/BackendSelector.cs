using System.Diagnostics;
using Vigil.Ipvs.V1;
using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends;

/// <summary>
/// lvs_backend: IPVS when asked or when the kernel has it (after trying to load ip_vs, as
/// keepalived does); nftables when asked, or, with a warning, when IPVS cannot be had.
/// </summary>
public static class BackendSelector
{
    public static async Task<(ILvsBackend Backend, string? Warning)> OpenAsync(Backend wanted, Func<ILvsBackend> nftables, CancellationToken cancellationToken)
    {
        if (wanted == Backend.Nftables) return (nftables(), null);
        try
        {
            return (await OpenIpvsAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (IpvsNotAvailableException e) when (wanted == Backend.Unspecified)
        {
            return (nftables(), $"{e.Message}; using the nftables backend (NAT only: lb_kind DR and TUN virtual servers are not programmed, no connection sync)");
        }
    }

    private static async Task<IpvsBackend> OpenIpvsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await IpvsBackend.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IpvsNotAvailableException)
        {
            if (!await TryModprobeAsync(cancellationToken).ConfigureAwait(false)) throw;
            return await IpvsBackend.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>keepalived runs "modprobe ip_vs" when the IPVS family is missing.</summary>
    private static async Task<bool> TryModprobeAsync(CancellationToken cancellationToken)
    {
        var modprobe = new[] { "/sbin/modprobe", "/usr/sbin/modprobe" }.FirstOrDefault(File.Exists);
        if (modprobe is null) return false;
        try
        {
            using var p = Process.Start(new ProcessStartInfo(modprobe, ["-q", "ip_vs"]) { RedirectStandardError = true, RedirectStandardOutput = true });
            if (p is null) return false;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return p.ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            return false;
        }
    }
}
