using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Probes;

// vigil-bench-checkers: 10,000 TCP_CHECKs at delay_loop 1 against listeners in a network
// namespace. The parent sets up the namespace and runs three children inside it: the listeners,
// a baseline (bare connects at the same rate, no Vigil scheduler) and Vigil's check engine, each
// measured over several windows after a warm-up; it writes medians and ratios to a Markdown file.
//
//   sudo dotnet run -c Release --project bench/checkers -- [--checkers 10000] [--window 10] [--rounds 3] [--out bench/results/checkers.md]

var options = Options.Parse(args);
return options.Mode switch
{
    "listen" => await Listener.RunAsync(options),
    "measure" => await Measure.RunAsync(options),
    _ => await Orchestrator.RunAsync(options),
};

internal sealed record Options(string Mode, int Checkers, int Addresses, int Window, int Rounds, int Warmup, string Kind, string Out, int Nice)
{
    public int Ports => (Checkers + Addresses - 1) / Addresses;

    public const int FirstPort = 20001;

    public static Options Parse(string[] args)
    {
        var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "run";
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        return new Options(mode, int.Parse(Get("checkers", "10000")), int.Parse(Get("addresses", "100")), int.Parse(Get("window", "10")),
            int.Parse(Get("rounds", "3")), int.Parse(Get("warmup", "5")), Get("kind", "vigil"), Get("out", "bench/results/checkers.md"), int.Parse(Get("nice", "0")));
    }

    public string[] ChildArgs(string mode, string? kind = null) =>
        [mode, "--checkers", Checkers.ToString(), "--addresses", Addresses.ToString(), "--window", Window.ToString(), "--rounds", "1",
         "--warmup", Warmup.ToString(), "--kind", kind ?? Kind];

    public static IPAddress Address(int i) => new([10, 88, (byte)(i / 250), (byte)(i % 250 + 1)]);

    public IEnumerable<IPEndPoint> Targets() => Enumerable.Range(0, Checkers).Select(i => new IPEndPoint(Address(i % Addresses), FirstPort + i / Addresses));
}

/// <summary>One measured window.</summary>
internal sealed record RoundResult(
    string Kind,
    double ChecksPerSecond,
    double Successes,
    double Failures,
    double CpuCores,
    double UserCores,
    double SystemCores,
    double CpuMsPer1000,
    double WorkingSetMb,
    double GcHeapMb,
    double LatenessP50Ms,
    double LatenessP99Ms,
    double LatenessMaxMs,
    double OnTimeFraction,
    double DurationP50Ms,
    double DurationP99Ms,
    double LoopLagMeanMs,
    double TimerLateMeanMs,
    double LoadAverage);

internal static class Orchestrator
{
    public static async Task<int> RunAsync(Options options)
    {
        if (Environment.UserName != "root") throw new InvalidOperationException("the benchmark needs root (network namespaces)");
        var ns = $"vgbench-{Random.Shared.Next(0x100000):x5}";
        await Sh("ip", "netns", "add", ns);
        Process? listener = null;
        try
        {
            await Sh("ip", "-n", ns, "link", "set", "lo", "up");
            for (var i = 0; i < options.Addresses; i++) await Sh("ip", "-n", ns, "addr", "add", Options.Address(i) + "/32", "dev", "lo");
            await Sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.core.somaxconn=65535", "net.ipv4.tcp_max_syn_backlog=65535",
                "net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1");

            listener = Start(ns, options.ChildArgs("listen"), options.Nice);
            var ready = await listener.StandardOutput.ReadLineAsync();
            if (ready != "ready") throw new InvalidOperationException("listener failed: " + ready + await listener.StandardError.ReadToEndAsync());

            // Alternate the two sides, one window per child, so that changes in the machine's
            // load (it is shared) hit both alike; each child warms up first.
            var results = new List<RoundResult>();
            var kinds = (Environment.GetEnvironmentVariable("VIGIL_BENCH_KINDS") ?? "baseline,vigil").Split(',');
            foreach (var kind in Enumerable.Range(0, options.Rounds).SelectMany(_ => kinds))
            {
                Console.Error.WriteLine($"measuring {kind}: {options.Checkers} checks at 1 s, {options.Window} s after {options.Warmup} s warm-up");
                using var child = Start(ns, options.ChildArgs("measure", kind), options.Nice);
                string? line;
                while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
                {
                    var r = JsonSerializer.Deserialize<RoundResult>(line)!;
                    Console.Error.WriteLine($"  {kind}: {r.ChecksPerSecond:0} checks/s, {r.CpuCores:0.000} cores ({r.UserCores:0.000} user), {r.CpuMsPer1000:0.0} ms CPU per 1000, RSS {r.WorkingSetMb:0} MB, late p50/p99 {r.LatenessP50Ms:0.0}/{r.LatenessP99Ms:0.0} ms, connect p50/p99 {r.DurationP50Ms:0.0}/{r.DurationP99Ms:0.0} ms, loop lag {r.LoopLagMeanMs:0.00} ms, timer late {r.TimerLateMeanMs:0.00} ms, load {r.LoadAverage:0.0}");
                    results.Add(r);
                }
                await child.WaitForExitAsync();
                if (child.ExitCode != 0) throw new InvalidOperationException($"{kind} run failed: {await child.StandardError.ReadToEndAsync()}");
            }
            var report = Report.Build(options, results);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
            await File.WriteAllTextAsync(options.Out, report);
            Console.WriteLine(report);
            return 0;
        }
        finally
        {
            if (listener is { HasExited: false })
            {
                listener.Kill();
                await listener.WaitForExitAsync();
            }
            await Sh("ip", "netns", "del", ns);
        }
    }

    private static Process Start(string ns, string[] childArgs, int nice)
    {
        // With --nice every child (listener, baseline, vigil) gets the same priority, like
        // keepalived's checker_priority: a way to measure as on a machine that is not oversubscribed.
        var psi = new ProcessStartInfo(nice == 0 ? "ip" : "nice") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (nice != 0)
        {
            foreach (var a in new[] { "-n", nice.ToString(), "ip" }) psi.ArgumentList.Add(a);
        }
        foreach (var a in new[] { "netns", "exec", ns }) psi.ArgumentList.Add(a);
        var self = Environment.ProcessPath!;
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(Orchestrator).Assembly.Location);
        foreach (var a in childArgs) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static async Task Sh(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {await p.StandardError.ReadToEndAsync()}");
    }
}

/// <summary>Accepts and closes connections on every benchmark port (a separate process, so its CPU
/// is not counted against the checker).</summary>
internal static class Listener
{
    public static async Task<int> RunAsync(Options options)
    {
        var sockets = new List<Socket>();
        for (var p = 0; p < options.Ports; p++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Any, Options.FirstPort + p));
            s.Listen(4096);
            sockets.Add(s);
        }
        // One blocking thread per listening socket: the peers must not depend on a thread pool
        // warming up (the checker's connects complete in the kernel; accepting only frees the queue).
        foreach (var s in sockets)
        {
            new Thread(() =>
            {
                while (true) s.Accept().Dispose();
            }) { IsBackground = true }.Start();
        }
        Console.WriteLine("ready");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}

internal static class Measure
{
    public static async Task<int> RunAsync(Options options)
    {
        var lateness = new Histogram();
        var durations = new Histogram();
        Func<(TimeSpan Loop, TimeSpan Timer)> lags = () => (TimeSpan.Zero, TimeSpan.Zero);
        Func<long> probesRun;
        Func<long> successes;
        Func<long> failures;
        IAsyncDisposable running;
        if (options.Kind is "baseline" or "probe-ticker")
        {
            var baseline = new BaselineConnector(options.Targets().ToArray(), lateness, durations, options.Kind == "probe-ticker");
            probesRun = () => baseline.Completed;
            successes = () => baseline.Succeeded;
            failures = () => baseline.Failed;
            running = baseline;
        }
        else
        {
            IProbeFactory real = options.Kind == "vigil-null" ? new NullProbeFactory() : new ProbeFactory(HostSocketFactory.Instance, Vigil.Scripts.ScriptRunner.Default, TimeProvider.System);
            var factory = new TimedProbeFactory(real, lateness, durations);
            var engine = new CheckEngine(new CheckEngineOptions { Probes = factory, StartProbesInline = Environment.GetEnvironmentVariable("VIGIL_BENCH_INLINE") == "1" });
            await engine.ApplyConfigurationAsync(Configuration(options));
            probesRun = () => engine.GetCounters().ProbesRun;
            successes = () => engine.GetCounters().ProbeSuccesses;
            failures = () => engine.GetCounters().ProbeFailures;
            lags = () => (engine.GetCounters().LoopLagTotal, engine.GetCounters().TimerLatenessTotal);
            running = engine;
        }

        await Task.Delay(TimeSpan.FromSeconds(options.Warmup));
        var process = Process.GetCurrentProcess();
        for (var round = 0; round < options.Rounds; round++)
        {
            GC.Collect();
            lateness.Reset();
            durations.Reset();
            var lag0 = lags();
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var user0 = process.UserProcessorTime;
            var (n0, s0, f0) = (probesRun(), successes(), failures());
            var sw = Stopwatch.StartNew();
            for (var t = 0; t < options.Window; t++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                if (Environment.GetEnvironmentVariable("VIGIL_BENCH_DEBUG") is not null)
                    Console.Error.WriteLine($"pool threads {ThreadPool.ThreadCount} pending {ThreadPool.PendingWorkItemCount} completed {ThreadPool.CompletedWorkItemCount} gc0 {GC.CollectionCount(0)} gc2 {GC.CollectionCount(2)} pause {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms");
            }
            sw.Stop();
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            var user = (process.UserProcessorTime - user0).TotalSeconds;
            var (n, s, f) = (probesRun() - n0, successes() - s0, failures() - f0);
            var lag1 = lags();
            var wall = sw.Elapsed.TotalSeconds;
            var result = new RoundResult(options.Kind, n / wall, s, f, cpu / wall, user / wall, (cpu - user) / wall, n == 0 ? 0 : cpu * 1000 / (n / 1000.0),
                process.WorkingSet64 / 1048576.0, GC.GetTotalMemory(false) / 1048576.0,
                lateness.Percentile(0.5), lateness.Percentile(0.99), lateness.Max, lateness.FractionBelow(50),
                durations.Percentile(0.5), durations.Percentile(0.99),
                n == 0 ? 0 : (lag1.Loop - lag0.Loop).TotalMilliseconds / n, n == 0 ? 0 : (lag1.Timer - lag0.Timer).TotalMilliseconds / n,
                double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture));
            Console.WriteLine(JsonSerializer.Serialize(result));
        }
        await running.DisposeAsync();
        return 0;
    }

    private static CheckdConfig Configuration(Options options)
    {
        // 100 real servers per virtual server, like a large keepalived.conf.
        var targets = options.Targets().ToArray();
        var virtualServers = targets.Chunk(100).Select((chunk, i) => new VirtualServerConfig
        {
            Key = VirtualServerKey.ForAddress(new IPAddress([10, 99, (byte)(i / 250), (byte)(i % 250 + 1)]), 80),
            DelayLoop = TimeSpan.FromSeconds(1),
            Warmup = TimeSpan.FromSeconds(1),
            RealServers = chunk.Select(t => new RealServerConfig
            {
                Address = t.Address,
                Port = (ushort)t.Port,
                Checkers = new CheckerConfig[] { new TcpCheckConfig() },
            }).ToArray(),
        }).ToArray();
        return new CheckdConfig { Globals = new CheckdGlobals { RouterId = "bench" }, VirtualServers = virtualServers };
    }
}

/// <summary>Milliseconds histogram (0.1 ms buckets up to 10 s), safe for concurrent recording.</summary>
internal sealed class Histogram
{
    private const double BucketMs = 0.1;
    private readonly long[] _buckets = new long[100_001];
    private long _count;
    private long _maxTicks;

    public void Record(TimeSpan value)
    {
        var ms = Math.Max(value.TotalMilliseconds, 0);
        Interlocked.Increment(ref _buckets[Math.Min((int)(ms / BucketMs), _buckets.Length - 1)]);
        Interlocked.Increment(ref _count);
        long current;
        while (value.Ticks > (current = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, value.Ticks, current) != current) { }
    }

    public void Reset()
    {
        Array.Clear(_buckets);
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _maxTicks, 0);
    }

    public double Max => TimeSpan.FromTicks(Interlocked.Read(ref _maxTicks)).TotalMilliseconds;

    public double Percentile(double p)
    {
        var total = Interlocked.Read(ref _count);
        if (total == 0) return 0;
        var target = (long)Math.Ceiling(total * p);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= target) return (i + 1) * BucketMs;
        }
        return Max;
    }

    public double FractionBelow(double ms)
    {
        var total = Interlocked.Read(ref _count);
        if (total == 0) return 0;
        var limit = (int)(ms / BucketMs);
        long below = 0;
        for (var i = 0; i < limit; i++) below += _buckets[i];
        // Records racing a reset can make the buckets and the count disagree by a few.
        return Math.Min(below / (double)total, 1);
    }
}

/// <summary>Probes that succeed at once: the engine's own cost, without sockets.</summary>
internal sealed class NullProbeFactory : IProbeFactory
{
    private static readonly Task<ProbeResult> s_ok = Task.FromResult(ProbeResult.Ok("ok", TimeSpan.Zero));

    public IProbe Create(ProbeContext context) => new Null();

    private sealed class Null : IProbe
    {
        public Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken) => s_ok;
    }
}

/// <summary>Wraps the real probes to measure how late each run starts: start time minus (end of
/// the previous run + delay_loop).</summary>
internal sealed class TimedProbeFactory(IProbeFactory inner, Histogram lateness, Histogram durations) : IProbeFactory
{
    public IProbe Create(ProbeContext context) => new Timed(inner.Create(context), context.Timing.DelayLoop, lateness, durations);

    private sealed class Timed(IProbe probe, TimeSpan delayLoop, Histogram lateness, Histogram durations) : IProbe
    {
        private long _lastEnd;

        public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
        {
            var start = Stopwatch.GetTimestamp();
            if (_lastEnd != 0) lateness.Record(Stopwatch.GetElapsedTime(_lastEnd, start) - delayLoop);
            var result = await probe.RunAsync(step, cancellationToken);
            _lastEnd = Stopwatch.GetTimestamp();
            durations.Record(Stopwatch.GetElapsedTime(start, _lastEnd));
            return result;
        }
    }
}

/// <summary>The baseline: the same connects at the same rate with no check engine - each target
/// is connected once per second from a 10 ms ticker, the connection closed at once.</summary>
internal sealed class BaselineConnector : IAsyncDisposable
{
    private const int TicksPerSecond = 100;
    private readonly IPEndPoint[] _targets;
    private readonly Histogram _lateness;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private long _completed;
    private long _succeeded;
    private long _failed;

    private readonly Histogram _durations;

    private readonly TcpProbe[]? _probes;

    public BaselineConnector(IPEndPoint[] targets, Histogram lateness, Histogram durations, bool useProbes = false)
    {
        if (useProbes) _probes = [.. targets.Select(t => new TcpProbe(new ProbeTarget(t, TimeSpan.FromSeconds(5)), HostSocketFactory.Instance, TimeProvider.System))];
        _targets = targets;
        _lateness = lateness;
        _durations = durations;
        _run = Task.Run(RunAsync);
    }

    public long Completed => Interlocked.Read(ref _completed);
    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);

    private async Task RunAsync()
    {
        // A 10 ms ticker that catches up when late, so every target is connected once per second.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1000.0 / TicksPerSecond));
        var start = Stopwatch.GetTimestamp();
        long tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var now = Stopwatch.GetElapsedTime(start);
                for (; tick <= (long)(now.TotalSeconds * TicksPerSecond); tick++)
                {
                    _lateness.Record(now - TimeSpan.FromSeconds(tick / (double)TicksPerSecond));
                    var slot = (int)(tick % TicksPerSecond);
                    for (var i = slot; i < _targets.Length; i += TicksPerSecond) _ = _probes is null ? ConnectAsync(_targets[i]) : ProbeAsync(_probes[i]);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ConnectAsync(IPEndPoint target)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.ConnectAsync(target, cts.Token);
            Interlocked.Increment(ref _succeeded);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Interlocked.Increment(ref _failed);
        }
        _durations.Record(Stopwatch.GetElapsedTime(start));
        Interlocked.Increment(ref _completed);
    }

    private async Task ProbeAsync(TcpProbe probe)
    {
        var start = Stopwatch.GetTimestamp();
        var r = await probe.RunAsync(0, _stop.Token);
        if (r.IsSuccess) Interlocked.Increment(ref _succeeded);
        else Interlocked.Increment(ref _failed);
        _durations.Record(Stopwatch.GetElapsedTime(start));
        Interlocked.Increment(ref _completed);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
    }
}

internal static class Report
{
    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? 0 : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static string Build(Options options, List<RoundResult> results)
    {
        var b = results.Where(r => r.Kind == "baseline").ToList();
        var v = results.Where(r => r.Kind == "vigil").ToList();
        string Row(string name, Func<RoundResult, double> f, string format, bool ratio = true)
        {
            var mb = Median(b.Select(f));
            var mv = Median(v.Select(f));
            var r = ratio && mb != 0 ? (mv / mb).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "";
            return $"| {name} | {mb.ToString(format, CultureInfo.InvariantCulture)} | {mv.ToString(format, CultureInfo.InvariantCulture)} | {r} |";
        }
        var cpuModel = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var sb = new StringBuilder();
        sb.AppendLine("# Checkers benchmark: 10,000 TCP_CHECKs at delay_loop 1");
        sb.AppendLine();
        sb.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/checkers` (`sudo dotnet run -c Release --project bench/checkers`).");
        sb.AppendLine($"Machine: {Environment.ProcessorCount} CPUs ({cpuModel}), Linux {Environment.OSVersion.Version}, .NET {Environment.Version}; other jobs shared the machine.");
        sb.AppendLine();
        sb.AppendLine($"Setup: one network namespace; {options.Ports} listening ports on 0.0.0.0 x {options.Addresses} addresses on `lo` = {options.Checkers} real servers,");
        sb.AppendLine("served by a separate listener process that accepts and closes (its CPU is not counted).");
        if (options.Nice != 0)
        {
            sb.AppendLine($"All three processes (listener, baseline, vigil) ran at nice {options.Nice} (keepalived's `checker_priority` does the same for its checker),");
            sb.AppendLine("so the other jobs sharing the machine took less of their CPU; compare with `checkers.md`, measured at the default priority.");
        }
        sb.AppendLine($"The sides alternated {options.Rounds} times (baseline, vigil, baseline, ...), each a fresh process warming up {options.Warmup} s");
        sb.AppendLine($"then measured over {options.Window} s, so that the shared machine's varying load hits both alike; the table shows medians.");
        sb.AppendLine();
        sb.AppendLine("- **baseline**: bare `Socket.ConnectAsync` + close, every target once per second from a 10 ms ticker, no check engine;");
        sb.AppendLine($"- **vigil**: `CheckEngine` with {options.Checkers / 100} virtual servers x 100 real servers, one `TCP_CHECK` each, delay_loop 1 s, warmup 1 s,");
        sb.AppendLine("  everything keepalived's checker does per result (policy, pool state, events); no subscriber attached.");
        sb.AppendLine();
        sb.AppendLine("Lateness: for Vigil, start of a run minus (end of the previous run + delay_loop), i.e. the");
        sb.AppendLine("scheduler's own delay; for the baseline, the ticker's delay. On time = late by less than 50 ms.");
        sb.AppendLine("keepalived's delay_loop counts from the end of a check, so 10,000 checkers at 1 s run slightly less than");
        sb.AppendLine("10,000 checks per second (10,000 / (1 s + connect time)).");
        sb.AppendLine();
        sb.AppendLine("| metric (median) | baseline | vigil | vigil / baseline |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine(Row("checks per second", r => r.ChecksPerSecond, "0"));
        sb.AppendLine(Row("failed checks per window", r => r.Failures, "0", ratio: false));
        sb.AppendLine(Row("CPU (cores)", r => r.CpuCores, "0.000"));
        sb.AppendLine(Row("  of which user", r => r.UserCores, "0.000"));
        sb.AppendLine(Row("  of which kernel", r => r.SystemCores, "0.000"));
        sb.AppendLine(Row("CPU per 1,000 checks (ms)", r => r.CpuMsPer1000, "0.0"));
        sb.AppendLine(Row("resident memory (MB)", r => r.WorkingSetMb, "0"));
        sb.AppendLine(Row("managed heap (MB)", r => r.GcHeapMb, "0.0"));
        sb.AppendLine(Row("connect (probe) time p50 (ms)", r => r.DurationP50Ms, "0.0", ratio: false));
        sb.AppendLine(Row("connect (probe) time p99 (ms)", r => r.DurationP99Ms, "0.0", ratio: false));
        sb.AppendLine(Row("lateness p50 (ms)", r => r.LatenessP50Ms, "0.0", ratio: false));
        sb.AppendLine(Row("lateness p99 (ms)", r => r.LatenessP99Ms, "0.0", ratio: false));
        sb.AppendLine(Row("lateness max (ms)", r => r.LatenessMaxMs, "0.0", ratio: false));
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| checks on time (< 50 ms late) | {Median(b.Select(r => r.OnTimeFraction)) * 100:0.00}% | {Median(v.Select(r => r.OnTimeFraction)) * 100:0.00}% | |"));
        sb.AppendLine();
        var goalRate = Median(v.Select(r => r.ChecksPerSecond));
        var goalCpu = Median(v.Select(r => r.CpuCores));
        var onTime = Median(v.Select(r => r.OnTimeFraction));
        sb.AppendLine($"Goal (all 10,000 on time using under one core): {(goalCpu < 1 && onTime >= 0.99 ? "met" : "NOT met")} -" +
            $" {goalRate:0} checks/s, {goalCpu:0.00} cores, {onTime * 100:0.00}% on time.");
        sb.AppendLine();
        sb.AppendLine("Every window:");
        sb.AppendLine();
        sb.AppendLine("| kind | checks/s | failures | cores (user) | ms CPU / 1000 | RSS MB | heap MB | connect p50/p99 ms | late p50/p99/max ms | on time | loop lag ms | timer late ms | load avg |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Kind} | {r.ChecksPerSecond:0} | {r.Failures:0} | {r.CpuCores:0.000} ({r.UserCores:0.000}) | {r.CpuMsPer1000:0.0} | {r.WorkingSetMb:0} | {r.GcHeapMb:0.0} | {r.DurationP50Ms:0.0}/{r.DurationP99Ms:0.0} | {r.LatenessP50Ms:0.0}/{r.LatenessP99Ms:0.0}/{r.LatenessMaxMs:0.0} | {r.OnTimeFraction * 100:0.00}% | {r.LoopLagMeanMs:0.00} | {r.TimerLateMeanMs:0.00} | {r.LoadAverage:0.0} |"));
        }
        return sb.ToString();
    }
}
