using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Vigil.Consul;

/// <summary>
/// Consul's HTTP API as documented (developer.hashicorp.com/consul/api-docs): the local agent's
/// services and TTL checks, the catalog, KV and sessions. Every request carries the ACL token as
/// X-Consul-Token; catalog, KV and session requests carry ?dc= when a datacenter is set; reads
/// may be blocking queries (?index=&amp;wait=, the next index from X-Consul-Index). Errors are
/// <see cref="ConsulAclException"/> (403), <see cref="ConsulNotFoundException"/> (404),
/// <see cref="ConsulServerException"/> (5xx), <see cref="ConsulUnavailableException"/> (no
/// answer) or <see cref="ConsulException"/> (any other status). Thread-safe.
/// </summary>
public sealed class ConsulClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ConsulClientOptions _options;
    // Why our validation last refused the agent's certificate: the handshake's own exception only says "rejected by the callback".
    private volatile string? _tlsRefusal;

    public ConsulClient(ConsulClientOptions options, HttpMessageHandler? handler = null)
    {
        _options = options;
        _http = new HttpClient(handler ?? CreateHandler(options, reason => _tlsRefusal = reason), disposeHandler: true)
        {
            BaseAddress = options.Address,
            // Each request has its own limit (blocking queries are longer).
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public ConsulClientOptions Options => _options;

    /// <summary>A SocketsHttpHandler for the options' TLS settings: the CA file as the only trust anchor, the client certificate.</summary>
    public static SocketsHttpHandler CreateHandler(ConsulClientOptions options) => CreateHandler(options, null);

    /// <param name="refused">Told why a certificate was refused (the name, the chain), to put in the error.</param>
    private static SocketsHttpHandler CreateHandler(ConsulClientOptions options, Action<string>? refused)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseProxy = false,
        };
        if (options.Address.Scheme != Uri.UriSchemeHttps) return handler;
        var serverName = options.TlsServerName ?? options.Address.IdnHost;
        var ssl = new SslClientAuthenticationOptions { TargetHost = serverName };
        if (options.CertFile is not null)
        {
            var cert = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
            ssl.ClientCertificates = [cert];
        }
        X509Certificate2Collection? ca = null;
        if (options.CaFile is not null)
        {
            ca = new X509Certificate2Collection();
            ca.ImportFromPemFile(options.CaFile);
        }
        ssl.RemoteCertificateValidationCallback = (_, certificate, systemChain, errors) =>
        {
            if (certificate is null)
            {
                refused?.Invoke("the agent sent no certificate");
                return false;
            }
            var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            // The name is checked in every case, here: SocketsHttpHandler makes the handshake's TargetHost the
            // request's host, so its own name check would be against the address, not server_name.
            // With a CA file, the chain must end at it (only), else at the system's roots.
            errors &= ~SslPolicyErrors.RemoteCertificateNameMismatch;
            if (!leaf.MatchesHostname(serverName))
            {
                refused?.Invoke($"the agent's certificate ({leaf.Subject}) is not valid for the server name '{serverName}'"
                    + (options.TlsServerName is null ? " (the address's host; tls { server_name } or CONSUL_TLS_SERVER_NAME sets the name to verify)" : " (tls { server_name })"));
                return false;
            }
            if (ca is null)
            {
                if (errors == SslPolicyErrors.None) return true;
                refused?.Invoke($"the agent's certificate ({leaf.Subject}, issued by {leaf.Issuer}) is not trusted by the system ({errors}; tls {{ ca_file }} or CONSUL_CACERT names the CA)"
                    + ChainText(systemChain));
                return false;
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            if (chain.Build(leaf)) return true;
            refused?.Invoke($"the agent's certificate ({leaf.Subject}, issued by {leaf.Issuer}) does not chain to the CA in ca_file {options.CaFile}" + ChainText(chain));
            return false;
        };
        handler.SslOptions = ssl;
        return handler;
    }

    // ------------------------------------------------------------------ agent

    /// <summary>PUT /v1/agent/service/register[?replace-existing-checks=true]: adds or replaces a service of the local agent.</summary>
    public Task RegisterServiceAsync(AgentServiceRegistration service, bool replaceExistingChecks = false, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, "/v1/agent/service/register" + (replaceExistingChecks ? "?replace-existing-checks=true" : ""),
            Json(service, ConsulJsonContext.Default.AgentServiceRegistration), cancellationToken);

    /// <summary>PUT /v1/agent/service/deregister/:service_id (404 for an unknown ID).</summary>
    public Task DeregisterServiceAsync(string serviceId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, "/v1/agent/service/deregister/" + Segment(serviceId), null, cancellationToken);

    /// <summary>GET /v1/agent/services: the local agent's services by ID.</summary>
    public async Task<IReadOnlyDictionary<string, AgentService>> GetAgentServicesAsync(CancellationToken cancellationToken = default)
    {
        var (value, _) = await GetAsync("/v1/agent/services", ConsulJsonContext.Default.DictionaryStringAgentService, null, addDatacenter: false, cancellationToken).ConfigureAwait(false);
        return value ?? [];
    }

    /// <summary>PUT /v1/agent/check/update/:check_id: sets a TTL check's status and output.</summary>
    public Task UpdateTtlAsync(string checkId, CheckStatus status, string? output = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, "/v1/agent/check/update/" + Segment(checkId),
            Json(new CheckUpdate { Status = StatusText(status), Output = output }, ConsulJsonContext.Default.CheckUpdate), cancellationToken);

    /// <summary>PUT /v1/agent/check/pass|warn|fail/:check_id[?note=]: the older form of <see cref="UpdateTtlAsync"/>.</summary>
    public Task MarkTtlAsync(string checkId, CheckStatus status, string? note = null, CancellationToken cancellationToken = default)
    {
        var verb = status switch { CheckStatus.Passing => "pass", CheckStatus.Warning => "warn", _ => "fail" };
        var path = $"/v1/agent/check/{verb}/{Segment(checkId)}" + (note is null ? "" : "?note=" + Uri.EscapeDataString(note));
        return SendAsync(HttpMethod.Put, path, null, cancellationToken);
    }

    public static string StatusText(CheckStatus status) => status switch
    {
        CheckStatus.Passing => "passing",
        CheckStatus.Warning => "warning",
        _ => "critical",
    };

    // ------------------------------------------------------------------ catalog

    /// <summary>GET /v1/catalog/services: every service name of the datacenter with its tags.</summary>
    public async Task<QueryResult<IReadOnlyDictionary<string, List<string>>>> GetCatalogServicesAsync(QueryOptions? query = null, CancellationToken cancellationToken = default)
    {
        var (value, meta) = await GetAsync("/v1/catalog/services", ConsulJsonContext.Default.DictionaryStringListString, query, addDatacenter: true, cancellationToken).ConfigureAwait(false);
        return new(value ?? [], meta.Index, meta.KnownLeader) { FilteredByAcls = meta.FilteredByAcls };
    }

    /// <summary>GET /v1/catalog/service/:service[?tag=]: the nodes providing a service.</summary>
    public async Task<QueryResult<IReadOnlyList<CatalogService>>> GetCatalogServiceAsync(string service, string? tag = null, QueryOptions? query = null, CancellationToken cancellationToken = default)
    {
        var path = "/v1/catalog/service/" + Segment(service) + (tag is null ? "" : "?tag=" + Uri.EscapeDataString(tag));
        var (value, meta) = await GetAsync(path, ConsulJsonContext.Default.ListCatalogService, query, addDatacenter: true, cancellationToken).ConfigureAwait(false);
        return new(value ?? [], meta.Index, meta.KnownLeader);
    }

    /// <summary>
    /// GET /v1/health/service/:service[?passing][&amp;tag=]: the nodes providing a service, each with
    /// its node and its checks (the node's serfHealth and the service's own), so a caller can
    /// tell a live registration from one whose node or TTL check is critical.
    /// </summary>
    public async Task<QueryResult<IReadOnlyList<ServiceHealthEntry>>> GetServiceHealthAsync(string service, bool passingOnly = false, string? tag = null,
        QueryOptions? query = null, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        if (passingOnly) q.Add("passing", null);
        if (tag is not null) q.Add("tag", tag);
        var (value, meta) = await GetAsync("/v1/health/service/" + Segment(service) + q, ConsulJsonContext.Default.ListServiceHealthEntry, query, addDatacenter: true, cancellationToken).ConfigureAwait(false);
        return new(value ?? [], meta.Index, meta.KnownLeader) { FilteredByAcls = meta.FilteredByAcls };
    }

    // ------------------------------------------------------------------ KV

    /// <summary>GET /v1/kv/:key: the pair, or a null value when the key does not exist (Consul's 404).</summary>
    public async Task<QueryResult<KvPair?>> GetKeyAsync(string key, QueryOptions? query = null, CancellationToken cancellationToken = default)
    {
        try
        {
            var (value, meta) = await GetAsync("/v1/kv/" + KeyPath(key), ConsulJsonContext.Default.ListKvPair, query, addDatacenter: true, cancellationToken).ConfigureAwait(false);
            return new(value is { Count: > 0 } ? value[0] : null, meta.Index, meta.KnownLeader);
        }
        catch (ConsulNotFoundException e) when (e.Data["X-Consul-Index"] is ulong index)
        {
            return new(null, index, true);
        }
    }

    /// <summary>PUT /v1/kv/:key[?cas=&amp;acquire=&amp;release=&amp;flags=]: false when a cas, acquire or release did not take.</summary>
    public Task<bool> PutKeyAsync(string key, ReadOnlyMemory<byte> value, KvPutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        if (options?.Cas is { } cas) q.Add("cas", cas.ToString(CultureInfo.InvariantCulture));
        if (options?.Acquire is { } acquire) q.Add("acquire", acquire);
        if (options?.Release is { } release) q.Add("release", release);
        if (options?.Flags is { } flags) q.Add("flags", flags.ToString(CultureInfo.InvariantCulture));
        AddDatacenter(q, null);
        var content = new ByteArrayContent(value.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return SendForBoolAsync(HttpMethod.Put, "/v1/kv/" + KeyPath(key) + q, content, cancellationToken);
    }

    /// <summary>DELETE /v1/kv/:key[?cas=][&amp;recurse]: false when a cas did not take.</summary>
    public Task<bool> DeleteKeyAsync(string key, ulong? cas = null, bool recurse = false, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        if (cas is { } c) q.Add("cas", c.ToString(CultureInfo.InvariantCulture));
        if (recurse) q.Add("recurse", null);
        AddDatacenter(q, null);
        return SendForBoolAsync(HttpMethod.Delete, "/v1/kv/" + KeyPath(key) + q, null, cancellationToken);
    }

    // ------------------------------------------------------------------ sessions

    /// <summary>PUT /v1/session/create: the new session's ID.</summary>
    public async Task<string> CreateSessionAsync(SessionCreateRequest session, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        AddDatacenter(q, null);
        using var response = await SendRawAsync(HttpMethod.Put, "/v1/session/create" + q, Json(session, ConsulJsonContext.Default.SessionCreateRequest), _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        var body = await ReadJsonAsync(response, ConsulJsonContext.Default.SessionCreateResponse, cancellationToken).ConfigureAwait(false);
        return body?.Id is { Length: > 0 } id ? id : throw new ConsulException("session/create answered without an ID", response.StatusCode);
    }

    /// <summary>PUT /v1/session/destroy/:uuid.</summary>
    public Task<bool> DestroySessionAsync(string id, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        AddDatacenter(q, null);
        return SendForBoolAsync(HttpMethod.Put, "/v1/session/destroy/" + Segment(id) + q, null, cancellationToken);
    }

    /// <summary>PUT /v1/session/renew/:uuid: the renewed session, or null when it no longer exists (Consul's 404).</summary>
    public async Task<SessionEntry?> RenewSessionAsync(string id, CancellationToken cancellationToken = default)
    {
        var q = new QueryString();
        AddDatacenter(q, null);
        try
        {
            using var response = await SendRawAsync(HttpMethod.Put, "/v1/session/renew/" + Segment(id) + q, null, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            var list = await ReadJsonAsync(response, ConsulJsonContext.Default.ListSessionEntry, cancellationToken).ConfigureAwait(false);
            return list is { Count: > 0 } ? list[0] : null;
        }
        catch (ConsulNotFoundException)
        {
            return null;
        }
    }

    // ------------------------------------------------------------------ plumbing

    private readonly record struct ResponseMeta(ulong Index, bool KnownLeader, bool FilteredByAcls);

    private async Task<(T? Value, ResponseMeta Meta)> GetAsync<T>(string path, JsonTypeInfo<T> type, QueryOptions? query, bool addDatacenter, CancellationToken cancellationToken)
    {
        var q = new QueryString(path);
        var timeout = _options.RequestTimeout;
        if (query?.WaitIndex is { } index) q.Add("index", index.ToString(CultureInfo.InvariantCulture));
        if (query?.WaitTime is { } wait)
        {
            q.Add("wait", GoDuration.Format(wait));
            // Consul adds up to wait/16 of jitter before answering.
            timeout += wait + wait / 16;
        }
        else if (query?.WaitIndex is not null)
        {
            timeout += TimeSpan.FromMinutes(5) + TimeSpan.FromMinutes(5) / 16;
        }
        if (addDatacenter) AddDatacenter(q, query?.Datacenter);
        using var response = await SendRawAsync(HttpMethod.Get, q.Apply(path), null, timeout, cancellationToken).ConfigureAwait(false);
        var value = await ReadJsonAsync(response, type, cancellationToken).ConfigureAwait(false);
        return (value, MetaOf(response));
    }

    private static ResponseMeta MetaOf(HttpResponseMessage response)
    {
        ulong index = 0;
        if (response.Headers.TryGetValues("X-Consul-Index", out var values))
            ulong.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out index);
        var leader = !response.Headers.TryGetValues("X-Consul-KnownLeader", out var l) || l.FirstOrDefault() != "false";
        var filtered = response.Headers.TryGetValues("X-Consul-Results-Filtered-By-ACLs", out var f) && f.FirstOrDefault() == "true";
        return new(index, leader, filtered);
    }

    private async Task SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, content, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> SendForBoolAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, content, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        var text = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
        return text.Length == 0 || text == "true";
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (_options.Token is { Length: > 0 } token) request.Headers.TryAddWithoutValidation("X-Consul-Token", token);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConsulUnavailableException($"consul agent {_options.Address}: {method} {PathOnly(path)} timed out after {timeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is SocketException se ? se.SocketErrorCode.ToString()
                : e.InnerException is System.Security.Authentication.AuthenticationException ae ? "TLS handshake refused: " + (_tlsRefusal ?? ae.Message)
                : e.Message;
            throw new ConsulUnavailableException($"consul agent {_options.Address}: {method} {PathOnly(path)}: {reason}", e);
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            var message = $"consul {method} {PathOnly(path)}: {(int)response.StatusCode} {(body.Length > 0 ? body : response.ReasonPhrase)}";
            ConsulException error = (int)response.StatusCode switch
            {
                403 => new ConsulAclException(message),
                404 => new ConsulNotFoundException(message),
                >= 500 => new ConsulServerException(message, response.StatusCode),
                _ => new ConsulException(message, response.StatusCode),
            };
            if (MetaOf(response).Index is var index and > 0) error.Data["X-Consul-Index"] = index;
            throw error;
        }
    }

    private static string ChainText(X509Chain? chain) =>
        chain?.ChainStatus is { Length: > 0 } status ? " (" + string.Join("; ", status.Select(s => s.StatusInformation.Trim()).Where(t => t.Length > 0).Distinct()) + ")" : "";

    private static string PathOnly(string path) => path.IndexOf('?') is var q and >= 0 ? path[..q] : path;

    private static async Task<T?> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0) return default;
        try
        {
            return JsonSerializer.Deserialize(bytes, type);
        }
        catch (JsonException e)
        {
            throw new ConsulException($"consul answered {response.RequestMessage?.RequestUri?.AbsolutePath} with JSON that is not {typeof(T).Name}: {e.Message}", response.StatusCode);
        }
    }

    private static ByteArrayContent Json<T>(T value, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private void AddDatacenter(QueryString q, string? datacenter)
    {
        if ((datacenter ?? _options.Datacenter) is { Length: > 0 } dc) q.Add("dc", dc);
    }

    /// <summary>One path segment (a service, check or session ID), escaped.</summary>
    private static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary>A KV key keeps its slashes; every segment is escaped.</summary>
    private static string KeyPath(string key) => string.Join('/', key.TrimStart('/').Split('/').Select(Uri.EscapeDataString));

    public void Dispose() => _http.Dispose();

    /// <summary>Query parameters, appended with ? or &amp; as the path needs.</summary>
    private sealed class QueryString(string? path = null)
    {
        private readonly StringBuilder _text = new();
        private readonly bool _pathHasQuery = path?.Contains('?', StringComparison.Ordinal) == true;

        public void Add(string name, string? value)
        {
            _text.Append(_text.Length == 0 ? (_pathHasQuery ? '&' : '?') : '&').Append(name);
            if (value is not null) _text.Append('=').Append(Uri.EscapeDataString(value));
        }

        public string Apply(string path) => path + _text;

        public override string ToString() => _text.ToString();
    }
}
