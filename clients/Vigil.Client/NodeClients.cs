using Grpc.Health.V1;
using Vigil.Check.V1;
using Vigil.Control.V1;
using Vigil.Ipvs.V1;
using Vigil.Rpc.Client;
using Vigil.Vrrp.V1;

namespace Vigil.Client;

/// <summary>
/// The generated clients of one node's daemons, each over its socket in the run directory
/// (RUN_DIR/vrrpd.sock, checkd.sock, ipvsd.sock, controld.sock); a channel is opened on first use
/// and kept. Every unary call without a deadline gets <see cref="UnixChannel.DefaultDeadline"/>;
/// pass <c>Deadline.In(...)</c> for a shorter one.
/// </summary>
public sealed class NodeClients(string runDir) : IDisposable
{
    private readonly Dictionary<string, UnixChannel> _channels = new(StringComparer.Ordinal);

    public string RunDir { get; } = runDir;

    public VrrpService.VrrpServiceClient Vrrp => new(Channel("vrrpd").Invoker);
    public CheckService.CheckServiceClient Check => new(Channel("checkd").Invoker);
    public IpvsService.IpvsServiceClient Ipvs => new(Channel("ipvsd").Invoker);
    public ControlService.ControlServiceClient Control => new(Channel("controld").Invoker);

    /// <summary>grpc.health.v1 of a daemon ("vrrpd" or "vigil-vrrpd").</summary>
    public Grpc.Health.V1.Health.HealthClient Health(string daemon) => new(Channel(daemon).Invoker);

    /// <summary>The socket of a daemon: RUN_DIR/NAME.sock.</summary>
    public string SocketOf(string daemon) => Path.Combine(RunDir, ShortName(daemon) + ".sock");

    public UnixChannel Channel(string daemon)
    {
        var name = ShortName(daemon);
        lock (_channels)
        {
            if (!_channels.TryGetValue(name, out var channel)) _channels[name] = channel = UnixChannel.Open(SocketOf(name));
            return channel;
        }
    }

    private static string ShortName(string daemon) => daemon.StartsWith("vigil-", StringComparison.Ordinal) ? daemon["vigil-".Length..] : daemon;

    public void Dispose()
    {
        lock (_channels)
        {
            foreach (var c in _channels.Values) c.Dispose();
            _channels.Clear();
        }
    }
}
