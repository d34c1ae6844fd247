using Vigil.Testing;
using Xunit.Abstractions;
using static Vigil.Checkd.Tests.Lab.ControldChecksLab;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>
/// Health timing as a new user writes it (keepalived.conf through controld, no warmup line):
/// delay_loop 1, connect_timeout 1, retry 2, delay_before_retry 1. keepalived reports the real
/// server down about retry x delay_before_retry + one delay_loop after its HTTP server stops.
/// </summary>
[Trait("Category", "Lab")]
public sealed class HealthTimingLabTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ControldChecksLab _lab = null!;

    public async Task InitializeAsync() => _lab = await ControldChecksLab.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_lab.Controld is { } c) output.WriteLine(c.Output);
        await _lab.DisposeAsync();
    }

    [Theory]
    [InlineData("stopped", 1.9, 5.0)]
    // Frozen (SIGSTOP): connections are accepted and nothing answers, so each of the 3 attempts
    // lasts connect_timeout: 3 x 1 s + 2 x delay_before_retry + at most one delay_loop.
    [InlineData("frozen", 4.9, 8.0)]
    public async Task HttpGet_ServerDown_DownAfterRetriesDelayBeforeRetryApart(string how, double minSeconds, double maxSeconds)
    {
        await _lab.StartControldAsync($$"""
            virtual_server {{Vip}} 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server {{Web1}} 80 {
                    weight 1
                    HTTP_GET {
                        url {
                            path /index.html
                            status_code 200
                        }
                        connect_timeout 1
                        retry 2
                        delay_before_retry 1
                    }
                }
            }
            """);
        // Up and checked: before its first result a checker counts as up, and one failure is enough.
        await Poll.UntilAsync(async () =>
        {
            using var doc = await _lab.ChecksJsonAsync();
            return doc is not null && RealServer(doc, 80, Web1, 80)?.GetProperty("lastResult").GetProperty("outcome").GetString() == "CHECK_OUTCOME_SUCCESS"
                && await _lab.HealthAsync(80, Web1, 80) == "HEALTH_UP";
        }, TimeSpan.FromSeconds(20), "web1 checked up", () => Task.FromResult(_lab.Diagnostics()));
        var stopped = DateTime.UtcNow;
        if (how == "stopped") await _lab.StopWebAsync(Web1);
        else await _lab.SignalWebAsync(Web1, "STOP");
        TimeSpan took;
        try
        {
            await Poll.UntilAsync(async () => await _lab.HealthAsync(80, Web1, 80) == "HEALTH_DOWN", TimeSpan.FromSeconds(30), "web1 down",
                () => Task.FromResult(_lab.Diagnostics()));
            took = DateTime.UtcNow - stopped;
        }
        finally
        {
            if (how == "frozen") await _lab.SignalWebAsync(Web1, "CONT");
        }
        output.WriteLine($"down after {took.TotalSeconds:0.00} s");
        output.WriteLine((await _lab.VigilctlAsync("checks")).Stdout);
        // stopped: 2 x delay_before_retry + at most one delay_loop before the first failure, plus slack.
        Assert.InRange(took, TimeSpan.FromSeconds(minSeconds), TimeSpan.FromSeconds(maxSeconds));
    }
}
