using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Vigil.Netlink.Route;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Netlink.Tests.Lab;

/// <summary>Link and address monitoring against the kernel: vrrpd's track_interface and FAULT
/// on link down rely on hearing a carrier change within milliseconds.</summary>
[Trait("Category", "Lab")]
public sealed class MonitorLabTests(ITestOutputHelper output)
{
    /// <summary>Reads a monitor on a background task, stamping each event with a stopwatch reading.</summary>
    private sealed class Recorder : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reader;

        public Recorder(RtnetlinkMonitor monitor)
        {
            Clock = Stopwatch.StartNew();
            _reader = Task.Run(async () =>
            {
                await foreach (var e in monitor.ReadEventsAsync(_stop.Token))
                {
                    await Events.Writer.WriteAsync((Clock.Elapsed, e));
                }
            });
        }

        public Stopwatch Clock { get; }
        public Channel<(TimeSpan At, RtnetlinkEvent Event)> Events { get; } = Channel.CreateUnbounded<(TimeSpan, RtnetlinkEvent)>();

        /// <summary>The first event matching, within the timeout.</summary>
        public async Task<(TimeSpan At, T Event)> WaitForAsync<T>(Func<T, bool> match, TimeSpan timeout, string what) where T : RtnetlinkEvent
        {
            using var cts = new CancellationTokenSource(timeout);
            var seen = new List<string>();
            try
            {
                while (true)
                {
                    var (at, e) = await Events.Reader.ReadAsync(cts.Token);
                    seen.Add(e.ToString());
                    if (e is T t && match(t))
                    {
                        return (at, t);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no {what} within {timeout.TotalMilliseconds} ms; saw: {string.Join(" | ", seen)}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try { await _reader; } catch (OperationCanceledException) { }
        }
    }

    [Fact]
    public async Task Monitor_PeerCarrierDownAndUp_SeenWithin100Ms()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var eth0 = await lab.Rtnl.GetIndexAsync("eth0");
        // The switch's end of the cable: setting it down takes the carrier away from eth0.
        using var switchSide = Rtnetlink.Open(NetworkNamespace.Named(lab.Switch.Namespace));
        var port = (await switchSide.ListLinksAsync()).Single(l => l.Kind == "veth").Name;
        Assert.True((await lab.Rtnl.GetLinkAsync(eth0))!.HasCarrier);

        using var monitor = RtnetlinkMonitor.Open(MonitorGroups.Links, lab.Namespace);
        await using var recorder = new Recorder(monitor);

        for (var round = 0; round < 3; round++)
        {
            var before = recorder.Clock.Elapsed;
            await switchSide.SetLinkUpAsync(port, false);
            var (downAt, down) = await recorder.WaitForAsync<LinkEvent>(e => e.Link.Index == eth0 && !e.Link.HasCarrier, TimeSpan.FromSeconds(2), "carrier-down event for eth0");
            Assert.False(down.Removed);
            Assert.True(down.Link.IsUp); // still administratively up: only the carrier went
            Assert.NotEqual(OperationalState.Up, down.Link.OperationalState);
            var downLatency = downAt - before;
            Assert.True(downLatency < TimeSpan.FromMilliseconds(100), $"carrier down took {downLatency.TotalMilliseconds:0.0} ms to be seen");

            before = recorder.Clock.Elapsed;
            await switchSide.SetLinkUpAsync(port, true);
            var (upAt, _) = await recorder.WaitForAsync<LinkEvent>(e => e.Link.Index == eth0 && e.Link.HasCarrier && e.Link.IsRunning, TimeSpan.FromSeconds(2), "carrier-up event for eth0");
            Assert.True(upAt - before < TimeSpan.FromMilliseconds(100), $"carrier up took {(upAt - before).TotalMilliseconds:0.0} ms to be seen");
            output.WriteLine($"round {round}: carrier down seen after {downLatency.TotalMilliseconds:0.00} ms, up after {(upAt - before).TotalMilliseconds:0.00} ms");
        }
        Assert.Equal(0, monitor.MalformedMessages);
    }

    [Fact]
    public async Task Monitor_IpChangesAddressesAndLinks_TypedEvents()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        using var monitor = RtnetlinkMonitor.Open(MonitorGroups.Default, lab.Namespace);
        await using var recorder = new Recorder(monitor);
        var eth0 = await lab.Rtnl.GetIndexAsync("eth0");

        await lab.Host.CheckAsync("ip", "addr", "add", "10.7.0.1/24", "dev", "eth0", "label", "eth0:x");
        var (_, added) = await recorder.WaitForAsync<AddressEvent>(e => !e.Removed && e.Address.Address == IPPrefix.Parse("10.7.0.1/24"), TimeSpan.FromSeconds(2), "address added");
        Assert.Equal(eth0, added.Address.Interface.Index);
        Assert.Equal("eth0:x", added.Address.Label);

        await lab.Host.CheckAsync("ip", "-6", "addr", "add", "2001:db8:7::1/64", "dev", "eth0", "nodad");
        await recorder.WaitForAsync<AddressEvent>(e => !e.Removed && e.Address.Address == IPPrefix.Parse("2001:db8:7::1/64"), TimeSpan.FromSeconds(2), "IPv6 address added");

        await lab.Host.CheckAsync("ip", "addr", "del", "10.7.0.1/24", "dev", "eth0");
        await recorder.WaitForAsync<AddressEvent>(e => e.Removed && e.Address.Address == IPPrefix.Parse("10.7.0.1/24"), TimeSpan.FromSeconds(2), "address removed");

        await lab.Host.CheckAsync("ip", "link", "add", "link", "eth0", "name", "vrrp.3", "type", "macvlan", "mode", "private");
        var (_, created) = await recorder.WaitForAsync<LinkEvent>(e => !e.Removed && e.Link.Name == "vrrp.3", TimeSpan.FromSeconds(2), "macvlan created");
        Assert.Equal("macvlan", created.Link.Kind);
        await lab.Host.CheckAsync("ip", "link", "set", "eth0", "down");
        await recorder.WaitForAsync<LinkEvent>(e => e.Link.Index == eth0 && !e.Link.IsUp, TimeSpan.FromSeconds(2), "eth0 admin down");
        await lab.Host.CheckAsync("ip", "link", "del", "vrrp.3");
        await recorder.WaitForAsync<LinkEvent>(e => e.Removed && e.Link.Name == "vrrp.3", TimeSpan.FromSeconds(2), "macvlan deleted");
    }

    [Fact]
    public async Task Monitor_ReceiveBufferOverflows_EventsLostThenStillWorks()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        // A tiny buffer and nobody reading: the kernel drops notifications and says ENOBUFS.
        using var monitor = RtnetlinkMonitor.Open(MonitorGroups.Addresses, lab.Namespace, receiveBufferSize: 4096);
        for (var i = 0; i < 200; i++)
        {
            await lab.Rtnl.AddAddressAsync(new InterfaceAddress { Interface = "eth0", Address = new IPPrefix(IPAddress.Parse($"10.8.{i}.1"), 32) });
        }
        await using var recorder = new Recorder(monitor);
        await recorder.WaitForAsync<EventsLost>(_ => true, TimeSpan.FromSeconds(2), "events-lost marker");
        // After the overflow the monitor goes on delivering.
        await lab.Rtnl.AddAddressAsync(new InterfaceAddress { Interface = "eth0", Address = IPPrefix.Parse("10.9.9.9/32") });
        await recorder.WaitForAsync<AddressEvent>(e => e.Address.Address == IPPrefix.Parse("10.9.9.9/32"), TimeSpan.FromSeconds(2), "address after overflow");
    }

    [Fact]
    public async Task Monitor_Dispose_EndsEnumeration()
    {
        await using var lab = await NetlinkLab.CreateAsync();
        var monitor = RtnetlinkMonitor.Open(MonitorGroups.Links, lab.Namespace);
        var reading = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var _ in monitor.ReadEventsAsync())
            {
                n++;
            }
            return n;
        });
        await Task.Delay(50);
        monitor.Dispose();
        await reading.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
