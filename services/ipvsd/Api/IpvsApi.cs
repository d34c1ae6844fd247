using System.Net.Sockets;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Vigil.Hosting;
using Vigil.Ipvs.V1;
using Vigil.Ipvsd.Backends;
using Vigil.Ipvsd.Engine;
using Vigil.Netlink;
using Vigil.Netlink.Ipvs;
using KernelService = Vigil.Netlink.Ipvs.IpvsService;

namespace Vigil.Ipvsd.Api;

/// <summary>vigil.ipvs.v1.IpvsService: thin adapters over the reconciler; its table becomes messages here.</summary>
internal sealed class IpvsApi(DaemonHost host, Reconciler reconciler) : Ipvs.V1.IpvsService.IpvsServiceBase
{
    public override Task<GetDaemonInfoResponse> GetDaemonInfo(GetDaemonInfoRequest request, ServerCallContext context)
    {
        ThrowIfStopping();
        return Task.FromResult(new GetDaemonInfoResponse { Daemon = host.Info() });
    }

    public override async Task<ApplyConfigResponse> ApplyConfig(ApplyConfigRequest request, ServerCallContext context)
    {
        ThrowIfStopping();
        if (request.Config is null) throw new InvalidArgumentException("config", "missing");
        ApplyOutcome outcome;
        try
        {
            outcome = await reconciler.ApplyConfigAsync(request.Config, context.CancellationToken);
        }
        catch (IpvsConfigException e)
        {
            throw new InvalidArgumentException("config", string.Join("; ", e.Errors));
        }
        catch (NetlinkException e)
        {
            throw new FailedPreconditionException(e.Message);
        }
        var response = new ApplyConfigResponse
        {
            Backend = outcome.Backend,
            VirtualServersAdded = (uint)outcome.Added,
            VirtualServersRemoved = (uint)outcome.Removed,
            VirtualServersKept = (uint)outcome.Kept,
            Changes = (uint)outcome.Changes,
        };
        response.Errors.AddRange(outcome.Errors);
        response.Warnings.AddRange(outcome.Warnings);
        return response;
    }

    public override async Task<ListVirtualServersResponse> ListVirtualServers(ListVirtualServersRequest request, ServerCallContext context)
    {
        ThrowIfStopping();
        return await ReadAsync(context.CancellationToken);
    }

    public override async Task WatchStats(WatchStatsRequest request, IServerStreamWriter<WatchStatsResponse> responses, ServerCallContext context)
    {
        ThrowIfStopping();
        TimeSpan interval;
        try
        {
            interval = request.Interval?.ToTimeSpan() ?? TimeSpan.FromSeconds(1);
        }
        catch (InvalidOperationException)
        {
            // Google.Protobuf's own check: nanos out of range, or of a sign other than seconds'.
            throw new InvalidArgumentException("interval", $"{request.Interval!.Seconds} s {request.Interval.Nanos} ns is not a normalized duration");
        }
        if (interval < TimeSpan.FromMilliseconds(100)) throw new InvalidArgumentException("interval", $"{interval.TotalMilliseconds} ms is under 100 ms");
        // Task.Delay refuses more than about 49 days; a day is already far past any use.
        if (interval > TimeSpan.FromDays(1)) throw new InvalidArgumentException("interval", $"{interval.TotalSeconds} s is over a day");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, host.Stopping);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var stats = await ReadAsync(stop.Token);
                await responses.WriteAsync(new WatchStatsResponse { Time = Timestamp.FromDateTime(DateTime.UtcNow), Stats = stats }, stop.Token);
                await Task.Delay(interval, stop.Token);
            }
        }
        catch (OperationCanceledException) when (host.Stopping.IsCancellationRequested)
        {
            throw new UnavailableException("vigil-ipvsd is stopping");
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
    }

    private void ThrowIfStopping()
    {
        if (host.Stopping.IsCancellationRequested) throw new UnavailableException("vigil-ipvsd is stopping");
    }

    private async Task<ListVirtualServersResponse> ReadAsync(CancellationToken cancellationToken)
    {
        var response = new ListVirtualServersResponse();
        foreach (var (name, value) in reconciler.Counters()) response.Counters[name] = value;
        if (reconciler.LastReconcile is DateTime last) response.LastReconcile = Timestamp.FromDateTime(last);
        if (reconciler.Backend is null) return response; // nothing applied yet: no backend chosen
        try
        {
            var (table, daemons, version) = await reconciler.ReadAsync(cancellationToken);
            response.Backend = reconciler.Backend.Name;
            response.Version = version;
            // In the kernel's order, as ipvsadm lists them.
            response.Services.AddRange(table.Select(e => ToProto(e, reconciler.OwnerOf(e.Service))));
            response.SyncDaemons.AddRange(daemons.Select(d => new SyncDaemonState { State = d.State.ToString().ToLowerInvariant(), Interface = d.Interface, SyncId = d.SyncId }));
        }
        catch (NetlinkException e)
        {
            throw new UnavailableException($"cannot read the {reconciler.Backend.Name} table: {e.Message}");
        }
        return response;
    }

    internal static VirtualService ToProto(LvsEntry entry, string owner)
    {
        var s = entry.Service;
        var v = new VirtualService
        {
            Address = s.Address?.ToString() ?? "",
            Port = s.Port,
            Fwmark = s.FirewallMark,
            Protocol = s.Protocol switch { IpvsProtocol.Udp => Protocol.Udp, IpvsProtocol.Sctp => Protocol.Sctp, _ => Protocol.Tcp },
            Ipv6 = s.Family == AddressFamily.InterNetworkV6,
            Scheduler = s.Scheduler,
            PersistenceTimeout = (s.Flags & IpvsServiceFlags.Persistent) != 0 ? s.PersistenceTimeout : 0,
            PersistenceGranularity = (s.Flags & IpvsServiceFlags.Persistent) != 0 && s.PersistenceNetmask is int n ? PersistenceGranularity.Format(n, s.Family) : "",
            PersistenceEngine = s.PersistenceEngine ?? "",
            Counters = ToProto(s.Stats),
            VirtualServer = owner,
        };
        v.Flags.AddRange(FlagNames(s));
        v.Destinations.AddRange(entry.Destinations.Select(d => new Destination
        {
            Endpoint = new Check.V1.Endpoint { Address = d.Address.ToString(), Port = d.Port },
            Forward = IpvsDestination.MethodName(d.ForwardingMethod),
            Weight = d.Weight,
            ActiveConnections = d.ActiveConnections,
            InactiveConnections = d.InactiveConnections,
            UpperThreshold = d.UpperThreshold,
            LowerThreshold = d.LowerThreshold,
            Counters = ToProto(d.Stats),
        }));
        return v;
    }

    /// <summary>Flag names as ipvsadm -Ln prints them (the scheduler bits depend on the scheduler).</summary>
    internal static IEnumerable<string> FlagNames(KernelService s)
    {
        if ((s.Flags & IpvsServiceFlags.Persistent) != 0) yield return "persistent";
        if ((s.Flags & IpvsServiceFlags.OnePacket) != 0) yield return "ops";
        var (f1, f2, f3) = s.Scheduler switch
        {
            "sh" => ("sh-fallback", "sh-port", "flag-3"),
            "mh" => ("mh-fallback", "mh-port", "flag-3"),
            _ => ("flag-1", "flag-2", "flag-3"),
        };
        if ((s.Flags & IpvsServiceFlags.Scheduler1) != 0) yield return f1;
        if ((s.Flags & IpvsServiceFlags.Scheduler2) != 0) yield return f2;
        if ((s.Flags & IpvsServiceFlags.Scheduler3) != 0) yield return f3;
    }

    private static Counters ToProto(IpvsStats? s) => s is null ? new Counters() : new Counters
    {
        Connections = s.Connections,
        InPackets = s.InPackets,
        OutPackets = s.OutPackets,
        InBytes = s.InBytes,
        OutBytes = s.OutBytes,
        ConnectionRate = s.ConnectionRate,
        InPacketRate = s.InPacketRate,
        OutPacketRate = s.OutPacketRate,
        InByteRate = s.InByteRate,
        OutByteRate = s.OutByteRate,
    };
}
