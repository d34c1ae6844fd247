using System.Diagnostics;
using System.Net;
using Vigil.Testing;

namespace Vigil.Bench.Failover;

/// <summary>A VRRP configuration under test (the same text for both implementations).</summary>
internal sealed record VrrpSetup(string Name, int Version, long AdvertMicros, string AdvertIntText, int MasterPriority, int BackupPriority)
{
    public static readonly VrrpSetup V2 = new("v2 advert_int 1", 2, 1_000_000, "1", 150, 100);
    public static readonly VrrpSetup V3 = new("v3 advert_int 0.1", 3, 100_000, "0.1", 150, 100);

    public string Key => Version == 2 ? "v2" : "v3";

    /// <summary>
    /// The backup's Master_Down_Interval in microseconds, with keepalived's integer arithmetic
    /// (vrrp.h VRRP_TIMER_SKEW_CALC / VRRP_MS_DOWN_TIMER, 2.2.7): 3 x Master_Adver_Interval +
    /// Skew_Time, where Skew_Time is (256 - prio) x 1,000,000 / 256 us for VRRPv2 and
    /// (256 - prio) x (interval in centiseconds) x 625 / 16 us for VRRPv3, truncated.
    /// </summary>
    public long MasterDownMicros
    {
        get
        {
            long weight = 256 - BackupPriority;
            var skew = Version == 3 ? weight * (AdvertMicros / 10_000) * 625 / 16 : weight * 1_000_000 / 256;
            return 3 * AdvertMicros + skew;
        }
    }
}

/// <summary>Who runs r1 (the master, priority 150) and r2 (the backup, priority 100).</summary>
internal sealed record Pairing(Implementation Master, Implementation Backup)
{
    public string Name => $"{Short(Master)}/{Short(Backup)}";

    private static string Short(Implementation i) => i == Implementation.Vigil ? "Vigil" : "keepalived";
}

/// <summary>One trial's measurements (microseconds; null when not seen).</summary>
internal sealed record TrialRecord(
    int Round,
    int Slot,
    string Pairing,
    string Setup,
    long PullMicros,
    long PullEndMicros,
    long? LastMasterAdvert,
    long? FirstBackupAdvert,
    long? FirstGarp,
    long? FirstReply,
    long? MasterInterval,
    long? FailbackMicros,
    long? BackupTransitionWall,
    double LoadAverage,
    long PingsSent,
    SchedDelta? BackupIdleSched,
    SchedDelta? BackupSched,
    string? Error)
{
    public long? Gap => FirstBackupAdvert - LastMasterAdvert;
    public long? ToGarp => FirstGarp - LastMasterAdvert;
    public long? ToReply => FirstReply - LastMasterAdvert;
    /// <summary>From the moment the port was down (the `ip` command returned) to r2's first advert.</summary>
    public long? PullToAdvert => FirstBackupAdvert - PullEndMicros;
    public bool Ok => Error is null && Gap is not null;
}

/// <summary>
/// What the backup's VRRP process (vigil-vrrpd or keepalived's VRRP child) did in a window
/// (idle: from the pull to 3 ms before its master-down timer is due; takeover: from then until
/// its first advert was seen by the benchmark): CPU time, time its threads spent runnable but waiting for a
/// CPU (all threads, and the thread that waited most), and how many threads ran. Microseconds.
/// </summary>
internal sealed record SchedDelta(long RunMicros, long WaitMicros, long MaxThreadWaitMicros, int ThreadsRan)
{
    public static SchedDelta Between(Dictionary<int, (long RunNs, long WaitNs)> before, Dictionary<int, (long RunNs, long WaitNs)> after)
    {
        long run = 0, wait = 0, maxWait = 0;
        var ran = 0;
        foreach (var (tid, a) in after)
        {
            var b = before.GetValueOrDefault(tid);
            var r = a.RunNs - b.RunNs;
            var w = a.WaitNs - b.WaitNs;
            run += r;
            wait += w;
            maxWait = Math.Max(maxWait, w);
            if (r > 0) ran++;
        }
        return new SchedDelta(run / 1000, wait / 1000, maxWait / 1000, ran);
    }
}

/// <summary>
/// One lab: a switch, routers r1 (master) and r2 (backup) running the pairing's implementations,
/// and a client that captures the LAN (VRRP, gratuitous ARP, echo replies) with tcpdump and pings
/// the VIP during a trial. All timings come from the capture's kernel timestamps; the capture is
/// also read while it is written to follow the lab's state without touching the routers.
/// </summary>
internal sealed class FailoverLab : IAsyncDisposable
{
    private const string Subnet = "10.77.0";
    private static readonly string Vip = $"{Subnet}.10";

    private readonly Lab _lab;
    private readonly LabHost _r1;
    private readonly LabHost _client;
    private readonly Capture _capture;
    private readonly PcapTail _tail;
    private readonly Pinger _pinger;
    private readonly List<WireEvent> _events = [];
    private readonly uint _r1Ip = PcapTail.Ip($"{Subnet}.1");
    private readonly uint _r2Ip = PcapTail.Ip($"{Subnet}.2");
    private readonly uint _vipIp = PcapTail.Ip(Vip);
    private readonly ulong _r1Mac;
    private readonly ulong _r2Mac;
    private readonly string _workDir;

    private FailoverLab(Pairing pairing, VrrpSetup setup, Lab lab, LabHost r1, LabHost client, IRouter router1, IRouter router2,
        Capture capture, Pinger pinger, ulong r1Mac, ulong r2Mac, string workDir)
    {
        Pairing = pairing;
        Setup = setup;
        _lab = lab;
        _r1 = r1;
        _client = client;
        Router1 = router1;
        Router2 = router2;
        _capture = capture;
        _tail = new PcapTail(capture.File);
        _pinger = pinger;
        _r1Mac = r1Mac;
        _r2Mac = r2Mac;
        _workDir = workDir;
    }

    public Pairing Pairing { get; }
    public VrrpSetup Setup { get; }
    public IRouter Router1 { get; }
    public IRouter Router2 { get; }
    public string Name => $"{Pairing.Name} {Setup.Key}";
    public bool Broken { get; private set; }

    public static async Task<FailoverLab> CreateAsync(Pairing pairing, VrrpSetup setup, TimeSpan pingInterval)
    {
        var lab = await Lab.CreateAsync();
        var workDir = Directory.CreateTempSubdirectory("vigil-bench-failover-").FullName;
        try
        {
            var sw = await lab.AddSwitchAsync();
            var r1 = await lab.AddHostAsync("r1", sw, $"{Subnet}.1/24");
            var r2 = await lab.AddHostAsync("r2", sw, $"{Subnet}.2/24");
            var client = await lab.AddHostAsync("client", sw, $"{Subnet}.100/24");
            var r1Mac = PcapTail.Mac(await r1.MacAsync("eth0"));
            var r2Mac = PcapTail.Mac(await r2.MacAsync("eth0"));
            var capture = lab.Own(await client.StartCaptureAsync("eth0", "ip proto 112 or arp or icmp[icmptype] = icmp-echoreply"));
            var router1 = await StartRouterAsync(pairing.Master, r1, RouterConfig.Text("fb-r1", true, setup, Vip), workDir);
            var router2 = await StartRouterAsync(pairing.Backup, r2, RouterConfig.Text("fb-r2", false, setup, Vip), workDir);
            var pinger = new Pinger(client, IPAddress.Parse(Vip), pingInterval);
            return new FailoverLab(pairing, setup, lab, r1, client, router1, router2, capture, pinger, r1Mac, r2Mac, workDir);
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private static async Task<IRouter> StartRouterAsync(Implementation implementation, LabHost host, string config, string workDir) =>
        implementation == Implementation.Vigil
            ? await VigilRouter.StartAsync(host, config, workDir)
            : await KeepalivedRouter.StartAsync(host, config, workDir);

    private void ReadCapture() => _events.AddRange(_tail.Poll());

    private long AdvertMicros => Setup.AdvertMicros;

    /// <summary>
    /// r1 is master and r2 backup, on the wire and by their own account: r1 has sent at least two
    /// adverts at its priority since r2's last advert (so r2 has heard it and is waiting), the
    /// latest less than 1.5 advert intervals ago, and both daemons report MASTER / BACKUP.
    /// </summary>
    private async Task WaitSteadyAsync(TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        string last = "nothing captured";
        while (true)
        {
            ReadCapture();
            var now = Clock.NowMicros();
            var lastR2 = LastIndex(e => e.Kind == WireKind.Advert && e.SourceIp == _r2Ip);
            var r1Since = 0;
            long lastR1 = 0;
            for (var i = lastR2 + 1; i < _events.Count; i++)
            {
                var e = _events[i];
                if (e.Kind == WireKind.Advert && e.SourceIp == _r1Ip && e.Priority == Setup.MasterPriority)
                {
                    r1Since++;
                    lastR1 = e.Micros;
                }
            }
            var wire = r1Since >= 2 && now - lastR1 < AdvertMicros * 3 / 2;
            if (wire)
            {
                var s1 = await Router1.StateAsync();
                var s2 = await Router2.StateAsync();
                if (s1 == "MASTER" && s2 == "BACKUP") return;
                last = $"wire steady, but r1 reports {s1 ?? "nothing"} and r2 {s2 ?? "nothing"}";
            }
            else
            {
                last = $"{r1Since} adverts from r1 since r2's last, the latest {(lastR1 == 0 ? "never" : $"{(now - lastR1) / 1000} ms ago")}";
            }
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{Name}: timed out waiting for {what}: {last}");
            await Task.Delay(10);
        }
    }

    private int LastIndex(Func<WireEvent, bool> match)
    {
        for (var i = _events.Count - 1; i >= 0; i--) if (match(_events[i])) return i;
        return -1;
    }

    private WireEvent? First(Func<WireEvent, bool> match)
    {
        foreach (var e in _events) if (match(e)) return e;
        return null;
    }

    private async Task<WireEvent> WaitForAsync(Func<WireEvent, bool> match, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            ReadCapture();
            if (First(match) is { } e) return e;
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{Name}: timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>Brings the lab to its steady state the first time (r1 master after its start-up).</summary>
    public Task WarmUpAsync() => WaitSteadyAsync(TimeSpan.FromSeconds(60), "r1 MASTER and r2 BACKUP after start");

    /// <summary>
    /// One failover: steady state, the client pinging; r1's switch port goes down at a random
    /// phase of its advert interval; wait for r2's first advert and the first echo reply from r2's
    /// MAC; ping stops, the port comes back, r1 preempts; wait for steady state again.
    /// </summary>
    public async Task<TrialRecord> RunTrialAsync(int round, int slot, Random random, bool freshBackup)
    {
        long pull = 0, pullEnd = 0;
        WireEvent? firstR2 = null;
        long? backupTransition = null;
        SchedDelta? sched = null, idleSched = null;
        var load = LoadAverage();
        try
        {
            // A fresh backup daemon each trial: every failover is that process's first.
            if (freshBackup)
            {
                await Router2.RestartAsync();
                await WaitQuietAsync(Router2);
            }
            // Keep what the steady-state check needs (r1's recent adverts), drop older frames.
            ReadCapture();
            var keepFrom = Clock.NowMicros() - 3 * AdvertMicros;
            _events.RemoveAll(e => e.Micros < keepFrom);
            await WaitSteadyAsync(TimeSpan.FromSeconds(30), "r1 MASTER and r2 BACKUP before the trial");
            var pingStart = Clock.NowMicros();
            _pinger.Start();
            await WaitForCountAsync(e => e.Kind == WireKind.EchoReply && e.SourceMac == _r1Mac && e.Micros >= pingStart, 20,
                TimeSpan.FromSeconds(5), "20 echo replies from r1 before the pull");
            // A random phase within the advert interval, so pulls do not line up with r1's timer.
            await Task.Delay(TimeSpan.FromMicroseconds(random.NextInt64(AdvertMicros)));
            load = LoadAverage();
            var backupPid = Router2.VrrpPid;
            var schedBefore = backupPid is { } bp ? ProcFs.SchedStats(bp) : null;
            pull = Clock.NowMicros();
            await _r1.SetCableAsync("eth0", false);
            pullEnd = Clock.NowMicros();
            var pulled = pull;
            // r2's timer is due Master_Down_Interval after r1's last advert (which has been captured
            // by now): sample r2's scheduler accounting 3 ms before that, on a thread that sleeps there.
            ReadCapture();
            var lastBefore = LastIndex(e => e.Kind == WireKind.Advert && e.SourceIp == _r1Ip && e.Micros <= pulled + (pullEnd - pulled));
            var sampleAt = lastBefore >= 0 ? _events[lastBefore].Micros + Setup.MasterDownMicros - 3000 : 0;
            var dueSample = backupPid is { } sp && sampleAt > Clock.NowMicros()
                ? Task.Factory.StartNew(() =>
                {
                    TimerProbe.SleepUntilRealtime(sampleAt);
                    return ProcFs.SchedStats(sp);
                }, TaskCreationOptions.LongRunning)
                : Task.FromResult<Dictionary<int, (long RunNs, long WaitNs)>?>(null)!;
            firstR2 = await WaitForAsync(e => e.Kind == WireKind.Advert && e.SourceIp == _r2Ip && e.Micros >= pulled,
                TimeSpan.FromMicroseconds(Setup.MasterDownMicros + 10_000_000), "r2's first advert after the pull");
            var atDue = await dueSample;
            if (backupPid is { } bp2 && schedBefore is not null && atDue is not null)
            {
                idleSched = SchedDelta.Between(schedBefore, atDue);
                sched = SchedDelta.Between(atDue, ProcFs.SchedStats(bp2));
            }
            var advertAt = firstR2.Value.Micros;
            await WaitForAsync(e => e.Kind == WireKind.EchoReply && e.SourceMac == _r2Mac && e.Micros >= advertAt,
                TimeSpan.FromSeconds(10), "an echo reply from r2 after its first advert");
            _pinger.Stop();
            if (Router2 is VigilRouter v && await v.InstanceAsync() is { LastTransition: { } t } && (await v.StateAsync()) == "MASTER")
                backupTransition = (t.ToDateTime() - DateTime.UnixEpoch).Ticks / 10;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            _pinger.Stop();
            var record = Analyse(round, slot, pull, pullEnd, null, backupTransition, idleSched, sched, load, e.Message);
            await RecoverAsync();
            return record;
        }
        var plug = Clock.NowMicros();
        await _r1.SetCableAsync("eth0", true);
        string? error = null;
        try
        {
            await WaitForAsync(e => e.Kind == WireKind.Advert && e.SourceIp == _r1Ip && e.Priority == Setup.MasterPriority && e.Micros >= plug,
                TimeSpan.FromMicroseconds(Setup.MasterDownMicros + 10_000_000), "r1's first advert after the cable came back");
            await WaitSteadyAsync(TimeSpan.FromSeconds(30), "fail-back: r1 MASTER and r2 BACKUP");
        }
        catch (TimeoutException e)
        {
            error = e.Message;
            Broken = true;
        }
        return Analyse(round, slot, pull, pullEnd, plug, backupTransition, idleSched, sched, load, error);
    }

    /// <summary>
    /// After a restart: until the daemon's VRRP process has settled (under 10 ms of CPU in one
    /// second), so that a fresh backup is measured as one that has run a while but never taken
    /// over, not while it is still starting.
    /// </summary>
    private async Task WaitQuietAsync(IRouter router)
    {
        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        static long Cpu(int pid) => ProcFs.SchedStats(pid).Values.Sum(t => t.RunNs);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (router.VrrpPid is not { } pid)
            {
                await Task.Delay(100);
                continue;
            }
            var before = Cpu(pid);
            await Task.Delay(1000);
            if (Cpu(pid) - before < 10_000_000) return;
        }
        throw new TimeoutException($"{Name}: r2's restarted daemon did not settle (10 ms of CPU per second) within 60 s");
    }

    private async Task WaitForCountAsync(Func<WireEvent, bool> match, int count, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            ReadCapture();
            if (_events.Count(match) >= count) return;
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"{Name}: timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>After a failed trial: cable in, and back to steady state or the lab is out.</summary>
    private async Task RecoverAsync()
    {
        try
        {
            await _r1.SetCableAsync("eth0", true);
            await WaitSteadyAsync(TimeSpan.FromSeconds(60), "recovery after a failed trial");
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Broken = true;
        }
    }

    private TrialRecord Analyse(int round, int slot, long pull, long pullEnd, long? plug, long? backupTransition, SchedDelta? idleSched, SchedDelta? sched, double load, string? error)
    {
        ReadCapture();
        var firstR2 = pull == 0 ? null : First(e => e.Kind == WireKind.Advert && e.SourceIp == _r2Ip && e.Micros >= pull);
        long? lastR1 = null, prevR1 = null, garp = null, reply = null, failback = null;
        if (firstR2 is { } f)
        {
            foreach (var e in _events)
            {
                if (e.Micros >= f.Micros) break;
                if (e.Kind == WireKind.Advert && e.SourceIp == _r1Ip && e.Priority == Setup.MasterPriority)
                {
                    prevR1 = lastR1;
                    lastR1 = e.Micros;
                }
            }
            garp = First(e => e.Kind == WireKind.Garp && e.SourceIp == _vipIp && e.SourceMac == _r2Mac && e.Micros >= pull)?.Micros;
            reply = First(e => e.Kind == WireKind.EchoReply && e.SourceMac == _r2Mac && e.Micros >= pull)?.Micros;
            if (f.Priority != Setup.BackupPriority || f.Version != Setup.Version)
                error ??= $"r2's first advert has priority {f.Priority}, version {f.Version}";
        }
        if (plug is { } p)
            failback = First(e => e.Kind == WireKind.Advert && e.SourceIp == _r1Ip && e.Priority == Setup.MasterPriority && e.Micros >= p)?.Micros - p;
        // The port goes down while `ip` runs (slow to start on a loaded machine): r1's last advert
        // may come after the command was started, never after it returned.
        if (lastR1 is { } l && pullEnd != 0 && l > pullEnd) error ??= $"r1's last advert came {(l - pullEnd) / 1000.0:0.0} ms after its port was down";
        return new TrialRecord(round, slot, Pairing.Name, Setup.Key, pull, pullEnd, lastR1, firstR2?.Micros, garp, reply, lastR1 - prevR1, failback,
            backupTransition, load, _pinger.Sent, idleSched, sched, error);
    }

    private static double LoadAverage()
    {
        var text = File.ReadAllText("/proc/loadavg");
        return double.Parse(text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        _pinger.Dispose();
        await Router2.DisposeAsync();
        await Router1.DisposeAsync();
        await _lab.DisposeAsync();
        try { Directory.Delete(_workDir, true); } catch (IOException) { }
    }
}
