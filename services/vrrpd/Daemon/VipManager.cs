using System.Net;
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
    // What each instance has put in place (added or adopted), so that a reload can take away
    // exactly what the old configuration added: the new one no longer describes it.
    private readonly Dictionary<string, Installed> _installed = new(StringComparer.Ordinal);

    private sealed class Installed
    {
        public List<VirtualAddressSpec> Addresses { get; } = [];
        public List<Route> Routes { get; } = [];
        public List<RoutingRule> Rules { get; } = [];
    }

    private Installed InstalledBy(string instance)
    {
        lock (_installed)
        {
            if (!_installed.TryGetValue(instance, out var i)) _installed[instance] = i = new Installed();
            return i;
        }
    }

    /// <summary>What an instance renamed by a reload put in place is now its new name's to take away.</summary>
    public void Rename(string from, string to)
    {
        lock (_installed)
        {
            if (_installed.Remove(from, out var i)) _installed[to] = i;
        }
    }

    public async ValueTask AddVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        var installed = InstalledBy(instance.Name);
        foreach (var vip in AddressesOf(instance))
        {
            if (await AddAsync(instance.Name, vip, cancellationToken).ConfigureAwait(false)) Remember(installed.Addresses, vip);
        }
        if (lookup(instance.Name) is not { } d) return;
        // Routes after the addresses they may use as source; rules after the routes they point at.
        foreach (var route in d.Routes)
        {
            if (await RouteAsync(instance.Name, route.ToString(), add: true, () => rtnl.AddRouteAsync(route, cancellationToken)).ConfigureAwait(false))
                Remember(installed.Routes, route);
        }
        foreach (var rule in d.Rules)
        {
            if (await RouteAsync(instance.Name, "rule " + rule, add: true, () => rtnl.AddRuleAsync(rule, cancellationToken)).ConfigureAwait(false))
                Remember(installed.Rules, rule);
        }
    }

    public async ValueTask RemoveVipsAsync(VrrpInstanceConfig instance, CancellationToken cancellationToken)
    {
        Installed installed;
        lock (_installed)
        {
            installed = _installed.Remove(instance.Name, out var i) ? i : new Installed();
        }
        var d = lookup(instance.Name);
        // What the configuration names and whatever else this instance put there.
        var rules = Union(d?.Rules ?? [], installed.Rules, r => r.ToString());
        var routes = Union(d?.Routes ?? [], installed.Routes, r => r.ToString());
        var addresses = Union(AddressesOf(instance), installed.Addresses, a => a.ToString());
        foreach (var rule in rules.AsEnumerable().Reverse()) await RouteAsync(instance.Name, "rule " + rule, add: false, () => rtnl.DeleteRuleAsync(rule, cancellationToken)).ConfigureAwait(false);
        foreach (var route in routes.AsEnumerable().Reverse()) await RouteAsync(instance.Name, route.ToString(), add: false, () => rtnl.DeleteRouteAsync(route, cancellationToken)).ConfigureAwait(false);
        foreach (var vip in addresses)
        {
            await RemoveAsync(instance.Name, vip, quiet: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A reload changed a master's configuration (keepalived clear_diff_vrrp_vip / _vroutes /
    /// _vrules, then restore_vrrp_state): rules, routes and addresses this instance put in place
    /// that the new configuration does not have (removed, or with other options) go, in that
    /// order; then what the new configuration has and is not in place yet comes, addresses first.
    /// What is in both is not touched, so traffic to an unchanged VIP never stops.
    /// </summary>
    public async ValueTask ChangeVipsAsync(VrrpInstanceConfig instance, IReadOnlyList<IPAddress> added, IReadOnlyList<IPAddress> removed, CancellationToken cancellationToken)
    {
        var installed = InstalledBy(instance.Name);
        var d = lookup(instance.Name);
        var wantAddresses = AddressesOf(instance).ToList();
        var wantRoutes = d?.Routes ?? [];
        var wantRules = d?.Rules ?? [];
        foreach (var rule in Missing(installed.Rules, wantRules, r => r.ToString()).AsEnumerable().Reverse())
        {
            await RouteAsync(instance.Name, "rule " + rule, add: false, () => rtnl.DeleteRuleAsync(rule, cancellationToken)).ConfigureAwait(false);
            Forget(installed.Rules, rule);
        }
        foreach (var route in Missing(installed.Routes, wantRoutes, r => r.ToString()).AsEnumerable().Reverse())
        {
            await RouteAsync(instance.Name, route.ToString(), add: false, () => rtnl.DeleteRouteAsync(route, cancellationToken)).ConfigureAwait(false);
            Forget(installed.Routes, route);
        }
        foreach (var vip in Missing(installed.Addresses, wantAddresses, a => a.ToString()))
        {
            await RemoveAsync(instance.Name, vip, quiet: false, cancellationToken).ConfigureAwait(false);
            Forget(installed.Addresses, vip);
        }
        // Removed but never recorded as ours (its add had failed, or a test drives this bare): make sure.
        foreach (var address in removed.Where(a => !wantAddresses.Any(w => w.Address.Equals(a))))
        {
            if (Snapshot(installed.Addresses).Any(i => i.Address.Equals(address))) continue;
            await RemoveAsync(instance.Name, new VirtualAddressSpec(IPPrefix.Host(address), instance.Interface), quiet: true, cancellationToken).ConfigureAwait(false);
        }
        foreach (var vip in Missing(wantAddresses, installed.Addresses, a => a.ToString()))
        {
            if (await AddAsync(instance.Name, vip, cancellationToken).ConfigureAwait(false)) Remember(installed.Addresses, vip);
        }
        foreach (var route in Missing(wantRoutes, installed.Routes, r => r.ToString()))
        {
            if (await RouteAsync(instance.Name, route.ToString(), add: true, () => rtnl.AddRouteAsync(route, cancellationToken)).ConfigureAwait(false))
                Remember(installed.Routes, route);
        }
        foreach (var rule in Missing(wantRules, installed.Rules, r => r.ToString()))
        {
            if (await RouteAsync(instance.Name, "rule " + rule, add: true, () => rtnl.AddRuleAsync(rule, cancellationToken)).ConfigureAwait(false))
                Remember(installed.Rules, rule);
        }
    }

    /// <summary>The items of <paramref name="items"/> whose key is not among <paramref name="others"/>'.</summary>
    private List<T> Missing<T>(IEnumerable<T> items, IEnumerable<T> others, Func<T, string> key)
    {
        var have = Snapshot(others).Select(key).ToHashSet(StringComparer.Ordinal);
        return Snapshot(items).Where(i => !have.Contains(key(i))).ToList();
    }

    private List<T> Union<T>(IEnumerable<T> first, IEnumerable<T> second, Func<T, string> key)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return Snapshot(first).Concat(Snapshot(second)).Where(i => seen.Add(key(i))).ToList();
    }

    private List<T> Snapshot<T>(IEnumerable<T> items)
    {
        lock (_installed) return [.. items];
    }

    private void Remember<T>(List<T> list, T item)
    {
        lock (_installed)
        {
            if (!list.Contains(item)) list.Add(item);
        }
    }

    private void Forget<T>(List<T> list, T item)
    {
        lock (_installed) list.Remove(item);
    }

    /// <summary>
    /// Adds or deletes one route or rule; already there (add) or already gone (delete) is fine.
    /// True when it was added or adopted.
    /// </summary>
    private async Task<bool> RouteAsync(string instance, string what, bool add, Func<Task> call, bool quiet = false)
    {
        try
        {
            await call().ConfigureAwait(false);
            if (add) LogAdded(logger, instance, what);
            else if (quiet) LogLeftoverRemoved(logger, instance, what);
            else LogRemoved(logger, instance, what);
            return add;
        }
        catch (NetlinkException e) when (add && e.AlreadyExists)
        {
            LogAdopted(logger, instance, what);
            return true;
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
        return false;
    }

    /// <summary>Adds one address; true when it is in place afterwards (added, or there already and adopted).</summary>
    private async Task<bool> AddAsync(string instance, VirtualAddressSpec vip, CancellationToken cancellationToken)
    {
        try
        {
            await rtnl.AddAddressAsync(vip.ToInterfaceAddress(), cancellationToken).ConfigureAwait(false);
            LogAdded(logger, instance, vip.ToString());
            return true;
        }
        catch (NetlinkException e) when (e.AlreadyExists)
        {
            LogAdopted(logger, instance, vip.ToString());
            return true;
        }
        catch (NetlinkException e)
        {
            LogAddFailed(logger, instance, vip.ToString(), e.Message);
            return false;
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
