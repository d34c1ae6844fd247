using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Vigil.Testing.Consul;

namespace Vigil.Consul.Tests;

/// <summary>The client against the fake agent: every endpoint, the token, blocking queries, errors.</summary>
public sealed class ConsulClientTests : IAsyncLifetime
{
    private readonly FakeConsulAgent _agent = new();
    private ConsulClient _client = null!;

    public async Task InitializeAsync()
    {
        await _agent.StartAsync();
        _client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, RequestTimeout = TimeSpan.FromSeconds(5) });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _agent.DisposeAsync();
    }

    private static AgentServiceRegistration Web(string id = "web-1") => new()
    {
        Id = id,
        Name = "web",
        Address = "10.0.0.10",
        Port = 80,
        Tags = ["vigil", "master"],
        Meta = new Dictionary<string, string> { ["instance"] = "VI_1", ["vrid"] = "51" },
        Check = new AgentServiceCheck { CheckId = id + ":vrrp", Name = "VRRP", Ttl = "15s", Status = "passing", DeregisterCriticalServiceAfter = "1m" },
    };

    [Fact]
    public async Task RegisterService_SendsDocumentedJson_AgentListsIt()
    {
        await _client.RegisterServiceAsync(Web());
        var put = Assert.Single(_agent.RequestsTo("PUT", "/v1/agent/service/register"));
        var body = JsonNode.Parse(put.Body)!.AsObject();
        Assert.Equal(["ID", "Name", "Tags", "Address", "Port", "Meta", "Check"], body.Select(kv => kv.Key));
        Assert.Equal(["CheckID", "Name", "TTL", "Status", "DeregisterCriticalServiceAfter"], body["Check"]!.AsObject().Select(kv => kv.Key));
        Assert.Null(put.Token);

        var services = await _client.GetAgentServicesAsync();
        var web = services["web-1"];
        Assert.Equal("web", web.Service);
        Assert.Equal("10.0.0.10", web.Address);
        Assert.Equal(80, web.Port);
        Assert.Equal(["vigil", "master"], web.Tags);
        Assert.Equal("51", web.Meta!["vrid"]);
        Assert.Equal("passing", _agent.Checks["web-1:vrrp"].Status);
    }

    [Fact]
    public async Task RegisterService_ReplaceExistingChecks_IsAQueryParameter()
    {
        await _client.RegisterServiceAsync(Web(), replaceExistingChecks: true);
        Assert.Equal("true", Assert.Single(_agent.Requests).Query["replace-existing-checks"]);
    }

    [Fact]
    public async Task DeregisterService_Known_Removed_Unknown_NotFound()
    {
        await _client.RegisterServiceAsync(Web());
        await _client.DeregisterServiceAsync("web-1");
        Assert.Empty(await _client.GetAgentServicesAsync());
        Assert.Empty(_agent.Checks);
        var e = await Assert.ThrowsAsync<ConsulNotFoundException>(() => _client.DeregisterServiceAsync("web-1"));
        Assert.Contains("Unknown service ID", e.Message);
        Assert.Equal("/v1/agent/service/deregister/web-1", _agent.Requests[^1].Path);
    }

    [Fact]
    public async Task UpdateTtl_SetsStatusAndOutput()
    {
        await _client.RegisterServiceAsync(Web());
        await _client.UpdateTtlAsync("web-1:vrrp", CheckStatus.Warning, "priority dropped");
        var put = _agent.RequestsTo("PUT", "/v1/agent/check/update/")[^1];
        Assert.Equal("""{"Status":"warning","Output":"priority dropped"}""", put.Body);
        Assert.Equal("warning", _agent.Checks["web-1:vrrp"].Status);
        Assert.Equal("priority dropped", _agent.Checks["web-1:vrrp"].Output);
    }

    [Theory]
    [InlineData(CheckStatus.Passing, "pass", "passing")]
    [InlineData(CheckStatus.Warning, "warn", "warning")]
    [InlineData(CheckStatus.Critical, "fail", "critical")]
    public async Task MarkTtl_UsesPassWarnFail(CheckStatus status, string verb, string expected)
    {
        await _client.RegisterServiceAsync(Web());
        await _client.MarkTtlAsync("web-1:vrrp", status, "a note");
        var put = _agent.Requests[^1];
        Assert.Equal($"/v1/agent/check/{verb}/web-1:vrrp", put.Path);
        Assert.Equal("a note", put.Query["note"]);
        Assert.Equal(expected, _agent.Checks["web-1:vrrp"].Status);
    }

    [Fact]
    public async Task UpdateTtl_UnknownCheck_NotFound()
    {
        await Assert.ThrowsAsync<ConsulNotFoundException>(() => _client.UpdateTtlAsync("nope", CheckStatus.Passing));
    }

    [Fact]
    public async Task TtlCheck_NotUpdated_TurnsCritical()
    {
        await _client.RegisterServiceAsync(Web() with { Check = new AgentServiceCheck { Ttl = "300ms", Status = "passing" } });
        Assert.Equal("passing", _agent.Checks["service:web-1"].Status);
        await Vigil.Testing.Poll.UntilAsync(() => _agent.Checks["service:web-1"].Status == "critical", TimeSpan.FromSeconds(5), "the TTL to expire");
    }

    [Fact]
    public async Task Token_SentAsXConsulToken_OnEveryRequest()
    {
        using var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Token = "s3cr3t" });
        await client.RegisterServiceAsync(Web());
        await client.GetAgentServicesAsync();
        await client.GetCatalogServicesAsync();
        await client.PutKeyAsync("k", "v"u8.ToArray());
        Assert.All(_agent.Requests, r => Assert.Equal("s3cr3t", r.Token));
    }

    [Fact]
    public async Task AclMode_WithoutToken_WritesRefused403_ReadsFiltered()
    {
        _agent.RequiredToken = "right";
        var e = await Assert.ThrowsAsync<ConsulAclException>(() => _client.RegisterServiceAsync(Web()));
        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Contains("Permission denied", e.Message);
        Assert.False(e.IsTransient);
        Assert.Empty(await _client.GetAgentServicesAsync());
        await Assert.ThrowsAsync<ConsulAclException>(() => _client.GetKeyAsync("k"));

        using var good = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Token = "right" });
        await good.RegisterServiceAsync(Web());
        Assert.Single(await good.GetAgentServicesAsync());
        using var wrong = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Token = "wrong" });
        await Assert.ThrowsAsync<ConsulAclException>(() => wrong.DeregisterServiceAsync("web-1"));
    }

    [Fact]
    public async Task Agent500_IsServerException_Transient()
    {
        _agent.FailWith500 = true;
        var e = await Assert.ThrowsAsync<ConsulServerException>(() => _client.GetAgentServicesAsync());
        Assert.True(e.IsTransient);
        Assert.Contains("No cluster leader", e.Message);
    }

    [Fact]
    public async Task AgentStopped_ConnectionRefused_Unavailable_ThenWorksAfterRestart()
    {
        await _client.RegisterServiceAsync(Web());
        await _agent.StopAsync();
        var e = await Assert.ThrowsAsync<ConsulUnavailableException>(() => _client.GetAgentServicesAsync());
        Assert.True(e.IsTransient);
        Assert.Contains("ConnectionRefused", e.Message);
        await _agent.StartAsync();
        Assert.Single(await _client.GetAgentServicesAsync());
    }

    [Fact]
    public async Task Timeout_AgentAcceptsButNeverAnswers_Unavailable()
    {
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var client = new ConsulClient(new ConsulClientOptions { Address = new Uri($"http://127.0.0.1:{port}"), RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var e = await Assert.ThrowsAsync<ConsulUnavailableException>(() => client.GetAgentServicesAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("timed out", e.Message);
    }

    [Fact]
    public async Task CatalogServices_ListsNamesAndTags_WithIndex()
    {
        await _client.RegisterServiceAsync(Web());
        _agent.AddRemoteService("node-b", "192.0.2.2", "web-2", "web", "10.0.0.10", 80, ["vigil", "backup-node"], new Dictionary<string, string>());
        var result = await _client.GetCatalogServicesAsync();
        Assert.Equal(["consul", "web"], result.Value.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["vigil", "master", "backup-node"], result.Value["web"]);
        Assert.Equal(_agent.Index, result.LastIndex);
        Assert.True(result.KnownLeader);
    }

    [Fact]
    public async Task CatalogService_ListsNodes_FiltersByTag_AndDc()
    {
        await _client.RegisterServiceAsync(Web());
        _agent.AddRemoteService("node-b", "192.0.2.2", "web-2", "web", "10.0.0.11", 81, ["vigil"], new Dictionary<string, string> { ["router_id"] = "b" });
        var all = await _client.GetCatalogServiceAsync("web");
        Assert.Equal(["fake-node", "node-b"], all.Value.Select(s => s.Node));
        var b = all.Value[1];
        Assert.Equal(("web-2", "web", "10.0.0.11", 81, "192.0.2.2", "b"), (b.ServiceId, b.ServiceName, b.ServiceAddress, b.ServicePort, b.Address, b.ServiceMeta!["router_id"]));
        var master = await _client.GetCatalogServiceAsync("web", tag: "master", new QueryOptions { Datacenter = "dc1" });
        Assert.Equal("fake-node", Assert.Single(master.Value).Node);
        var put = _agent.Requests[^1];
        Assert.Equal(("master", "dc1"), (put.Query["tag"], put.Query["dc"]));
        await Assert.ThrowsAsync<ConsulServerException>(() => _client.GetCatalogServiceAsync("web", query: new QueryOptions { Datacenter = "elsewhere" }));
    }

    [Fact]
    public async Task Datacenter_FromOptions_OnCatalogKvSession_NotOnAgent()
    {
        using var client = new ConsulClient(new ConsulClientOptions { Address = _agent.Address, Datacenter = "dc1" });
        await client.RegisterServiceAsync(Web());
        await client.GetCatalogServicesAsync();
        await client.PutKeyAsync("a", "1"u8.ToArray());
        await client.GetKeyAsync("a");
        var session = await client.CreateSessionAsync(new SessionCreateRequest { Name = "x" });
        await client.DestroySessionAsync(session);
        var requests = _agent.Requests;
        Assert.False(requests[0].Query.ContainsKey("dc"));
        Assert.All(requests.Skip(1), r => Assert.Equal("dc1", r.Query["dc"]));
    }

    [Fact]
    public async Task BlockingQuery_HeldUntilIndexMoves()
    {
        var first = await _client.GetCatalogServicesAsync();
        var blocked = _client.GetCatalogServicesAsync(new QueryOptions { WaitIndex = first.LastIndex, WaitTime = TimeSpan.FromSeconds(30) });
        await Task.Delay(300);
        Assert.False(blocked.IsCompleted);
        await _client.RegisterServiceAsync(Web());
        var next = await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(next.LastIndex > first.LastIndex);
        Assert.Contains("web", next.Value.Keys);
        var q = _agent.RequestsTo("GET", "/v1/catalog/services")[1].Query;
        Assert.Equal((first.LastIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), "30s"), (q["index"], q["wait"]));
    }

    [Fact]
    public async Task BlockingQuery_WaitElapses_SameIndex()
    {
        var first = await _client.GetCatalogServicesAsync();
        var started = DateTime.UtcNow;
        var next = await _client.GetCatalogServicesAsync(new QueryOptions { WaitIndex = first.LastIndex, WaitTime = TimeSpan.FromMilliseconds(500) });
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(450));
        Assert.Equal(first.LastIndex, next.LastIndex);
    }

    [Fact]
    public async Task Kv_PutGetDelete_Base64Value_Flags()
    {
        var bytes = new byte[] { 0, 1, 2, 255, 10 };
        Assert.True(await _client.PutKeyAsync("vigil/nodes/a", bytes, new KvPutOptions { Flags = 42 }));
        var get = await _client.GetKeyAsync("vigil/nodes/a");
        Assert.Equal(bytes, get.Value!.Value);
        Assert.Equal(42UL, get.Value.Flags);
        Assert.Equal("vigil/nodes/a", get.Value.Key);
        Assert.Equal("/v1/kv/vigil/nodes/a", _agent.Requests[^1].Path);
        Assert.True(await _client.DeleteKeyAsync("vigil/nodes/a"));
        var missing = await _client.GetKeyAsync("vigil/nodes/a");
        Assert.Null(missing.Value);
        Assert.True(missing.LastIndex > 0);
    }

    [Fact]
    public async Task Kv_Cas_OnlyWithTheRightIndex()
    {
        Assert.True(await _client.PutKeyAsync("k", "1"u8.ToArray(), new KvPutOptions { Cas = 0 }));
        Assert.False(await _client.PutKeyAsync("k", "2"u8.ToArray(), new KvPutOptions { Cas = 0 }));
        var modify = (await _client.GetKeyAsync("k")).Value!.ModifyIndex;
        Assert.False(await _client.PutKeyAsync("k", "3"u8.ToArray(), new KvPutOptions { Cas = modify + 1 }));
        Assert.True(await _client.PutKeyAsync("k", "4"u8.ToArray(), new KvPutOptions { Cas = modify }));
        Assert.Equal("4", Encoding.UTF8.GetString((await _client.GetKeyAsync("k")).Value!.Value!));
        var now = (await _client.GetKeyAsync("k")).Value!.ModifyIndex;
        Assert.False(await _client.DeleteKeyAsync("k", cas: now + 5));
        Assert.True(await _client.DeleteKeyAsync("k", cas: now));
    }

    [Fact]
    public async Task Kv_DeleteRecurse_RemovesThePrefix()
    {
        await _client.PutKeyAsync("p/a", "1"u8.ToArray());
        await _client.PutKeyAsync("p/b", "2"u8.ToArray());
        Assert.True(await _client.DeleteKeyAsync("p/", recurse: true));
        Assert.True(_agent.Requests[^1].Query.ContainsKey("recurse"));
        Assert.Null((await _client.GetKeyAsync("p/a")).Value);
    }

    [Fact]
    public async Task Sessions_Lock_AcquireRelease_RenewDestroy()
    {
        var a = await _client.CreateSessionAsync(new SessionCreateRequest { Name = "vigil-a", Ttl = "15s", Behavior = "release", LockDelay = "1s" });
        var b = await _client.CreateSessionAsync(new SessionCreateRequest { Name = "vigil-b", Ttl = "15s" });
        var create = JsonNode.Parse(_agent.RequestsTo("PUT", "/v1/session/create")[0].Body)!.AsObject();
        Assert.Equal(["Name", "LockDelay", "Behavior", "TTL"], create.Select(kv => kv.Key));

        Assert.True(await _client.PutKeyAsync("lock", "a"u8.ToArray(), new KvPutOptions { Acquire = a }));
        Assert.False(await _client.PutKeyAsync("lock", "b"u8.ToArray(), new KvPutOptions { Acquire = b }));
        Assert.Equal(a, (await _client.GetKeyAsync("lock")).Value!.Session);
        Assert.Equal(1UL, (await _client.GetKeyAsync("lock")).Value!.LockIndex);
        Assert.False(await _client.PutKeyAsync("lock", "b"u8.ToArray(), new KvPutOptions { Release = b }));
        Assert.True(await _client.PutKeyAsync("lock", "a"u8.ToArray(), new KvPutOptions { Release = a }));
        Assert.True(await _client.PutKeyAsync("lock", "b"u8.ToArray(), new KvPutOptions { Acquire = b }));

        var renewed = await _client.RenewSessionAsync(a);
        Assert.Equal((a, "vigil-a", "15s", "release", 1_000_000_000L), (renewed!.Id, renewed.Name, renewed.Ttl, renewed.Behavior, renewed.LockDelay));
        Assert.True(await _client.DestroySessionAsync(b));
        Assert.Null((await _client.GetKeyAsync("lock")).Value!.Session);
        Assert.Null(await _client.RenewSessionAsync(b));
    }

    [Fact]
    public async Task Session_BadTtl_IsAnError400()
    {
        var e = await Assert.ThrowsAsync<ConsulException>(() => _client.CreateSessionAsync(new SessionCreateRequest { Ttl = "1s" }));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
    }

    [Fact]
    public async Task IdsAndKeys_AreEscaped()
    {
        await _client.RegisterServiceAsync(Web("vigil:VI 1/x"));
        Assert.Contains("vigil:VI 1/x", (await _client.GetAgentServicesAsync()).Keys);
        await _client.DeregisterServiceAsync("vigil:VI 1/x");
        Assert.Equal("/v1/agent/service/deregister/vigil:VI 1/x", _agent.Requests[^1].Path);
        Assert.Empty(_agent.Services);
    }
}
