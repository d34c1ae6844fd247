using System.Collections.Concurrent;
using System.Net;
using Vigil.Checkd.Alerts;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Tests.Support;

/// <summary>What a scripted probe does on its next runs.</summary>
public enum FakeBehaviour
{
    Pass,
    Fail,
    /// <summary>Answers nothing until connect_timeout passes (a blackholed server).</summary>
    Hang,
    LocalError,
}

/// <summary>One recorded probe run.</summary>
public sealed record ProbeCall(TimeSpan At, string Server, string Checker, int Step);

/// <summary>Probes whose answers the test sets, recording when each ran (on the manual clock).</summary>
public sealed class ScriptedProbes(ManualTimeProvider time) : IProbeFactory
{
    private readonly ConcurrentDictionary<string, FakeBehaviour> _behaviour = new();
    private readonly ConcurrentDictionary<string, int> _exitStatus = new();
    private readonly ConcurrentQueue<ProbeCall> _calls = new();

    public IReadOnlyList<ProbeCall> Calls => [.. _calls];

    public IReadOnlyList<ProbeCall> CallsTo(string server) => [.. _calls.Where(c => c.Server == server)];

    public void Set(string server, FakeBehaviour behaviour) => _behaviour[server] = behaviour;

    /// <summary>MISC_CHECK fakes: the exit status the next runs report.</summary>
    public void SetExit(string server, int status) => _exitStatus[server] = status;

    public IProbe Create(ProbeContext context) => new Probe(this, context);

    private sealed class Probe(ScriptedProbes owner, ProbeContext context) : IProbe
    {
        public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
        {
            var server = context.RealServer.Key.ToString();
            owner._calls.Enqueue(new ProbeCall(owner.Elapsed, server, context.Checker.Keyword, step));
            var behaviour = owner._behaviour.GetValueOrDefault(server, FakeBehaviour.Pass);
            if (context.Checker is MiscCheckConfig misc)
            {
                var status = owner._exitStatus.GetValueOrDefault(server, behaviour == FakeBehaviour.Pass ? 0 : 1);
                var ok = status == 0 || (misc.Dynamic && status >= 2);
                return new ProbeResult(ok ? ProbeOutcome.Success : ProbeOutcome.Failure, $"exited with status {status}", TimeSpan.FromMilliseconds(1)) { ExitStatus = status };
            }
            switch (behaviour)
            {
                case FakeBehaviour.Pass:
                    return ProbeResult.Ok($"ok step {step}", TimeSpan.FromMilliseconds(1));
                case FakeBehaviour.Fail:
                    return ProbeResult.Fail("connection refused", TimeSpan.FromMilliseconds(1));
                case FakeBehaviour.LocalError:
                    return ProbeResult.Local("bind failed", TimeSpan.Zero);
                default:
                    await Task.Delay(context.Timing.ConnectTimeout, owner._time, cancellationToken);
                    return ProbeResult.Fail("connection timeout", context.Timing.ConnectTimeout);
            }
        }
    }

    private TimeSpan Elapsed => _time.Elapsed;

    private readonly ManualTimeProvider _time = time;
}

/// <summary>Collects the mails the engine would send.</summary>
public sealed class RecordingAlerts : IAlertSink
{
    private readonly ConcurrentQueue<(string Subject, string Body)> _mails = new();

    public IReadOnlyList<(string Subject, string Body)> Mails => [.. _mails];

    public void Enqueue(AlertAction alert, CheckdGlobals globals) => _mails.Enqueue((AlertSender.Subject(alert, globals.RouterId), alert.Body));

    public Task FlushAsync(TimeSpan timeout) => Task.CompletedTask;
}

/// <summary>An engine on a manual clock with scripted probes, stepped timer by timer.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    public EngineHarness(Func<CheckEngineOptions, CheckEngineOptions>? configure = null)
    {
        Time = new ManualTimeProvider();
        Probes = new ScriptedProbes(Time);
        var options = new CheckEngineOptions
        {
            Time = Time,
            Probes = Probes,
            Alerts = Alerts,
            Random = () => 0,
            BootstrapDelay = TimeSpan.FromSeconds(1),
            LocalAddresses = () => [],
            StartProbesInline = true,
        };
        Engine = new CheckEngine(configure is null ? options : configure(options));
    }

    public ManualTimeProvider Time { get; }
    public ScriptedProbes Probes { get; }
    public RecordingAlerts Alerts { get; } = new();
    public CheckEngine Engine { get; }

    /// <summary>Waits until the engine loop has handled everything posted so far, including the
    /// results of probes it started meanwhile (they are posted while it handles a wake-up).</summary>
    public async Task BarrierAsync()
    {
        await Engine.GetSnapshotAsync();
        await Engine.GetSnapshotAsync();
    }

    /// <summary>Runs the clock to the given elapsed time, letting the engine react to each timer.</summary>
    public async Task RunUntilAsync(TimeSpan elapsed)
    {
        await BarrierAsync();
        while (Time.FireNext(elapsed)) await BarrierAsync();
        await BarrierAsync();
    }

    public Task RunForAsync(TimeSpan span) => RunUntilAsync(Time.Elapsed + span);

    public async Task<RealServerStatus> RealServerAsync(VirtualServerKey vs, string address, ushort port)
    {
        var status = await Engine.GetVirtualServerAsync(vs);
        return status.RealServers.Single(r => r.Key == new RealServerKey(IPAddress.Parse(address), port));
    }

    public async ValueTask DisposeAsync() => await Engine.DisposeAsync();
}
