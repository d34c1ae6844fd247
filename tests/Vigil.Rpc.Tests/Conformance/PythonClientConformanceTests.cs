using Vigil.Testing;

namespace Vigil.Rpc.Tests.Conformance;

/// <summary>Debian's python3-grpcio (the gRPC C core) as a client of Vigil's server.</summary>
[Trait("Category", "Conformance")]
public sealed class PythonClientConformanceTests
{
    [Theory]
    [InlineData("unary")]
    [InlineData("unary_error")]
    [InlineData("server_stream")]
    [InlineData("server_stream_error")]
    [InlineData("client_stream")]
    [InlineData("bidi")]
    [InlineData("timeout_header")]
    [InlineData("deadline")]
    [InlineData("cancel")]
    [InlineData("metadata")]
    [InlineData("oversize")]
    [InlineData("gzip")]
    [InlineData("unimplemented")]
    [InlineData("health")]
    [InlineData("reflection")]
    public async Task PythonClient_Case_Passes(string testCase)
    {
        await using var server = await TestServer.StartAsync();
        var r = await PythonPeer.RunClientCaseAsync(server.SocketPath, testCase);
        Assert.True(r.Ok, $"{testCase}: {r.Stdout}\n{r.Stderr}");
        Assert.Contains("PASS " + testCase, r.Stdout);
    }
}
