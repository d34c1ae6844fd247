using System.Text.Json.Serialization;

namespace Vigil.Consul;

// The request and response bodies of Consul's HTTP API, with Consul's field names and casing
// (developer.hashicorp.com/consul/api-docs/agent/service, agent/check, catalog, kv, session).
// Durations are Go duration strings ("15s", "1m30s"), as Consul expects them in requests.

/// <summary>PUT /v1/agent/service/register.</summary>
public sealed record AgentServiceRegistration
{
    [JsonPropertyName("ID")] public string? Id { get; init; }
    [JsonPropertyName("Name")] public required string Name { get; init; }
    [JsonPropertyName("Tags")] public IReadOnlyList<string>? Tags { get; init; }
    [JsonPropertyName("Address")] public string? Address { get; init; }
    [JsonPropertyName("Port")] public int? Port { get; init; }
    [JsonPropertyName("Meta")] public IReadOnlyDictionary<string, string>? Meta { get; init; }
    [JsonPropertyName("EnableTagOverride")] public bool? EnableTagOverride { get; init; }
    [JsonPropertyName("Check")] public AgentServiceCheck? Check { get; init; }
    [JsonPropertyName("Checks")] public IReadOnlyList<AgentServiceCheck>? Checks { get; init; }
}

/// <summary>The Check of a service registration; Vigil uses TTL checks.</summary>
public sealed record AgentServiceCheck
{
    /// <summary>Defaults to "service:SERVICE_ID" when left out.</summary>
    [JsonPropertyName("CheckID")] public string? CheckId { get; init; }
    [JsonPropertyName("Name")] public string? Name { get; init; }
    [JsonPropertyName("Notes")] public string? Notes { get; init; }
    /// <summary>Go duration: the check turns critical when not updated within it.</summary>
    [JsonPropertyName("TTL")] public string? Ttl { get; init; }
    /// <summary>Initial status: "passing", "warning" or "critical" (Consul's default: critical).</summary>
    [JsonPropertyName("Status")] public string? Status { get; init; }
    /// <summary>Go duration (Consul's minimum is 1m): a service critical this long is deregistered by the agent.</summary>
    [JsonPropertyName("DeregisterCriticalServiceAfter")] public string? DeregisterCriticalServiceAfter { get; init; }
}

/// <summary>One value of GET /v1/agent/services (a map by service ID).</summary>
public sealed record AgentService
{
    [JsonPropertyName("ID")] public string Id { get; init; } = "";
    [JsonPropertyName("Service")] public string Service { get; init; } = "";
    [JsonPropertyName("Tags")] public List<string>? Tags { get; init; }
    [JsonPropertyName("Meta")] public Dictionary<string, string>? Meta { get; init; }
    [JsonPropertyName("Port")] public int Port { get; init; }
    [JsonPropertyName("Address")] public string Address { get; init; } = "";
    [JsonPropertyName("EnableTagOverride")] public bool EnableTagOverride { get; init; }
    [JsonPropertyName("Datacenter")] public string? Datacenter { get; init; }
}

/// <summary>PUT /v1/agent/check/update/:check_id.</summary>
public sealed record CheckUpdate
{
    [JsonPropertyName("Status")] public required string Status { get; init; }
    [JsonPropertyName("Output")] public string? Output { get; init; }
}

/// <summary>A TTL check's status, as Consul spells it.</summary>
public enum CheckStatus
{
    Passing,
    Warning,
    Critical,
}

/// <summary>One element of GET /v1/catalog/service/:service.</summary>
public sealed record CatalogService
{
    [JsonPropertyName("ID")] public string? Id { get; init; }
    [JsonPropertyName("Node")] public string Node { get; init; } = "";
    [JsonPropertyName("Address")] public string Address { get; init; } = "";
    [JsonPropertyName("Datacenter")] public string? Datacenter { get; init; }
    [JsonPropertyName("TaggedAddresses")] public Dictionary<string, string>? TaggedAddresses { get; init; }
    [JsonPropertyName("NodeMeta")] public Dictionary<string, string>? NodeMeta { get; init; }
    [JsonPropertyName("ServiceID")] public string ServiceId { get; init; } = "";
    [JsonPropertyName("ServiceName")] public string ServiceName { get; init; } = "";
    [JsonPropertyName("ServiceAddress")] public string ServiceAddress { get; init; } = "";
    [JsonPropertyName("ServicePort")] public int ServicePort { get; init; }
    [JsonPropertyName("ServiceTags")] public List<string>? ServiceTags { get; init; }
    [JsonPropertyName("ServiceMeta")] public Dictionary<string, string>? ServiceMeta { get; init; }
    [JsonPropertyName("ServiceEnableTagOverride")] public bool ServiceEnableTagOverride { get; init; }
    [JsonPropertyName("CreateIndex")] public ulong CreateIndex { get; init; }
    [JsonPropertyName("ModifyIndex")] public ulong ModifyIndex { get; init; }
}

/// <summary>One element of GET /v1/health/service/:service: the node, the service instance, and their checks.</summary>
public sealed record ServiceHealthEntry
{
    [JsonPropertyName("Node")] public HealthNode Node { get; init; } = new();
    [JsonPropertyName("Service")] public AgentService Service { get; init; } = new();
    [JsonPropertyName("Checks")] public List<HealthCheck>? Checks { get; init; }
}

/// <summary>The Node of a health entry.</summary>
public sealed record HealthNode
{
    [JsonPropertyName("ID")] public string? Id { get; init; }
    [JsonPropertyName("Node")] public string Node { get; init; } = "";
    [JsonPropertyName("Address")] public string Address { get; init; } = "";
    [JsonPropertyName("Datacenter")] public string? Datacenter { get; init; }
    [JsonPropertyName("Meta")] public Dictionary<string, string>? Meta { get; init; }
}

/// <summary>A check as the health endpoints return it (the node's "serfHealth" has an empty ServiceID).</summary>
public sealed record HealthCheck
{
    [JsonPropertyName("Node")] public string Node { get; init; } = "";
    [JsonPropertyName("CheckID")] public string CheckId { get; init; } = "";
    [JsonPropertyName("Name")] public string Name { get; init; } = "";
    /// <summary>"passing", "warning" or "critical".</summary>
    [JsonPropertyName("Status")] public string Status { get; init; } = "";
    [JsonPropertyName("Notes")] public string? Notes { get; init; }
    [JsonPropertyName("Output")] public string? Output { get; init; }
    [JsonPropertyName("ServiceID")] public string ServiceId { get; init; } = "";
    [JsonPropertyName("ServiceName")] public string ServiceName { get; init; } = "";
}

/// <summary>One element of GET /v1/kv/:key. Value is base64 in the JSON, bytes here (null for a key without a value).</summary>
public sealed record KvPair
{
    [JsonPropertyName("Key")] public string Key { get; init; } = "";
    [JsonPropertyName("CreateIndex")] public ulong CreateIndex { get; init; }
    [JsonPropertyName("ModifyIndex")] public ulong ModifyIndex { get; init; }
    [JsonPropertyName("LockIndex")] public ulong LockIndex { get; init; }
    [JsonPropertyName("Flags")] public ulong Flags { get; init; }
    [JsonPropertyName("Value")] public byte[]? Value { get; init; }
    [JsonPropertyName("Session")] public string? Session { get; init; }
}

/// <summary>The query parameters of PUT /v1/kv/:key.</summary>
public sealed record KvPutOptions
{
    /// <summary>?cas=: write only if the key's ModifyIndex is this (0: only if it does not exist).</summary>
    public ulong? Cas { get; init; }
    /// <summary>?acquire=SESSION: take the lock.</summary>
    public string? Acquire { get; init; }
    /// <summary>?release=SESSION: give the lock up.</summary>
    public string? Release { get; init; }
    /// <summary>?flags=: an opaque number stored with the key.</summary>
    public ulong? Flags { get; init; }
}

/// <summary>PUT /v1/session/create.</summary>
public sealed record SessionCreateRequest
{
    [JsonPropertyName("Name")] public string? Name { get; init; }
    [JsonPropertyName("Node")] public string? Node { get; init; }
    /// <summary>Go duration, 0s to 60s (Consul's default 15s).</summary>
    [JsonPropertyName("LockDelay")] public string? LockDelay { get; init; }
    /// <summary>"release" (default) or "delete".</summary>
    [JsonPropertyName("Behavior")] public string? Behavior { get; init; }
    /// <summary>Go duration, 10s to 86400s.</summary>
    [JsonPropertyName("TTL")] public string? Ttl { get; init; }
    [JsonPropertyName("NodeChecks")] public IReadOnlyList<string>? NodeChecks { get; init; }
    [JsonPropertyName("ServiceChecks")] public IReadOnlyList<SessionServiceCheck>? ServiceChecks { get; init; }
}

public sealed record SessionServiceCheck
{
    [JsonPropertyName("ID")] public required string Id { get; init; }
    [JsonPropertyName("Namespace")] public string? Namespace { get; init; }
}

/// <summary>The answer of PUT /v1/session/create.</summary>
public sealed record SessionCreateResponse
{
    [JsonPropertyName("ID")] public string Id { get; init; } = "";
}

/// <summary>A session as /v1/session/renew (and info) return it; LockDelay is in nanoseconds there.</summary>
public sealed record SessionEntry
{
    [JsonPropertyName("ID")] public string Id { get; init; } = "";
    [JsonPropertyName("Name")] public string? Name { get; init; }
    [JsonPropertyName("Node")] public string? Node { get; init; }
    [JsonPropertyName("LockDelay")] public long LockDelay { get; init; }
    [JsonPropertyName("Behavior")] public string? Behavior { get; init; }
    [JsonPropertyName("TTL")] public string? Ttl { get; init; }
    [JsonPropertyName("NodeChecks")] public List<string>? NodeChecks { get; init; }
    [JsonPropertyName("CreateIndex")] public ulong CreateIndex { get; init; }
    [JsonPropertyName("ModifyIndex")] public ulong ModifyIndex { get; init; }
}

/// <summary>Options of a read: a blocking query (index, wait) and the datacenter.</summary>
public sealed record QueryOptions
{
    /// <summary>?index=: block until the result's index is past this one (or <see cref="WaitTime"/> elapses).</summary>
    public ulong? WaitIndex { get; init; }
    /// <summary>?wait=: how long a blocking query may be held (Consul's default 5m, at most 10m).</summary>
    public TimeSpan? WaitTime { get; init; }
    /// <summary>?dc=: overrides the client's datacenter.</summary>
    public string? Datacenter { get; init; }
}

/// <summary>A read's result with the X-Consul-Index to pass to the next blocking query.</summary>
public sealed record QueryResult<T>(T Value, ulong LastIndex, bool KnownLeader)
{
    /// <summary>X-Consul-Results-Filtered-By-ACLs: the token may not read everything, so some of the answer was left out.</summary>
    public bool FilteredByAcls { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentServiceRegistration))]
[JsonSerializable(typeof(Dictionary<string, AgentService>))]
[JsonSerializable(typeof(CheckUpdate))]
[JsonSerializable(typeof(Dictionary<string, List<string>>))]
[JsonSerializable(typeof(List<CatalogService>))]
[JsonSerializable(typeof(List<ServiceHealthEntry>))]
[JsonSerializable(typeof(List<KvPair>))]
[JsonSerializable(typeof(SessionCreateRequest))]
[JsonSerializable(typeof(SessionCreateResponse))]
[JsonSerializable(typeof(List<SessionEntry>))]
[JsonSerializable(typeof(bool))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
