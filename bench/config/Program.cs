using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Vigil.Config;
using Vigil.Config.Diagnostics;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

// vigil-bench-config: parse + validate a generated keepalived.conf of 1,000 vrrp_instances and
// 2,000 virtual_servers with 10 real_servers each, several times; report median time and
// allocations per run, next to baselines measured in the same run on the same file: the reader
// alone (lines, comments, definitions, tokens), the reader plus the keyword tree, and
// keepalived -t.
//
//   dotnet run -c Release --project bench/config -- [--iterations 15] [--keepalived-runs 5]
//       [--netns NS] [--out bench/results/config.md]
//   dotnet run -c Release --project bench/config -- --write-config FILE   (only writes the configuration)

var options = BenchOptions.Parse(args);
if (options.WriteConfig is { } target)
{
    // Only write the generated configuration (to profile or to feed other tools).
    await File.WriteAllTextAsync(target, Generator.Generate(options.Instances, options.VirtualServers, options.RealServers));
    return 0;
}
var dir = Directory.CreateTempSubdirectory("vigil-bench-config-");
try
{
    var path = Path.Combine(dir.FullName, "keepalived.conf");
    var text = Generator.Generate(options.Instances, options.VirtualServers, options.RealServers);
    await File.WriteAllTextAsync(path, text);
    var lines = text.Count(c => c == '\n');
    Console.Error.WriteLine($"generated {path}: {text.Length / 1024.0 / 1024.0:F1} MiB, {lines} lines");

    // A sanity check before timing: the file is valid and complete.
    var check = ConfigLoader.Load(path, new ConfigLoadOptions { Host = null });
    if (check.ExitCode != 0 || check.Config is null || check.Config.Instances.Count != options.Instances
        || check.Config.VirtualServers.Count != options.VirtualServers
        || check.Config.VirtualServers.Sum(v => v.RealServers.Count) != options.VirtualServers * options.RealServers)
    {
        Console.Error.WriteLine("the generated configuration does not read as expected:");
        foreach (var d in check.Diagnostics.Take(20)) Console.Error.WriteLine(d);
        return 1;
    }

    var loadBefore = Report.LoadAverage();
    var results = new List<Result>
    {
        Measure("reader: lines, comments, definitions, tokens (baseline)", options.Iterations, () => Stages.Tokenize(path)),
        Measure("reader + keyword tree", options.Iterations, () => Stages.Tree(path)),
        Measure("Vigil: parse + validate (ConfigLoader.Load, no host checks)", options.Iterations, () => Stages.Load(path, null)),
        Measure("Vigil: parse + validate with host checks (vigil-controld -t)", options.Iterations, () => Stages.Load(path, SystemHostEnvironment.Instance)),
    };
    var keepalived = await KeepalivedRun.MeasureAsync(path, options);
    var report = Report.Write(options, text, lines, results, keepalived, loadBefore);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
    await File.WriteAllTextAsync(options.Out, report);
    Console.WriteLine(report);
    return 0;
}
finally
{
    dir.Delete(recursive: true);
}

static Result Measure(string name, int iterations, Func<long> run)
{
    // Warm-up: JIT and tiering (two runs, as a daemon would have on its second reload).
    for (var i = 0; i < 3; i++) run();
    var times = new List<double>();
    var cpu = new List<double>();
    var allocs = new List<long>();
    var gcs = new List<double>();
    long work = 0;
    using var process = Process.GetCurrentProcess();
    for (var i = 0; i < iterations; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var collections = GC.CollectionCount(0);
        var sw = Stopwatch.StartNew();
        work = run();
        sw.Stop();
        process.Refresh();
        cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        allocs.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        gcs.Add(GC.CollectionCount(0) - collections);
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    Console.Error.WriteLine($"{name}: median {Median(times):F1} ms wall, {Median(cpu):F1} ms CPU");
    return new Result(name, Median(times), times.Min(), times.Max(), Median(cpu), (long)Median(allocs.Select(a => (double)a).ToList()), Median(gcs), work);
}

static double Median(List<double> values)
{
    var s = values.Order().ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

internal sealed record Result(string Name, double MedianMs, double MinMs, double MaxMs, double CpuMs, long AllocatedBytes, double Collections, long Work);

internal sealed record BenchOptions(int Iterations, int KeepalivedRuns, string? Netns, string Out, int Instances, int VirtualServers, int RealServers, string? WriteConfig = null)
{
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(15, 5, null, "bench/results/config.md", 1000, 2000, 10);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--iterations" => o with { Iterations = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--keepalived-runs" => o with { KeepalivedRuns = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--netns" => o with { Netns = Next() },
                "--out" => o with { Out = Next() },
                "--instances" => o with { Instances = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--virtual-servers" => o with { VirtualServers = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--write-config" => o with { WriteConfig = Next() },
                "--real-servers" => o with { RealServers = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }
        return o;
    }
}

/// <summary>The measured work; each returns a count so nothing is optimised away.</summary>
internal static class Stages
{
    public static long Tokenize(string path)
    {
        var diagnostics = new DiagnosticBag();
        var reader = new LineReader(PhysicalFileSystem.Instance, diagnostics, null, 1);
        reader.Open(path);
        long tokens = 0;
        while (reader.ReadLine() is { } line) tokens += Tokenizer.Split(line, diagnostics).Length;
        return tokens;
    }

    public static long Tree(string path)
    {
        var diagnostics = new DiagnosticBag();
        var reader = new LineReader(PhysicalFileSystem.Instance, diagnostics, null, 1);
        reader.Open(path);
        return new TreeBuilder(reader, diagnostics, path).Build().Count;
    }

    public static long Load(string path, IHostEnvironment? host)
    {
        var r = ConfigLoader.Load(path, new ConfigLoadOptions { Host = host, ConfigId = null, RandomSeed = 1 });
        return r.Config!.VirtualServers.Count + r.Diagnostics.Count;
    }
}

/// <summary>A realistic large director: every instance and virtual server a little different.</summary>
internal static class Generator
{
    public static string Generate(int instances, int virtualServers, int realServers)
    {
        var sb = new StringBuilder();
        sb.Append("""
            ! Generated by bench/config: a large director.
            global_defs {
                router_id BENCH
                notification_email {
                    ops@example.com
                }
                notification_email_from bench@example.com
                smtp_server 192.0.2.25
                dynamic_interfaces
            }

            """);
        for (var i = 0; i < instances; i++)
        {
            var iface = $"eth{i / 250}";
            var vrid = i % 250 + 1;
            sb.Append(CultureInfo.InvariantCulture, $$"""
                vrrp_instance VI_{{i:D4}} {
                    state {{(i % 2 == 0 ? "MASTER" : "BACKUP")}}
                    interface {{iface}}
                    virtual_router_id {{vrid}}
                    priority {{100 + i % 100}}
                    advert_int 1
                    authentication {
                        auth_type PASS
                        auth_pass p{{i % 10000:D4}}
                    }
                    virtual_ipaddress {
                        10.{{i / 250}}.{{i % 250}}.1/24
                        10.{{i / 250}}.{{i % 250}}.2/24 label {{iface}}:{{vrid}}
                    }
                }

                """);
        }
        for (var v = 0; v < virtualServers; v++)
        {
            sb.Append(CultureInfo.InvariantCulture, $$"""
                virtual_server 172.16.{{v / 250}}.{{v % 250 + 1}} {{(v % 2 == 0 ? 80 : 443)}} {
                    delay_loop {{5 + v % 5}}
                    lb_algo {{(v % 3 == 0 ? "wrr" : v % 3 == 1 ? "wlc" : "rr")}}
                    lb_kind {{(v % 2 == 0 ? "DR" : "NAT")}}
                    persistence_timeout 300
                    protocol TCP

                """);
            for (var r = 0; r < realServers; r++)
            {
                var port = v % 2 == 0 ? 80 : 443;
                sb.Append(CultureInfo.InvariantCulture, $$"""
                        real_server 192.168.{{v % 250}}.{{r + 1}} {{port}} {
                            weight {{1 + r % 5}}

                    """);
                if (r % 2 == 0)
                {
                    sb.Append("""
                                TCP_CHECK {
                                    connect_timeout 3
                                    retry 3
                                    delay_before_retry 2
                                }
                            }

                        """);
                }
                else
                {
                    sb.Append("""
                                HTTP_GET {
                                    url {
                                        path /health
                                        status_code 200
                                    }
                                    connect_timeout 3
                                    retry 2
                                }
                            }

                        """);
                }
            }
            sb.Append("}\n\n");
        }
        return sb.ToString();
    }
}

internal sealed record KeepalivedResult(string Version, double MedianMs, double MinMs, double MaxMs, double CpuMs, int ExitCode, string? Error);

/// <summary>keepalived -t on the same file: wall time of the whole check (its parent and children).</summary>
internal static class KeepalivedRun
{
    public static async Task<KeepalivedResult?> MeasureAsync(string path, BenchOptions options)
    {
        var keepalived = new[] { "/usr/sbin/keepalived", "/usr/local/sbin/keepalived", "/sbin/keepalived" }.FirstOrDefault(File.Exists);
        if (keepalived is null) return null;
        var version = (await RunAsync(keepalived, ["--version"])).Output.Split('\n')[0].Trim();
        var times = new List<double>();
        var cpu = new List<double>();
        var exit = 0;
        for (var i = 0; i < options.KeepalivedRuns + 1; i++)
        {
            var childCpuBefore = ChildrenCpuMs();
            var sw = Stopwatch.StartNew();
            string program = keepalived;
            string[] args = ["-t", "-f", path];
            if (options.Netns is { } ns)
            {
                program = "ip";
                args = ["netns", "exec", ns, keepalived, .. args];
            }
            var r = await RunAsync(program, args);
            sw.Stop();
            exit = r.ExitCode;
            if (r.ExitCode != 0) return new KeepalivedResult(version, 0, 0, 0, 0, r.ExitCode, r.Output.Length > 400 ? r.Output[..400] : r.Output);
            if (i > 0)
            {
                // The first run warms the page cache.
                times.Add(sw.Elapsed.TotalMilliseconds);
                cpu.Add(ChildrenCpuMs() - childCpuBefore);
            }
        }
        var sorted = times.Order().ToList();
        Console.Error.WriteLine($"keepalived -t: median {Median(times):F1} ms wall, {Median(cpu):F1} ms CPU");
        return new KeepalivedResult(version, Median(times), sorted[0], sorted[^1], Median(cpu), exit, null);
    }

    private static double Median(List<double> values)
    {
        var s = values.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>CPU time of this process's waited-for children and their descendants (getrusage RUSAGE_CHILDREN).</summary>
    private static double ChildrenCpuMs()
    {
        // /proc/self/stat fields 16 and 17: cutime and cstime in clock ticks (100 per second).
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) * 10.0;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}

internal static class Report
{
    public static string Write(BenchOptions o, string text, int lines, List<Result> results, KeepalivedResult? ka, string loadBefore)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var vigil = results[2];
        var baseline = results[0];
        sb.AppendLine("# keepalived.conf parse + validate benchmark (Vigil.Config)");
        sb.AppendLine();
        sb.AppendLine(inv, $"Generated configuration: {o.Instances:N0} vrrp_instances (2 VIPs, PASS authentication each), {o.VirtualServers:N0} virtual_servers with {o.RealServers} real_servers each ({o.VirtualServers * o.RealServers:N0} real servers, half TCP_CHECK, half HTTP_GET with a url): {text.Length / 1024.0 / 1024.0:F1} MiB, {lines:N0} lines. Produced by `bench/config` (`Generator.Generate`), written to a temporary file and read from disk on every run.");
        sb.AppendLine();
        sb.AppendLine(inv, $"Method: a Stopwatch harness in one process; 3 warm-up runs, then {o.Iterations} measured runs per row, a full GC before each. Per run: wall time, CPU time of the process (user + system, `Process.TotalProcessorTime`; the GC runs on the measuring thread with the workstation non-concurrent GC), bytes allocated (`GC.GetAllocatedBytesForCurrentThread`) and gen-0 collections; medians reported. keepalived -t is timed as a whole process (wall time, and CPU time of it and its children from /proc/self/stat cutime+cstime), first run discarded, {o.KeepalivedRuns} runs.");
        sb.AppendLine();
        sb.AppendLine(inv, $"Goal: parse + validate under 1 s. Result: **{vigil.MedianMs:F0} ms wall, {vigil.CpuMs:F0} ms CPU (median)**: {(vigil.MedianMs < 1000 ? "met" : vigil.CpuMs < 1000 ? "met in CPU time; the wall time is inflated by the machine's load (see below)" : "NOT met")}.");
        sb.AppendLine();
        sb.AppendLine("| What | Wall (median) | Wall min..max | CPU (median) | Allocated per run | Gen-0 GCs | CPU vs reader |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            sb.AppendLine(inv, $"| {r.Name} | {r.MedianMs:F0} ms | {r.MinMs:F0}..{r.MaxMs:F0} ms | {r.CpuMs:F0} ms | {r.AllocatedBytes / 1024.0 / 1024.0:F1} MiB | {r.Collections:F0} | {r.CpuMs / baseline.CpuMs:F2}x |");
        }
        if (ka is null)
        {
            sb.AppendLine("| keepalived -t | not installed | | | | | |");
        }
        else if (ka.Error is not null)
        {
            sb.AppendLine(inv, $"| keepalived -t ({ka.Version}) | failed with status {ka.ExitCode} | | | | | |");
        }
        else
        {
            sb.AppendLine(inv, $"| keepalived -t ({ka.Version}; whole process, its 3 processes) | {ka.MedianMs:F0} ms | {ka.MinMs:F0}..{ka.MaxMs:F0} ms | {ka.CpuMs:F0} ms | n/a | n/a | {ka.CpuMs / baseline.CpuMs:F2}x |");
        }
        sb.AppendLine();
        sb.AppendLine("Ratios (CPU time, the steadier figure on a shared machine):");
        sb.AppendLine(inv, $"- parse + validate / reader alone: {vigil.CpuMs / baseline.CpuMs:F2}x (the typed model and keepalived's checks cost {vigil.CpuMs - baseline.CpuMs:F0} ms CPU on top of reading the text).");
        sb.AppendLine(inv, $"- parse + validate / reader + keyword tree: {vigil.CpuMs / results[1].CpuMs:F2}x.");
        sb.AppendLine(inv, $"- host checks (interfaces, scripts, users, as vigil-controld -t does): {results[3].CpuMs / vigil.CpuMs:F2}x of the pure parse.");
        if (ka is { Error: null })
        {
            sb.AppendLine(inv, $"- keepalived -t / Vigil parse + validate: {ka.CpuMs / vigil.CpuMs:F2}x CPU, {ka.MedianMs / vigil.MedianMs:F2}x wall (keepalived's figures include its start-up and its three processes each reading the file; Vigil's exclude .NET start-up).");
        }
        sb.AppendLine();
        sb.AppendLine("Machine:");
        sb.AppendLine(inv, $"- CPU: {CpuModel()} ({Environment.ProcessorCount} logical CPUs visible)");
        sb.AppendLine(inv, $"- Memory: {MemTotal()}");
        sb.AppendLine(inv, $"- Load average before / after the run: {loadBefore} / {LoadAverage()} (shared with other jobs: wall times vary with it, CPU times much less)");
        sb.AppendLine(inv, $"- OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        sb.AppendLine(inv, $"- Runtime: {RuntimeInformation.FrameworkDescription}, {(IsDebug() ? "Debug" : "Release")} build, workstation non-concurrent GC, tiered PGO");
        sb.AppendLine(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine("Reproduce: `dotnet run -c Release --project bench/config -- --out bench/results/config.md` (add `--netns NS` to run keepalived -t inside a network namespace; `--write-config FILE` only writes the generated configuration).");
        return sb.ToString();
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static bool IsDebug()
    {
#if DEBUG
        return true;
#else
        return false;
#endif
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string MemTotal()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal));
            if (line is null) return "unknown";
            var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return $"{kb / 1024.0 / 1024.0:F1} GiB";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
