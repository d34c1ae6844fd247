using System.Net;
using Vigil.Scripts;
using Vigil.Testing;
using Vigil.Vrrp.V1;
using Vigil.Vrrpd.Api;
using Vigil.Vrrpd.Daemon;
using Vigil.Vrrpd.Engine;
using Vigil.Vrrpd.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vigil.Vrrpd.Tests.Daemon;

/// <summary>Notify scripts and the notify FIFO, with real scripts run through /bin/sh.</summary>
public sealed class NotifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-notify-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private DaemonConfig Config(string? fifo = null, bool deleted = false)
    {
        var log = Path.Combine(_dir, "log");
        var c = Specs.Config(Specs.Instance(100, "10.0.0.100"));
        c.Instances[0].Notify = new NotifySpec
        {
            NotifyMaster = $"/bin/sh -c 'echo master >> {log}'",
            NotifyBackup = $"/bin/sh -c 'echo backup >> {log}'",
            NotifyStop = $"/bin/sh -c 'echo stop >> {log}'",
            NotifyDeleted = deleted ? $"/bin/sh -c 'echo deleted >> {log}'" : "",
            Notify = $"{Script("generic", $"echo \"$@\" >> {log}")}",
            NotifyMasterRxLowerPri = $"/bin/sh -c 'echo lower >> {log}'",
        };
        c.SyncGroups.Add(new SyncGroupSpec { Name = "G1", Members = { "VI_1" }, Notify = new NotifySpec { Notify = $"{Script("ggeneric", $"echo \"$@\" >> {log}")}" } });
        if (fifo is not null) c.Globals.NotifyFifo = fifo;
        return ConfigMapper.ToDaemonConfig(c);
    }

    private string Script(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ed);
        return path;
    }

    private string[] Log() => File.Exists(Path.Combine(_dir, "log")) ? File.ReadAllLines(Path.Combine(_dir, "log")) : [];

    [Fact]
    public async Task NotifyInstance_RunsStateScriptThenGenericWithKeepalivedArguments_InOrder()
    {
        var config = Config();
        using var n = new Notifier(ScriptRunner.Default, () => config, NullLogger.Instance);
        await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.Master, 100, default);
        await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.Backup, 98, default);
        await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.MasterRxLowerPriority, 100, default);
        await n.NotifyGroupAsync("G1", VrrpStateKind.Master, default);
        await n.DrainAsync(TimeSpan.FromSeconds(30));

        var lines = Log();
        var instanceLines = lines.Where(l => !l.StartsWith("GROUP", StringComparison.Ordinal)).ToList();
        Assert.Equal(["master", "INSTANCE VI_1 MASTER 100", "backup", "INSTANCE VI_1 BACKUP 98", "lower"], instanceLines);
        Assert.Contains("GROUP G1 MASTER 0", lines);
    }

    [Fact]
    public async Task NotifyInstance_DeletedWithoutNotifyDeleted_ReportsFaultLikeKeepalived()
    {
        var fifo = Path.Combine(_dir, "fifo");
        var config = Config(fifo);
        using var n = new Notifier(ScriptRunner.Default, () => config, NullLogger.Instance);
        n.SetFifo(fifo);
        using var reader = new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.Deleted, 100, default);
        await n.DrainAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("INSTANCE VI_1 FAULT 100", Log());
        Assert.Equal("INSTANCE \"VI_1\" FAULT 100\n", await ReadLineAsync(reader));
    }

    [Fact]
    public async Task Fifo_LinesAsKeepalivedWritesThem_AndRemovedOnClose()
    {
        var fifo = Path.Combine(_dir, "fifo");
        var config = Config(fifo);
        var n = new Notifier(ScriptRunner.Default, () => config, NullLogger.Instance);
        n.SetFifo(fifo);
        Assert.True(File.Exists(fifo));
        using (var reader = new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None))
        {
            await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.Master, 100, default);
            await n.NotifyGroupAsync("G1", VrrpStateKind.Backup, default);
            await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.MasterRxLowerPriority, 100, default);
            Assert.Equal("INSTANCE \"VI_1\" MASTER 100\n", await ReadLineAsync(reader));
            Assert.Equal("GROUP \"G1\" BACKUP 0\n", await ReadLineAsync(reader));
            Assert.Equal("INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 100\n", await ReadLineAsync(reader));
        }
        n.Dispose();
        Assert.False(File.Exists(fifo));
    }

    [Fact]
    public async Task Fifo_NobodyReading_NeverBlocks()
    {
        var fifo = Path.Combine(_dir, "fifo");
        var config = Config(fifo);
        using var n = new Notifier(ScriptRunner.Default, () => config, NullLogger.Instance);
        n.SetFifo(fifo);
        var write = Task.Run(async () =>
        {
            // Far more than a pipe holds (64 KiB): the excess is dropped, the caller never waits.
            for (var i = 0; i < 5000; i++) await n.NotifyGroupAsync("G1", VrrpStateKind.Fault, default);
        });
        await write.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    [Trait("Category", "Lab")] // needs root to switch users
    public async Task NotifyInstance_NotifyUser_ScriptRunsAsThatUser()
    {
        if (Environment.UserName != "root") throw new InvalidOperationException("running a script as another user needs root");
        var output = Path.Combine(_dir, "ids");
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1ff);
        var c = Specs.Config(Specs.Instance(100, "10.0.0.100"));
        c.Instances[0].Notify = new NotifySpec { NotifyMaster = $"/bin/sh -c 'id -u >> {output}'", User = "nobody" };
        c.Globals.ScriptUser = "root";
        var config = ConfigMapper.ToDaemonConfig(c);
        var log = new ListLogger();
        using var n = new Notifier(ScriptRunner.Default, () => config, log);
        await n.NotifyInstanceAsync("VI_1", VrrpNotifyState.Master, 100, default);
        await n.DrainAsync(TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(output), log.ToString());
        Assert.Equal(["65534"], File.ReadAllLines(output));
    }

    private static async Task<string> ReadLineAsync(Stream s)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await s.ReadAsync(one, cts.Token) == 1)
        {
            bytes.Add(one[0]);
            if (one[0] == '\n') break;
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    [Fact]
    public async Task EventHub_SnapshotThenEndThenEventsInOrder_DropsOldestWhenFull_UnsubscribesOnDispose()
    {
        var hub = new EventHub(t => DateTime.UnixEpoch + t, () => DateTime.UtcNow);
        var state = VrrpEngineState.Create([new VrrpInstanceConfig { Name = "VI_2", Interface = "eth0", Vrid = 2 }, new VrrpInstanceConfig { Name = "VI_1", Interface = "eth0", Vrid = 1 }]);
        using var sub = hub.Subscribe(state);
        hub.OnAction("VI_1", new LogTransition(VrrpStateKind.Init, VrrpStateKind.Backup, VrrpTransitionReason.Startup), state.Instances["VI_1"]);
        hub.OnAction("VI_1", new OtherMasterDetected(IPAddress.Parse("10.0.0.2"), 100), state.Instances["VI_1"]);
        hub.OnAction("VI_1", new Vigil.Vrrpd.Engine.PacketRejected(VrrpRejectReason.AuthFailure, IPAddress.Parse("10.0.0.3")), state.Instances["VI_1"]);
        hub.OnUnknownVrid("eth0", System.Net.Sockets.AddressFamily.InterNetwork, 99, IPAddress.Parse("10.0.0.4"));
        hub.OnAction("VI_1", new SendAdvert(100), state.Instances["VI_1"]);

        var got = new List<VrrpWatchEvent>();
        while (sub.Reader.TryRead(out var e)) got.Add(e);
        Assert.Collection(got,
            e => Assert.Equal("VI_1", Assert.IsType<InstanceSnapshotEvent>(e).State.Config.Name),
            e => Assert.Equal("VI_2", Assert.IsType<InstanceSnapshotEvent>(e).State.Config.Name),
            e => Assert.IsType<EndOfSnapshotEvent>(e),
            e => Assert.Equal(VrrpStateKind.Backup, Assert.IsType<InstanceTransitionEvent>(e).To),
            e => Assert.Equal(IPAddress.Parse("10.0.0.2"), Assert.IsType<OtherMasterEvent>(e).Address),
            e => Assert.Equal("auth_failure", Assert.IsType<PacketRejectedEvent>(e).Reason),
            e => Assert.Equal((null, "unknown_vrid", (byte)99), (Assert.IsType<PacketRejectedEvent>(e).Instance, ((PacketRejectedEvent)e).Reason, ((PacketRejectedEvent)e).Vrid)));

        for (var i = 0; i < EventHub.DefaultCapacity + 100; i++)
            hub.OnAction("VI_1", new PriorityChanged(100, (byte)(i % 200)), state.Instances["VI_1"]);
        Assert.Equal(EventHub.DefaultCapacity + 100 - (EventHub.DefaultCapacity + 4), hub.Dropped);
        var first = await sub.Reader.ReadAsync();
        // The oldest went: what is left ends with the newest.
        Assert.IsType<PriorityChangeEvent>(first);

        Assert.Equal(1, hub.SubscriberCount);
        sub.Dispose();
        Assert.Equal(0, hub.SubscriberCount);
    }

    [Fact]
    public async Task EventHub_Complete_EndsStreamsWithTheError()
    {
        var hub = new EventHub(t => DateTime.UnixEpoch + t, () => DateTime.UtcNow);
        var sub = hub.Subscribe(VrrpEngineState.Create([]));
        hub.Complete(new InvalidOperationException("stopping"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in sub.Reader.ReadAllAsync()) { }
        });
        Assert.Throws<InvalidOperationException>(() => hub.Subscribe(VrrpEngineState.Create([])));
    }
}

/// <summary>vrrp_track_file with real files: init_file, changes seen through inotify, keepalived's parsing.</summary>
public sealed class TrackFileWatcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-tf-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private TrackFileDefinition Def(string name, long? init = null, bool overwrite = false) =>
        new(name, Path.Combine(_dir, name), 1, false, init, overwrite, name);

    [Fact]
    public async Task Watcher_FileWrittenAndRemoved_ValueFollowsPromptly()
    {
        var changes = new System.Collections.Concurrent.ConcurrentQueue<long>();
        using var w = new TrackFileWatcher(Def("weight"), x => changes.Enqueue(x.Value), NullLogger.Instance);
        w.Start(firstLoad: true);
        Assert.Equal(0, w.Value);
        File.WriteAllText(Path.Combine(_dir, "weight"), "-20\n");
        await Poll.UntilAsync(() => w.Value == -20, TimeSpan.FromSeconds(10), "the new value");
        File.WriteAllText(Path.Combine(_dir, "weight"), "0x10");
        await Poll.UntilAsync(() => w.Value == 16, TimeSpan.FromSeconds(10), "the hexadecimal value");
        File.Delete(Path.Combine(_dir, "weight"));
        await Poll.UntilAsync(() => w.Value == 0, TimeSpan.FromSeconds(10), "a missing file reads as 0");
        Assert.Equal([-20L, 16L, 0L], changes.Distinct());
    }

    [Fact]
    public void Watcher_InitFile_CreatesMissingFile_OverwritesOnlyOnFirstLoad()
    {
        using (var w = new TrackFileWatcher(Def("a", init: 5), _ => { }, NullLogger.Instance))
        {
            w.Start(firstLoad: true);
            Assert.Equal(5, w.Value);
            Assert.Equal("5\n", File.ReadAllText(Path.Combine(_dir, "a")));
        }
        File.WriteAllText(Path.Combine(_dir, "b"), "7");
        using (var w = new TrackFileWatcher(Def("b", init: 5), _ => { }, NullLogger.Instance))
        {
            w.Start(firstLoad: true);
            Assert.Equal(7, w.Value);
        }
        using (var w = new TrackFileWatcher(Def("b", init: 5, overwrite: true), _ => { }, NullLogger.Instance))
        {
            w.Start(firstLoad: false);
            Assert.Equal(7, w.Value);
        }
        using (var w = new TrackFileWatcher(Def("b", init: 5, overwrite: true), _ => { }, NullLogger.Instance))
        {
            w.Start(firstLoad: true);
            Assert.Equal(5, w.Value);
        }
    }
}
