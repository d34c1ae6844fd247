using System.Text.Json;

namespace Vigil.Ipvsd.Tests.Vm;

/// <summary>
/// vigil-ipvsd against the kernel's IPVS in a VM, judged by ipvsadm, with keepalived's table for
/// the same configuration as the reference (see <see cref="IpvsdVmFixture"/>).
/// </summary>
[Trait("Category", "Vm")]
[Collection(IpvsVmCollection.Name)]
public sealed class IpvsdVmTests(IpvsdVmFixture vm) : IClassFixture<IpvsdVmFixture>
{
    private static List<string> CaseNames() =>
        IpvsdVmFixture.CorpusFiles().Where(f => IpvsdVmFixture.LvsOnly(f) is not null).Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList();

    public static TheoryData<string> Cases() => new(CaseNames());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_VigilProgramsWhatKeepalivedPrograms(string name)
    {
        var keepalived = vm.Result(name + ".keepalived");
        var vigil = vm.Result(name + ".vigil");
        Assert.True(keepalived == vigil, $"ipvsadm -Sn differs for {name}\n--- keepalived\n{keepalived}--- vigil\n{vigil}--- vigil log\n{vm.Result(name + ".vigil.log")}\n--- config\n{vm.Cases[name]}");
        Assert.Equal(vm.Result(name + ".keepalived.timeout"), vm.Result(name + ".vigil.timeout"));
        // The same table reached by a failing loop would hide a bug: every pass must succeed.
        Assert.True(Counter(vm.Result(name + ".json"), "reconcile_failures") == 0, vm.Result(name + ".vigil.log"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_StopRemovesTheServices_AsKeepalived(string name)
    {
        Assert.Equal(vm.Result(name + ".keepalived.after"), vm.Result(name + ".vigil.after"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_VigilctlLvs_PrintsWhatIpvsadmPrints(string name)
    {
        Assert.Equal(vm.Result(name + ".ipvsadm-Ln"), vm.Result(name + ".vigilctl"));
        Assert.Equal(vm.Result(name + ".ipvsadm-stats"), vm.Result(name + ".vigilctl-stats"));
    }

    [Fact]
    public void Corpus_KeepalivedProgramsSomething_InMostCases()
    {
        // Guards the comparison itself: two empty tables would compare equal.
        var names = CaseNames();
        var nonEmpty = names.Count(n => vm.Result(n + ".keepalived").Trim().Length > 0);
        Assert.True(nonEmpty >= names.Count - 2, $"only {nonEmpty} of {names.Count} cases programmed anything");
    }

    private static ulong Counter(string json, string name) =>
        JsonDocument.Parse(json).RootElement.GetProperty("counters").TryGetProperty(name, out var v) ? ulong.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0;

    [Fact]
    public void OutOfBandEdits_PutBack_ThenNoNetlinkWritesWhileNothingChanges()
    {
        var before = vm.Result("oob.before");
        Assert.Contains("-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 3", before);
        // The foreign service added by hand stays (Vigil does not own it); its own are put back.
        var expected = before.Split('\n', StringSplitOptions.RemoveEmptyEntries).Append("-A -t 10.0.0.1:81 -s rr").Order(StringComparer.Ordinal);
        Assert.Equal(expected, vm.Result("oob.after").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var (j0, j1, j2) = (vm.Result("oob.json0"), vm.Result("oob.json1"), vm.Result("oob.json2"));
        Assert.Equal(1ul, Counter(j1, "out_of_band_repairs"));
        Assert.Equal(Counter(j0, "kernel_writes") + 2, Counter(j1, "kernel_writes"));
        Assert.Equal(Counter(j1, "kernel_writes"), Counter(j2, "kernel_writes"));
        Assert.True(Counter(j2, "reconciles") >= Counter(j1, "reconciles") + 2, $"reconciles {Counter(j1, "reconciles")} -> {Counter(j2, "reconciles")}");
        Assert.Equal("-A -t 10.0.0.1:81 -s rr\n", vm.Result("oob.stopped"));
    }

    [Fact]
    public void SyncDaemon_BackupThenMasterWithTheInstance_AsKeepalived()
    {
        Assert.Contains("backup sync daemon (mcast=v0, syncid=9", vm.Result("sync.keepalived.early"));
        Assert.DoesNotContain("master", vm.Result("sync.keepalived.early"));
        Assert.Contains("master sync daemon (mcast=v0, syncid=9", vm.Result("sync.keepalived.master"));
        Assert.Equal(vm.Result("sync.keepalived.early"), vm.Result("sync.vigil.early"));
        Assert.Equal(vm.Result("sync.keepalived.master"), vm.Result("sync.vigil.master"));
        Assert.Equal(vm.Result("sync.keepalived.stopped"), vm.Result("sync.vigil.stopped"));
    }
}
