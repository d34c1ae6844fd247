using Vigil.Testing;

namespace Vigil.Netlink.Tests.Vm;

/// <summary>
/// Boots Debian's kernel (IPVS, ipvlan) under QEMU once (Vm/ipvs-vm.sh, after
/// /work/shared/recipes/ipvs-vm.md) and runs <see cref="VmScenario"/> inside it from this very
/// build output; each check of the scenario is one test here.
/// </summary>
public sealed class IpvsVmFixture : IAsyncLifetime
{
    public Dictionary<string, string> Results { get; } = [];
    public string? BootError { get; private set; }

    public async Task InitializeAsync()
    {
        var outDir = Directory.CreateTempSubdirectory("vigil-netlink-vm-");
        try
        {
            var baseDir = AppContext.BaseDirectory.TrimEnd('/');
            var dotnet = Environment.ProcessPath is string p && Path.GetFileName(p) == "dotnet" ? p : Shell.Require("dotnet");
            await File.WriteAllTextAsync(Path.Combine(outDir.FullName, "run.sh"),
                $"cd '{baseDir}' && '{dotnet}' exec Vigil.Netlink.Tests.dll vm-scenario /tmp/out/results.txt\n");
            var r = await Shell.RunAsync("/bin/bash", [Path.Combine(baseDir, "Vm", "ipvs-vm.sh"), outDir.FullName, "run.sh"], TimeSpan.FromMinutes(12));
            var resultsFile = Path.Combine(outDir.FullName, "results.txt");
            if (File.Exists(resultsFile))
            {
                foreach (var line in await File.ReadAllLinesAsync(resultsFile))
                {
                    var space = line.IndexOf(' ');
                    var rest = line[(space + 1)..];
                    var name = rest.Split(':')[0];
                    Results[name] = line;
                }
            }
            if (Results.Count == 0)
            {
                var console = Path.Combine(outDir.FullName, "console.log");
                BootError = $"the VM scenario produced no results (exit {r.ExitCode}): {r.Stderr.Trim()}\n" +
                    (File.Exists(console) ? string.Join('\n', (await File.ReadAllLinesAsync(console)).TakeLast(40)) : "no console log");
            }
        }
        finally
        {
            outDir.Delete(recursive: true);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[Trait("Category", "Vm")]
public sealed class IpvsVmTests(IpvsVmFixture vm) : IClassFixture<IpvsVmFixture>
{
    private void AssertPassed(string check)
    {
        Assert.True(vm.BootError is null, vm.BootError);
        Assert.True(vm.Results.TryGetValue(check, out var line), $"check {check} did not run; results: {string.Join(" | ", vm.Results.Values)}");
        Assert.True(line.StartsWith("PASS ", StringComparison.Ordinal), line);
    }

    [Fact] public void Ipvs_OpenAndInfo_MatchesIpvsadm() => AssertPassed("ipvs-open-and-info");
    [Fact] public void Ipvs_AddServicesAndServers_IpvsadmSavesExactlyThem() => AssertPassed("services-add-as-ipvsadm-saves-them");
    [Fact] public void Ipvs_ListServicesAndServers_AsAdded() => AssertPassed("services-list-as-added");
    [Fact] public void Ipvs_UpdateServiceAndServer_IpvsadmSeesIt() => AssertPassed("service-and-destination-update");
    [Fact] public void Ipvs_KernelErrors_NameCommandAndReason() => AssertPassed("errors-name-the-command-and-reason");
    [Fact] public void Ipvs_Stats_CountRealTrafficAsIpvsadm() => AssertPassed("stats-count-real-traffic");
    [Fact] public void Ipvs_Timeouts_SetAndGet() => AssertPassed("timeouts-set-get");
    [Fact] public void Ipvs_SyncDaemons_StartListStop() => AssertPassed("sync-daemons");
    [Fact] public void Ipvs_DeleteAndFlush_TableEmpty() => AssertPassed("delete-and-flush");
    [Fact] public void Ipvlan_Create_IpShowsModeAndFlags() => AssertPassed("ipvlan-create-as-ip-shows-it");
}
