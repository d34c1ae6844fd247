using Vigil.Checkd.Model;
using Vigil.Scripts;

namespace Vigil.Checkd.Probes;

/// <summary>Everything a probe is built from.</summary>
public sealed record ProbeContext(VirtualServerConfig VirtualServer, RealServerConfig RealServer, CheckerConfig Checker, CheckerTiming Timing, CheckdGlobals Globals);

/// <summary>Builds the probe of a configured checker (tests substitute scripted probes).</summary>
public interface IProbeFactory
{
    IProbe Create(ProbeContext context);
}

/// <summary>The real probes, one class per check type.</summary>
public sealed class ProbeFactory(ISocketFactory sockets, ScriptRunner scripts, TimeProvider time) : IProbeFactory
{
    public IProbe Create(ProbeContext context)
    {
        var (vs, rs, checker, timing, globals) = (context.VirtualServer, context.RealServer, context.Checker, context.Timing, context.Globals);
        ProbeTarget Target(NetworkCheckerConfig c) => ProbeTarget.Resolve(rs, c.Connection, timing.ConnectTimeout);
        return checker switch
        {
            TcpCheckConfig c => new TcpProbe(Target(c), sockets, time),
            HttpCheckConfig c => new HttpProbe(c, Target(c), rs.Virtualhost ?? vs.Virtualhost, globals.Ssl, sockets, time),
            SmtpCheckConfig c => new SmtpProbe(Target(c), c.HeloName, sockets, time),
            DnsCheckConfig c => new DnsProbe(Target(c), c, sockets, time),
            PingCheckConfig c => new PingProbe(Target(c), sockets, time),
            UdpCheckConfig c => new UdpProbe(Target(c), c, sockets, time),
            FileCheckConfig c => new FileProbe(c.Path, time),
            MiscCheckConfig c => new MiscProbe(
                ScriptCommand.Parse(c.Path),
                c.Dynamic,
                c.Timeout ?? vs.DelayLoop,
                (c.User ?? globals.DefaultScriptUser)?.Resolve(),
                new Dictionary<string, string>
                {
                    ["VIGIL_VIRTUAL_SERVER"] = vs.Key.ToString(),
                    ["VIGIL_REAL_SERVER"] = rs.Key.Format(vs.Key.Protocol),
                },
                scripts,
                time),
            _ => throw new ArgumentOutOfRangeException(nameof(context), checker.GetType().Name, "unknown checker type"),
        };
    }

    /// <summary>The target shown for a checker: the endpoint it connects to, or the script/file.</summary>
    public static string DescribeTarget(RealServerConfig rs, CheckerConfig checker) => checker switch
    {
        PingCheckConfig p => $"{p.Connection.ConnectIp ?? rs.Address}",
        NetworkCheckerConfig n => $"[{n.Connection.ConnectIp ?? rs.Address}]:{n.Connection.ConnectPort ?? rs.Port}",
        MiscCheckConfig m => m.Path,
        FileCheckConfig f => $"{f.TrackFileName} ({f.Path})",
        _ => rs.Key.ToString(),
    };
}
