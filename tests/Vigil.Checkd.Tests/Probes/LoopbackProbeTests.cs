using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Vigil.Checkd.Alerts;
using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;
using Vigil.Checkd.Tests.Support;
using Vigil.Scripts;

namespace Vigil.Checkd.Tests.Probes;

/// <summary>Probes against real sockets on loopback, served by in-test peers.</summary>
public sealed class LoopbackProbeTests
{
    private static readonly TimeProvider Time = TimeProvider.System;
    private static readonly ISocketFactory Sockets = HostSocketFactory.Instance;

    // Generous by default: a busy machine (and OpenSSL's first handshake in a process) must not
    // turn into timeouts; the tests about timeouts pass their own.
    private static ProbeTarget Target(IPEndPoint endPoint, double timeoutSeconds = 10) => new(endPoint, TimeSpan.FromSeconds(timeoutSeconds));

    private static IPEndPoint ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var ep = (IPEndPoint)l.LocalEndpoint;
        l.Stop();
        return ep;
    }

    [Fact]
    public async Task Tcp_Listening_SuccessAndRefused_Failure()
    {
        await using var server = new LoopbackTcpServer((_, _, _) => Task.CompletedTask);

        var ok = await new TcpProbe(Target(server.EndPoint), Sockets, Time).RunAsync(0, default);
        var refused = await new TcpProbe(Target(ClosedPort()), Sockets, Time).RunAsync(0, default);

        Assert.Equal(ProbeOutcome.Success, ok.Outcome);
        Assert.Equal(ProbeOutcome.Failure, refused.Outcome);
        Assert.Contains("refused", refused.Reason);
    }

    [Fact]
    public async Task Tcp_BindtoAndBindPort_UsedAsSource()
    {
        await using var server = new LoopbackTcpServer((_, _, _) => Task.CompletedTask);
        var port = ClosedPort().Port;
        var target = Target(server.EndPoint) with { Bind = new IPEndPoint(IPAddress.Parse("127.0.0.2"), port) };

        var result = await new TcpProbe(target, Sockets, Time).RunAsync(0, default);

        Assert.Equal(ProbeOutcome.Success, result.Outcome);
        await Vigil.Testing.Poll.UntilAsync(() => !server.Clients.IsEmpty, TimeSpan.FromSeconds(5), "the connection");
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), port), server.Clients.Single());
    }

    [Fact]
    public async Task Tcp_BindToMissingAddress_LocalErrorNotFailure()
    {
        await using var server = new LoopbackTcpServer((_, _, _) => Task.CompletedTask);
        var target = Target(server.EndPoint) with { Bind = new IPEndPoint(IPAddress.Parse("192.0.2.55"), 0) };

        var result = await new TcpProbe(target, Sockets, Time).RunAsync(0, default);

        Assert.Equal(ProbeOutcome.LocalError, result.Outcome);
    }

    private static HttpCheckConfig Http(params UrlCheck[] urls) => new() { Urls = urls, Protocol = HttpProtocolVersion.Http10 };

    [Fact]
    public async Task Http_StatusDigestRegex_CheckedInKeepalivedOrder()
    {
        const string body = "<html>hello vigil</html>";
        var digest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
        var requests = new ConcurrentQueue<string>();
        await using var server = LoopbackTcpServer.Http(head => head.Contains("/missing") ? LoopbackTcpServer.HttpResponse(404, "no") : LoopbackTcpServer.HttpResponse(200, body), requests);
        var target = Target(server.EndPoint);

        async Task<ProbeResult> Run(UrlCheck url, string? vhost = null) =>
            await new HttpProbe(Http(url) with { Virtualhost = vhost }, target, null, null, Sockets, Time).RunAsync(0, default);

        Assert.True((await Run(new UrlCheck { Path = "/" })).IsSuccess);
        Assert.True((await Run(new UrlCheck { Path = "/", Digest = digest })).IsSuccess);
        var badDigest = await Run(new UrlCheck { Path = "/", Digest = new string('0', 32) });
        Assert.Contains("MD5 digest error", badDigest.Reason);
        var notFound = await Run(new UrlCheck { Path = "/missing" });
        Assert.Contains("got 404", notFound.Reason);
        Assert.True((await Run(new UrlCheck { Path = "/missing", StatusCodes = new[] { new StatusCodeRange(400, 499) } })).IsSuccess);
        Assert.True((await Run(new UrlCheck { Path = "/", Regex = "hello\\s+VIGIL", RegexOptions = new[] { "caseless" } })).IsSuccess);
        Assert.False((await Run(new UrlCheck { Path = "/", Regex = "hello", RegexNoMatch = true })).IsSuccess);
        Assert.True((await Run(new UrlCheck { Path = "/", Regex = "absent", RegexNoMatch = true })).IsSuccess);
        Assert.False((await Run(new UrlCheck { Path = "/", Regex = "hello", RegexMinOffset = 10 })).IsSuccess);
        await Run(new UrlCheck { Path = "/vh" }, vhost: "www.vigil.test");

        var all = requests.ToArray();
        Assert.Equal($"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:{server.EndPoint.Port}\r\n\r\n", all[0]);
        Assert.Equal("GET /vh HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.vigil.test\r\n\r\n", all[^1]);
    }

    [Fact]
    public async Task Http_ClosesWithoutAnswer_Failure()
    {
        await using var server = new LoopbackTcpServer(async (s, _, ct) => await LoopbackTcpServer.ReadHeadAsync(s, ct));

        var result = await new HttpProbe(Http(new UrlCheck { Path = "/" }), Target(server.EndPoint), null, null, Sockets, Time).RunAsync(0, default);

        Assert.Equal(ProbeOutcome.Failure, result.Outcome);
        Assert.Contains("no HTTP response", result.Reason);
    }

    [Fact]
    public async Task Http_ServerSilent_TimeoutWithinConnectTimeout()
    {
        await using var server = new LoopbackTcpServer(async (_, _, ct) => await Task.Delay(Timeout.Infinite, ct));
        var sw = System.Diagnostics.Stopwatch.StartNew();

        var result = await new HttpProbe(Http(new UrlCheck { Path = "/" }), Target(server.EndPoint, 0.3), null, null, Sockets, Time).RunAsync(0, default);

        Assert.Equal(ProbeOutcome.Failure, result.Outcome);
        Assert.Contains("timeout", result.Reason);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Ssl_SniOnlyWhenEnabled_CertificateNotVerified()
    {
        using var cert = LoopbackTcpServer.SelfSigned();
        var sniSeen = new ConcurrentQueue<string>();
        var requests = new ConcurrentQueue<string>();
        await using var server = LoopbackTcpServer.Http(_ => LoopbackTcpServer.HttpResponse(200, "secure"), requests, async raw =>
        {
            var ssl = new SslStream(raw);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateSelectionCallback = (_, name) =>
                {
                    sniSeen.Enqueue(name ?? "");
                    return cert;
                },
            });
            return ssl;
        });
        var url = new UrlCheck { Path = "/", Digest = Convert.ToHexStringLower(MD5.HashData("secure"u8)) };

        var plain = await new HttpProbe(Http(url) with { UseSsl = true }, Target(server.EndPoint), null, null, Sockets, Time).RunAsync(0, default);
        var sni = await new HttpProbe(Http(url) with { UseSsl = true, EnableSni = true, SniName = "vigil.test" }, Target(server.EndPoint), null, null, Sockets, Time).RunAsync(0, default);

        Assert.True(plain.IsSuccess, plain.Reason);
        Assert.True(sni.IsSuccess, sni.Reason);
        Assert.Equal(["", "vigil.test"], sniSeen.ToArray());
    }

    [Fact]
    public async Task Ssl_CaConfigured_UntrustedCertificateFails()
    {
        using var cert = LoopbackTcpServer.SelfSigned();
        using var other = LoopbackTcpServer.SelfSigned();
        var ca = Path.GetTempFileName();
        await File.WriteAllTextAsync(ca, other.ExportCertificatePem());
        try
        {
            await using var server = LoopbackTcpServer.Http(_ => LoopbackTcpServer.HttpResponse(200, "x"), new(), async raw =>
            {
                var ssl = new SslStream(raw);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = cert });
                return ssl;
            });

            var result = await new HttpProbe(Http(new UrlCheck { Path = "/" }) with { UseSsl = true }, Target(server.EndPoint), null, new TlsSettings(CaFile: ca), Sockets, Time).RunAsync(0, default);

            Assert.Equal(ProbeOutcome.Failure, result.Outcome);
            Assert.Contains("SSL", result.Reason);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public async Task GenHash_DigestOfBodyWhateverTheStatus()
    {
        var body = string.Concat(Enumerable.Repeat("0123456789abcdef", 5000));
        await using var server = LoopbackTcpServer.Http(_ => LoopbackTcpServer.HttpResponse(500, body), new());

        var result = await GenHash.ComputeAsync(new GenHashRequest(IPAddress.Loopback, (ushort)server.EndPoint.Port, "/big"));

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body))), result.Digest);
        Assert.Equal(500, result.StatusCode);
        Assert.Equal(body.Length, result.BodyBytes);
    }

    [Fact]
    public async Task GenHash_ContentLengthShorterThanBody_HashesContentLengthBytes()
    {
        await using var server = LoopbackTcpServer.Http(_ => Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef"), new());

        var result = await GenHash.ComputeAsync(new GenHashRequest(IPAddress.Loopback, (ushort)server.EndPoint.Port, "/"));

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData("abc"u8)), result.Digest);
    }

    [Fact]
    public async Task GenHash_NoServer_ClearError()
    {
        var e = await Assert.ThrowsAsync<GenHashException>(() => GenHash.ComputeAsync(new GenHashRequest(IPAddress.Loopback, (ushort)ClosedPort().Port, "/")));
        Assert.Contains("refused", e.Message);
    }

    private static LoopbackTcpServer Smtp(string banner, ConcurrentQueue<string> lines, bool refuseEhlo = false) =>
        new(async (stream, _, ct) =>
        {
            var reader = new StreamReader(stream, Encoding.ASCII);
            async Task Say(string s) => await stream.WriteAsync(Encoding.ASCII.GetBytes(s + "\r\n"), ct);
            await Say(banner);
            var inData = false;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                lines.Enqueue(line);
                if (inData)
                {
                    if (line == ".")
                    {
                        inData = false;
                        await Say("250 queued");
                    }
                    continue;
                }
                if (line.StartsWith("EHLO", StringComparison.Ordinal)) await Say(refuseEhlo ? "502 no" : "250-hello\r\n250 8BITMIME");
                else if (line.StartsWith("HELO", StringComparison.Ordinal)) await Say("250 hello");
                else if (line == "DATA")
                {
                    inData = true;
                    await Say("354 go");
                }
                else if (line == "QUIT")
                {
                    await Say("221 bye");
                    return;
                }
                else await Say("250 ok");
            }
        });

    [Fact]
    public async Task SmtpCheck_BannerHeloQuit()
    {
        var lines = new ConcurrentQueue<string>();
        await using var good = Smtp("220 mail.vigil.test ESMTP", lines);
        await using var bad = Smtp("554 go away", new());

        var ok = await new SmtpProbe(Target(good.EndPoint), "checker.vigil.test", Sockets, Time).RunAsync(0, default);
        var refused = await new SmtpProbe(Target(bad.EndPoint), "x", Sockets, Time).RunAsync(0, default);

        Assert.True(ok.IsSuccess, ok.Reason);
        Assert.Equal(["HELO checker.vigil.test", "QUIT"], lines.ToArray());
        Assert.Equal(ProbeOutcome.Failure, refused.Outcome);
        Assert.StartsWith("Bad greeting banner from server [127.0.0.1]:", refused.Reason);
    }

    [Fact]
    public async Task SmtpAlertClient_FullDialogueWithDotStuffing()
    {
        var lines = new ConcurrentQueue<string>();
        await using var server = Smtp("220 relay", lines);
        var message = new MailMessage("Vigil <checkd@vigil.test>", ["ops@vigil.test", "oncall@vigil.test"], "[lb1] Virtualserver FWM 1 - UP", ".leading dot\nsecond", DateTimeOffset.Now);

        await new SmtpAlertClient(Sockets, Time).SendAsync(server.EndPoint, "lb1", message, TimeSpan.FromSeconds(5), default);

        var all = lines.ToArray();
        Assert.Equal("EHLO lb1", all[0]);
        Assert.Equal("MAIL FROM:<checkd@vigil.test>", all[1]);
        Assert.Equal("RCPT TO:<ops@vigil.test>", all[2]);
        Assert.Equal("RCPT TO:<oncall@vigil.test>", all[3]);
        Assert.Equal("DATA", all[4]);
        Assert.Contains("Subject: [lb1] Virtualserver FWM 1 - UP", all);
        Assert.Contains("..leading dot", all);
        Assert.Equal("QUIT", all[^1]);
    }

    [Fact]
    public async Task SmtpAlertClient_EhloRefused_FallsBackToHelo()
    {
        var lines = new ConcurrentQueue<string>();
        await using var server = Smtp("220 old", lines, refuseEhlo: true);

        await new SmtpAlertClient(Sockets, Time).SendAsync(server.EndPoint, "lb1", new MailMessage("a@b", ["c@d"], "s", "b", DateTimeOffset.Now), TimeSpan.FromSeconds(5), default);

        Assert.Equal(["EHLO lb1", "HELO lb1", "MAIL FROM:<a@b>"], lines.Take(3).ToArray());
    }

    private sealed class UdpResponder : IAsyncDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _run;

        public UdpResponder(Func<byte[], IEnumerable<byte[]>> reply)
        {
            _run = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var r = await _udp.ReceiveAsync(_stop.Token);
                        foreach (var answer in reply(r.Buffer)) await _udp.SendAsync(answer, r.RemoteEndPoint, _stop.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
        }

        public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run;
            _udp.Dispose();
        }
    }

    private static byte[] DnsAnswer(byte[] query, int rcode, ushort? id = null)
    {
        var answer = (byte[])query.Clone();
        if (id is ushort i)
        {
            answer[0] = (byte)(i >> 8);
            answer[1] = (byte)i;
        }
        answer[2] = 0x81;
        answer[3] = (byte)(0x80 | rcode);
        return answer;
    }

    [Fact]
    public async Task Dns_Rcode0_SuccessOtherRcode_FailureWrongIdIgnored()
    {
        var rcode = 0;
        await using var dns = new UdpResponder(q => [DnsAnswer(q, 0, id: 0xdead), DnsAnswer(q, rcode)]);
        var probe = new DnsProbe(Target(dns.EndPoint), new DnsCheckConfig { QueryType = DnsQueryType.A, Name = "www.vigil.test" }, Sockets, Time);

        var ok = await probe.RunAsync(0, default);
        rcode = 3;
        var nx = await probe.RunAsync(0, default);

        Assert.True(ok.IsSuccess, ok.Reason);
        Assert.Equal(ProbeOutcome.Failure, nx.Outcome);
        Assert.Contains("rcode 3", nx.Reason);
    }

    [Fact]
    public async Task Dns_MalformedAnswer_FailureNamingDefect()
    {
        await using var dns = new UdpResponder(q =>
        {
            var a = DnsAnswer(q, 0);
            a[7] = 1; // claims one answer that is not there
            return [a];
        });
        var probe = new DnsProbe(Target(dns.EndPoint), new DnsCheckConfig(), Sockets, Time);

        var result = await probe.RunAsync(0, default);

        Assert.Equal(ProbeOutcome.Failure, result.Outcome);
        Assert.Contains("malformed", result.Reason);
        Assert.Equal(1, probe.MalformedAnswers);
    }

    [Fact]
    public async Task Dns_NoAnswer_TimeoutFailure()
    {
        await using var dns = new UdpResponder(_ => []);

        var result = await new DnsProbe(Target(dns.EndPoint, 0.2), new DnsCheckConfig(), Sockets, Time).RunAsync(0, default);

        Assert.Contains("timeout", result.Reason);
    }

    [Fact]
    public async Task Udp_EchoRequireReply_SuccessClosedPort_Failure()
    {
        await using var echo = new UdpResponder(q => [q]);
        var config = new UdpCheckConfig { Payload = Encoding.ASCII.GetBytes("ping"), RequireReply = true, ReplyData = Encoding.ASCII.GetBytes("pi") };
        var closed = new UdpClient(0);
        var closedEp = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)closed.Client.LocalEndPoint!).Port);
        closed.Dispose();

        var ok = await new UdpProbe(Target(echo.EndPoint), config, Sockets, Time).RunAsync(0, default);
        var refused = await new UdpProbe(Target(closedEp, 1), new UdpCheckConfig(), Sockets, Time).RunAsync(0, default);
        var mismatch = await new UdpProbe(Target(echo.EndPoint), config with { ReplyData = Encoding.ASCII.GetBytes("xx") }, Sockets, Time).RunAsync(0, default);

        Assert.True(ok.IsSuccess, ok.Reason);
        Assert.Equal(ProbeOutcome.Failure, refused.Outcome);
        Assert.Contains("refused", refused.Reason);
        Assert.Equal(ProbeOutcome.Failure, mismatch.Outcome);
    }

    [Fact]
    public async Task Udp_SilentPeer_SuccessUnlessReplyRequired()
    {
        await using var silent = new UdpResponder(_ => []);

        var ok = await new UdpProbe(Target(silent.EndPoint, 0.2), new UdpCheckConfig(), Sockets, Time).RunAsync(0, default);
        var required = await new UdpProbe(Target(silent.EndPoint, 0.2), new UdpCheckConfig { RequireReply = true }, Sockets, Time).RunAsync(0, default);

        Assert.True(ok.IsSuccess);
        Assert.Equal(ProbeOutcome.Failure, required.Outcome);
    }

    [Fact]
    [Trait("Category", "Lab")] // a raw ICMP socket needs root (ping_group_range excludes it here)
    public async Task Ping_Loopback_EchoReply()
    {
        var result = await new PingProbe(Target(new IPEndPoint(IPAddress.Loopback, 0)), Sockets, Time).RunAsync(0, default);

        Assert.True(result.IsSuccess, result.Reason);
    }

    [Fact]
    public async Task Misc_ExitStatusDynamicAndTimeout()
    {
        var runner = new ScriptRunner(new ScriptRunnerOptions { TerminationGrace = TimeSpan.FromMilliseconds(300) });
        Task<ProbeResult> Run(string command, bool dynamic = false, double timeout = 5) =>
            new MiscProbe(ScriptCommand.Parse(command), dynamic, TimeSpan.FromSeconds(timeout), null, new Dictionary<string, string>(), runner, Time).RunAsync(0, default);

        Assert.True((await Run("/bin/true")).IsSuccess);
        var one = await Run("/bin/false");
        Assert.Equal(ProbeOutcome.Failure, one.Outcome);
        Assert.Equal(1, one.ExitStatus);
        var twelve = await Run("exit 12", dynamic: true);
        Assert.True(twelve.IsSuccess);
        Assert.Equal(12, twelve.ExitStatus);
        Assert.False((await Run("exit 12")).IsSuccess);
        var slow = await Run("/bin/sleep 10", timeout: 0.2);
        Assert.True(slow.TimedOut);
        Assert.Equal(ProbeOutcome.Failure, slow.Outcome);
    }

    [Fact]
    public async Task File_ValueMissingAndGarbage()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-file-{Guid.NewGuid():N}");
        var probe = new FileProbe(path, Time);
        Assert.Equal(0, (await probe.RunAsync(0, default)).Value);
        await File.WriteAllTextAsync(path, " 0x10\n");
        try
        {
            Assert.Equal(16, (await probe.RunAsync(0, default)).Value);
            await File.WriteAllTextAsync(path, "99999999999");
            Assert.Equal(ProbeOutcome.LocalError, (await probe.RunAsync(0, default)).Outcome);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
