using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Vigil.Testing.Consul;

/// <summary>One request the fake agent received.</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string? Token, string Body, DateTime At)
{
    public override string ToString() => $"{Method} {Path}{(Query.Count == 0 ? "" : "?" + string.Join('&', Query.Select(kv => kv.Key + "=" + kv.Value)))}";
}

/// <summary>A service as the fake agent holds it (the registration's documented fields).</summary>
public sealed record FakeService(string Id, string Name, string Address, int Port, IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Meta,
    bool EnableTagOverride, ulong CreateIndex, ulong ModifyIndex, string Node = FakeConsulAgent.NodeName, string NodeAddress = "127.0.0.1");

/// <summary>A TTL check of the fake agent.</summary>
public sealed record FakeCheck(string CheckId, string Name, string ServiceId, string Status, string Output, TimeSpan Ttl, TimeSpan? DeregisterCriticalAfter,
    DateTime LastUpdate, DateTime? CriticalSince);

/// <summary>
/// A Consul agent for tests, built from Consul's HTTP API documentation
/// (developer.hashicorp.com/consul/api-docs): a real HTTP server on loopback (Kestrel) serving
/// the endpoints Vigil uses with the documented request and response shapes - agent service
/// register/deregister/list, TTL checks (update, pass/warn/fail; expiry and
/// DeregisterCriticalServiceAfter), catalog services and service, KV (base64 values, cas,
/// acquire/release, recurse delete) and sessions (create/renew/destroy). It is one node
/// (<see cref="NodeName"/>) of datacenter <see cref="Datacenter"/>; other nodes' services can be
/// added to its catalog with <see cref="AddRemoteService"/>.
/// Reads return X-Consul-Index, X-Consul-KnownLeader and X-Consul-LastContact and are blocking
/// queries with ?index= and ?wait= (held until the index moves past the one asked for, or the
/// wait elapses). Stricter than Consul where that catches mistakes: JSON field names must have the
/// documented casing, and unknown fields are refused with 400.
/// Test levers: <see cref="RequiredToken"/> (ACL mode: writes without it get 403 "Permission
/// denied", reads are filtered), <see cref="FailWith500"/> (an agent without a leader),
/// <see cref="StopAsync"/>/<see cref="StartAsync"/> (connection refused in between; same port),
/// <see cref="ForgetServices"/> (an agent restarted without its services); every request is in
/// <see cref="Requests"/>.
/// </summary>
public sealed class FakeConsulAgent : IAsyncDisposable
{
    public const string NodeName = "fake-node";
    public const string Datacenter = "dc1";

    private readonly object _gate = new();
    private readonly Dictionary<string, FakeService> _services = new(StringComparer.Ordinal);
    private readonly List<FakeService> _remote = [];
    // A remote service's own check status by "NODE/ID", and nodes whose serfHealth is not passing.
    private readonly Dictionary<string, string> _remoteCheckStatus = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _nodeHealth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeCheck> _checks = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, KvEntry> _kv = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SessionState> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly IPAddress _bind;
    private readonly X509Certificate2? _certificate;
    private readonly bool _requireClientCertificate;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _index = 1;
    private WebApplication? _app;
    private int _port;

    /// <param name="bind">The address to listen on (loopback by default).</param>
    /// <param name="port">0: any free port (kept across <see cref="StopAsync"/>/<see cref="StartAsync"/>).</param>
    /// <param name="certificate">Serve https with this certificate (with its private key).</param>
    /// <param name="requireClientCertificate">With https: refuse clients without a certificate (any certificate; the test checks <see cref="ClientCertificates"/>).</param>
    public FakeConsulAgent(IPAddress? bind = null, int port = 0, X509Certificate2? certificate = null, bool requireClientCertificate = false)
    {
        _bind = bind ?? IPAddress.Loopback;
        _port = port;
        _certificate = certificate;
        _requireClientCertificate = requireClientCertificate;
    }

    /// <summary>The agent's address, e.g. http://127.0.0.1:41234 (valid once started).</summary>
    public Uri Address => new($"{(_certificate is null ? "http" : "https")}://{(_bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{_bind}]" : _bind.ToString())}:{_port}");

    /// <summary>"127.0.0.1:41234", as CONSUL_HTTP_ADDR has it.</summary>
    public string HostPort => $"{_bind}:{_port}";

    public int Port => _port;

    /// <summary>
    /// Also listen on this unix socket (set before <see cref="StartAsync"/>): a lab test relays to it
    /// from a namespace's loopback, where the node's "local agent" is (a path crosses namespaces).
    /// </summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>ACL mode: with a token set, writes without it are refused (403 "Permission denied") and reads are filtered to nothing.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>
    /// With <see cref="RequiredToken"/>: a request whose token is given but is not that one is refused
    /// outright, reads too, with 403 "ACL not found" (Consul's answer to a token it does not know;
    /// without a token the anonymous token applies and reads are filtered instead).
    /// </summary>
    public bool RefuseUnknownTokens { get; set; }

    /// <summary>Answer every request with 500 "No cluster leader" (an agent whose servers are gone).</summary>
    public bool FailWith500 { get; set; }

    public bool IsRunning => _app is not null;

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Subjects of the client certificates seen (https with client certificates).</summary>
    public ConcurrentBag<string> ClientCertificates { get; } = [];

    /// <summary>The raft-like index: bumped by every write.</summary>
    public ulong Index
    {
        get { lock (_gate) return _index; }
    }

    public IReadOnlyDictionary<string, FakeService> Services
    {
        get { lock (_gate) { Expire(); return new Dictionary<string, FakeService>(_services); } }
    }

    public IReadOnlyDictionary<string, FakeCheck> Checks
    {
        get { lock (_gate) { Expire(); return new Dictionary<string, FakeCheck>(_checks); } }
    }

    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPrefix) =>
        Requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    public void ClearRequests() => _requests.Clear();

    /// <summary>The agent restarted without its services (their checks go with them).</summary>
    public void ForgetServices()
    {
        lock (_gate)
        {
            _services.Clear();
            _checks.Clear();
            Bump();
        }
    }

    /// <summary>Adds a service of another node to the catalog (what other agents registered).</summary>
    /// <param name="checkStatus">The status of the service's own check on its node, as /v1/health/service shows it.</param>
    public void AddRemoteService(string node, string nodeAddress, string id, string name, string address, int port, IEnumerable<string> tags, IReadOnlyDictionary<string, string> meta,
        string checkStatus = "passing")
    {
        lock (_gate)
        {
            Bump();
            _remote.Add(new FakeService(id, name, address, port, [.. tags], meta, false, _index, _index, node, nodeAddress));
            _remoteCheckStatus[node + "/" + id] = checkStatus;
        }
    }

    /// <summary>A node's serfHealth check ("critical": its agent stopped answering the cluster; its services stay in the catalog).</summary>
    public void SetNodeHealth(string node, string status)
    {
        lock (_gate)
        {
            Bump();
            _nodeHealth[node] = status;
        }
    }

    public async Task StartAsync()
    {
        if (_app is not null) return;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<ILoggerFactory>(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            void Https(ListenOptions listen)
            {
                if (_certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = _certificate,
                        ClientCertificateMode = _requireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate,
                        ClientCertificateValidation = (_, _, _) => true,
                    });
                }
            }
            k.Listen(_bind, _port, Https);
            if (UnixSocketPath is { } path)
            {
                File.Delete(path);
                k.ListenUnixSocket(path, Https);
            }
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(a => !a.StartsWith("http://unix:", StringComparison.Ordinal) && !a.StartsWith("https://unix:", StringComparison.Ordinal));
        _port = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        _app = app;
    }

    /// <summary>Stops listening (clients get connection refused); state is kept for <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        lock (_gate) Bump();
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2))) await app.StopAsync(grace.Token);
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    // ------------------------------------------------------------------ dispatch

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var bytes = buffer.ToArray();
        var body = Encoding.UTF8.GetString(bytes);
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var token = request.Headers["X-Consul-Token"].FirstOrDefault()
            ?? (request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null);
        var path = Uri.UnescapeDataString(request.Path.Value ?? "/");
        _requests.Enqueue(new RecordedRequest(request.Method, path, query, token, body, DateTime.UtcNow));
        if (context.Connection.ClientCertificate is { } cert) ClientCertificates.Add(cert.Subject);

        if (FailWith500)
        {
            await Text(context, 500, "No cluster leader");
            return;
        }
        if (query.TryGetValue("dc", out var dc) && dc != Datacenter)
        {
            await Text(context, 500, $"No path to datacenter");
            return;
        }
        var allowed = RequiredToken is null || token == RequiredToken;
        if (!allowed && RefuseUnknownTokens && token is { Length: > 0 })
        {
            await Text(context, 403, "ACL not found");
            return;
        }
        var isRead = request.Method == "GET";
        // As Consul: a filtered read says so, to an authenticated caller only.
        if (!allowed && isRead && token is { Length: > 0 }) context.Response.Headers["X-Consul-Results-Filtered-By-ACLs"] = "true";
        if (!allowed && !(isRead && (path == "/v1/agent/services" || path.StartsWith("/v1/catalog/", StringComparison.Ordinal) || path.StartsWith("/v1/health/", StringComparison.Ordinal))))
        {
            await Text(context, 403, "Permission denied");
            return;
        }
        try
        {
            await RouteAsync(context, request.Method, path, query, body, bytes, filtered: !allowed);
        }
        catch (BadRequest e)
        {
            await Text(context, 400, e.Message);
        }
    }

    private sealed class BadRequest(string message) : Exception(message);

    private Task RouteAsync(HttpContext c, string method, string path, Dictionary<string, string> q, string body, byte[] bytes, bool filtered)
    {
        static bool Under(string path, string prefix, out string rest)
        {
            rest = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : "";
            return path.StartsWith(prefix, StringComparison.Ordinal) && rest.Length > 0;
        }
        return (method, path) switch
        {
            ("PUT", "/v1/agent/service/register") => Register(c, body, q),
            ("PUT", _) when Under(path, "/v1/agent/service/deregister/", out var id) => Deregister(c, id),
            ("GET", "/v1/agent/services") => ReadAsync(c, q, () => filtered ? new JsonObject() : AgentServicesJson()),
            ("GET", "/v1/agent/checks") => ReadAsync(c, q, () => filtered ? new JsonObject() : AgentChecksJson()),
            ("PUT", _) when Under(path, "/v1/agent/check/update/", out var id) => UpdateCheck(c, id, body),
            ("PUT", _) when Under(path, "/v1/agent/check/pass/", out var id) => MarkCheck(c, id, "passing", q),
            ("PUT", _) when Under(path, "/v1/agent/check/warn/", out var id) => MarkCheck(c, id, "warning", q),
            ("PUT", _) when Under(path, "/v1/agent/check/fail/", out var id) => MarkCheck(c, id, "critical", q),
            ("GET", "/v1/catalog/services") => ReadAsync(c, q, () => filtered ? new JsonObject { ["consul"] = new JsonArray() } : CatalogServicesJson()),
            ("GET", _) when Under(path, "/v1/catalog/service/", out var name) => ReadAsync(c, q, () => filtered ? new JsonArray() : CatalogServiceJson(name, q.GetValueOrDefault("tag"))),
            ("GET", _) when Under(path, "/v1/health/service/", out var name) => ReadAsync(c, q, () => filtered ? new JsonArray() : HealthServiceJson(name, q.GetValueOrDefault("tag"), q.ContainsKey("passing"))),
            ("GET", _) when Under(path, "/v1/kv/", out var key) => KvGet(c, key, q),
            ("PUT", _) when Under(path, "/v1/kv/", out var key) => KvPut(c, key, q, bytes),
            ("DELETE", _) when Under(path, "/v1/kv/", out var key) => KvDelete(c, key, q),
            ("PUT", "/v1/session/create") => SessionCreate(c, body),
            ("PUT", _) when Under(path, "/v1/session/destroy/", out var id) => SessionDestroy(c, id),
            ("PUT", _) when Under(path, "/v1/session/renew/", out var id) => SessionRenew(c, id),
            ("GET", _) when Under(path, "/v1/session/info/", out var id) => ReadAsync(c, q, () => SessionInfo(id)),
            _ => Text(c, 405, $"method {method} not allowed"),
        };
    }

    // ------------------------------------------------------------------ agent

    private static readonly HashSet<string> ServiceFields = new(StringComparer.Ordinal)
    {
        "ID", "Name", "Tags", "Address", "TaggedAddresses", "Meta", "Port", "Kind", "Proxy", "Connect", "Check", "Checks",
        "EnableTagOverride", "Weights", "Namespace", "Partition", "SocketPath",
    };

    private static readonly HashSet<string> CheckFields = new(StringComparer.Ordinal)
    {
        "CheckID", "Name", "Notes", "Status", "TTL", "DeregisterCriticalServiceAfter", "Interval", "Timeout", "HTTP", "TCP",
        "Args", "Method", "Header", "Body", "TLSSkipVerify", "TLSServerName", "GRPC", "GRPCUseTLS", "AliasNode", "AliasService",
        "SuccessBeforePassing", "FailuresBeforeCritical", "FailuresBeforeWarning",
    };

    private Task Register(HttpContext c, string body, Dictionary<string, string> q)
    {
        var o = ParseObject(body, ServiceFields);
        var name = o["Name"]?.GetValue<string>() ?? "";
        if (name.Length == 0) throw new BadRequest("Missing service name");
        var id = o["ID"]?.GetValue<string>() is { Length: > 0 } i ? i : name;
        var tags = o["Tags"] is JsonArray ta ? ta.Select(t => t!.GetValue<string>()).ToList() : [];
        var meta = o["Meta"] is JsonObject mo ? mo.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>(), StringComparer.Ordinal) : [];
        foreach (var key in meta.Keys)
        {
            if (key.Length > 128 || !key.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_'))
                throw new BadRequest($"Invalid Service Meta: Key contains invalid characters");
        }
        var checks = new List<JsonObject>();
        if (o["Check"] is JsonObject one) checks.Add(one);
        if (o["Checks"] is JsonArray many) checks.AddRange(many.OfType<JsonObject>());
        var parsed = new List<FakeCheck>();
        var now = DateTime.UtcNow;
        for (var n = 0; n < checks.Count; n++)
        {
            var ch = checks[n];
            foreach (var f in ch) if (!CheckFields.Contains(f.Key)) throw new BadRequest($"Request decode failed: json: unknown field \"{f.Key}\" in Check");
            var ttlText = ch["TTL"]?.GetValue<string>() ?? throw new BadRequest("Invalid check: TTL must be > 0 for TTL checks (the fake serves TTL checks only)");
            var ttl = ParseDuration(ttlText, "TTL");
            if (ttl <= TimeSpan.Zero) throw new BadRequest("Invalid check: TTL must be > 0 for TTL checks");
            TimeSpan? dereg = ch["DeregisterCriticalServiceAfter"]?.GetValue<string>() is { } d ? ParseDuration(d, "DeregisterCriticalServiceAfter") : null;
            var status = ch["Status"]?.GetValue<string>() ?? "critical";
            if (status is not ("passing" or "warning" or "critical")) throw new BadRequest($"Status for checks must 'passing', 'warning', 'critical'");
            var checkId = ch["CheckID"]?.GetValue<string>() is { Length: > 0 } cid ? cid : checks.Count == 1 ? $"service:{id}" : $"service:{id}:{n + 1}";
            var checkName = ch["Name"]?.GetValue<string>() is { Length: > 0 } cn ? cn : $"Service '{name}' check";
            parsed.Add(new FakeCheck(checkId, checkName, id, status, "", ttl, dereg, now, status == "critical" ? now : null));
        }
        lock (_gate)
        {
            Bump();
            var create = _services.TryGetValue(id, out var old) ? old.CreateIndex : _index;
            _services[id] = new FakeService(id, name, o["Address"]?.GetValue<string>() ?? "", o["Port"]?.GetValue<int>() ?? 0, tags, meta,
                o["EnableTagOverride"]?.GetValue<bool>() ?? false, create, _index);
            if (q.TryGetValue("replace-existing-checks", out var r) && r is "true" or "")
            {
                foreach (var k in _checks.Where(kv => kv.Value.ServiceId == id).Select(kv => kv.Key).ToList()) _checks.Remove(k);
            }
            foreach (var check in parsed)
            {
                // Re-registering keeps a check's current status (as the agent does for an unchanged check).
                _checks[check.CheckId] = _checks.TryGetValue(check.CheckId, out var existing) && existing.ServiceId == id
                    ? existing with { Ttl = check.Ttl, DeregisterCriticalAfter = check.DeregisterCriticalAfter, Name = check.Name }
                    : check;
            }
        }
        return Empty(c);
    }

    private Task Deregister(HttpContext c, string id)
    {
        lock (_gate)
        {
            if (!_services.Remove(id)) return Text(c, 404, $"Unknown service ID \"{id}\". Ensure that the service ID is passed, not the service name.");
            foreach (var k in _checks.Where(kv => kv.Value.ServiceId == id).Select(kv => kv.Key).ToList()) _checks.Remove(k);
            Bump();
        }
        return Empty(c);
    }

    private Task UpdateCheck(HttpContext c, string id, string body)
    {
        var o = ParseObject(body, new HashSet<string>(StringComparer.Ordinal) { "Status", "Output" });
        var status = o["Status"]?.GetValue<string>() ?? "";
        if (status is not ("passing" or "warning" or "critical")) throw new BadRequest($"Invalid check status: \"{status}\"");
        return SetCheck(c, id, status, o["Output"]?.GetValue<string>() ?? "");
    }

    private Task MarkCheck(HttpContext c, string id, string status, Dictionary<string, string> q) => SetCheck(c, id, status, q.GetValueOrDefault("note") ?? "");

    private Task SetCheck(HttpContext c, string id, string status, string output)
    {
        lock (_gate)
        {
            Expire();
            if (!_checks.TryGetValue(id, out var check)) return Text(c, 404, $"Unknown check ID \"{id}\". Ensure that the check ID is passed, not the check name.");
            var now = DateTime.UtcNow;
            _checks[id] = check with { Status = status, Output = output, LastUpdate = now, CriticalSince = status == "critical" ? check.CriticalSince ?? now : null };
            if (check.Status != status || check.Output != output) Bump();
        }
        return Empty(c);
    }

    /// <summary>TTL checks not updated in time turn critical; services critical past DeregisterCriticalServiceAfter go.</summary>
    private void Expire()
    {
        var now = DateTime.UtcNow;
        foreach (var (id, check) in _checks.ToList())
        {
            if (check.Status != "critical" && now - check.LastUpdate > check.Ttl)
            {
                _checks[id] = check with { Status = "critical", Output = "TTL expired", CriticalSince = check.LastUpdate + check.Ttl };
                Bump();
            }
        }
        foreach (var check in _checks.Values.ToList())
        {
            if (check.CriticalSince is { } since && check.DeregisterCriticalAfter is { } after && now - since > after && _services.Remove(check.ServiceId))
            {
                foreach (var k in _checks.Where(kv => kv.Value.ServiceId == check.ServiceId).Select(kv => kv.Key).ToList()) _checks.Remove(k);
                Bump();
            }
        }
    }

    private JsonNode AgentServicesJson()
    {
        Expire();
        var o = new JsonObject();
        foreach (var s in _services.Values.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            o[s.Id] = new JsonObject
            {
                ["ID"] = s.Id,
                ["Service"] = s.Name,
                ["Tags"] = new JsonArray([.. s.Tags.Select(t => (JsonNode?)t)]),
                ["Meta"] = MetaJson(s.Meta),
                ["Port"] = s.Port,
                ["Address"] = s.Address,
                ["Weights"] = new JsonObject { ["Passing"] = 1, ["Warning"] = 1 },
                ["EnableTagOverride"] = s.EnableTagOverride,
                ["Datacenter"] = Datacenter,
            };
        }
        return o;
    }

    private JsonNode AgentChecksJson()
    {
        Expire();
        var o = new JsonObject();
        foreach (var ch in _checks.Values.OrderBy(ch => ch.CheckId, StringComparer.Ordinal))
        {
            _services.TryGetValue(ch.ServiceId, out var s);
            o[ch.CheckId] = new JsonObject
            {
                ["Node"] = NodeName,
                ["CheckID"] = ch.CheckId,
                ["Name"] = ch.Name,
                ["Status"] = ch.Status,
                ["Notes"] = "",
                ["Output"] = ch.Output,
                ["ServiceID"] = ch.ServiceId,
                ["ServiceName"] = s?.Name ?? "",
                ["ServiceTags"] = new JsonArray([.. (s?.Tags ?? []).Select(t => (JsonNode?)t)]),
                ["Type"] = "ttl",
            };
        }
        return o;
    }

    // ------------------------------------------------------------------ catalog

    private IEnumerable<FakeService> CatalogEntries()
    {
        Expire();
        return _services.Values.Concat(_remote);
    }

    private JsonNode CatalogServicesJson()
    {
        var o = new JsonObject { ["consul"] = new JsonArray() };
        foreach (var group in CatalogEntries().GroupBy(s => s.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            o[group.Key] = new JsonArray([.. group.SelectMany(s => s.Tags).Distinct(StringComparer.Ordinal).Select(t => (JsonNode?)t)]);
        }
        return o;
    }

    private JsonNode CatalogServiceJson(string name, string? tag)
    {
        var a = new JsonArray();
        foreach (var s in CatalogEntries().Where(s => s.Name == name && (tag is null || s.Tags.Contains(tag))).OrderBy(s => s.Node, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal))
        {
            a.Add(new JsonObject
            {
                ["ID"] = Guid.Empty.ToString(),
                ["Node"] = s.Node,
                ["Address"] = s.NodeAddress,
                ["Datacenter"] = Datacenter,
                ["TaggedAddresses"] = new JsonObject { ["lan"] = s.NodeAddress, ["wan"] = s.NodeAddress },
                ["NodeMeta"] = new JsonObject(),
                ["CreateIndex"] = s.CreateIndex,
                ["ModifyIndex"] = s.ModifyIndex,
                ["ServiceAddress"] = s.Address,
                ["ServiceEnableTagOverride"] = s.EnableTagOverride,
                ["ServiceID"] = s.Id,
                ["ServiceName"] = s.Name,
                ["ServicePort"] = s.Port,
                ["ServiceMeta"] = MetaJson(s.Meta),
                ["ServiceTaggedAddresses"] = new JsonObject(),
                ["ServiceTags"] = new JsonArray([.. s.Tags.Select(t => (JsonNode?)t)]),
            });
        }
        return a;
    }

    // ------------------------------------------------------------------ health

    /// <summary>GET /v1/health/service/:service: Node, Service and Checks (the node's serfHealth, then the service's checks); ?passing drops entries with a check not passing.</summary>
    private JsonNode HealthServiceJson(string name, string? tag, bool passingOnly)
    {
        var a = new JsonArray();
        foreach (var s in CatalogEntries().Where(s => s.Name == name && (tag is null || s.Tags.Contains(tag))).OrderBy(s => s.Node, StringComparer.Ordinal).ThenBy(s => s.Id, StringComparer.Ordinal))
        {
            var checks = new List<(string Id, string Name, string Status, string ServiceId)>
            {
                ("serfHealth", "Serf Health Status", _nodeHealth.GetValueOrDefault(s.Node, "passing"), ""),
            };
            if (s.Node == NodeName)
                checks.AddRange(_checks.Values.Where(ch => ch.ServiceId == s.Id).OrderBy(ch => ch.CheckId, StringComparer.Ordinal).Select(ch => (ch.CheckId, ch.Name, ch.Status, s.Id)));
            else
                checks.Add(($"service:{s.Id}", $"Service '{s.Name}' check", _remoteCheckStatus.GetValueOrDefault(s.Node + "/" + s.Id, "passing"), s.Id));
            if (passingOnly && checks.Any(ch => ch.Status != "passing")) continue;
            a.Add(new JsonObject
            {
                ["Node"] = new JsonObject
                {
                    ["ID"] = Guid.Empty.ToString(),
                    ["Node"] = s.Node,
                    ["Address"] = s.NodeAddress,
                    ["Datacenter"] = Datacenter,
                    ["TaggedAddresses"] = new JsonObject { ["lan"] = s.NodeAddress, ["wan"] = s.NodeAddress },
                    ["Meta"] = new JsonObject(),
                },
                ["Service"] = new JsonObject
                {
                    ["ID"] = s.Id,
                    ["Service"] = s.Name,
                    ["Tags"] = new JsonArray([.. s.Tags.Select(t => (JsonNode?)t)]),
                    ["Address"] = s.Address,
                    ["Meta"] = MetaJson(s.Meta),
                    ["Port"] = s.Port,
                    ["Weights"] = new JsonObject { ["Passing"] = 1, ["Warning"] = 1 },
                    ["EnableTagOverride"] = s.EnableTagOverride,
                },
                ["Checks"] = new JsonArray([.. checks.Select(ch => (JsonNode?)new JsonObject
                {
                    ["Node"] = s.Node,
                    ["CheckID"] = ch.Id,
                    ["Name"] = ch.Name,
                    ["Status"] = ch.Status,
                    ["Notes"] = "",
                    ["Output"] = "",
                    ["ServiceID"] = ch.ServiceId,
                    ["ServiceName"] = ch.ServiceId.Length == 0 ? "" : s.Name,
                    ["ServiceTags"] = ch.ServiceId.Length == 0 ? new JsonArray() : new JsonArray([.. s.Tags.Select(t => (JsonNode?)t)]),
                })]),
            });
        }
        return a;
    }

    // ------------------------------------------------------------------ KV

    private sealed record KvEntry(byte[] Value, ulong Flags, ulong CreateIndex, ulong ModifyIndex, ulong LockIndex, string? Session);

    private Task KvGet(HttpContext c, string key, Dictionary<string, string> q) =>
        ReadAsync(c, q, () =>
        {
            if (!_kv.TryGetValue(key, out var e)) return null;
            return new JsonArray(KvJson(key, e));
        });

    private static JsonObject KvJson(string key, KvEntry e)
    {
        var o = new JsonObject
        {
            ["LockIndex"] = e.LockIndex,
            ["Key"] = key,
            ["Flags"] = e.Flags,
            ["Value"] = e.Value.Length == 0 ? null : Convert.ToBase64String(e.Value),
            ["CreateIndex"] = e.CreateIndex,
            ["ModifyIndex"] = e.ModifyIndex,
        };
        if (e.Session is not null) o["Session"] = e.Session;
        return o;
    }

    private Task KvPut(HttpContext c, string key, Dictionary<string, string> q, byte[] value)
    {
        lock (_gate)
        {
            _kv.TryGetValue(key, out var e);
            ulong? flags = q.TryGetValue("flags", out var ft) ? ulong.Parse(ft, CultureInfo.InvariantCulture) : null;
            if (q.TryGetValue("cas", out var casText))
            {
                var cas = ulong.Parse(casText, CultureInfo.InvariantCulture);
                if ((cas == 0 && e is not null) || (cas != 0 && (e is null || e.ModifyIndex != cas))) return Json(c, 200, false, null);
            }
            Bump();
            if (q.TryGetValue("acquire", out var acquire))
            {
                if (!_sessions.ContainsKey(acquire)) return Text(c, 500, $"invalid session \"{acquire}\"");
                if (e?.Session is { } holder && holder != acquire) return Json(c, 200, false, null);
                var lockIndex = (e?.LockIndex ?? 0) + (e?.Session == acquire ? 0UL : 1UL);
                _kv[key] = new KvEntry(value, flags ?? e?.Flags ?? 0, e?.CreateIndex ?? _index, _index, lockIndex, acquire);
                return Json(c, 200, true, null);
            }
            if (q.TryGetValue("release", out var release))
            {
                if (e?.Session != release) return Json(c, 200, false, null);
                _kv[key] = new KvEntry(value, flags ?? e.Flags, e.CreateIndex, _index, e.LockIndex, null);
                return Json(c, 200, true, null);
            }
            _kv[key] = new KvEntry(value, flags ?? e?.Flags ?? 0, e?.CreateIndex ?? _index, _index, e?.LockIndex ?? 0, e?.Session);
        }
        return Json(c, 200, true, null);
    }

    private Task KvDelete(HttpContext c, string key, Dictionary<string, string> q)
    {
        lock (_gate)
        {
            if (q.ContainsKey("recurse"))
            {
                foreach (var k in _kv.Keys.Where(k => k.StartsWith(key, StringComparison.Ordinal)).ToList()) _kv.Remove(k);
                Bump();
                return Json(c, 200, true, null);
            }
            if (q.TryGetValue("cas", out var casText))
            {
                var cas = ulong.Parse(casText, CultureInfo.InvariantCulture);
                if (!_kv.TryGetValue(key, out var e) || e.ModifyIndex != cas) return Json(c, 200, false, null);
            }
            _kv.Remove(key);
            Bump();
        }
        return Json(c, 200, true, null);
    }

    // ------------------------------------------------------------------ sessions

    private sealed record SessionState(string Id, string Name, string Node, TimeSpan LockDelay, string Behavior, string Ttl, ulong CreateIndex, ulong ModifyIndex);

    private Task SessionCreate(HttpContext c, string body)
    {
        var o = body.Trim().Length == 0 ? new JsonObject() : ParseObject(body, new HashSet<string>(StringComparer.Ordinal)
            { "Name", "Node", "LockDelay", "Behavior", "TTL", "Checks", "NodeChecks", "ServiceChecks", "Namespace" });
        var ttl = o["TTL"]?.GetValue<string>() ?? "";
        if (ttl.Length > 0)
        {
            var t = ParseDuration(ttl, "TTL");
            if (t != TimeSpan.Zero && (t < TimeSpan.FromSeconds(10) || t > TimeSpan.FromSeconds(86400)))
                throw new BadRequest($"Invalid Session TTL '{t.TotalSeconds}s', must be between [10s=24h0m0s]");
        }
        var behavior = o["Behavior"]?.GetValue<string>() ?? "release";
        if (behavior is not ("release" or "delete")) throw new BadRequest($"Invalid Behavior setting '{behavior}'");
        var lockDelay = o["LockDelay"]?.GetValue<string>() is { } ld ? ParseDuration(ld, "LockDelay") : TimeSpan.FromSeconds(15);
        var id = Guid.NewGuid().ToString();
        lock (_gate)
        {
            Bump();
            _sessions[id] = new SessionState(id, o["Name"]?.GetValue<string>() ?? "", o["Node"]?.GetValue<string>() ?? NodeName, lockDelay, behavior, ttl, _index, _index);
        }
        return Json(c, 200, new JsonObject { ["ID"] = id }, null);
    }

    private Task SessionDestroy(HttpContext c, string id)
    {
        lock (_gate)
        {
            if (_sessions.Remove(id))
            {
                Bump();
                foreach (var (k, e) in _kv.ToList())
                {
                    if (e.Session == id) _kv[k] = e with { Session = null };
                }
            }
        }
        return Json(c, 200, true, null);
    }

    private Task SessionRenew(HttpContext c, string id)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out var s)) return Text(c, 404, $"Session id '{id}' not found");
            return Json(c, 200, new JsonArray(SessionJson(s)), null);
        }
    }

    private JsonNode SessionInfo(string id) => _sessions.TryGetValue(id, out var s) ? new JsonArray(SessionJson(s)) : new JsonArray();

    private static JsonObject SessionJson(SessionState s) => new()
    {
        ["ID"] = s.Id,
        ["Name"] = s.Name,
        ["Node"] = s.Node,
        ["LockDelay"] = (long)(s.LockDelay.Ticks * 100),
        ["Behavior"] = s.Behavior,
        ["TTL"] = s.Ttl,
        ["NodeChecks"] = new JsonArray("serfHealth"),
        ["ServiceChecks"] = null,
        ["CreateIndex"] = s.CreateIndex,
        ["ModifyIndex"] = s.ModifyIndex,
    };

    // ------------------------------------------------------------------ plumbing

    private void Bump()
    {
        _index++;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>A read, as a blocking query when ?index= is given: held until the index passes it or ?wait= (default 5m, at most 10m) elapses.</summary>
    private async Task ReadAsync(HttpContext c, Dictionary<string, string> q, Func<JsonNode?> read)
    {
        if (q.TryGetValue("index", out var indexText) && ulong.TryParse(indexText, CultureInfo.InvariantCulture, out var wanted) && wanted > 0)
        {
            var wait = q.TryGetValue("wait", out var w) ? ParseDuration(w, "wait") : TimeSpan.FromMinutes(5);
            if (wait > TimeSpan.FromMinutes(10)) wait = TimeSpan.FromMinutes(10);
            var deadline = DateTime.UtcNow + wait;
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    Expire();
                    if (_index > wanted) break;
                    changed = _changed.Task;
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) break;
                await Task.WhenAny(changed, Task.Delay(left, c.RequestAborted));
                if (c.RequestAborted.IsCancellationRequested) return;
            }
        }
        JsonNode? result;
        ulong index;
        lock (_gate)
        {
            result = read();
            index = _index;
        }
        if (result is null)
        {
            c.Response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);
            await Text(c, 404, "");
            return;
        }
        await Json(c, 200, result, index);
    }

    private static JsonObject ParseObject(string body, HashSet<string> fields)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            throw new BadRequest($"Request decode failed: {e.Message}");
        }
        if (node is not JsonObject o) throw new BadRequest("Request decode failed: not a JSON object");
        foreach (var f in o)
        {
            if (!fields.Contains(f.Key)) throw new BadRequest($"Request decode failed: json: unknown field \"{f.Key}\"");
        }
        return o;
    }

    private static JsonObject MetaJson(IReadOnlyDictionary<string, string> meta)
    {
        var o = new JsonObject();
        foreach (var (k, v) in meta) o[k] = v;
        return o;
    }

    /// <summary>Go's time.ParseDuration for what Consul's clients send.</summary>
    public static TimeSpan ParseDuration(string text, string field)
    {
        if (text == "0") return TimeSpan.Zero;
        var total = 0.0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start) throw new BadRequest($"Request decode failed: {field}: time: invalid duration \"{text}\"");
            var n = double.Parse(text.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            total += text[unitStart..i] switch
            {
                "ns" => n / 1e6, "us" or "µs" => n / 1e3, "ms" => n, "s" => n * 1e3, "m" => n * 6e4, "h" => n * 3.6e6,
                "" => throw new BadRequest($"Request decode failed: {field}: time: missing unit in duration \"{text}\""),
                var u => throw new BadRequest($"Request decode failed: {field}: time: unknown unit \"{u}\" in duration \"{text}\""),
            };
        }
        return TimeSpan.FromMilliseconds(total);
    }

    private static Task Text(HttpContext c, int status, string text)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "text/plain; charset=utf-8";
        return c.Response.WriteAsync(text);
    }

    private static Task Empty(HttpContext c)
    {
        c.Response.StatusCode = 200;
        return Task.CompletedTask;
    }

    private static Task Json(HttpContext c, int status, JsonNode? value, ulong? index)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        if (index is { } i)
        {
            c.Response.Headers["X-Consul-Index"] = i.ToString(CultureInfo.InvariantCulture);
            c.Response.Headers["X-Consul-KnownLeader"] = "true";
            c.Response.Headers["X-Consul-LastContact"] = "0";
        }
        return c.Response.WriteAsync(value?.ToJsonString() ?? "null");
    }

    private static Task Json(HttpContext c, int status, bool value, ulong? index) => Json(c, status, JsonValue.Create(value), index);
}
