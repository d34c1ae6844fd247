using Microsoft.Extensions.Logging;
using Vigil.Consul;
using Vigil.Hosting;

namespace Vigil.Controld.Consul;

/// <summary>How the registrar paces itself.</summary>
public sealed record ConsulRegistrarOptions
{
    /// <summary>How often every registration's TTL check is passed (a third of the TTL by default).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the agent's services are compared with what should be there, even when all is well.</summary>
    public TimeSpan AntiEntropyInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First retry after a failure; doubled up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long stopping may spend deregistering.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Only registrations whose Meta router_id is this are ours to remove.</summary>
    public required string RouterId { get; init; }
}

/// <summary>
/// Keeps the local Consul agent's services equal to the desired set (<see cref="SetDesired"/>),
/// on its own task, so neither VRRP nor the controller ever waits for Consul: registers what is
/// missing or different, deregisters what is ours (Meta managed_by=vigil and our router_id) and
/// no longer wanted, passes every registration's TTL check each <see cref="ConsulRegistrarOptions.RefreshInterval"/>,
/// and compares with GET /v1/agent/services after every failure, when a check is unknown to the
/// agent (it lost its services), and each <see cref="ConsulRegistrarOptions.AntiEntropyInterval"/>.
/// Failures (agent down, 5xx, ACL refusals) are logged when they change, counted, and retried
/// with backoff. <see cref="StopAsync"/> deregisters everything within a bounded time.
/// </summary>
public sealed partial class ConsulRegistrar : IAsyncDisposable
{
    private readonly ConsulClient _client;
    private readonly ConsulRegistrarOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private IReadOnlyList<AgentServiceRegistration> _desired = [];
    private readonly HashSet<string> _registered = new(StringComparer.Ordinal);
    private bool _dirty = true;
    private Task? _loop;
    private string? _lastError;

    public ConsulRegistrar(ConsulClient client, ConsulRegistrarOptions options, ILogger logger)
    {
        _client = client;
        _options = options;
        _logger = logger;
    }

    /// <summary>Registrations made (each PUT /v1/agent/service/register that succeeded).</summary>
    public long Registrations => Interlocked.Read(ref _registrations);
    private long _registrations;

    public long Deregistrations => Interlocked.Read(ref _deregistrations);
    private long _deregistrations;

    public long TtlUpdates => Interlocked.Read(ref _ttlUpdates);
    private long _ttlUpdates;

    /// <summary>Failed rounds (any error); ACL refusals are also counted in <see cref="AclRefusals"/>.</summary>
    public long Failures => Interlocked.Read(ref _failures);
    private long _failures;

    public long AclRefusals => Interlocked.Read(ref _aclRefusals);
    private long _aclRefusals;

    /// <summary>The last failure's message; null after a good round.</summary>
    public string? LastError => _lastError;

    /// <summary>When the last failure happened (kept after recovery); null: none yet.</summary>
    public DateTime? LastErrorAt { get; private set; }

    /// <summary>The service IDs the agent had after the last good round.</summary>
    public IReadOnlyCollection<string> Registered
    {
        get { lock (_gate) return [.. _registered]; }
    }

    public IReadOnlyList<AgentServiceRegistration> Desired
    {
        get { lock (_gate) return _desired; }
    }

    /// <summary>Starts the loop; idempotent.</summary>
    public void Start()
    {
        lock (_gate) _loop ??= Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>What should be registered now; returns at once (the loop applies it).</summary>
    public void SetDesired(IReadOnlyList<AgentServiceRegistration> desired)
    {
        lock (_gate)
        {
            _desired = desired;
            _dirty = true;
        }
        Wake();
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff);
        var lastSync = DateTime.MinValue;
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan next;
            try
            {
                bool sync;
                lock (_gate) sync = _dirty || DateTime.UtcNow - lastSync >= _options.AntiEntropyInterval;
                if (sync)
                {
                    await SyncAsync(stopping).ConfigureAwait(false);
                    lastSync = DateTime.UtcNow;
                }
                if (_lastError is not null) LogRecovered(_client.Options.Address.ToString());
                _lastError = null;
                backoff.Reset();
                next = _options.RefreshInterval;
                if (!await RefreshAsync(stopping).ConfigureAwait(false))
                {
                    // The agent does not know a check: it lost its services. Compare again soon.
                    lock (_gate) _dirty = true;
                    LogAgentLostServices(_client.Options.Address.ToString());
                    next = _options.MinBackoff;
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (ConsulException e)
            {
                Interlocked.Increment(ref _failures);
                if (e is ConsulAclException) Interlocked.Increment(ref _aclRefusals);
                if (e.Message != _lastError)
                {
                    if (e is ConsulAclException) LogAclRefused(e.Message);
                    else LogFailed(e.Message, backoff.Current.TotalSeconds);
                }
                _lastError = e.Message;
                LastErrorAt = DateTime.UtcNow;
                lock (_gate) _dirty = true;
                next = backoff.Current;
                backoff.Grow();
            }
            try
            {
                await _wake.WaitAsync(next, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Makes the agent's services ours: registers missing and changed ones, removes ours that are not wanted.</summary>
    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<AgentServiceRegistration> desired;
        lock (_gate)
        {
            desired = _desired;
            _dirty = false;
        }
        var actual = await _client.GetAgentServicesAsync(cancellationToken).ConfigureAwait(false);
        var wanted = desired.ToDictionary(d => d.Id!, StringComparer.Ordinal);
        foreach (var (id, service) in actual)
        {
            if (wanted.ContainsKey(id) || !IsOurs(service)) continue;
            try
            {
                await _client.DeregisterServiceAsync(id, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _deregistrations);
                LogDeregistered(id, service.Address);
            }
            catch (ConsulNotFoundException)
            {
            }
        }
        foreach (var d in desired)
        {
            if (actual.TryGetValue(d.Id!, out var have) && ConsulServicePlan.Matches(d, have)) continue;
            await _client.RegisterServiceAsync(d, cancellationToken: cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _registrations);
            LogRegistered(d.Id!, d.Name, d.Address ?? "", d.Port ?? 0);
        }
        lock (_gate)
        {
            _registered.Clear();
            _registered.UnionWith(wanted.Keys);
        }
    }

    /// <summary>Passes every desired registration's TTL check; false when the agent does not know one.</summary>
    private async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<AgentServiceRegistration> desired;
        lock (_gate)
        {
            if (_dirty) return true;
            desired = _desired;
        }
        foreach (var d in desired)
        {
            try
            {
                await _client.UpdateTtlAsync(ConsulServicePlan.CheckIdOf(d.Id!), CheckStatus.Passing, $"{d.Meta?["instance"]} is MASTER on {_options.RouterId}", cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _ttlUpdates);
            }
            catch (ConsulNotFoundException)
            {
                return false;
            }
        }
        return true;
    }

    private bool IsOurs(AgentService s) =>
        s.Meta is { } meta && meta.TryGetValue(ConsulServicePlan.ManagedByKey, out var by) && by == ConsulServicePlan.ManagedByValue
        && meta.TryGetValue("router_id", out var rid) && rid == _options.RouterId;

    /// <summary>Stops the loop and deregisters what should no longer be there (everything), within <see cref="ConsulRegistrarOptions.StopTimeout"/>.</summary>
    public async Task StopAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
            _loop = null;
        }
        if (loop is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        using var limit = new CancellationTokenSource(_options.StopTimeout);
        try
        {
            lock (_gate) _desired = [];
            await SyncAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ConsulException or OperationCanceledException)
        {
            // The agent drops them itself once their checks have been critical for DeregisterCriticalServiceAfter.
            LogStopDeregisterFailed(e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(EventId = 260, Level = LogLevel.Information, Message = "consul: registered {ServiceId} ({Service} {Address}:{Port})")]
    private partial void LogRegistered(string serviceId, string service, string address, int port);

    [LoggerMessage(EventId = 261, Level = LogLevel.Information, Message = "consul: deregistered {ServiceId} ({Address})")]
    private partial void LogDeregistered(string serviceId, string address);

    [LoggerMessage(EventId = 262, Level = LogLevel.Warning, Message = "consul: {Error}; retrying in {Seconds} s (and backing off)")]
    private partial void LogFailed(string error, double seconds);

    [LoggerMessage(EventId = 263, Level = LogLevel.Error, Message = "consul: the agent refused the ACL token: {Error}; check the token's service:write and the consul block's token; retrying with backoff")]
    private partial void LogAclRefused(string error);

    [LoggerMessage(EventId = 264, Level = LogLevel.Information, Message = "consul: agent {Address} answers again; registrations compared and refreshed")]
    private partial void LogRecovered(string address);

    [LoggerMessage(EventId = 265, Level = LogLevel.Warning, Message = "consul: agent {Address} no longer has a check of ours (restarted without its services?); registering again")]
    private partial void LogAgentLostServices(string address);

    [LoggerMessage(EventId = 266, Level = LogLevel.Warning, Message = "consul: could not deregister on stop ({Error}); the agent removes them once their TTL checks have been critical long enough")]
    private partial void LogStopDeregisterFailed(string error);
}
