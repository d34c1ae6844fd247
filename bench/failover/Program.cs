using System.Globalization;
using Vigil.Bench.Failover;
using Vigil.Testing;

// vigil-bench-failover: failover latency of Vigil and keepalived 2.2.7, measured in one run, in
// the same kind of lab (a switch, routers r1 and r2, a client in network namespaces), for each
// pairing (master/backup: Vigil/Vigil, Vigil/keepalived, keepalived/Vigil, keepalived/keepalived)
// and each configuration (VRRPv2 advert_int 1, VRRPv3 advert_int 0.1). Every lab stays up for the
// whole run; each round runs one trial in every lab in a fresh random order, so the machine's
// drifting load hits all of them alike. A trial pulls r1's cable (its switch port goes down) and
// reads, from the client's tcpdump capture, r1's last advert, r2's first advert, r2's first
// gratuitous ARP and the client's first echo reply from r2.
//
//   sudo dotnet run -c Release --project bench/failover -- [--trials 20] [--pairings VV,VK,KV,KK]
//        [--setups v2,v3] [--ping-ms 1] [--seed N] [--out bench/results/failover.md] [--fresh-backup]
//
// --fresh-backup restarts r2's daemon before every trial, so that each failover is the first one
// of a freshly started process (cold code paths), for both implementations alike.
//   dotnet run -c Release --project bench/failover -- timers [--samples 300]   (timer lateness diagnostic)
//
// The Vigil programs come from $VIGIL_OUT or out/ (make build).

if (args.Length > 0 && args[0] == "timers")
{
    var i = Array.IndexOf(args, "--samples");
    return await TimerProbe.RunAsync(i > 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 300);
}

var options = BenchOptions.Parse(args);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
    Console.Error.WriteLine("stopping after the current trial...");
};

if (Environment.UserName != "root") throw new InvalidOperationException("the benchmark needs root (network namespaces)");
foreach (var p in new[] { "vigil-controld", "vigil-vrrpd" }) RepoPaths.Program(p);
foreach (var p in new[] { "keepalived", "tcpdump", "ip" }) Shell.Require(p);

var machine = await Machine.DescribeAsync();
var started = DateTime.UtcNow;
var loadStart = File.ReadAllText("/proc/loadavg").Trim();
Console.WriteLine($"failover benchmark: {options.Trials} trials x {options.Pairings.Count} pairings x {options.Setups.Count} setups, seed {options.Seed}");
Console.WriteLine(machine.Summary);

var labs = new List<FailoverLab>();
var records = new List<TrialRecord>();
var random = new Random(options.Seed);
try
{
    foreach (var setup in options.Setups)
    {
        foreach (var pairing in options.Pairings)
        {
            Console.WriteLine($"starting lab {pairing.Name} {setup.Key}");
            labs.Add(await FailoverLab.CreateAsync(pairing, setup, TimeSpan.FromMilliseconds(options.PingMs)));
        }
    }
    foreach (var lab in labs) await lab.WarmUpAsync();
    Console.WriteLine("all labs steady; trials begin");
    Console.WriteLine(TrialLine.Header);
    for (var round = 1; round <= options.Trials && !cancel.IsCancellationRequested; round++)
    {
        var order = labs.Where(l => !l.Broken).OrderBy(_ => random.Next()).ToList();
        for (var slot = 0; slot < order.Count && !cancel.IsCancellationRequested; slot++)
        {
            var lab = order[slot];
            var record = await lab.RunTrialAsync(round, slot, random, options.FreshBackup);
            records.Add(record);
            Console.WriteLine(TrialLine.Format(record, lab.Setup));
        }
    }
}
finally
{
    foreach (var lab in labs)
    {
        try
        {
            await lab.DisposeAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"cleaning up {lab.Name}: {e.Message}");
        }
    }
}

var finished = DateTime.UtcNow;
var loadEnd = File.ReadAllText("/proc/loadavg").Trim();
var csvPath = Path.ChangeExtension(options.Out, ".csv");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
await File.WriteAllTextAsync(csvPath, Report.Csv(records, options));
var markdown = Report.Markdown(records, options, machine, started, finished, loadStart, loadEnd, Path.GetFileName(csvPath));
await File.WriteAllTextAsync(options.Out, markdown);
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"wrote {options.Out} and {csvPath}");
return records.All(r => r.Ok) ? 0 : 1;

/// <summary>Command-line options.</summary>
internal sealed record BenchOptions(int Trials, IReadOnlyList<Pairing> Pairings, IReadOnlyList<VrrpSetup> Setups, double PingMs, int Seed, string Out, bool FreshBackup)
{
    /// <summary>The command that repeats this run (same trials, pairings, setups, seed, programs).</summary>
    public string CommandLine
    {
        get
        {
            var codes = Pairings.Select(p => $"{p.Master.ToString()[0]}{p.Backup.ToString()[0]}");
            var env = Environment.GetEnvironmentVariable("VIGIL_OUT") is { Length: > 0 } o ? $"VIGIL_OUT={o} " : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"sudo {env}dotnet run -c Release --project bench/failover -- --trials {Trials} --pairings {string.Join(',', codes)} --setups {string.Join(',', Setups.Select(s => s.Key))} --ping-ms {PingMs} --seed {Seed}{(FreshBackup ? " --fresh-backup" : "")}");
        }
    }

    public static BenchOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var known = new HashSet<string> { "--trials", "--pairings", "--setups", "--ping-ms", "--seed", "--out" };
        var fresh = args.Contains("--fresh-backup");
        var rest = args.Where(a => a != "--fresh-backup").ToArray();
        for (var i = 0; i < rest.Length; i += 2)
        {
            if (!known.Contains(rest[i])) throw new ArgumentException($"unknown option {rest[i]} (known: {string.Join(' ', known)} --fresh-backup)");
        }
        var pairings = Get("pairings", "VV,VK,KV,KK").Split(',').Select(p => p.Trim().ToUpperInvariant() switch
        {
            "VV" => new Pairing(Implementation.Vigil, Implementation.Vigil),
            "VK" => new Pairing(Implementation.Vigil, Implementation.Keepalived),
            "KV" => new Pairing(Implementation.Keepalived, Implementation.Vigil),
            "KK" => new Pairing(Implementation.Keepalived, Implementation.Keepalived),
            var other => throw new ArgumentException($"--pairings: unknown pairing {other} (VV, VK, KV, KK: master then backup)"),
        }).ToList();
        var setups = Get("setups", "v2,v3").Split(',').Select(s => s.Trim() switch
        {
            "v2" => VrrpSetup.V2,
            "v3" => VrrpSetup.V3,
            var other => throw new ArgumentException($"--setups: unknown setup {other} (v2, v3)"),
        }).ToList();
        var seed = int.Parse(Get("seed", Random.Shared.Next(1, 1_000_000).ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var trials = int.Parse(Get("trials", "20"), CultureInfo.InvariantCulture);
        if (trials < 1) throw new ArgumentException("--trials must be at least 1");
        var pingMs = double.Parse(Get("ping-ms", "1"), CultureInfo.InvariantCulture);
        if (pingMs is < 0.1 or > 10) throw new ArgumentException("--ping-ms must be between 0.1 and 10 (the client pings every 10 ms or faster)");
        return new BenchOptions(trials, pairings, setups, pingMs, seed, Get("out", "bench/results/failover.md"), fresh);
    }
}

/// <summary>The progress line printed after each trial.</summary>
internal static class TrialLine
{
    public const string Header = "round slot  lab                      gap ms   excess ms  garp ms  ping ms  pull->adv ms  r1 intv ms  failback ms  load  r2 takeover cpu/wait/maxwait ms, threads";

    public static string Format(TrialRecord r, VrrpSetup setup) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Round,5} {r.Slot,4}  {r.Pairing + " " + r.Setup,-22} {Ms(r.Gap),9} {Ms(r.Gap - setup.MasterDownMicros),9} {Ms(r.ToGarp),8} {Ms(r.ToReply),8} {Ms(r.PullToAdvert),12} {Ms(r.MasterInterval),11} {Ms(r.FailbackMicros),12} {r.LoadAverage,5:0.0}  {(r.BackupSched is { } s ? $"{s.RunMicros / 1000.0:0.0}/{s.WaitMicros / 1000.0:0.0}/{s.MaxThreadWaitMicros / 1000.0:0.0}, {s.ThreadsRan}" : "-")}{(r.Error is null ? "" : "  ERROR " + r.Error)}");

    private static string Ms(long? micros) => micros is { } m ? (m / 1000.0).ToString("0.000", CultureInfo.InvariantCulture) : "-";
}
