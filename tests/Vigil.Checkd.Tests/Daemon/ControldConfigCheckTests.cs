using Vigil.Testing;

namespace Vigil.Checkd.Tests.Daemon;

/// <summary>`vigil-controld -t` on virtual server configurations: each mistake is reported with
/// file, line and column, and the exit status says whether it would run (keepalived's -t).</summary>
[Trait("Category", "Daemon")]
public sealed class ControldConfigCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-checks-t-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<CommandResult> CheckAsync(string text)
    {
        var file = Path.Combine(_dir, "keepalived.conf");
        await File.WriteAllTextAsync(file, text);
        return await Shell.RunAsync(RepoPaths.Program("vigil-controld"), ["-t", "-f", file], TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ConfigTest_BadVirtualServer_ErrorsWithFileLineAndColumn()
    {
        var r = await CheckAsync("""
            virtual_server 10.77.0.100 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                real_server 10.77.0.11 80 {
                    weight -3
                    HTTP_GET {
                        url {
                            path /index.html
                            digest xyz
                        }
                        connect_timeout abc
                    }
                }
                real_server 10.77.0.300 80 {
                    TCP_CHECK {
                    }
                }
            }
            """);
        var file = Path.Combine(_dir, "keepalived.conf");
        var all = r.Stdout + r.Stderr;
        Assert.Equal(5, r.ExitCode); // keepalived 2.2.7: errors, but it would run
        Assert.Contains($"{file}:7:16: error: Real server weight -3 is outside range 0-2147483647", all);
        Assert.Contains($"{file}:11:24: error: digest 'xyz' character length should be 32 rather than 3", all);
        Assert.Contains($"{file}:13:29: error: connect_timeout abc invalid - ignoring", all);
        Assert.Contains($"{file}:16:17: error: Invalid real server ip address/port 10.77.0.300/80 - skipping", all);
    }

    [Fact]
    public async Task ConfigTest_VirtualServerWithoutRealServers_ReportedAndIgnored()
    {
        var r = await CheckAsync("""
            virtual_server 10.77.0.100 80 {
                lb_algo rr
                lb_kind DR
                protocol TCP
            }
            """);
        Assert.Equal(5, r.ExitCode);
        Assert.Contains($"{Path.Combine(_dir, "keepalived.conf")}:1:", r.Stdout + r.Stderr);
        Assert.Contains("has no real servers - ignoring", r.Stdout + r.Stderr);
    }
}
