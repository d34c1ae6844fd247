using System.Text.Json;
using Vigil.Testing;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>`buf curl` (Go, from npm @bufbuild/buf) through server reflection, with no local .proto files.</summary>
[Trait("Category", "Conformance")]
public sealed class BufCurlConformanceTests
{
    private static Task<CommandResult> BufCurlAsync(string socket, params string[] args) =>
        Shell.RunAsync(RepoPaths.Buf, ["curl", "--unix-socket", socket, "--protocol", "grpc", "--http2-prior-knowledge", .. args], TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("grpc-v1")]
    [InlineData("grpc-v1alpha")]
    public async Task ListServices_ThroughReflection_ListsAll(string reflectProtocol)
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "--reflect-protocol", reflectProtocol, "--list-services", "http://localhost");
        Assert.True(r.Ok, r.Stderr);
        var services = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("vigil.testing.v1.EchoService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);
    }

    [Theory]
    [InlineData("grpc-v1")]
    [InlineData("grpc-v1alpha")]
    public async Task UnaryCall_ThroughReflection_Answers(string reflectProtocol)
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "--reflect-protocol", reflectProtocol, "-d", """{"message":"from buf","delay":"0.01s"}""",
            "http://localhost/vigil.testing.v1.EchoService/Echo");
        Assert.True(r.Ok, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("from buf", doc.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ListMethods_ThroughReflection_ShowsEveryMethod()
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "--list-methods", "http://localhost");
        Assert.True(r.Ok, r.Stderr);
        Assert.Contains("vigil.testing.v1.EchoService/Bidi", r.Stdout);
        Assert.Contains("grpc.health.v1.Health/Watch", r.Stdout);
    }

    [Fact]
    public async Task ServerStreamingCall_ThroughReflection_AllMessages()
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "-d", """{"count":3}""", "http://localhost/vigil.testing.v1.EchoService/ServerStream");
        Assert.True(r.Ok, r.Stderr);
        Assert.Contains("\"index\": 2", r.Stdout);
    }

    [Fact]
    public async Task ErrorStatus_ReportedByBuf()
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "-d", """{"failCode":5,"failMessage":"no such instance VI_9"}""",
            "http://localhost/vigil.testing.v1.EchoService/Echo");
        Assert.False(r.Ok);
        Assert.Contains("not_found", r.Stdout + r.Stderr);
        Assert.Contains("no such instance VI_9", r.Stdout + r.Stderr);
    }

    [Fact]
    public async Task HealthCheck_ThroughReflection_Serving()
    {
        await using var server = await TestServer.StartAsync();
        var r = await BufCurlAsync(server.SocketPath, "http://localhost/grpc.health.v1.Health/Check");
        Assert.True(r.Ok, r.Stderr);
        Assert.Contains("SERVING", r.Stdout);
    }
}
