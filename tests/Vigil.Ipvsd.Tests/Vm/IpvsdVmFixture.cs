using System.Text;
using Vigil.Config;
using Vigil.Config.Model;
using Vigil.Config.Output;
using Vigil.Testing;

namespace Vigil.Ipvsd.Tests.Vm;

/// <summary>
/// One QEMU VM with Debian's kernel (IPVS) for every ipvsd VM test: the host prepares the cases,
/// <c>Vm/ipvsd-vm-cases.sh</c> runs them inside the VM with the host's keepalived, ipvsadm and
/// out/ programs, and writes what ipvsadm saw to the shared directory, read back here.
/// Each corpus configuration is run by keepalived and then by Vigil (checkers only, -C), and
/// `ipvsadm -Sn` of the two must be the same table: keepalived is the judge of what a
/// virtual_server means, ipvsadm of what reached the kernel.
/// </summary>
public sealed class IpvsdVmFixture : IAsyncLifetime
{
    public string? BootError { get; private set; }

    /// <summary>The corpus cases: name -> the configuration text run.</summary>
    public SortedDictionary<string, string> Cases { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        var outDir = Directory.CreateTempSubdirectory("vigil-ipvsd-vm-");
        try
        {
            var cases = Path.Combine(outDir.FullName, "cases");
            Directory.CreateDirectory(cases);
            foreach (var file in CorpusFiles())
            {
                var text = LvsOnly(file);
                if (text is null) continue;
                var name = Path.GetFileNameWithoutExtension(file);
                Cases[name] = text;
                await File.WriteAllTextAsync(Path.Combine(cases, name + ".conf"), text);
            }
            await File.WriteAllTextAsync(Path.Combine(outDir.FullName, "oob.conf"), OutOfBandConf);
            await File.WriteAllTextAsync(Path.Combine(outDir.FullName, "sync.conf"), SyncConf);
            var baseDir = AppContext.BaseDirectory.TrimEnd('/');
            File.Copy(Path.Combine(baseDir, "Vm", "ipvsd-vm-cases.sh"), Path.Combine(outDir.FullName, "run.sh"));
            await File.WriteAllTextAsync(Path.Combine(outDir.FullName, "env.sh"), $"OUT='{RepoPaths.Out}'\n");
            // ipvs-vm.sh's default limit (10 min) is for one scenario; the corpus runs twice.
            Environment.SetEnvironmentVariable("VIGIL_VM_TIMEOUT", "1200");
            var r = await Shell.RunAsync("/bin/bash", [Path.Combine(baseDir, "Vm", "ipvs-vm.sh"), outDir.FullName, "run.sh"], TimeSpan.FromMinutes(21));
            foreach (var f in Directory.EnumerateFiles(Path.Combine(outDir.FullName), "*", SearchOption.AllDirectories))
            {
                Files[Path.GetRelativePath(outDir.FullName, f)] = await File.ReadAllTextAsync(f);
            }
            if (r.ExitCode != 0 || !Files.ContainsKey("results/done"))
            {
                BootError = $"the VM script did not finish (exit {r.ExitCode}): {r.Stderr.Trim()}\n"
                    + string.Join('\n', (Files.GetValueOrDefault("console.log") ?? "no console log").Split('\n').TakeLast(60));
            }
        }
        finally
        {
            outDir.Delete(recursive: true);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Two real servers without checkers (always up); ipvsd reconciles every 5 s.</summary>
    public const string OutOfBandConf = """
        virtual_server 10.0.0.1 80 {
            lb_algo wrr
            lb_kind NAT
            protocol TCP
            real_server 10.0.1.2 80 { weight 3 }
            real_server 10.0.1.3 80 { weight 1 }
        }
        """;

    /// <summary>A VRRP instance alone on its link: BACKUP for 3 advertisements and the skew, then MASTER.</summary>
    public const string SyncConf = """
        global_defs {
            lvs_sync_daemon v0 VI_1 id 9
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface v0
            virtual_router_id 9
            priority 100
            advert_int 1
            virtual_ipaddress {
                10.0.0.100/24
            }
        }
        virtual_server 10.0.0.100 80 {
            lb_algo rr
            lb_kind NAT
            protocol TCP
            real_server 10.0.1.2 80 { }
        }
        """;

    public string Result(string name)
    {
        Assert.True(BootError is null, BootError);
        Assert.True(Files.TryGetValue("results/" + name, out var text), $"no result {name}; have: {string.Join(", ", Files.Keys.Where(k => k.StartsWith("results/", StringComparison.Ordinal)))}\n{Files.GetValueOrDefault("results/log")}");
        return text!;
    }

    /// <summary>Every configuration of the corpus, scenarios and seeds that has a virtual_server.</summary>
    public static IEnumerable<string> CorpusFiles() =>
        new[] { "corpus", "scenarios", "seeds" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "tests", "Config", d), "*.conf"))
            .Where(f => File.ReadAllText(f).Contains("virtual_server", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// The LVS part of a configuration, as keepalived.conf: no VRRP (no interfaces needed in the
    /// VM) and no checkers, so every real server is up from the start in keepalived and in Vigil
    /// alike and the two tables can be compared at any moment.
    /// </summary>
    public static string? LvsOnly(string file)
    {
        var result = ConfigLoader.Load(file);
        if (result.Config is not { } config || config.VirtualServers.IsEmpty) return null;
        config = config with
        {
            Instances = default,
            SyncGroups = default,
            VrrpScripts = default,
            TrackFiles = default,
            TrackProcesses = default,
            BfdInstances = default,
            StaticAddresses = default,
            StaticRoutes = default,
            StaticRules = default,
            Global = config.Global with { LvsSyncDaemon = null },
            VirtualServers = config.VirtualServers.Select(v => v with
            {
                QuorumUp = null,
                QuorumDown = null,
                RealServers = v.RealServers.Select(r => r with { Checkers = default, NotifyUp = null, NotifyDown = null }).ToEquatableArray(),
            }).ToEquatableArray(),
        };
        var text = new StringBuilder("# from ").Append(Path.GetFileName(file)).Append('\n').Append(ConfigWriter.Write(config));
        return text.ToString();
    }
}
