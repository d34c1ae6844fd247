namespace Vigil.Checkd.Probes;

/// <summary><c>TCP_CHECK</c>: success when the connection is established within connect_timeout;
/// the connection is closed at once without sending anything (as keepalived does).</summary>
public sealed class TcpProbe(ProbeTarget target, ISocketFactory sockets, TimeProvider time) : IProbe
{
    private readonly string _connected = $"connected to {target.Pair}";

    public async Task<ProbeResult> RunAsync(int step, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            using var socket = await ProbeSockets.ConnectTcpAsync(sockets, target, time, cancellationToken).ConfigureAwait(false);
            return ProbeResult.Ok(_connected, time.GetElapsedTime(started));
        }
        catch (ProbeFailureException e)
        {
            return ProbeResult.Fail(e.Message, time.GetElapsedTime(started));
        }
        catch (ProbeLocalException e)
        {
            return ProbeResult.Local(e.Message, time.GetElapsedTime(started));
        }
    }
}
