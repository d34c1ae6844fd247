using Vigil.Netlink.Generic;
using Vigil.Netlink.Wire;

namespace Vigil.Netlink.Ipvs;

/// <summary>The kernel has no IPVS: the generic netlink family "IPVS" does not resolve.</summary>
public sealed class IpvsNotAvailableException : NetlinkException
{
    public const string Text = "IPVS is not available in this kernel (generic netlink family IPVS not found; modprobe ip_vs)";

    public IpvsNotAvailableException()
        : base(operation: "CTRL_CMD_GETFAMILY IPVS", errno: Errno.ENOENT, message: Text, kernelMessage: null)
    {
    }
}

/// <summary>
/// The kernel's IPVS table through generic netlink: virtual services, real servers, sync daemons,
/// timeouts. What ipvsadm does, as a typed API; requests are encoded as ipvsadm encodes them
/// (<see cref="IpvsMessages"/>). Failures throw <see cref="NetlinkException"/> naming the command,
/// e.g. <c>IPVS_CMD_NEW_SERVICE TCP  10.0.0.1:80 rr: File exists (EEXIST): the service exists already</c>.
/// </summary>
public sealed class IpvsClient : IDisposable
{
    private readonly GenericNetlink _genl;

    private IpvsClient(GenericNetlink genl, GenericFamily family)
    {
        _genl = genl;
        Family = family;
    }

    /// <summary>The resolved family (its id is assigned by the kernel at module load).</summary>
    public GenericFamily Family { get; }

    /// <summary>Opens a generic netlink socket and resolves the IPVS family;
    /// <see cref="IpvsNotAvailableException"/> when the kernel has no IPVS.</summary>
    public static async Task<IpvsClient> OpenAsync(NetworkNamespace? ns = null, CancellationToken cancellationToken = default)
    {
        var genl = GenericNetlink.Open(ns);
        try
        {
            var family = await genl.GetFamilyAsync(IpvsMessages.FamilyName, cancellationToken).ConfigureAwait(false)
                ?? throw new IpvsNotAvailableException();
            return new IpvsClient(genl, family);
        }
        catch
        {
            genl.Dispose();
            throw;
        }
    }

    private ushort Id => Family.Id;

    // ---------------------------------------------------------------- services

    /// <summary><c>ipvsadm -A</c>.</summary>
    public Task AddServiceAsync(IpvsService service, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeService(Id, IpvsCommand.NewService, service), IpvsCommand.NewService, service.ToString(), cancellationToken);

    /// <summary><c>ipvsadm -E</c>: scheduler, flags, persistence of an existing service.</summary>
    public Task UpdateServiceAsync(IpvsService service, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeService(Id, IpvsCommand.SetService, service), IpvsCommand.SetService, service.ToString(), cancellationToken);

    /// <summary><c>ipvsadm -D</c>: only the service's identity counts.</summary>
    public Task DeleteServiceAsync(IpvsService service, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeService(Id, IpvsCommand.DelService, service.Key), IpvsCommand.DelService, service.Key.ToString(), cancellationToken);

    /// <summary>All services with their counters (<c>ipvsadm -Ln --stats</c> without the servers).</summary>
    public async Task<IReadOnlyList<IpvsService>> ListServicesAsync(CancellationToken cancellationToken = default)
    {
        var op = "IPVS_CMD_GET_SERVICE dump";
        var messages = await RunAsync(IpvsMessages.EncodeListServices(Id), IpvsCommand.GetService, "dump", cancellationToken).ConfigureAwait(false);
        return messages.Where(m => m.Type == Id).Select(m => m.Decode(op, IpvsMessages.DecodeService)).ToList();
    }

    /// <summary>One service, or null when there is no such service.</summary>
    public async Task<IpvsService?> GetServiceAsync(IpvsService service, CancellationToken cancellationToken = default)
    {
        var op = $"IPVS_CMD_GET_SERVICE {service.Key}";
        try
        {
            var messages = await RunAsync(IpvsMessages.EncodeGetService(Id, service), IpvsCommand.GetService, service.Key.ToString(), cancellationToken).ConfigureAwait(false);
            var reply = messages.FirstOrDefault(m => m.Type == Id);
            return reply.Payload.IsEmpty ? null : reply.Decode(op, IpvsMessages.DecodeService);
        }
        catch (NetlinkException e) when (e.ErrorCode is Errno.ESRCH or Errno.ENOENT)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- real servers

    /// <summary><c>ipvsadm -a</c>.</summary>
    public Task AddDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeDestination(Id, IpvsCommand.NewDest, service, destination), IpvsCommand.NewDest, $"{service.Key} {destination}", cancellationToken);

    /// <summary><c>ipvsadm -e</c>: weight, method, thresholds of an existing real server.</summary>
    public Task UpdateDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeDestination(Id, IpvsCommand.SetDest, service, destination), IpvsCommand.SetDest, $"{service.Key} {destination}", cancellationToken);

    /// <summary><c>ipvsadm -d</c>.</summary>
    public Task DeleteDestinationAsync(IpvsService service, IpvsDestination destination, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeDestination(Id, IpvsCommand.DelDest, service, destination), IpvsCommand.DelDest, $"{service.Key} {destination}", cancellationToken);

    /// <summary>The real servers of a service with their connection counts and counters.</summary>
    public async Task<IReadOnlyList<IpvsDestination>> ListDestinationsAsync(IpvsService service, CancellationToken cancellationToken = default)
    {
        var op = $"IPVS_CMD_GET_DEST dump {service.Key}";
        var messages = await RunAsync(IpvsMessages.EncodeListDestinations(Id, service), IpvsCommand.GetDest, $"dump {service.Key}", cancellationToken).ConfigureAwait(false);
        return messages.Where(m => m.Type == Id).Select(m => m.Decode(op, p => IpvsMessages.DecodeDestination(p, service.Family))).ToList();
    }

    // ---------------------------------------------------------------- table-wide

    /// <summary><c>ipvsadm -C</c>: delete every service.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeFlush(Id), IpvsCommand.Flush, "", cancellationToken);

    /// <summary><c>ipvsadm -Z</c>: reset counters, of all services or one.</summary>
    public Task ZeroAsync(IpvsService? service = null, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeZero(Id, service), IpvsCommand.Zero, service?.ToString() ?? "", cancellationToken);

    /// <summary><c>ipvsadm --set tcp tcpfin udp</c>.</summary>
    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeSetTimeouts(Id, timeouts), IpvsCommand.SetConfig, $"tcp {timeouts.Tcp.TotalSeconds} tcpfin {timeouts.TcpFin.TotalSeconds} udp {timeouts.Udp.TotalSeconds}", cancellationToken);

    /// <summary><c>ipvsadm -L --timeout</c>.</summary>
    public async Task<IpvsTimeouts> GetTimeoutsAsync(CancellationToken cancellationToken = default)
    {
        const string op = "IPVS_CMD_GET_CONFIG";
        var messages = await RunAsync(IpvsMessages.EncodeGetTimeouts(Id), IpvsCommand.GetConfig, "", cancellationToken).ConfigureAwait(false);
        return Single(messages, op).Decode(op, IpvsMessages.DecodeTimeouts);
    }

    /// <summary>Version and connection table size.</summary>
    public async Task<IpvsInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        const string op = "IPVS_CMD_GET_INFO";
        var messages = await RunAsync(IpvsMessages.EncodeGetInfo(Id), IpvsCommand.GetInfo, "", cancellationToken).ConfigureAwait(false);
        return Single(messages, op).Decode(op, IpvsMessages.DecodeInfo);
    }

    // ---------------------------------------------------------------- sync daemons

    /// <summary><c>ipvsadm --start-daemon</c>.</summary>
    public Task StartDaemonAsync(IpvsDaemon daemon, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeDaemon(Id, IpvsCommand.NewDaemon, daemon), IpvsCommand.NewDaemon, daemon.ToString(), cancellationToken);

    /// <summary><c>ipvsadm --stop-daemon master|backup</c>.</summary>
    public Task StopDaemonAsync(IpvsDaemonState state, CancellationToken cancellationToken = default) =>
        RunAsync(IpvsMessages.EncodeDaemon(Id, IpvsCommand.DelDaemon, new IpvsDaemon { State = state }), IpvsCommand.DelDaemon, state.ToString().ToLowerInvariant(), cancellationToken);

    /// <summary><c>ipvsadm -L --daemon</c>.</summary>
    public async Task<IReadOnlyList<IpvsDaemon>> ListDaemonsAsync(CancellationToken cancellationToken = default)
    {
        const string op = "IPVS_CMD_GET_DAEMON dump";
        var messages = await RunAsync(IpvsMessages.EncodeListDaemons(Id), IpvsCommand.GetDaemon, "dump", cancellationToken).ConfigureAwait(false);
        return messages.Where(m => m.Type == Id).Select(m => m.Decode(op, IpvsMessages.DecodeDaemon)).ToList();
    }

    public void Dispose() => _genl.Dispose();

    // ---------------------------------------------------------------- plumbing

    private async Task<IReadOnlyList<NetlinkMessage>> RunAsync(NetlinkMessageBuilder request, IpvsCommand command, string what, CancellationToken cancellationToken)
    {
        var op = (IpvsMessages.CommandName(command) + " " + what).TrimEnd();
        try
        {
            return await _genl.RequestAsync(request, op, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Hint is null && Hint(command, e.ErrorCode) is string hint)
        {
            throw e.WithHint(hint);
        }
    }

    /// <summary>What IPVS's errno values mean for each command (ip_vs_ctl.c).</summary>
    private static string? Hint(IpvsCommand command, int errno) => (command, errno) switch
    {
        (IpvsCommand.NewService, Errno.EEXIST) => "the service exists already",
        (IpvsCommand.NewService or IpvsCommand.SetService, Errno.ENOENT) => "unknown scheduler or persistence engine (its ip_vs_* module is not loaded?)",
        (IpvsCommand.SetService or IpvsCommand.DelService or IpvsCommand.Zero, Errno.ESRCH) => "no such service",
        (IpvsCommand.NewDest or IpvsCommand.SetDest or IpvsCommand.DelDest or IpvsCommand.GetDest, Errno.ESRCH) => "no such service",
        (IpvsCommand.NewDest, Errno.EEXIST) => "the real server exists already",
        (IpvsCommand.SetDest or IpvsCommand.DelDest, Errno.ENOENT) => "no such real server",
        (IpvsCommand.NewDest or IpvsCommand.SetDest, Errno.EINVAL) => "invalid real server (address not unicast, or weight/thresholds out of range)",
        (IpvsCommand.NewDaemon, Errno.EEXIST) => "a sync daemon in that role runs already",
        (IpvsCommand.DelDaemon, Errno.ESRCH) => "no sync daemon in that role",
        (_, Errno.EPERM) => "needs CAP_NET_ADMIN",
        _ => null,
    };

    private static NetlinkMessage Single(IReadOnlyList<NetlinkMessage> messages, string op) =>
        messages.Count > 0 ? messages[0] : throw new NetlinkException(op, Errno.EBADMSG, hint: "acknowledged without an answer");

}
