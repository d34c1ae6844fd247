using System.Diagnostics;
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
    /// <summary>How long the table a read or an apply left is trusted for the next apply.</summary>
    private static readonly TimeSpan KnownFor = TimeSpan.FromSeconds(10);

    private readonly NftCommand _nft;
    private readonly object _gate = new();
    private NftTable? _known;
    private long _knownAt;

    /// <param name="networkNamespace">A named network namespace (/run/netns/NAME) to program; null: the current one.</param>
    public NftablesBackend(string? networkNamespace = null) : this(networkNamespace, NftCommand.DefaultNft) { }

    internal NftablesBackend(string? networkNamespace, string nftPath) => _nft = new NftCommand(nftPath, networkNamespace);

    public string Name => "nftables";

    public bool HasSyncDaemon => false;

    /// <summary>The whole plan in one transaction: each nft run loads the table again.</summary>
    public int ChangesPerApply => int.MaxValue;

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var r = await RunAsync(["--version"], null, cancellationToken).ConfigureAwait(false);
        return r.Stdout.Trim();
    }

    public string? CannotProgram(IpvsService service, IpvsDestination? destination) => NftScript.Unsupported(service, destination);

    public async Task<IReadOnlyList<LvsEntry>> ReadAsync(CancellationToken cancellationToken)
    {
        var table = await ReadTableAsync(cancellationToken).ConfigureAwait(false);
        Remember(table);
        return table.Entries();
    }

    /// <summary>
    /// One nft transaction for the whole batch. What exists (nft 1.0 has no "delete if present")
    /// is taken from the table the last read or apply left, when that is recent: the reconciler
    /// reads just before applying its batches, and listing a table of 10 000 chains again for
    /// each batch takes a second. Knowledge gone stale costs at most a failed transaction (say a
    /// delete of what someone deleted meanwhile) or a repair put off: the next pass reads again.
    /// </summary>
    public async Task ApplyAsync(IReadOnlyList<LvsChange> changes, IReadOnlyList<LvsEntry> target, CancellationToken cancellationToken)
    {
        if (changes.Count == 0) return;
        var current = Recent() ?? await ReadTableAsync(cancellationToken).ConfigureAwait(false);
        var (script, after) = NftScript.Apply(changes, target, current);
        if (script.Length == 0) return;
        Forget();
        await RunScriptAsync(script, cancellationToken).ConfigureAwait(false);
        Remember(after);
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Forget();
        await RunScriptAsync(NftScript.Flush(), cancellationToken).ConfigureAwait(false);
    }

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
        // nft's own ENOENT, not ip's "Cannot open network namespace ...: No such file or directory".
        if (!r.Ok && r.Stderr.StartsWith("Error: No such file or directory", StringComparison.Ordinal)) return NftTable.Missing;
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

    private void Remember(NftTable table)
    {
        lock (_gate)
        {
            _known = table;
            _knownAt = Stopwatch.GetTimestamp();
        }
    }

    private void Forget()
    {
        lock (_gate) _known = null;
    }

    private NftTable? Recent()
    {
        lock (_gate) return _known is not null && Stopwatch.GetElapsedTime(_knownAt) < KnownFor ? _known : null;
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
