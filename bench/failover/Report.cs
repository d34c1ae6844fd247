using System.Globalization;
using System.Text;
using Vigil.Testing;

namespace Vigil.Bench.Failover;

/// <summary>The machine and software the numbers were measured on.</summary>
internal sealed record Machine(string Cpu, int Cores, string Kernel, string Runtime, string Keepalived, string Tcpdump, string Commit, string VrrpdBuilt, string MemoryMb)
{
    public string Summary =>
        $"Machine: {Cores} CPUs ({Cpu}), {MemoryMb} MB, Linux {Kernel}, .NET {Runtime}; {Keepalived}; {Tcpdump}; Vigil {Commit}, vigil-vrrpd built {VrrpdBuilt}";

    public static async Task<Machine> DescribeAsync()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var ka = await Shell.RunAsync(Shell.Require("keepalived"), "-v");
        var keepalived = (ka.Stdout + ka.Stderr).Split('\n').FirstOrDefault(l => l.StartsWith("Keepalived", StringComparison.Ordinal))?.Trim() ?? "keepalived (version unknown)";
        var td = await Shell.RunAsync(Shell.Require("tcpdump"), "--version");
        var tcpdump = (td.Stdout + td.Stderr).Split('\n')[0].Trim();
        string commit;
        try
        {
            var head = await Shell.RunAsync("git", "-C", RepoPaths.Root, "rev-parse", "--short", "HEAD");
            var dirty = await Shell.RunAsync("git", "-C", RepoPaths.Root, "status", "--porcelain", "--", "services/vrrpd", "services/controld", "libs");
            commit = head.Stdout.Trim() + (string.IsNullOrWhiteSpace(dirty.Stdout) ? "" : " (services/libs with uncommitted changes)");
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            commit = "unknown commit";
        }
        // out/vigil: the multi-call binary every program links to.
        var binary = Path.Combine(RepoPaths.Out, "vigil");
        var built = (File.Exists(binary) ? File.GetLastWriteTimeUtc(binary).ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "unknown") +
            (Environment.GetEnvironmentVariable("VIGIL_OUT") is { Length: > 0 } o ? $" (programs from VIGIL_OUT={o})" : "");
        // A build made aside (for example from `git archive HEAD`) can say what it is.
        var info = Path.Combine(RepoPaths.Out, "BUILD-INFO");
        if (File.Exists(info)) built += "; " + File.ReadAllText(info).Trim();
        return new Machine(cpu, Environment.ProcessorCount, kernel, Environment.Version.ToString(), keepalived, tcpdump, commit, built,
            (long.Parse(mem, CultureInfo.InvariantCulture) / 1024).ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary>Order statistics of one metric (milliseconds).</summary>
internal sealed record Stats(int Count, double Median, double P90, double Max, double Min)
{
    public static Stats? Of(IEnumerable<long?> micros)
    {
        var v = micros.Where(m => m is not null).Select(m => m!.Value / 1000.0).Order().ToList();
        if (v.Count == 0) return null;
        var median = v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        // Nearest rank: the smallest value with at least 90% of the trials at or below it.
        var p90 = v[(int)Math.Ceiling(0.9 * v.Count) - 1];
        return new Stats(v.Count, median, p90, v[^1], v[0]);
    }
}

internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Csv(IReadOnlyList<TrialRecord> records, BenchOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine("round,slot,pairing,master,backup,setup,master_down_us,pull_utc,last_master_advert_utc,gap_us,excess_us,to_garp_us,to_first_reply_us,pull_to_first_advert_us,master_last_interval_us,failback_us,vigil_backup_transition_minus_due_us,vigil_backup_wire_minus_transition_us,backup_idle_cpu_us,backup_idle_runqueue_wait_us,backup_takeover_cpu_us,backup_takeover_runqueue_wait_us,backup_takeover_max_thread_wait_us,backup_takeover_threads_ran,load1,pings_sent,error");
        foreach (var r in records)
        {
            var setup = options.Setups.First(s => s.Key == r.Setup);
            var parts = r.Pairing.Split('/');
            var due = r.LastMasterAdvert + setup.MasterDownMicros;
            sb.AppendLine(string.Join(',',
                r.Round, r.Slot, r.Pairing, parts[0], parts[1], r.Setup, setup.MasterDownMicros,
                r.PullMicros == 0 ? "" : Clock.Iso(r.PullMicros), r.LastMasterAdvert is { } l ? Clock.Iso(l) : "",
                r.Gap, r.Gap - setup.MasterDownMicros, r.ToGarp, r.ToReply, r.PullToAdvert, r.MasterInterval, r.FailbackMicros,
                r.BackupTransitionWall - due, r.FirstBackupAdvert - r.BackupTransitionWall,
                r.BackupIdleSched?.RunMicros, r.BackupIdleSched?.WaitMicros, r.BackupSched?.RunMicros, r.BackupSched?.WaitMicros, r.BackupSched?.MaxThreadWaitMicros, r.BackupSched?.ThreadsRan,
                r.LoadAverage.ToString("0.00", Inv), r.PingsSent, Quote(r.Error)));
        }
        return sb.ToString();
    }

    private static string Quote(string? s) => s is null ? "" : "\"" + s.Replace("\"", "'", StringComparison.Ordinal).Replace('\n', ' ') + "\"";

    private static string F(double? ms, string format = "0.00") => ms is { } v ? v.ToString(format, Inv) : "-";

    public static string Markdown(IReadOnlyList<TrialRecord> records, BenchOptions options, Machine machine, DateTime started, DateTime finished,
        string loadStart, string loadEnd, string csvName)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Failover latency: Vigil and keepalived in the same lab and run");
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"Measured {started:yyyy-MM-dd HH:mm} to {finished:HH:mm} UTC ({(finished - started).TotalMinutes:0} min) by `bench/failover`"));
        sb.AppendLine($"(`{options.CommandLine}`).");
        sb.AppendLine(machine.Summary + ".");
        sb.AppendLine($"Load average (1/5/15 min, runnable/total, last pid) at the start: `{loadStart}`, at the end: `{loadEnd}`; other jobs shared the machine.");
        sb.AppendLine($"Raw data, one line per trial: [{csvName}]({csvName}).");
        sb.AppendLine();
        sb.AppendLine("## Method");
        sb.AppendLine();
        sb.AppendLine("- One lab per pairing and configuration, all up for the whole run: a bridge in a namespace of its own (the switch), routers");
        sb.AppendLine("  r1 (priority 150, `state MASTER`) and r2 (priority 100, `state BACKUP`) and a client, each in a namespace with a veth to the bridge.");
        sb.AppendLine("  Both routers read the same keepalived.conf text (one `vrrp_instance`, one VIP); Vigil runs as `vigil-controld -P` (it starts");
        sb.AppendLine("  `vigil-vrrpd`), keepalived 2.2.7 as `keepalived -n -l -D -P`.");
        sb.AppendLine("- Configurations: VRRPv2 `advert_int 1` with `auth_type PASS`; VRRPv3 `advert_int 0.1`. Everything else is default.");
        sb.AppendLine(string.Create(Inv, $"- {options.Trials} rounds; each round runs one trial in every lab, in a fresh random order (seed {options.Seed}), one trial at a time."));
        if (options.FreshBackup)
            sb.AppendLine("- **--fresh-backup**: r2's daemon was restarted before every trial, so every failover is the first of a fresh process.");
        sb.AppendLine("- A trial: wait until the capture shows r1 advertising at priority 150 (two adverts since r2's last) and both daemons report");
        sb.AppendLine(string.Create(Inv, $"  MASTER/BACKUP; the client starts pinging the VIP every {options.PingMs} ms (ICMP echo from a raw socket) and 20 replies from r1 arrive;"));
        sb.AppendLine("  after a random delay within one advert interval r1's switch port goes down (`ip link set PORT down` in the switch's namespace,");
        sb.AppendLine("  r1 loses carrier); the trial waits for r2's first advert and the first echo reply from r2's MAC, stops pinging, brings the port");
        sb.AppendLine("  back, waits for r1 to preempt and both daemons to report MASTER/BACKUP again. No fixed sleeps: everything is polled.");
        sb.AppendLine("- Timings come only from the client's capture (`tcpdump -Z root --immediate-mode -U` on the client's eth0, kernel timestamps):");
        sb.AppendLine("  **gap** = r2's first advert - r1's last advert; **excess** = gap - Master_Down_Interval; **GARP** and **ping** = r2's first");
        sb.AppendLine("  gratuitous ARP for the VIP / the first echo reply from r2's MAC, both measured from r1's last advert. The ping time is");
        sb.AppendLine(string.Create(Inv, $"  quantised by the ping interval ({options.PingMs} ms). Fail-back = r1's first advert after the port came back - the port coming back."));
        sb.AppendLine("- Statistics: median; p90 is the nearest rank (18th of 20); max.");
        sb.AppendLine();
        sb.AppendLine("Master_Down_Interval of the backup (priority 100), with keepalived 2.2.7's integer arithmetic (`vrrp.h`,");
        sb.AppendLine("`VRRP_TIMER_SKEW_CALC`/`VRRP_MS_DOWN_TIMER`): 3 x Master_Adver_Interval + Skew_Time, Skew_Time = (256 - 100) x 1,000,000 / 256 us");
        sb.AppendLine("for v2 and (256 - 100) x (interval in centiseconds) x 625 / 16 us, truncated, for v3:");
        sb.AppendLine();
        foreach (var s in options.Setups)
            sb.AppendLine(string.Create(Inv, $"- {s.Name}: 3 x {s.AdvertMicros / 1000.0:0.###} ms + {(s.MasterDownMicros - 3 * s.AdvertMicros) / 1000.0:0.###} ms = **{s.MasterDownMicros / 1000.0:0.###} ms**"));
        sb.AppendLine();
        sb.AppendLine("## Results");
        foreach (var setup in options.Setups)
        {
            var mdi = setup.MasterDownMicros;
            sb.AppendLine();
            sb.AppendLine(string.Create(Inv, $"### {setup.Name} (Master_Down_Interval {mdi / 1000.0:0.###} ms), milliseconds"));
            sb.AppendLine();
            sb.AppendLine("| master/backup | trials ok | gap median | excess median | excess p90 | excess max | 1st failover excess | excess median, later | p90, later | max, later | GARP median | ping median | ping p90 | ping max | fail-back median |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var pairing in options.Pairings)
            {
                var rs = records.Where(r => r.Setup == setup.Key && r.Pairing == pairing.Name).ToList();
                var ok = rs.Where(r => r.Ok).ToList();
                var gap = Stats.Of(ok.Select(r => r.Gap));
                var excess = Stats.Of(ok.Select(r => r.Gap - mdi));
                var first = ok.FirstOrDefault(r => r.Round == 1)?.Gap - mdi;
                var later = Stats.Of(ok.Where(r => r.Round > 1).Select(r => r.Gap - mdi));
                var garp = Stats.Of(ok.Select(r => r.ToGarp));
                var ping = Stats.Of(ok.Select(r => r.ToReply));
                var back = Stats.Of(ok.Select(r => r.FailbackMicros));
                sb.AppendLine($"| {pairing.Name} | {ok.Count}/{rs.Count} | {F(gap?.Median, "0.000")} | {F(excess?.Median)} | {F(excess?.P90)} | {F(excess?.Max)} | {F(first / 1000.0)} | {F(later?.Median)} | {F(later?.P90)} | {F(later?.Max)} | {F(garp?.Median)} | {F(ping?.Median)} | {F(ping?.P90)} | {F(ping?.Max)} | {F(back?.Median, "0")} |");
            }
            sb.AppendLine();
            sb.AppendLine("\"1st failover\" is round 1, the first time the freshly started backup daemon takes over; \"later\" are rounds 2 and up.");
            sb.AppendLine();
            sb.AppendLine("Vigil against keepalived in this run (ratio of medians; excess difference = Vigil's median excess - keepalived's):");
            sb.AppendLine();
            sb.AppendLine("| comparison | gap ratio | excess: Vigil - keepalived (median) | excess: Vigil - keepalived (p90) | ping ratio |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var (vigil, keep, label) in new[]
            {
                ("Vigil/Vigil", "keepalived/keepalived", "all Vigil vs all keepalived"),
                ("keepalived/Vigil", "keepalived/keepalived", "Vigil backup vs keepalived backup (keepalived master)"),
                ("Vigil/Vigil", "Vigil/keepalived", "Vigil backup vs keepalived backup (Vigil master)"),
                ("Vigil/keepalived", "keepalived/keepalived", "Vigil master vs keepalived master (keepalived backup)"),
            })
            {
                var a = records.Where(r => r.Ok && r.Setup == setup.Key && r.Pairing == vigil).ToList();
                var b = records.Where(r => r.Ok && r.Setup == setup.Key && r.Pairing == keep).ToList();
                if (a.Count == 0 || b.Count == 0) continue;
                var ga = Stats.Of(a.Select(r => r.Gap))!;
                var gb = Stats.Of(b.Select(r => r.Gap))!;
                var ea = Stats.Of(a.Select(r => r.Gap - mdi))!;
                var eb = Stats.Of(b.Select(r => r.Gap - mdi))!;
                var pa = Stats.Of(a.Select(r => r.ToReply));
                var pb = Stats.Of(b.Select(r => r.ToReply));
                sb.AppendLine($"| {label}: {vigil} vs {keep} | {F(ga.Median / gb.Median, "0.0000")}x | {F(ea.Median - eb.Median, "+0.00;-0.00")} ms | {F(ea.P90 - eb.P90, "+0.00;-0.00")} ms | {(pa is null || pb is null ? "-" : F(pa.Median / pb.Median, "0.000") + "x")} |");
            }
            sb.AppendLine();
            sb.AppendLine("The backup's VRRP process (vigil-vrrpd; keepalived's VRRP child), from /proc/PID/task/*/schedstat: **idle** = from the");
            sb.AppendLine("pull to 3 ms before its master-down timer is due (sampled by a thread sleeping to that instant); **takeover** = from then");
            sb.AppendLine("until the benchmark saw its first advert (which includes a few ms after the advert). CPU time, time its threads were");
            sb.AppendLine("runnable but waiting for a CPU (summed over threads), the longest such wait of one thread, threads that ran. Milliseconds.");
            sb.AppendLine();
            sb.AppendLine("| master/backup | idle CPU median | idle wait median | takeover CPU median | takeover wait median | p90 | max | one thread's wait max | threads that ran (median) |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var pairing in options.Pairings)
            {
                var rs = records.Where(r => r.Ok && r.Setup == setup.Key && r.Pairing == pairing.Name && r.BackupSched is not null && r.BackupIdleSched is not null).ToList();
                if (rs.Count == 0) continue;
                var idleCpu = Stats.Of(rs.Select(r => (long?)r.BackupIdleSched!.RunMicros))!;
                var idleWait = Stats.Of(rs.Select(r => (long?)r.BackupIdleSched!.WaitMicros))!;
                var cpu = Stats.Of(rs.Select(r => (long?)r.BackupSched!.RunMicros))!;
                var wait = Stats.Of(rs.Select(r => (long?)r.BackupSched!.WaitMicros))!;
                var one = Stats.Of(rs.Select(r => (long?)r.BackupSched!.MaxThreadWaitMicros))!;
                var threads = rs.Select(r => r.BackupSched!.ThreadsRan).Order().ToList()[rs.Count / 2];
                sb.AppendLine($"| {pairing.Name} | {F(idleCpu.Median)} | {F(idleWait.Median)} | {F(cpu.Median)} | {F(wait.Median)} | {F(wait.P90)} | {F(wait.Max)} | {F(one.Max)} | {threads} |");
            }
            var slow = records.Where(r => r.Ok && r.Setup == setup.Key && r.Gap - mdi >= 5000).OrderByDescending(r => r.Gap).ToList();
            if (slow.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine("Trials with an excess of 5 ms or more: excess; the backup's takeover run-queue wait (all threads / longest thread); load average.");
                sb.AppendLine();
                foreach (var r in slow)
                {
                    sb.AppendLine($"- round {r.Round} {r.Pairing}: excess {F((r.Gap - mdi) / 1000.0)} ms; wait {F(r.BackupSched?.WaitMicros / 1000.0)} / {F(r.BackupSched?.MaxThreadWaitMicros / 1000.0)} ms; " +
                        $"r1's last advert interval {F(r.MasterInterval / 1000.0)} ms; load {r.LoadAverage.ToString("0.0", Inv)}");
                }
            }
            var diag = records.Where(r => r.Ok && r.Setup == setup.Key && r.BackupTransitionWall is not null).ToList();
            if (diag.Count > 0)
            {
                sb.AppendLine();
                sb.AppendLine("Where a Vigil backup's excess goes: **timer** = vigil-vrrpd's own record of its BACKUP -> MASTER transition (GetInstance");
                sb.AppendLine("`last_transition`, wall clock, taken when the expired master-down timer is handled) - (r1's last advert as the client saw it +");
                sb.AppendLine("Master_Down_Interval): how late the timer was handled, including the receive path of r1's last advert; **send** = r2's first");
                sb.AppendLine("advert at the client - that transition: the actions before the advert leaves and the way to the client. Milliseconds.");
                sb.AppendLine();
                sb.AppendLine("| trials | n | timer median | timer p90 | timer max | send median | send p90 | send max |");
                sb.AppendLine("|---|---|---|---|---|---|---|---|");
                foreach (var (label, subset) in new[] { ("1st failover", diag.Where(r => r.Round == 1).ToList()), ("later", diag.Where(r => r.Round > 1).ToList()) })
                {
                    if (subset.Count == 0) continue;
                    var late = Stats.Of(subset.Select(r => r.BackupTransitionWall - (r.LastMasterAdvert + mdi)))!;
                    var wire = Stats.Of(subset.Select(r => r.FirstBackupAdvert - r.BackupTransitionWall))!;
                    sb.AppendLine($"| {label} | {subset.Count} | {F(late.Median)} | {F(late.P90)} | {F(late.Max)} | {F(wire.Median)} | {F(wire.P90)} | {F(wire.Max)} |");
                }
            }
        }
        sb.AppendLine();
        sb.AppendLine("## Goal: Vigil's failover latency is Master_Down_Interval + under 5 ms, never worse than keepalived's");
        sb.AppendLine();
        sb.AppendLine("The latency is decided by the backup's master-down timer (the master is silent after the pull), so \"Vigil's latency\" is");
        sb.AppendLine("that of the pairings with a Vigil backup (Vigil/Vigil, keepalived/Vigil); each is compared with the keepalived backup under the");
        sb.AppendLine("same master (Vigil/keepalived, keepalived/keepalived).");
        sb.AppendLine();
        sb.AppendLine("Under 5 ms: every trial's excess below 5 ms (and no failed trial). Not worse: Vigil's median and p90 excess at most");
        sb.AppendLine("keepalived's; the shift (Hodges-Lehmann estimate: median of all Vigil - keepalived differences) and a two-sided Mann-Whitney");
        sb.AppendLine("test say whether a difference is larger than the run's noise. Judged on all trials, then on rounds 2 and up.");
        sb.AppendLine();
        foreach (var setup in options.Setups)
        {
            var mdi = setup.MasterDownMicros;
            foreach (var (vigil, keep) in new[] { ("Vigil/Vigil", "Vigil/keepalived"), ("keepalived/Vigil", "keepalived/keepalived") })
            {
                foreach (var (label, minRound) in new[] { ("all trials", 1), ("rounds 2+", 2) })
                {
                    var a = records.Where(r => r.Setup == setup.Key && r.Pairing == vigil && r.Round >= minRound).ToList();
                    var b = records.Where(r => r.Setup == setup.Key && r.Pairing == keep && r.Round >= minRound).ToList();
                    if (a.Count == 0) continue;
                    var xa = a.Where(r => r.Ok).Select(r => (r.Gap - mdi)!.Value / 1000.0).ToList();
                    var xb = b.Where(r => r.Ok).Select(r => (r.Gap - mdi)!.Value / 1000.0).ToList();
                    var ea = Stats.Of(a.Where(r => r.Ok).Select(r => r.Gap - mdi));
                    var eb = Stats.Of(b.Where(r => r.Ok).Select(r => r.Gap - mdi));
                    if (ea is null)
                    {
                        sb.AppendLine($"- {setup.Key} {vigil}, {label}: no successful trial - **NOT met**.");
                        continue;
                    }
                    var under5 = xa.Count(x => x < 5);
                    var failed = a.Count(r => !r.Ok);
                    var all = ea.Max < 5 && failed == 0;
                    var line = $"- {setup.Key} {vigil}, {label}: excess median {F(ea.Median)} / p90 {F(ea.P90)} / max {F(ea.Max)} ms, {under5} of {a.Count} under 5 ms" +
                        $"{(failed > 0 ? $", {failed} failed" : "")} -> under 5 ms **{(all ? "met" : "NOT met")}**";
                    if (eb is not null)
                    {
                        var notWorse = ea.Median <= eb.Median && ea.P90 <= eb.P90;
                        var (shift, p) = (Compare.HodgesLehmann(xa, xb), Compare.MannWhitneyP(xa, xb));
                        line += $"; {keep}: {F(eb.Median)} / {F(eb.P90)} / {F(eb.Max)} ms -> not worse **{(notWorse ? "met" : "NOT met")}**" +
                            $" (shift {F(shift, "+0.00;-0.00")} ms, Mann-Whitney p = {F(p, "0.000")})";
                    }
                    sb.AppendLine(line + ".");
                }
            }
        }
        var errors = records.Where(r => !r.Ok).ToList();
        if (errors.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Failed trials");
            sb.AppendLine();
            foreach (var r in errors) sb.AppendLine($"- round {r.Round}, {r.Pairing} {r.Setup}: {r.Error}");
        }
        return sb.ToString();
    }
}

/// <summary>Two-sample comparisons without assuming a distribution.</summary>
internal static class Compare
{
    /// <summary>Median of all pairwise differences a_i - b_j: the estimated shift of a against b.</summary>
    public static double HodgesLehmann(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var d = (from x in a from y in b select x - y).Order().ToList();
        if (d.Count == 0) return double.NaN;
        return d.Count % 2 == 1 ? d[d.Count / 2] : (d[d.Count / 2 - 1] + d[d.Count / 2]) / 2;
    }

    /// <summary>Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction).</summary>
    public static double MannWhitneyP(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        int n1 = a.Count, n2 = b.Count;
        if (n1 == 0 || n2 == 0) return double.NaN;
        var all = a.Select(x => (x, g: 0)).Concat(b.Select(x => (x, g: 1))).OrderBy(t => t.x).ToList();
        var ranks = new double[all.Count];
        double tieTerm = 0;
        for (var i = 0; i < all.Count;)
        {
            var j = i;
            while (j + 1 < all.Count && all[j + 1].x == all[i].x) j++;
            var rank = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++) ranks[k] = rank;
            double t = j - i + 1;
            tieTerm += t * t * t - t;
            i = j + 1;
        }
        var r1 = Enumerable.Range(0, all.Count).Where(i => all[i].g == 0).Sum(i => ranks[i]);
        var u = r1 - n1 * (n1 + 1) / 2.0;
        var mean = n1 * n2 / 2.0;
        double n = n1 + n2;
        var variance = n1 * n2 / 12.0 * (n + 1 - tieTerm / (n * (n - 1)));
        if (variance <= 0) return 1;
        var z = (Math.Abs(u - mean) - 0.5) / Math.Sqrt(variance);
        return Math.Min(1, 2 * (1 - Phi(Math.Max(0, z))));
    }

    /// <summary>Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf, error below 1.5e-7).</summary>
    private static double Phi(double z)
    {
        var x = z / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * x);
        var erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return 0.5 * (1 + erf);
    }
}
