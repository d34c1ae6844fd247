namespace Vigil.Config.Model;

/// <summary>
/// The top-level <c>consul { }</c> block (a Vigil extension): vigil-controld registers every VIP
/// of a MASTER instance (and the virtual servers on it) with the local Consul agent. Values left
/// out follow the consul CLI's conventions at run time: CONSUL_HTTP_ADDR (else 127.0.0.1:8500),
/// CONSUL_HTTP_TOKEN, CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY.
/// </summary>
public sealed record ConsulSettings
{
    /// <summary>"host:port" or "http(s)://host:port"; null: CONSUL_HTTP_ADDR or 127.0.0.1:8500.</summary>
    public string? Address { get; init; }

    /// <summary>The ACL token; null: CONSUL_HTTP_TOKEN (or none).</summary>
    public string? Token { get; init; }

    /// <summary>?dc= for catalog reads; null: the agent's.</summary>
    public string? Datacenter { get; init; }

    /// <summary>A tls { } block was given: a bare host:port address means https.</summary>
    public bool Tls { get; init; }

    public string? CaFile { get; init; }

    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    public string? TlsServerName { get; init; }

    /// <summary>The Consul service name of an instance's VIPs; null: "vigil-" + the instance name (lower case, '_' as '-').</summary>
    public string? ServiceName { get; init; }

    /// <summary>Tags added to every registration (after Vigil's own).</summary>
    public EquatableArray<string> Tags { get; init; }

    /// <summary>The TTL of each registration's check; controld refreshes it at a third of this.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>DeregisterCriticalServiceAfter: the agent drops a registration whose check stayed critical this long (Consul's minimum is 1m).</summary>
    public TimeSpan DeregisterCriticalAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Also register each virtual_server whose address is a VIP of the MASTER instance (its port, tag "virtual_server").</summary>
    public bool RegisterVirtualServers { get; init; } = true;

    /// <summary>The service name used for an instance.</summary>
    public string ServiceNameFor(string instance) =>
        ServiceName ?? "vigil-" + new string(instance.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-').ToArray());
}
