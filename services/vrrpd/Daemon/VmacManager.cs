using System.Net.NetworkInformation;
using Microsoft.Extensions.Logging;
using Vigil.Netlink;
using Vigil.Netlink.Route;

namespace Vigil.Vrrpd.Daemon;

/// <summary><c>use_vmac</c>: the macvlan an instance runs on, with the VRRP virtual MAC.</summary>
/// <param name="Name">the macvlan's name (<c>use_vmac NAME</c>, else keepalived's "vrrp.VRID").</param>
/// <param name="BaseInterface">the configured <c>interface</c>: the macvlan's parent, and where the
/// advert's source address comes from.</param>
public sealed record VmacSpec(string Name, string BaseInterface, PhysicalAddress Mac);

/// <summary>
/// Creates, adopts and deletes VMAC interfaces as keepalived does (vrrp_vmac.c, vrrp_if_config.c):
/// a macvlan in private mode on the configured interface with MAC 00:00:5e:00:01:VRID, set up; on
/// it accept_local=1, arp_ignore=1, rp_filter=0 (it has no address of its own but must hear the
/// other routers) and no IPv6; on the parent arp_ignore=1 and arp_filter=1 (the parent must not
/// answer ARP for the VIPs, which live on the VMAC). A VMAC that is already there and fits is
/// adopted; the ones this daemon created are deleted when their instance goes and at stop.
/// </summary>
internal sealed partial class VmacManager(Rtnetlink rtnl, ILogger log)
{
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);

    /// <summary>Makes every VMAC of the configuration exist and be up; failures are logged (the instance stays in FAULT).</summary>
    public async Task EnsureAsync(IEnumerable<VmacSpec> vmacs, CancellationToken ct)
    {
        foreach (var v in vmacs)
        {
            try
            {
                await EnsureOneAsync(v, ct).ConfigureAwait(false);
            }
            catch (NetlinkException e)
            {
                LogFailed(log, v.Name, v.BaseInterface, e.Message);
            }
        }
    }

    private async Task EnsureOneAsync(VmacSpec v, CancellationToken ct)
    {
        var parent = await rtnl.GetLinkAsync(v.BaseInterface, ct).ConfigureAwait(false);
        if (parent is null)
        {
            LogFailed(log, v.Name, v.BaseInterface, $"interface {v.BaseInterface} does not exist");
            return;
        }
        var existing = await rtnl.GetLinkAsync(v.Name, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            var fits = existing.Kind == "macvlan" && existing.ParentIndex == parent.Index && existing.MacvlanMode == MacvlanMode.Private
                && existing.Address is not null && existing.Address.Equals(v.Mac);
            if (!fits && existing.Kind != "macvlan")
            {
                LogFailed(log, v.Name, v.BaseInterface, $"{v.Name} exists and is not a macvlan");
                return;
            }
            if (!fits)
            {
                LogReplacing(log, v.Name);
                await rtnl.DeleteLinkAsync(v.Name, ct).ConfigureAwait(false);
                existing = null;
            }
            else
            {
                LogAdopted(log, v.Name);
            }
        }
        if (existing is null)
        {
            await rtnl.CreateMacvlanAsync(new MacvlanLink { Name = v.Name, Parent = v.BaseInterface, Mode = MacvlanMode.Private, Address = v.Mac }, ct)
                .ConfigureAwait(false);
            _created.Add(v.Name);
            LogCreated(log, v.Name, Link.MacText(v.Mac), v.BaseInterface);
        }
        Sysctl($"ipv6/conf/{v.Name}/disable_ipv6", "1");
        Sysctl($"ipv4/conf/{v.Name}/accept_local", "1");
        Sysctl($"ipv4/conf/{v.Name}/arp_ignore", "1");
        Sysctl($"ipv4/conf/{v.Name}/rp_filter", "0");
        Sysctl($"ipv4/conf/{v.BaseInterface}/arp_ignore", "1");
        Sysctl($"ipv4/conf/{v.BaseInterface}/arp_filter", "1");
        if (ReadSysctl("ipv4/conf/all/rp_filter") is { } all && all != "0") LogRpFilter(log, v.Name, all);
        await rtnl.SetLinkUpAsync(v.Name, true, ct).ConfigureAwait(false);
    }

    /// <summary>Deletes the VMACs this daemon created that <paramref name="keep"/> does not name.</summary>
    public async Task RemoveUnusedAsync(IReadOnlySet<string> keep)
    {
        foreach (var name in _created.Where(n => !keep.Contains(n)).ToList())
        {
            _created.Remove(name);
            try
            {
                await rtnl.DeleteLinkAsync(name).ConfigureAwait(false);
                LogDeleted(log, name);
            }
            catch (NetlinkException e) when (e.NotFound)
            {
            }
            catch (NetlinkException e)
            {
                LogDeleteFailed(log, name, e.Message);
            }
        }
    }

    private void Sysctl(string key, string value)
    {
        // /proc/sys/net shows the namespace of the process reading it: the daemon's.
        var path = "/proc/sys/net/" + key;
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSysctlFailed(log, path, value, e.Message);
        }
    }

    private static string? ReadSysctl(string key)
    {
        try
        {
            return File.ReadAllText("/proc/sys/net/" + key).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 3601, Level = LogLevel.Information, Message = "VMAC {Name} ({Mac}) created on {Parent}")]
    private static partial void LogCreated(ILogger logger, string name, string mac, string parent);

    [LoggerMessage(EventId = 3602, Level = LogLevel.Information, Message = "VMAC {Name} is already there; adopting it")]
    private static partial void LogAdopted(ILogger logger, string name);

    [LoggerMessage(EventId = 3603, Level = LogLevel.Warning, Message = "VMAC {Name} exists with other settings; re-creating it")]
    private static partial void LogReplacing(ILogger logger, string name);

    [LoggerMessage(EventId = 3604, Level = LogLevel.Error, Message = "cannot set up VMAC {Name} on {Parent}: {Reason}; its instance stays in FAULT")]
    private static partial void LogFailed(ILogger logger, string name, string parent, string reason);

    [LoggerMessage(EventId = 3605, Level = LogLevel.Information, Message = "VMAC {Name} deleted")]
    private static partial void LogDeleted(ILogger logger, string name);

    [LoggerMessage(EventId = 3606, Level = LogLevel.Warning, Message = "cannot delete VMAC {Name}: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 3607, Level = LogLevel.Warning, Message = "cannot set {Path} to {Value}: {Reason}")]
    private static partial void LogSysctlFailed(ILogger logger, string path, string value, string reason);

    [LoggerMessage(EventId = 3608, Level = LogLevel.Warning, Message = "VMAC {Name}: net.ipv4.conf.all.rp_filter is {Value}, which overrides the VMAC's 0; adverts from the other routers may be dropped")]
    private static partial void LogRpFilter(ILogger logger, string name, string value);
}
