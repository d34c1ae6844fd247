using System.Net;
using Vigil.Checkd.Api;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Config;
using Vigil.Config.Text;
using Vigil.Controld.Dispatch;
using Vigil.Testing;

namespace Vigil.Checkd.Tests.Api;

/// <summary>
/// The whole way a keepalived.conf takes to the engine: Vigil.Config's model -> controld's
/// CheckConfigMapper -> vigil.check.v1 -> checkd's ConfigMapper -> the engine's validator. Every
/// configuration of tests/Config that keepalived would run must arrive whole and valid.
/// </summary>
public sealed class CheckConfigMapperTests
{
    private static string ConfigDir => Path.Combine(RepoPaths.Root, "tests", "Config");

    public static TheoryData<string> FilesWithVirtualServers()
    {
        var data = new TheoryData<string>();
        foreach (var dir in new[] { "corpus", "seeds", "seeds/verbatim", "scenarios" })
        {
            var path = Path.Combine(ConfigDir, dir);
            if (!Directory.Exists(path)) continue;
            foreach (var f in Directory.GetFiles(path, "*.conf").Order(StringComparer.Ordinal))
            {
                if (File.ReadAllText(f).Contains("virtual_server", StringComparison.Ordinal)) data.Add(Path.GetRelativePath(ConfigDir, f));
            }
        }
        return data;
    }

    private static Vigil.Config.Model.KeepalivedConfig Parse(string text) =>
        ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = null, FileSystem = new InMemoryFileSystem() }, "/etc/keepalived/keepalived.conf").Config
        ?? throw new InvalidOperationException("the configuration does not run");

    [Theory]
    [MemberData(nameof(FilesWithVirtualServers))]
    public void Map_CorpusConfiguration_EngineAcceptsEveryVirtualServer(string file)
    {
        var result = ConfigLoader.Load(Path.Combine(ConfigDir, file), new ConfigLoadOptions { ConfigId = null, RandomSeed = 1 });
        if (result.Config is not { } config) return; // keepalived would not run it either
        var proto = CheckConfigMapper.ToProto(config);
        var model = ConfigMapper.ToModel(proto);
        if (model.Globals.Ssl is { } ssl && new[] { ssl.CaFile, ssl.CertificateFile, ssl.KeyFile }.Any(f => f is not null && !File.Exists(f)))
        {
            // The corpus names certificate files of another machine; that check belongs to the host.
            Assert.Equal(config.Ssl!.CaFile, ssl.CaFile);
            model = model with { Globals = model.Globals with { Ssl = null } };
        }
        var (validated, _) = ConfigValidator.Validate(model);

        Assert.Equal(config.VirtualServers.Count, validated.VirtualServers.Count);
        for (var i = 0; i < config.VirtualServers.Count; i++)
        {
            var expected = config.VirtualServers[i];
            var actual = validated.VirtualServers[i];
            Assert.Equal(expected.RealServers.Count, actual.RealServers.Count);
            Assert.Equal(expected.HaSuspend, actual.HaSuspend);
            for (var r = 0; r < expected.RealServers.Count; r++)
            {
                var rs = expected.RealServers[r];
                Assert.Equal(new RealServerKey(rs.Address, (ushort)rs.Port), actual.RealServers[r].Key);
                Assert.Equal(rs.Weight, actual.RealServers[r].Weight);
                // BFD_CHECK is the one checker checkd does not run yet.
                Assert.Equal(rs.Checkers.Count(c => c is not Vigil.Config.Model.BfdCheck), actual.RealServers[r].Checkers.Count);
            }
        }
    }

    [Fact]
    public void Map_SslGetWithOptions_ArrivesAsHttpCheckWithSsl()
    {
        var config = Parse("""
            global_defs {
                router_id lb1
                notification_email {
                    ops@example.com
                }
                notification_email_from lb1@example.com
                smtp_server 192.0.2.25 2525
                smtp_connect_timeout 7
                smtp_alert_checker
            }
            virtual_server 192.0.2.10 443 {
                delay_loop 3
                lb_algo wrr
                lb_kind DR
                protocol TCP
                quorum 2
                hysteresis 1
                alpha
                omega
                sorry_server 192.0.2.99 443
                virtualhost www.example.com
                real_server 192.0.2.11 443 {
                    weight 3
                    inhibit_on_failure
                    SSL_GET {
                        url {
                            path /health
                            digest 0123456789abcdef0123456789abcdef
                            status_code 200-204
                        }
                        http_protocol 1.1
                        enable_sni
                        connect_timeout 2
                        retry 4
                        delay_before_retry 1
                        connect_port 8443
                    }
                }
                real_server 192.0.2.12 443 {
                    weight 3
                    TCP_CHECK {
                        connect_timeout 1
                    }
                }
            }
            """);
        var vs = Assert.Single(ConfigMapper.ToModel(CheckConfigMapper.ToProto(config)).VirtualServers);
        Assert.Equal(VirtualServerKey.ForAddress(IPAddress.Parse("192.0.2.10"), 443), vs.Key);
        Assert.Equal((2u, 1u, true, true, "www.example.com"), (vs.Quorum, vs.Hysteresis, vs.Alpha, vs.Omega, vs.Virtualhost));
        Assert.Equal(new SorryServerConfig(IPAddress.Parse("192.0.2.99"), 443), vs.SorryServer);
        Assert.Equal(TimeSpan.FromSeconds(3), vs.DelayLoop);
        var rs = vs.RealServers[0];
        Assert.Equal((3, true), (rs.Weight, rs.InhibitOnFailure));
        var ssl = Assert.IsType<HttpCheckConfig>(Assert.Single(rs.Checkers));
        Assert.True(ssl.UseSsl);
        Assert.Equal(CheckType.Ssl, ssl.Type);
        Assert.Equal(HttpProtocolVersion.Http11, ssl.Protocol);
        Assert.True(ssl.EnableSni);
        Assert.Equal((4, (TimeSpan?)TimeSpan.FromSeconds(1), (TimeSpan?)TimeSpan.FromSeconds(3)), (ssl.Retry, ssl.DelayBeforeRetry, ssl.DelayLoop));
        Assert.Equal((TimeSpan?)TimeSpan.FromSeconds(2), ssl.Connection.ConnectTimeout);
        // connect_ip is the real server's own address: not sent; connect_port differs: sent.
        Assert.Null(ssl.Connection.ConnectIp);
        Assert.Equal((ushort?)8443, ssl.Connection.ConnectPort);
        var url = Assert.Single(ssl.Urls);
        Assert.Equal(("/health", "0123456789abcdef0123456789abcdef"), (url.Path, url.Digest));
        Assert.Equal([new StatusCodeRange(200, 204)], url.StatusCodes.ToArray());

        var alerts = ConfigMapper.ToModel(CheckConfigMapper.ToProto(config)).Globals.Alerts;
        Assert.Equal(["ops@example.com"], alerts.Recipients.ToArray());
        Assert.Equal(("lb1@example.com", new SmtpServerAddress("192.0.2.25", 2525), TimeSpan.FromSeconds(7), (bool?)true),
            (alerts.From, alerts.Server, alerts.ConnectTimeout, alerts.SmtpAlertChecker));
    }

    [Fact]
    public void Map_FileCheck_TakesTheTrackFilesPath()
    {
        var config = Parse("""
            track_file fault {
                file /run/vigil-test.fault
                weight 3
            }
            virtual_server 192.0.2.10 80 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server 192.0.2.11 80 {
                    FILE_CHECK {
                        track_file fault
                    }
                }
            }
            """);
        var file = Assert.IsType<FileCheckConfig>(Assert.Single(Assert.Single(Assert.Single(ConfigMapper.ToModel(CheckConfigMapper.ToProto(config)).VirtualServers).RealServers).Checkers));
        Assert.Equal(("fault", "/run/vigil-test.fault", 3), (file.TrackFileName, file.Path, file.Weight));
    }

    [Fact]
    public void Map_FwmarkAndGroup_KeysKept()
    {
        var config = Parse("""
            virtual_server_group web {
                192.0.2.10-12 80
            }
            virtual_server group web {
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 192.0.2.21 80 {
                    TCP_CHECK {
                    }
                }
            }
            virtual_server fwmark 7 {
                lb_algo rr
                lb_kind DR
                real_server 192.0.2.22 0 {
                    PING_CHECK {
                    }
                }
            }
            """);
        var model = ConfigMapper.ToModel(CheckConfigMapper.ToProto(config));
        Assert.Equal(["[web]:tcp", "FWM 7"], model.VirtualServers.Select(v => v.Key.ToString()).ToArray());
    }
}
