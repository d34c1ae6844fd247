using System.Net;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Vigil.Check.V1;
using Vigil.Checkd.Api;
using Vigil.Checkd.Model;
using Vigil.Hosting;
using Model = Vigil.Checkd.Model;
using Proto = Vigil.Check.V1;

namespace Vigil.Checkd.Tests.Api;

/// <summary>vigil.check.v1 -> the engine's model: every field lands where it should, absent values
/// inherit, and bad input is refused with the field's path naming virtual and real server.</summary>
public sealed class ConfigMapperTests
{
    internal static Proto.VirtualServerKey Key(string address, uint port, Proto.Protocol protocol = Proto.Protocol.Tcp) =>
        new() { Endpoint = new Endpoint { Address = address, Port = port }, Protocol = protocol };

    internal static RealServerSpec Rs(string address, uint port, params CheckerSpec[] checkers)
    {
        var rs = new RealServerSpec { Endpoint = new Endpoint { Address = address, Port = port } };
        rs.Checkers.AddRange(checkers);
        return rs;
    }

    internal static VirtualServerSpec Vs(Proto.VirtualServerKey key, params RealServerSpec[] realServers)
    {
        var vs = new VirtualServerSpec { Key = key };
        vs.RealServers.AddRange(realServers);
        return vs;
    }

    internal static CheckConfig ConfigOf(params VirtualServerSpec[] virtualServers)
    {
        var c = new CheckConfig { Globals = new CheckGlobals { RouterId = "test" } };
        c.VirtualServers.AddRange(virtualServers);
        return c;
    }

    private static CheckerSpec Tcp() => new() { Tcp = new Proto.TcpCheck() };

    [Fact]
    public void ToModel_EveryCheckType_MapsEachField()
    {
        var http = new CheckerSpec
        {
            Timings = new CheckTimings { DelayLoop = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)), Retry = 4, Alpha = true, ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)) },
            LogAllFailures = true,
            Connection = new Proto.ConnectionOptions { ConnectIp = "10.0.0.9", ConnectPort = 8080, BindTo = "10.0.0.1", BindPort = 2000, BindInterface = "eth0", Fwmark = 7 },
            Http = new Proto.HttpCheck { Ssl = true, Protocol = Proto.HttpProtocol.Http11, Virtualhost = "www.example.com", EnableSni = true, SniName = "sni.example.com", FastRecovery = true },
        };
        var url = new Proto.UrlCheck { Path = "/health", Digest = "0123456789abcdef0123456789abcdef", Virtualhost = "u.example.com", Regex = "ok", RegexNoMatch = true, RegexMinOffset = 1, RegexMaxOffset = 9 };
        url.StatusCodes.Add(new Proto.StatusCodeRange { Min = 200, Max = 299 });
        url.StatusCodes.Add(new Proto.StatusCodeRange { Min = 404 });
        url.RegexOptions.Add("caseless");
        http.Http.Urls.Add(url);
        var udp = new CheckerSpec { Udp = new Proto.UdpCheck { Payload = ByteString.CopyFrom(1, 2), RequireReply = true, ReplyData = ByteString.CopyFrom(3), ReplyMask = ByteString.CopyFrom(0xf0), MinReplyLength = 1, MaxReplyLength = 100 } };
        var config = ConfigOf(Vs(Key("192.0.2.1", 443),
            Rs("10.0.0.2", 443, http, udp,
                new CheckerSpec { Smtp = new Proto.SmtpCheck() },
                new CheckerSpec { Dns = new Proto.DnsCheck { Type = Proto.DnsQueryType.Aaaa, Name = "example.com" } },
                new CheckerSpec { Misc = new Proto.MiscCheck { Path = "/bin/true", Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(4)), Dynamic = true, User = "nobody:nogroup" } },
                new CheckerSpec { Ping = new Proto.PingCheck() },
                new CheckerSpec { File = new Proto.FileCheck { TrackFile = "tf", Path = "/run/x", Weight = -2, Reverse = true } })));

        var rs = Assert.Single(Assert.Single(ConfigMapper.ToModel(config).VirtualServers).RealServers);

        var h = Assert.IsType<HttpCheckConfig>(rs.Checkers[0]);
        Assert.Equal(Model.CheckType.Ssl, h.Type);
        Assert.Equal(HttpProtocolVersion.Http11, h.Protocol);
        Assert.Equal(("www.example.com", true, "sni.example.com", true), (h.Virtualhost, h.EnableSni, h.SniName, h.FastRecovery));
        Assert.Equal((TimeSpan.FromSeconds(2), 4, true, true), (h.DelayLoop, h.Retry, h.Alpha, h.LogAllFailures));
        Assert.Null(h.Warmup);
        Assert.Equal(IPAddress.Parse("10.0.0.9"), h.Connection.ConnectIp);
        Assert.Equal((ushort?)8080, h.Connection.ConnectPort);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), h.Connection.BindTo);
        Assert.Equal((ushort?)2000, h.Connection.BindPort);
        Assert.Equal(("eth0", (uint?)7, (TimeSpan?)TimeSpan.FromSeconds(3)), (h.Connection.BindInterface, h.Connection.Fwmark, h.Connection.ConnectTimeout));
        var u = Assert.Single(h.Urls);
        Assert.Equal(("/health", "0123456789abcdef0123456789abcdef", "u.example.com", "ok", true, (int?)1, (int?)9), (u.Path, u.Digest, u.Virtualhost, u.Regex, u.RegexNoMatch, u.RegexMinOffset, u.RegexMaxOffset));
        Assert.Equal([new Model.StatusCodeRange(200, 299), new Model.StatusCodeRange(404, 404)], u.StatusCodes.ToArray());
        Assert.Equal(["caseless"], u.RegexOptions.ToArray());

        var d = Assert.IsType<UdpCheckConfig>(rs.Checkers[1]);
        Assert.Equal(new byte[] { 1, 2 }, d.Payload.ToArray());
        Assert.Equal((true, 1, 100), (d.RequireReply, d.MinReplyLength, d.MaxReplyLength));
        Assert.Equal(new byte[] { 3 }, d.ReplyData.ToArray());
        Assert.Equal(new byte[] { 0xf0 }, d.ReplyMask.ToArray());
        Assert.Equal(SmtpCheckConfig.DefaultHeloName, Assert.IsType<SmtpCheckConfig>(rs.Checkers[2]).HeloName);
        var dns = Assert.IsType<DnsCheckConfig>(rs.Checkers[3]);
        Assert.Equal((Model.DnsQueryType.AAAA, "example.com"), (dns.QueryType, dns.Name));
        var misc = Assert.IsType<MiscCheckConfig>(rs.Checkers[4]);
        Assert.Equal(("/bin/true", (TimeSpan?)TimeSpan.FromSeconds(4), true, "nobody", "nogroup"), (misc.Path, misc.Timeout, misc.Dynamic, misc.User!.Name, misc.User.Group));
        Assert.IsType<PingCheckConfig>(rs.Checkers[5]);
        var file = Assert.IsType<FileCheckConfig>(rs.Checkers[6]);
        Assert.Equal(("tf", "/run/x", -2, true), (file.TrackFileName, file.Path, file.Weight, file.Reverse));
    }

    [Fact]
    public void ToModel_AbsentValues_KeepalivedDefaultsAndInheritance()
    {
        var model = ConfigMapper.ToModel(ConfigOf(Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, Tcp()))));
        var vs = Assert.Single(model.VirtualServers);
        Assert.Equal(Model.VirtualServerKey.ForAddress(IPAddress.Parse("192.0.2.1"), 80), vs.Key);
        Assert.Equal((TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), 1u, 0u, 1, false), (vs.DelayLoop, vs.ConnectTimeout, vs.Quorum, vs.Hysteresis, vs.DefaultWeight, vs.Alpha));
        Assert.Null(vs.SmtpAlert);
        var rs = Assert.Single(vs.RealServers);
        Assert.Equal((null, null, null, null), (rs.Weight, rs.InhibitOnFailure, rs.SmtpAlert, rs.Alpha));
        var tcp = Assert.IsType<TcpCheckConfig>(Assert.Single(rs.Checkers));
        Assert.Equal((null, null, null, null), (tcp.DelayLoop, tcp.Retry, tcp.Connection.ConnectIp, tcp.Connection.ConnectTimeout));
        Assert.Equal(TimeSpan.FromSeconds(30), model.Globals.Alerts.ConnectTimeout);
        Assert.Null(model.Globals.Alerts.Server);
    }

    [Fact]
    public void ToModel_PresenceMatters_ZeroWeightAndQuorumKept()
    {
        var vs = Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, Tcp()));
        vs.Quorum = 0;
        vs.DefaultWeight = 0;
        vs.RealServers[0].Weight = 0;
        vs.RealServers[0].InhibitOnFailure = false;
        var m = Assert.Single(ConfigMapper.ToModel(ConfigOf(vs)).VirtualServers);
        Assert.Equal((0u, 0), (m.Quorum, m.DefaultWeight));
        Assert.Equal(0, m.RealServers[0].Weight);
        Assert.False(m.RealServers[0].InhibitOnFailure);
    }

    [Fact]
    public void ToModel_FwmarkAndGroupKeys_KeepalivedNames()
    {
        var model = ConfigMapper.ToModel(ConfigOf(
            Vs(new Proto.VirtualServerKey { Fwmark = 5 }, Rs("10.0.0.2", 0, Tcp())),
            Vs(new Proto.VirtualServerKey { Group = "web", Protocol = Proto.Protocol.Udp }, Rs("10.0.0.2", 53, Tcp()))));
        Assert.Equal(["FWM 5", "[web]:udp"], model.VirtualServers.Select(v => v.Key.ToString()).ToArray());
    }

    [Fact]
    public void ToModel_BadRealServerAddress_InvalidArgumentNamesVirtualServerRealServerAndField()
    {
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(ConfigOf(Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, Tcp()), Rs("10.0.0.300", 80, Tcp())))));
        Assert.Equal("config.virtual_servers[[192.0.2.1]:tcp:80].real_servers[1].endpoint.address", e.Field);
        Assert.Contains("'10.0.0.300' is not an IPv4 or IPv6 address", e.Message);
    }

    [Fact]
    public void ToModel_SeveralProblems_AllListedFirstOneIsTheField()
    {
        var checker = new CheckerSpec { Connection = new Proto.ConnectionOptions { BindPort = 70000 }, Http = new Proto.HttpCheck() };
        checker.Http.Urls.Add(new Proto.UrlCheck { Path = "/", StatusCodes = { new Proto.StatusCodeRange { Min = 99 } } });
        var vs = Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, checker, new CheckerSpec()));
        vs.RealServers[0].Weight = -1;
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(ConfigOf(vs)));
        Assert.Equal("config.virtual_servers[[192.0.2.1]:tcp:80].real_servers[10.0.0.2:80].checkers[0].http.urls[0].status_codes[0]", e.Field);
        Assert.Contains("and 3 more", e.Message);
        Assert.Contains("real_servers[10.0.0.2:80].checkers[0].connection.bind_port: port 70000 is outside 1..65535", e.Message);
        Assert.Contains("real_servers[10.0.0.2:80].checkers[1].check: one of tcp, http", e.Message);
        Assert.Contains("real_servers[10.0.0.2:80].weight: weight -1 is outside", e.Message);
    }

    [Theory]
    [InlineData("key")]
    [InlineData("fwmark")]
    [InlineData("group")]
    [InlineData("protocol")]
    public void ToModel_BadKey_Refused(string what)
    {
        var key = what switch
        {
            "key" => null,
            "fwmark" => new Proto.VirtualServerKey { Fwmark = 0 },
            "group" => new Proto.VirtualServerKey { Group = " " },
            _ => new Proto.VirtualServerKey { Endpoint = new Endpoint { Address = "192.0.2.1", Port = 80 }, Protocol = (Proto.Protocol)42 },
        };
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(ConfigOf(Vs(key!, Rs("10.0.0.2", 80, Tcp())))));
        Assert.StartsWith("config.virtual_servers[0].key", e.Field);
    }

    [Fact]
    public void ToModel_ConnectionOnMiscCheck_Refused()
    {
        var misc = new CheckerSpec { Misc = new Proto.MiscCheck { Path = "/bin/true" }, Connection = new Proto.ConnectionOptions { ConnectPort = 80 } };
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(ConfigOf(Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, misc)))));
        Assert.EndsWith("checkers[0].connection", e.Field);
        Assert.Contains("MISC_CHECK opens no connection", e.Message);
    }

    [Theory]
    [InlineData("10.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("host.example.com")]
    [InlineData("")]
    public void ToKey_BadAddress_Refused(string address)
    {
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToKey(Key(address, 80), "key"));
        Assert.Equal("key.endpoint.address", e.Field);
    }

    [Fact]
    public void ToModel_NegativeDuration_Refused()
    {
        var vs = Vs(Key("192.0.2.1", 80), Rs("10.0.0.2", 80, Tcp()));
        vs.Timings = new CheckTimings { DelayLoop = new Duration { Seconds = -1 } };
        var e = Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(ConfigOf(vs)));
        Assert.Equal("config.virtual_servers[[192.0.2.1]:tcp:80].timings.delay_loop", e.Field);
    }

    [Fact]
    public void ToModel_MissingConfig_Refused() =>
        Assert.Equal("config", Assert.Throws<InvalidArgumentException>(() => ConfigMapper.ToModel(null)).Field);

    [Fact]
    public void KeyRoundTrip_ModelToProtoAndBack_Equal()
    {
        foreach (var key in new[]
        {
            Model.VirtualServerKey.ForAddress(IPAddress.Parse("fd00::1"), 443, ServiceProtocol.Sctp),
            Model.VirtualServerKey.ForFwmark(9),
            Model.VirtualServerKey.ForGroup("g", ServiceProtocol.Udp),
        })
        {
            Assert.Equal(key, ConfigMapper.ToKey(StatusMapper.ToProto(key), "key"));
        }
    }
}
