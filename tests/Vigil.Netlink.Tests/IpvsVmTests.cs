using System.Diagnostics;
using System.Text.RegularExpressions;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Netlink.Tests;

/// <summary>
/// The <see cref="IpvsVm"/> harness itself: kernel IPVS driven by the host's ipvsadm in a VM,
/// the script's exact output and status back, and the per-run share. (Vm/IpvsVmTests.cs is the
/// Vigil.Netlink scenario, with its own script.)
/// </summary>
[Trait("Category", "Vm")]
public sealed partial class IpvsVmHarnessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private async Task<VmResult> RunAsync(string script, Func<string, Task>? populateShare = null)
    {
        var clock = Stopwatch.StartNew();
        var vm = await IpvsVm.GetAsync();
        var prepared = clock.Elapsed;
        var r = await vm.RunAsync(script, Timeout, populateShare);
        output.WriteLine($"kernel {vm.KernelVersion}; prepare {prepared.TotalSeconds:0.00} s, boot {r.BootTime.TotalSeconds:0.00} s, VM total {r.Elapsed.TotalSeconds:0.00} s, exit {r.ExitCode}");
        output.WriteLine(r.Output);
        return r;
    }

    [Fact]
    public async Task Ipvsadm_AddServiceAndMasqServer_ListedByKernel()
    {
        var r = await RunAsync("""
            set -e
            ipvsadm -A -t 10.0.0.1:80 -s rr
            ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 3
            ipvsadm -Ln
            """);
        r.EnsureOk();
        Assert.Contains("TCP  10.0.0.1:80 rr", r.Output, StringComparison.Ordinal);
        Assert.Contains("-> 10.0.0.2:80 Masq 3", Spaces().Replace(r.Output, " "), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ipvsadm_StartSyncDaemon_ListedByKernel()
    {
        var r = await RunAsync("""
            set -e
            ipvsadm --start-daemon master --mcast-interface lo --syncid 7
            ipvsadm -L --daemon
            """);
        r.EnsureOk();
        // ipvsadm 1.31 goes on with maxlen, group, port and ttl after the syncid.
        Assert.StartsWith("master sync daemon (mcast=lo, syncid=7,", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TwoAtOnce_EachGetsItsShareExactOutputAndStatus()
    {
        async Task<VmResult> One(string word, int status) => await RunAsync(
            $"cat \"$VM_SHARE/word\"; echo >&2 to-stderr; touch /tmp/w /run/w; ip -o link show lo | grep -c LOOPBACK,UP; printf 'no newline'; exit {status}",
            share => File.WriteAllTextAsync(Path.Combine(share, "word"), word + "\n"));
        var both = await Task.WhenAll(One("alpha", 3), One("beta", 0));
        Assert.Equal((3, "alpha\nto-stderr\n1\nno newline"), (both[0].ExitCode, both[0].Output));
        Assert.Equal((0, "beta\nto-stderr\n1\nno newline"), (both[1].ExitCode, both[1].Output));
    }

    [GeneratedRegex(" +")]
    private static partial Regex Spaces();
}
