using Vigil.Vrrpd.Engine;

namespace Vigil.Vrrpd.Tests.Engine;

/// <summary>
/// Drivers on one virtual clock: started loops, settling (every loop has handled what was queued)
/// between timer firings, and stopping them all when the test ends.
/// </summary>
public abstract class DriverTestBase : IAsyncLifetime
{
    private protected ManualTimeProvider Clock { get; } = new();
    private protected List<(VrrpDriver Driver, Task Loop)> Drivers { get; } = [];

    /// <summary>Runs the driver's loop until the test ends.</summary>
    private protected VrrpDriver Run(VrrpDriver driver)
    {
        Drivers.Add((driver, driver.RunAsync(CancellationToken.None)));
        return driver;
    }

    private protected VrrpDriver Start(FakeHost host, params VrrpInstanceConfig[] instances) =>
        Run(new VrrpDriver(VrrpEngineState.Create(instances), host.Dependencies()));

    private protected async Task Settle()
    {
        for (var round = 0; round < 4; round++)
            foreach (var (d, loop) in Drivers)
            {
                if (loop.IsCompleted) continue;
                // A driver being stopped refuses new commands before its loop has finished:
                // it has nothing left to settle.
                try { await d.FlushAsync(); }
                catch (VrrpDriverStoppedException) { }
            }
    }

    private protected Task Advance(double seconds) => Clock.AdvanceAsync(TimeSpan.FromSeconds(seconds), Settle);
    private protected Task AdvanceMicros(long micros) => Clock.AdvanceAsync(VrrpTiming.FromMicros(micros), Settle);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (d, _) in Drivers) await d.StopAsync();
        await Task.WhenAll(Drivers.Select(x => x.Loop));
    }
}
