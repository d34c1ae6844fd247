using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Controld.Consul;
using Vigil.Testing;
using Vigil.Testing.Consul;

namespace Vigil.Consul.Tests;

/// <summary>
/// Registration over TLS as the consul block configures it (tls { ca_file cert_file key_file
/// server_name }): the fake agent serves https with a certificate from a CA made here and asks
/// for a client certificate. A wrong CA or a wrong server_name is refused with an error that
/// says which, logged and in the registrar's status, and retried; nothing crashes.
/// </summary>
public sealed class ConsulTlsTests : IAsyncLifetime
{
    private const string ServerName = "server.dc1.consul";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private const string VipId = "vigil:lb1:VI_1:10.0.0.10";
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-consul-tls-").FullName;
    private FakeConsulAgent _agent = null!;
    private string _caFile = null!;
    private string _otherCaFile = null!;
    private string _clientCert = null!;
    private string _clientKey = null!;

    public async Task InitializeAsync()
    {
        using var ca = NewCa("Vigil Test Consul CA");
        using var other = NewCa("Some Other CA");
        _caFile = WritePem("ca.pem", ca.ExportCertificatePem());
        _otherCaFile = WritePem("other-ca.pem", other.ExportCertificatePem());
        // The agent's certificate: for the server name only (not 127.0.0.1), as Consul's are.
        using var server = Issue(ca, "CN=" + ServerName, san => san.AddDnsName(ServerName), serverAuth: true);
        using var client = Issue(ca, "CN=vigil-controld", _ => { }, serverAuth: false);
        _clientCert = WritePem("client.pem", client.ExportCertificatePem());
        using (var key = client.GetECDsaPrivateKey()!) _clientKey = WritePem("client-key.pem", key.ExportPkcs8PrivateKeyPem());
        // Kestrel wants a key it can use from a store: round-trip through PKCS#12.
        var serverWithKey = X509CertificateLoader.LoadPkcs12(server.Export(X509ContentType.Pkcs12), null);
        _agent = new FakeConsulAgent(certificate: serverWithKey, requireClientCertificate: true);
        await _agent.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private string WritePem(string name, string pem)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, pem);
        return path;
    }

    private static X509Certificate2 NewCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, Action<SubjectAlternativeNameBuilder> names, bool serverAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        if (serverAuth) request.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The consul block as an operator writes it, read by the configuration loader.</summary>
    private KeepalivedConfig Config(string caFile, string serverName)
    {
        var text = $$"""
            global_defs {
                router_id lb1
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                priority 100
                virtual_ipaddress {
                    10.0.0.10/24
                }
            }
            consul {
                address {{_agent.HostPort}}
                ttl 3s
                tls {
                    ca_file {{caFile}}
                    cert_file {{_clientCert}}
                    key_file {{_clientKey}}
                    server_name {{serverName}}
                }
            }

            """;
        var r = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new Vigil.Config.Text.InMemoryFileSystem() });
        return r.Config ?? throw new InvalidOperationException(string.Join('\n', r.Diagnostics));
    }

    private static readonly ConsulRegistrarOptions Fast = new()
    {
        RouterId = "lb1",
        RefreshInterval = TimeSpan.FromMilliseconds(200),
        MinBackoff = TimeSpan.FromMilliseconds(100),
        MaxBackoff = TimeSpan.FromMilliseconds(300),
    };

    /// <summary>As controld starts it (Controller.ApplyConsul): the block's client options, no environment.</summary>
    private static ConsulRegistration Start(KeepalivedConfig config, ILogger logger)
    {
        var options = ConsulRegistration.ClientOptionsFor(config.Consul!, _ => null) with { RequestTimeout = TimeSpan.FromSeconds(3) };
        var r = new ConsulRegistration(config, new ConsulClient(options), logger, Fast);
        r.Start(null);
        r.SetInstances([new VrrpInstanceView("VI_1", true, 51, [IPAddress.Parse("10.0.0.10")])]);
        return r;
    }

    [Fact]
    public async Task RightCaAndServerName_RegistersOverTls_WithTheClientCertificate()
    {
        var log = new ListLogger();
        await using var r = Start(Config(_caFile, ServerName), log);
        Assert.Equal($"https://{_agent.HostPort}/", r.Client.Options.Address.ToString());
        await Poll.UntilAsync(() => _agent.Services.ContainsKey(VipId), Patience, "registration over TLS", () => r.Status() + "\n" + log);
        await Poll.UntilAsync(() => _agent.RequestsTo("PUT", "/v1/agent/check/update/").Count >= 2, Patience, "TTL refreshes over TLS");
        Assert.Equal("passing", _agent.Checks[VipId + ":vrrp"].Status);
        Assert.Contains("CN=vigil-controld", _agent.ClientCertificates);
        Assert.Equal("", r.Status().LastError);
        Assert.Equal(0, r.Status().Failures);
    }

    [Fact]
    public async Task WrongCa_Refused_ClearError_Retried()
    {
        var log = new ListLogger();
        await using var r = Start(Config(_otherCaFile, ServerName), log);
        await Poll.UntilAsync(() => r.Registrar.Failures >= 3, Patience, "failed rounds, retried", () => r.Status() + "\n" + log);
        var error = r.Status().LastError;
        Assert.Contains("TLS handshake refused: the agent's certificate (CN=server.dc1.consul, issued by CN=Vigil Test Consul CA) does not chain to the CA in ca_file " + _otherCaFile, error);
        Assert.Contains(error, log.ToString());
        Assert.Empty(_agent.Services);
        Assert.Empty(_agent.Requests);
        Assert.Equal(0, r.Status().AclRefusals);
    }

    [Fact]
    public async Task WrongServerName_Refused_ClearError_Retried()
    {
        var log = new ListLogger();
        await using var r = Start(Config(_caFile, "consul.example.org"), log);
        await Poll.UntilAsync(() => r.Registrar.Failures >= 3, Patience, "failed rounds, retried", () => r.Status() + "\n" + log);
        var error = r.Status().LastError;
        Assert.Contains("TLS handshake refused: the agent's certificate (CN=server.dc1.consul) is not valid for the server name 'consul.example.org' (tls { server_name })", error);
        Assert.Contains(error, log.ToString());
        Assert.Empty(_agent.Services);
    }

    [Fact]
    public async Task NoServerName_AddressHostChecked_SaysHowToSetIt()
    {
        // The certificate names server.dc1.consul, the address is 127.0.0.1: refused, and the error says what to set.
        var config = Config(_caFile, ServerName);
        config = config with { Consul = config.Consul! with { TlsServerName = null } };
        var log = new ListLogger();
        await using var r = Start(config, log);
        await Poll.UntilAsync(() => r.Registrar.Failures >= 2, Patience, "failed rounds", () => r.Status() + "\n" + log);
        Assert.Contains("is not valid for the server name '127.0.0.1' (the address's host; tls { server_name } or CONSUL_TLS_SERVER_NAME sets the name to verify)", r.Status().LastError);
    }

    /// <summary>Collects log lines (formatted) for assertions.</summary>
    private sealed class ListLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");

        public override string ToString() => string.Join('\n', _lines);
    }
}
