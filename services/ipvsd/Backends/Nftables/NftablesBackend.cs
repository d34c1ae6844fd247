using Vigil.Netlink.Ipvs;

namespace Vigil.Ipvsd.Backends.Nftables;

/// <summary>
/// The load balancer as nftables NAT, for kernels without IPVS: the same virtual services and
/// real servers, programmed as DNAT in a table of its own (<c>table inet vigil_lvs</c>; no other
/// table is ever touched). Each apply is one nft transaction; reads decode the kernel's table
/// (structured rule comments and named counters), never a cache. NAT only: no DR or TUN, no
/// connection sync. Forwarding (net.ipv4.ip_forward) is the user's to enable, as with keepalived.
/// </summary>
public sealed class NftablesBackend : ILvsBackend
{
    private readonly NftCommand _nft;

    /// <param name="networkNamespace">A named network namespace (/run/netns/NAME) to program; null: the current one.</param>
    public NftablesBackend(string? networkNamespace = null) : this(networkNamespace, NftCommand.DefaultNft) { }

    internal NftablesBackend(string? networkNamespace, string nftPath) => _nft = new NftCommand(nftPath, networkNamespace);

    public string Name => "nftables";

    public bool HasSyncDaemon => false;

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var r = await RunAsync(["--version"], null, cancellationToken).ConfigureAwait(false);
        return r.Stdout.Trim();
    }

    public string? CannotProgram(IpvsService service, IpvsDestination? destination) => NftScript.Unsupported(service, destination);

    public async Task<IReadOnlyList<LvsEntry>> ReadAsync(CancellationToken cancellationToken) =>
        (await ReadTableAsync(cancellationToken).ConfigureAwait(false)).Entries();

    public async Task ApplyAsync(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, CancellationToken cancellationToken)
    {
        if (changes.Count == 0) return;
        // The table as it is now says which chains, counters and elements exist: nft 1.0 has no
        // "delete if present", and a delete of something missing fails the whole transaction.
        var current = await ReadTableAsync(cancellationToken).ConfigureAwait(false);
        var script = NftScript.Apply(changes, target, current);
        if (script.Length > 0) await RunScriptAsync(script, cancellationToken).ConfigureAwait(false);
    }

    public Task FlushAsync(CancellationToken cancellationToken) => RunScriptAsync(NftScript.Flush(), cancellationToken);

    /// <summary>NAT connections time out by the kernel's conntrack settings (net.netfilter.nf_conntrack_*), left to the user.</summary>
    public Task SetTimeoutsAsync(IpvsTimeouts timeouts, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<IpvsDaemon>> ListSyncDaemonsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<IpvsDaemon>>([]);

    public Task StartSyncDaemonAsync(IpvsDaemon daemon, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the nftables backend has no connection sync daemon: lvs_sync_daemon needs IPVS");

    public Task StopSyncDaemonAsync(IpvsDaemonState state, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the nftables backend has no connection sync daemon: lvs_sync_daemon needs IPVS");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal async Task<NftTable> ReadTableAsync(CancellationToken cancellationToken)
    {
        var args = new[] { "-j", "list", "table", NftNames.Family, NftNames.Table };
        var r = await _nft.RunAsync(args, null, cancellationToken).ConfigureAwait(false);
        if (!r.Ok && r.Stderr.Contains("No such file or directory", StringComparison.Ordinal)) return NftTable.Missing;
        if (!r.Ok) throw Failed(args, r);
        try
        {
            return NftTable.Parse(r.Stdout);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new NftablesException($"nft {string.Join(' ', args)}: unreadable output: {e.Message}", e);
        }
    }

    private async Task RunScriptAsync(string script, CancellationToken cancellationToken) =>
        await RunAsync(["-f", "-"], script, cancellationToken).ConfigureAwait(false);

    private async Task<NftResult> RunAsync(string[] args, string? stdin, CancellationToken cancellationToken)
    {
        var r = await _nft.RunAsync(args, stdin, cancellationToken).ConfigureAwait(false);
        return r.Ok ? r : throw Failed(args, r);
    }

    private static NftablesException Failed(string[] args, NftResult r) =>
        new($"nft {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr.Trim()}");
}
