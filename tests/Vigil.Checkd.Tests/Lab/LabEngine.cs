using System.Collections.Concurrent;
using System.Net;
using Vigil.Checkd.Engine;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Tests.Support;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Checkd.Tests.Lab;

/// <summary>A real-time engine whose sockets live in the lab's director namespace, with every
/// event it publishes recorded.</summary>
public sealed class LabEngine : IAsyncDisposable
{
    private readonly ConcurrentQueue<CheckEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;
    private readonly XunitLoggerProvider _logs;

    private LabEngine(CheckEngine engine, XunitLoggerProvider logs)
    {
        Engine = engine;
        _logs = logs;
        _watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in Engine.WatchAsync(_stop.Token)) _events.Enqueue(e);
            }
            catch (Exception e) when (e is OperationCanceledException or CheckdUnavailableException)
            {
            }
        });
    }

    public CheckEngine Engine { get; }

    public IReadOnlyList<CheckEvent> Events => [.. _events];

    public static async Task<LabEngine> StartAsync(CheckdLab lab, CheckdConfig config, ITestOutputHelper output, Func<CheckEngineOptions, CheckEngineOptions>? configure = null)
    {
        var logs = new XunitLoggerProvider(output);
        var options = new CheckEngineOptions { Sockets = lab.LbSockets, BootstrapDelay = TimeSpan.Zero, Random = () => 0 };
        var engine = new CheckEngine(configure is null ? options : configure(options), logs);
        var lab2 = new LabEngine(engine, logs);
        await Poll.UntilAsync(() => lab2._events.Any(e => e is EndOfSnapshot), TimeSpan.FromSeconds(10), "the watch stream to start");
        await engine.ApplyConfigurationAsync(config);
        return lab2;
    }

    public static CheckdGlobals Globals(string routerId = "lab") => new()
    {
        RouterId = routerId,
        Alerts = new AlertSettings
        {
            Recipients = new[] { "ops@vigil.test" },
            From = "checkd@vigil.test",
            Server = new SmtpServerAddress(CheckdLab.MailAddress, 25),
            HeloName = "lb.vigil.test",
            ConnectTimeout = TimeSpan.FromSeconds(5),
        },
    };

    public async Task<RealServerStatus> RealServerAsync(VirtualServerKey vs, string address, ushort port)
    {
        var status = await Engine.GetVirtualServerAsync(vs);
        return status.RealServers.Single(r => r.Key == new RealServerKey(IPAddress.Parse(address), port));
    }

    /// <summary>Waits for a checker of the real server to report the transition; returns its event.</summary>
    public async Task<CheckerResultReported> WaitForTransitionAsync(string address, ushort port, CheckerTransition transition, TimeSpan timeout, DateTimeOffset after)
    {
        CheckerResultReported? found = null;
        await Poll.UntilAsync(() =>
        {
            found = Events.OfType<CheckerResultReported>().FirstOrDefault(e => e.At >= after && e.Transition == transition && e.RealServer == new RealServerKey(IPAddress.Parse(address), port));
            return found is not null;
        }, timeout, $"{address}:{port} to go {transition}", () => Describe(address, port));
        return found!;
    }

    public string Describe(string address, ushort port) =>
        string.Join("\n", Events.OfType<CheckerResultReported>().Where(e => e.RealServer.Address.ToString() == address && e.RealServer.Port == port)
            .Select(e => $"{e.At:HH:mm:ss.fff} {e.Transition} up={e.Checker.Up} fails={e.Checker.ConsecutiveFailures} {e.Checker.LastResult?.Outcome} {e.Checker.LastResult?.Reason}"));

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync();
        await _stop.CancelAsync();
        await _watch;
        await Engine.DisposeAsync();
        _logs.Dispose();
    }
}
