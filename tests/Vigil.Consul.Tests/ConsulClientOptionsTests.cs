namespace Vigil.Consul.Tests;

public sealed class ConsulClientOptionsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Theory]
    [InlineData("127.0.0.1:8500", false, "http://127.0.0.1:8500/")]
    [InlineData("consul.local:8501", true, "https://consul.local:8501/")]
    [InlineData("consul.local", false, "http://consul.local:8500/")]
    [InlineData("http://10.1.2.3:18500", false, "http://10.1.2.3:18500/")]
    [InlineData("https://10.1.2.3", false, "https://10.1.2.3:8500/")]
    [InlineData("[::1]:8500", false, "http://[::1]:8500/")]
    public void TryParseAddress_AcceptsConsulForms(string text, bool https, string expected)
    {
        Assert.True(ConsulClientOptions.TryParseAddress(text, https, out var uri, out var error), error);
        Assert.Equal(expected, uri.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("unix:///run/consul.sock")]
    [InlineData("http://h:8500/v1")]
    [InlineData("ftp://h:21")]
    [InlineData("h:notaport")]
    public void TryParseAddress_RefusesOthers(string text)
    {
        Assert.False(ConsulClientOptions.TryParseAddress(text, false, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void FromEnvironment_Empty_IsLocalAgent()
    {
        var o = ConsulClientOptions.FromEnvironment(Env());
        Assert.Equal("http://127.0.0.1:8500/", o.Address.ToString());
        Assert.Null(o.Token);
    }

    [Fact]
    public void FromEnvironment_ReadsConsulVariables()
    {
        var o = ConsulClientOptions.FromEnvironment(Env(("CONSUL_HTTP_ADDR", "agent:9500"), ("CONSUL_HTTP_SSL", "true"), ("CONSUL_HTTP_TOKEN", "tok"),
            ("CONSUL_CACERT", "/ca.pem"), ("CONSUL_CLIENT_CERT", "/c.pem"), ("CONSUL_CLIENT_KEY", "/k.pem"), ("CONSUL_TLS_SERVER_NAME", "server.dc1.consul")));
        Assert.Equal("https://agent:9500/", o.Address.ToString());
        Assert.Equal(("tok", "/ca.pem", "/c.pem", "/k.pem", "server.dc1.consul"), (o.Token, o.CaFile, o.CertFile, o.KeyFile, o.TlsServerName));
    }

    [Fact]
    public void FromEnvironment_ExplicitValuesWin()
    {
        var o = ConsulClientOptions.FromEnvironment(Env(("CONSUL_HTTP_ADDR", "agent:9500"), ("CONSUL_HTTP_TOKEN", "env")), address: "http://other:1", token: "mine", datacenter: "dc2");
        Assert.Equal(("http://other:1/", "mine", "dc2"), (o.Address.ToString(), o.Token, o.Datacenter));
    }

    [Fact]
    public void FromEnvironment_TokenFile()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "from-file\n");
        try
        {
            Assert.Equal("from-file", ConsulClientOptions.FromEnvironment(Env(("CONSUL_HTTP_TOKEN_FILE", file))).Token);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    [InlineData("2h", 7_200_000)]
    public void GoDuration_TryParse(string text, double ms)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), value);
    }

    [Theory]
    [InlineData("15")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("3d")]
    public void GoDuration_TryParse_Refuses(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void GoDuration_Format() =>
        Assert.Equal(["15s", "90s", "1500ms"], new[] { TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(1500) }.Select(GoDuration.Format));
}
