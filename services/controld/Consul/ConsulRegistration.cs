using Microsoft.Extensions.Logging;
using Vigil.Config.Model;
using Vigil.Consul;
using Vigil.Controld.Events;

namespace Vigil.Controld.Consul;

/// <summary>
/// controld's Consul registrar for one consul { } block: the client (the block's values over the
/// consul CLI's environment variables), the <see cref="ConsulRegistrar"/> loop, and the VRRP
/// state it follows. <see cref="SetInstances"/> and <see cref="SetConfig"/> only compute the new
/// desired set and hand it over; they never wait for Consul.
/// </summary>
public sealed class ConsulRegistration : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly ConsulClient _client;
    private KeepalivedConfig _config;
    private IReadOnlyCollection<VrrpInstanceView> _instances = [];
    private IDisposable? _following;

    public ConsulRegistration(KeepalivedConfig config, ConsulClient client, ILogger logger, ConsulRegistrarOptions? options = null)
    {
        var settings = config.Consul ?? throw new ArgumentException("the configuration has no consul block", nameof(config));
        _config = config;
        _client = client;
        Settings = settings;
        Registrar = new ConsulRegistrar(client, options ?? OptionsFor(config, settings), logger);
        Registrar.SetDesired([]);
    }

    /// <summary>The registrar options for a configuration: the TTL passed at a third of the TTL.</summary>
    public static ConsulRegistrarOptions OptionsFor(KeepalivedConfig config, ConsulSettings settings) => new()
    {
        RouterId = ConsulServicePlan.RouterIdOf(config),
        RefreshInterval = settings.Ttl / 3,
    };

    /// <summary>The client options of a consul block: its values, else CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_CACERT, ... (FormatException for a bad CONSUL_HTTP_ADDR).</summary>
    public static ConsulClientOptions ClientOptionsFor(ConsulSettings s, Func<string, string?> environment) =>
        ConsulClientOptions.FromEnvironment(environment, s.Address, s.Token, s.Datacenter, s.CaFile, s.CertFile, s.KeyFile, s.Tls, s.TlsServerName);

    public ConsulSettings Settings { get; }

    public ConsulRegistrar Registrar { get; }

    public ConsulClient Client => _client;

    /// <summary>
    /// Starts the registrar and, given controld's follower of vrrpd, registers from its instances
    /// (controld follows vrrpd by one stream; while vrrpd is away nothing is MASTER).
    /// </summary>
    public void Start(VrrpPlaneFollower? vrrpd)
    {
        Registrar.Start();
        if (vrrpd is not null) _following = vrrpd.FollowInstances(instances => SetInstances([.. instances.Select(ToView)]));
    }

    /// <summary>What the registration needs of a vrrpd instance; VIPs as "10.0.0.10" or "10.0.0.10/24", anything else skipped.</summary>
    public static VrrpInstanceView ToView(Vigil.Vrrp.V1.Instance instance)
    {
        var addresses = new List<System.Net.IPAddress>();
        foreach (var text in instance.VirtualAddresses)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (System.Net.IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) addresses.Add(address);
        }
        return new VrrpInstanceView(instance.Name, instance.State == Vigil.Vrrp.V1.InstanceState.Master, instance.VirtualRouterId, addresses);
    }

    /// <summary>vrrpd's instances now.</summary>
    public void SetInstances(IReadOnlyCollection<VrrpInstanceView> instances)
    {
        lock (_gate)
        {
            _instances = instances;
            Registrar.SetDesired(ConsulServicePlan.For(_config, Settings, _instances));
        }
    }

    /// <summary>A reloaded configuration with the same consul block (virtual servers, router_id may change).</summary>
    public void SetConfig(KeepalivedConfig config)
    {
        lock (_gate)
        {
            _config = config;
            Registrar.SetDesired(ConsulServicePlan.For(_config, Settings, _instances));
        }
    }

    /// <summary>GetStatus's consul section: the agent, the last error, the refusal and failure counts, what is registered.</summary>
    public Vigil.Control.V1.ConsulStatus Status()
    {
        var r = Registrar;
        var status = new Vigil.Control.V1.ConsulStatus
        {
            Agent = _client.Options.Address.ToString(),
            LastError = r.LastError ?? "",
            LastErrorAt = r.LastErrorAt is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(at) : null,
            AclRefusals = r.AclRefusals,
            Failures = r.Failures,
            Registrations = r.Registrations,
            Deregistrations = r.Deregistrations,
        };
        status.RegisteredServices.AddRange(r.Registered.Order(StringComparer.Ordinal));
        return status;
    }

    /// <summary>Stops following and deregisters (bounded).</summary>
    public async ValueTask DisposeAsync()
    {
        _following?.Dispose();
        await Registrar.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
