using Microsoft.Extensions.Logging;
using Vigil.Netlink;
using Vigil.Netlink.Route;
using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Daemon;

/// <summary>
/// <see cref="IAddressManager"/> through rtnetlink: virtual_ipaddress and
/// virtual_ipaddress_excluded with their prefix, brd, dev, scope, label and flags, looked up by
/// instance name in the configuration in force. Like keepalived, an address that is already
/// there is adopted (EEXIST is not an error) and one that is already gone is not an error on
/// removal; every other failure is logged with the kernel's reason and the other addresses go
/// ahead, so one bad address never keeps the rest away.
/// </summary>
internal sealed partial class VipManager(Rtnetlink rtnl, Func<string, InstanceDefinition?> lookup, ILogger logger) : IAddressManager
{
    public async ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        await AddAddressesAsync(instance, cancellationToken).ConfigureAwait(false);
        if (lookup(instance.Name) is not { } d) return;
        // Routes after the addresses they may use as source; rules after the routes they point at.
        foreach (var route in d.Routes) await RouteAsync(instance.Name, route.ToString(), add: true, () => rtnl.AddRouteAsync(route, cancellationToken)).ConfigureAwait(false);
        foreach (var rule in d.Rules) await RouteAsync(instance.Name, "rule " + rule, add: true, () => rtnl.AddRuleAsync(rule, cancellationToken)).ConfigureAwait(false);
    }

    public async ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        if (lookup(instance.Name) is { } d)
        {
            foreach (var rule in d.Rules.Reverse()) await RouteAsync(instance.Name, "rule " + rule, add: false, () => rtnl.DeleteRuleAsync(rule, cancellationToken)).ConfigureAwait(false);
            foreach (var route in d.Routes.Reverse()) await RouteAsync(instance.Name, route.ToString(), add: false, () => rtnl.DeleteRouteAsync(route, cancellationToken)).ConfigureAwait(false);
        }
        foreach (var vip in AddressesOf(instance))
        {
            await RemoveAsync(instance.Name, vip, quiet: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds or deletes one route or rule; already there (add) or already gone (delete) is fine.</summary>
    private async Task RouteAsync(string instance, string what, bool add, Func<Task> call, bool quiet = false)
    {
        try
        {
            await call().ConfigureAwait(false);
            if (add) LogAdded(logger, instance, what);
            else if (quiet) LogLeftoverRemoved(logger, instance, what);
            else LogRemoved(logger, instance, what);
        }
        catch (NetlinkException e) when (add && e.AlreadyExists)
        {
            LogAdopted(logger, instance, what);
        }
        catch (NetlinkException e) when (!add && e.NotFound)
        {
            if (!quiet) LogAlreadyGone(logger, instance, what);
        }
        catch (NetlinkException e)
        {
            if (add) LogAddFailed(logger, instance, what, e.Message);
            else if (!quiet) LogRemoveFailed(logger, instance, what, e.Message);
        }
    }

    private async Task AddAddressesAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        foreach (var vip in AddressesOf(instance))
        {
            try
            {
                await rtnl.AddAddressAsync(vip.ToInterfaceAddress(), cancellationToken).ConfigureAwait(false);
                LogAdded(logger, instance.Name, vip.ToString());
            }
            catch (NetlinkException e) when (e.AlreadyExists)
            {
                LogAdopted(logger, instance.Name, vip.ToString());
            }
            catch (NetlinkException e)
            {
                LogAddFailed(logger, instance.Name, vip.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// Removes addresses a previous run may have left (the daemon was killed while MASTER), as
    /// keepalived does at startup, so a BACKUP never answers for a VIP.
    /// </summary>
    public async Task RemoveLeftoversAsync(InstanceDefinition definition, CancellationToken cancellationToken)
    {
        foreach (var rule in definition.Rules.Reverse())
            await RouteAsync(definition.Name, "rule " + rule, add: false, () => rtnl.DeleteRuleAsync(rule, cancellationToken), quiet: true).ConfigureAwait(false);
        foreach (var route in definition.Routes.Reverse())
            await RouteAsync(definition.Name, route.ToString(), add: false, () => rtnl.DeleteRouteAsync(route, cancellationToken), quiet: true).ConfigureAwait(false);
        foreach (var vip in definition.AllAddresses)
        {
            await RemoveAsync(definition.Name, vip, quiet: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RemoveAsync(string instance, VirtualAddressSpec vip, bool quiet, CancellationToken ct)
    {
        try
        {
            await rtnl.DeleteAddressAsync(vip.ToInterfaceAddress(), ct).ConfigureAwait(false);
            if (quiet) LogLeftoverRemoved(logger, instance, vip.ToString());
            else LogRemoved(logger, instance, vip.ToString());
        }
        catch (NetlinkException e) when (e.NotFound)
        {
            if (!quiet) LogAlreadyGone(logger, instance, vip.ToString());
        }
        catch (NetlinkException e)
        {
            LogRemoveFailed(logger, instance, vip.ToString(), e.Message);
        }
    }

    private IEnumerable<VirtualAddressSpec> AddressesOf(VrrpInstanceConfig instance)
    {
        if (lookup(instance.Name) is { } definition) return definition.AllAddresses;
        // Not in the configuration (cannot happen in the daemon; tests may drive it bare): host addresses.
        return instance.VirtualAddresses.Concat(instance.ExcludedVirtualAddresses)
            .Select(a => new VirtualAddressSpec(IPPrefix.Host(a), instance.Interface));
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "{Instance}: added {Address}")]
    private static partial void LogAdded(ILogger logger, string instance, string address);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "{Instance}: {Address} is already there; adopting it")]
    private static partial void LogAdopted(ILogger logger, string instance, string address);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "{Instance}: cannot add {Address}: {Error}")]
    private static partial void LogAddFailed(ILogger logger, string instance, string address, string error);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "{Instance}: removed {Address}")]
    private static partial void LogRemoved(ILogger logger, string instance, string address);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "{Instance}: {Address} was already gone")]
    private static partial void LogAlreadyGone(ILogger logger, string instance, string address);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "{Instance}: cannot remove {Address}: {Error}")]
    private static partial void LogRemoveFailed(ILogger logger, string instance, string address, string error);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "{Instance}: removed {Address} left over from an earlier run")]
    private static partial void LogLeftoverRemoved(ILogger logger, string instance, string address);
}
