using Grpc.Core;
using Vigil.Rpc.Client;

namespace Vigil.Client;

/// <summary>
/// Follows another daemon of the node by one of its server streams (WatchInstances,
/// WatchCheckResults, ...), reconnecting while it is away: started late, restarted, or its socket
/// not there yet. What a stream means is the subclass's (<see cref="FollowAsync"/>); this owns
/// the loop, the reconnects and the start/stop, so every daemon that follows another behaves
/// the same way when the other goes away.
/// </summary>
public abstract class StreamFollower : IAsyncDisposable
{
    private readonly string _socketPath;
    private readonly TimeSpan _retry;
    private readonly object _gate = new();
    private CancellationTokenSource? _cts;
    private Task? _loop;

    protected StreamFollower(string socketPath, TimeSpan retry)
    {
        _socketPath = socketPath;
        _retry = retry;
    }

    /// <summary>The followed daemon's socket.</summary>
    public string SocketPath => _socketPath;

    /// <summary>Whether a stream is established and its snapshot received (the subclass says when).</summary>
    public bool Connected { get; protected set; }

    /// <summary>Starts following; idempotent.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_loop is not null) return;
            _cts = new CancellationTokenSource();
            var token = _cts.Token;
            _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
    }

    /// <summary>Stops following and waits for the loop (<see cref="OnStoppedAsync"/> has run); <see cref="Start"/> may follow again.</summary>
    public async Task StopAsync()
    {
        Task? loop;
        CancellationTokenSource? cts;
        lock (_gate)
        {
            (loop, cts, _loop, _cts) = (_loop, _cts, null, null);
        }
        if (loop is null || cts is null) return;
        await cts.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        cts.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens the stream on <paramref name="channel"/> and feeds what it says to its user, until it ends.</summary>
    protected abstract Task FollowAsync(UnixChannel channel, CancellationToken stopping);

    /// <summary>The stream failed or ended (<paramref name="reason"/>); called only when it was <see cref="Connected"/>.</summary>
    protected abstract void OnLost(string reason);

    /// <summary>After each lost or failed connection, before the retry: forget what the stream said, if that must not outlive it.</summary>
    protected virtual Task OnDisconnectedAsync() => Task.CompletedTask;

    /// <summary>Once, when following stops.</summary>
    protected virtual Task OnStoppedAsync() => Task.CompletedTask;

    /// <summary>Whether an exception from <see cref="FollowAsync"/> ends following for good (the user has stopped).</summary>
    protected virtual bool EndsFollowing(Exception e) => false;

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    if (File.Exists(_socketPath))
                    {
                        using var channel = UnixChannel.Open(_socketPath);
                        await FollowAsync(channel, stopping).ConfigureAwait(false);
                        if (Connected) OnLost("the stream ended");
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (EndsFollowing(e))
                {
                    return;
                }
                catch (RpcException e)
                {
                    if (Connected) OnLost(e.Status.Detail);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or HttpRequestException)
                {
                    if (Connected) OnLost(e.Message);
                }
                Connected = false;
                try
                {
                    await OnDisconnectedAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (EndsFollowing(e))
                {
                    return;
                }
                try
                {
                    await Task.Delay(_retry, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            Connected = false;
            await OnStoppedAsync().ConfigureAwait(false);
        }
    }
}
