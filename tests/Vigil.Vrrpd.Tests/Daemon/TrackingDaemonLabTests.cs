using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Vigil.Testing;
using Vigil.Vrrp.V1;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>
/// Trackers and notify scripts with the real daemon: S4 (track_script with weight, fall, rise,
/// exactly the article's numbers), S3 (track_interface, weight 0 = FAULT and a weight, changed by
/// a reload without a restart) and S7 (notify_master / notify_backup appending to a file, the
/// generic notify script's arguments, notify_stop, and the notify FIFO read by a reader process).
/// </summary>
[Trait("Category", "Lab")]
public sealed class TrackingDaemonLabTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(25);
    private const string Vip = "10.77.0.100";
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-track-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static async Task<(Lab, LabHost, LabHost)> TwoRoutersAsync()
    {
        var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        var b = await lab.AddHostAsync("b", sw, "10.77.0.2/24");
        return (lab, a, b);
    }

    private static VrrpConfig WithScript(InstanceSpec instance, string file, int weight, uint fall, uint rise)
    {
        var c = Specs.Config(instance);
        // The article's script, with this router's own file (the namespaces share /tmp).
        c.Scripts.Add(new ScriptSpec
        {
            Name = "my_test",
            Script = $"[ -f {file} ]",
            Interval = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
            // Without a timeout a run may last one interval (keepalived's rule); on a test machine
            // loaded by parallel labs, starting "[" can take that long and count as a failure.
            Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
            Weight = weight,
            Fall = fall,
            Rise = rise,
        });
        instance.TrackScripts.Add(new TrackScript { Script = "my_test" });
        return c;
    }

    [Fact]
    public async Task S4_TrackScriptFails_PriorityDropsByWeightAndBackupPreempts_ThenBack()
    {
        var (lab, a, b) = await TwoRoutersAsync();
        await using var _ = lab;
        var fileA = Path.Combine(_dir, "hehe-a");
        var fileB = Path.Combine(_dir, "hehe-b");
        File.WriteAllText(fileA, "");
        File.WriteAllText(fileB, "");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        var watch = await na.WatchAsync();
        await na.ApplyAsync(WithScript(Specs.Instance(100, Vip), fileA, weight: -2, fall: 3, rise: 1));
        await nb.ApplyAsync(WithScript(Specs.Instance(99, Vip), fileB, weight: -2, fall: 3, rise: 1));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        Assert.Equal(100u, (await na.GetAsync()).EffectivePriority);

        // Remove the file: three failures (about 3 s) take the priority to 98, below b's 99.
        var removed = Stopwatch.StartNew();
        File.Delete(fileA);
        await Poll.UntilAsync(async () => (await na.GetAsync()).EffectivePriority == 98, Deadline, "a's priority to drop to 98", async () => await na.Describe());
        Assert.InRange(removed.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await na.WaitForStateAsync(InstanceState.Backup, Deadline);
        await Poll.UntilAsync(async () => await b.HasAddressAsync("eth0", Vip) && !await a.HasAddressAsync("eth0", Vip), Deadline, "the VIP to move to b");
        Assert.Contains("VRRP_Script(my_test) failed", na.Log);
        Assert.Contains("VI_1: effective priority 100 -> 98", na.Log);

        // Recreate it: one success brings 100 back and a preempts.
        File.WriteAllText(fileA, "");
        await Poll.UntilAsync(async () => (await na.GetAsync()).EffectivePriority == 100, Deadline, "a's priority back to 100");
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        Assert.Contains("VRRP_Script(my_test) succeeded", na.Log);
        Assert.Contains(watch.Messages, m => m.PriorityChange is { From: 100, To: 98 });
        Assert.Contains(watch.Messages, m => m.PriorityChange is { From: 98, To: 100 });
    }

    [Fact]
    public async Task S3_TrackInterface_Weight0FaultsAtOnce_ThenReloadedToAWeightWithoutRestart()
    {
        var (lab, a, b) = await TwoRoutersAsync();
        await using var _ = lab;
        var sw2 = await lab.AddSwitchAsync("lan2");
        await a.ConnectAsync(sw2, "eth1", "10.78.0.1/24");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);
        InstanceSpec A(int weight)
        {
            var i = Specs.Instance(150, Vip, version: 3, advertSeconds: 0.5);
            i.TrackInterfaces.Add(new TrackInterface { Interface = "eth1", Weight = weight });
            return i;
        }
        await na.ApplyAsync(Specs.Config(A(0)));
        await nb.ApplyAsync(Specs.Config(Specs.Instance(100, Vip, version: 3, advertSeconds: 0.5)));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);

        // Weight 0: the tracked interface going down is a FAULT at once (rtnetlink), and the
        // priority 0 advert lets b take over after its skew time.
        var down = Stopwatch.StartNew();
        await a.SetLinkAsync("eth1", false);
        await na.WaitForStateAsync(InstanceState.Fault, Deadline);
        Assert.True(down.Elapsed < TimeSpan.FromSeconds(2), $"FAULT after {down.Elapsed}");
        Assert.Contains("tracker", (await na.GetAsync()).Faults);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.Contains("VI_1: MASTER -> FAULT (tracked object failed)", na.Log);
        await a.SetLinkAsync("eth1", true);
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);

        // Reloaded with weight -60: only the tracker changes, the instance keeps running.
        var watch = await na.WatchAsync();
        var r = await na.ApplyAsync(Specs.Config(A(-60)));
        Assert.Equal(["VI_1"], r.ChangedInstances);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(InstanceState.Master, (await na.GetAsync()).State);
        Assert.DoesNotContain(watch.Transitions(), _ => true);

        // Now eth1 down costs 60: 150 - 60 = 90 < 100, so b preempts; no FAULT.
        await a.SetLinkAsync("eth1", false);
        await Poll.UntilAsync(async () => (await na.GetAsync()).EffectivePriority == 90, Deadline, "a at priority 90");
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await na.WaitForStateAsync(InstanceState.Backup, Deadline);
        await a.SetLinkAsync("eth1", true);
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.DoesNotContain(watch.Transitions(), t => t.To == InstanceState.Fault);
    }

    [Fact]
    public async Task TrackFile_ValueTimesWeightSetsPriority_WeightZeroNonZeroValueFaults()
    {
        await using var lab = await Lab.CreateAsync();
        var sw = await lab.AddSwitchAsync();
        var a = await lab.AddHostAsync("a", sw, "10.77.0.1/24");
        await using var na = await VrrpdNode.StartAsync(a);
        var weightFile = Path.Combine(_dir, "weight");
        var faultFile = Path.Combine(_dir, "fault");
        var c = Specs.Config(Specs.Instance(100, Vip, version: 3, advertSeconds: 0.5));
        c.TrackFiles.Add(new TrackFileSpec { Name = "w", File = weightFile, Weight = 5, HasInitValue = true, InitValue = 2 });
        c.TrackFiles.Add(new TrackFileSpec { Name = "f", File = faultFile, Weight = 0 });
        c.Instances[0].TrackFiles.Add(new TrackFile { TrackFile_ = "w" });
        c.Instances[0].TrackFiles.Add(new TrackFile { TrackFile_ = "f" });
        await na.ApplyAsync(c);
        // init_file created the file with 2: 100 + 2 x 5.
        Assert.Equal("2\n", File.ReadAllText(weightFile));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.Equal(110u, (await na.GetAsync()).EffectivePriority);

        File.WriteAllText(weightFile, "-4\n");
        await Poll.UntilAsync(async () => (await na.GetAsync()).EffectivePriority == 80, Deadline, "priority 100 - 4 x 5");
        File.WriteAllText(weightFile, "-30\n");
        await Poll.UntilAsync(async () => (await na.GetAsync()).EffectivePriority == 1, Deadline, "priority clamped to 1 (100 - 150)");
        // keepalived: a file status of -254 or below (here -100 x 5) is a FAULT, not a priority.
        File.WriteAllText(weightFile, "-100\n");
        await na.WaitForStateAsync(InstanceState.Fault, Deadline);
        File.WriteAllText(weightFile, "0\n");
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        Assert.Equal(100u, (await na.GetAsync()).EffectivePriority);

        // Weight 0: any non-zero value is a FAULT, zero (or no file) is fine.
        File.WriteAllText(faultFile, "1\n");
        await na.WaitForStateAsync(InstanceState.Fault, Deadline);
        Assert.False(await a.HasAddressAsync("eth0", Vip));
        File.WriteAllText(faultFile, "0\n");
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
    }

    private string Append(string name, string line)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, $"#!/bin/sh\necho \"{line}\" >> {_dir}/{name}.out\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ed);
        return path;
    }

    private string[] Lines(string name)
    {
        var path = Path.Combine(_dir, name + ".out");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    [Fact]
    public async Task S7_NotifyScriptsAndFifo_AppendInOrderWithKeepalivedArguments()
    {
        var (lab, a, b) = await TwoRoutersAsync();
        await using var _ = lab;
        var nginxA = Path.Combine(_dir, "nginx-a-running");
        File.WriteAllText(nginxA, "");
        var fifo = Path.Combine(_dir, "notify.fifo");
        await using var na = await VrrpdNode.StartAsync(a);
        await using var nb = await VrrpdNode.StartAsync(b);

        var ia = Specs.Instance(150, Vip, version: 3, advertSeconds: 0.5);
        ia.Notify = new NotifySpec
        {
            NotifyMaster = Append("2master-a.sh", "a master"),
            NotifyBackup = Append("2backup-a.sh", "a backup"),
            NotifyStop = Append("2stop-a.sh", "a stop"),
            Notify = Append("generic-a.sh", "$*"),
        };
        var configA = WithScript(ia, nginxA, weight: -60, fall: 1, rise: 1);
        configA.Globals.NotifyFifo = fifo;
        var ib = Specs.Instance(100, Vip, version: 3, advertSeconds: 0.5);
        ib.Notify = new NotifySpec { NotifyMaster = Append("2master-b.sh", "b master"), NotifyBackup = Append("2backup-b.sh", "b backup") };
        await na.ApplyAsync(configA);
        Assert.True(File.Exists(fifo));
        var reader = a.Start("fifo-reader", Shell.Require("cat"), [fifo]);
        await nb.ApplyAsync(Specs.Config(ib));
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);

        // "nginx" stops on a: the check fails, a drops to 90 and b takes over.
        File.Delete(nginxA);
        await nb.WaitForStateAsync(InstanceState.Master, Deadline);
        await na.WaitForStateAsync(InstanceState.Backup, Deadline);
        File.WriteAllText(nginxA, "");
        await na.WaitForStateAsync(InstanceState.Master, Deadline);
        await nb.WaitForStateAsync(InstanceState.Backup, Deadline);
        await na.StopAsync();

        await Poll.UntilAsync(() => Lines("generic-a.sh").Length >= 5, Deadline, "a's generic notify lines", () => string.Join('\n', Lines("generic-a.sh")));
        Assert.Equal(["INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150", "INSTANCE VI_1 BACKUP 90", "INSTANCE VI_1 MASTER 150", "INSTANCE VI_1 STOP 150"],
            Lines("generic-a.sh"));
        Assert.Equal(["a backup", "a backup"], Lines("2backup-a.sh"));
        Assert.Equal(["a master", "a master"], Lines("2master-a.sh"));
        Assert.Equal(["a stop"], Lines("2stop-a.sh"));
        // b: BACKUP at start, MASTER while a was down, BACKUP again (and once more each way if, on a
        // loaded machine, b's Master_Down_Interval ran out before a's at the start).
        await Poll.UntilAsync(() => Lines("2master-b.sh").Length >= 1 && Lines("2backup-b.sh").Length == Lines("2master-b.sh").Length + 1,
            Deadline, "b's notify lines", () => $"{string.Join(',', Lines("2master-b.sh"))} / {string.Join(',', Lines("2backup-b.sh"))}\n{nb.Tail()}");

        // The FIFO saw the same story (the reader started after the first BACKUP line).
        await Poll.UntilAsync(() => reader.Stdout.Contains("INSTANCE \"VI_1\" STOP 150", StringComparison.Ordinal), Deadline, "the FIFO's STOP line", () => reader.Output);
        var fifoLines = reader.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["INSTANCE \"VI_1\" MASTER 150", "INSTANCE \"VI_1\" BACKUP 90", "INSTANCE \"VI_1\" MASTER 150", "INSTANCE \"VI_1\" STOP 150"],
            fifoLines.SkipWhile(l => l.Contains("BACKUP 150", StringComparison.Ordinal)));
        // The daemon created the FIFO, so it removed it when it stopped (keepalived does the same).
        Assert.False(File.Exists(fifo));
    }
}
