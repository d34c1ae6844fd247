using System.Net;
using Vigil.Checkd.Model;
using Vigil.Checkd.Policy;
using Vigil.Checkd.Probes;

namespace Vigil.Checkd.Tests.Policy;

public sealed class PoolPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly VirtualServerKey Vip = VirtualServerKey.ForAddress(IPAddress.Parse("10.0.0.1"), 80);

    private static (VirtualServerState Vs, PoolEffects Effects) Build(Func<VirtualServerConfig, VirtualServerConfig>? configure = null,
        int servers = 3, bool alpha = false, bool smtpAlert = true, Func<int, RealServerConfig, RealServerConfig>? rsConfigure = null)
    {
        var rsConfigs = Enumerable.Range(0, servers).Select(i =>
        {
            var rs = new RealServerConfig
            {
                Address = IPAddress.Parse($"10.0.0.{10 + i}"),
                Port = 80,
                NotifyUp = new NotifyScript($"/bin/up {i}"),
                NotifyDown = new NotifyScript($"/bin/down {i}"),
                Checkers = new CheckerConfig[] { new TcpCheckConfig() },
            };
            return rsConfigure?.Invoke(i, rs) ?? rs;
        }).ToArray();
        var config = new VirtualServerConfig
        {
            Key = Vip,
            Alpha = alpha,
            Retry = 0, // one failure takes a server down, to keep these tests short

            QuorumUp = new NotifyScript("/bin/qup"),
            QuorumDown = new NotifyScript("/bin/qdown"),
            RealServers = rsConfigs,
        };
        config = configure?.Invoke(config) ?? config;
        var vs = new VirtualServerState(config, smtpAlert);
        foreach (var rsConfig in config.RealServers)
        {
            var rs = new RealServerState(config, rsConfig, smtpAlert);
            foreach (var (c, i) in rsConfig.Checkers.Select((c, i) => (c, i)))
            {
                rs.Checkers.Add(new CheckerSlot(i, c, CheckerTiming.Resolve(config, rsConfig, c), rsConfig.Key.ToString()));
            }
            vs.RealServers.Add(rs);
        }
        var effects = new PoolEffects();
        PoolPolicy.Start(vs, vs.RealServers, realServerInitNotifies: false, Now, effects);
        return (vs, effects);
    }

    private static PoolEffects Fail(VirtualServerState vs, int index, bool noCheckerEmails = false) => Feed(vs, index, ProbeResult.Fail("refused", TimeSpan.Zero), noCheckerEmails);

    private static PoolEffects Pass(VirtualServerState vs, int index) => Feed(vs, index, ProbeResult.Ok("ok", TimeSpan.Zero), false);

    private static PoolEffects Feed(VirtualServerState vs, int index, ProbeResult result, bool noCheckerEmails)
    {
        var rs = vs.RealServers[index];
        var slot = rs.Checkers[0];
        var decision = CheckerPolicy.OnResult(slot.State, result, slot.Timing);
        var effects = new PoolEffects();
        PoolPolicy.OnCheckerDecision(vs, rs, slot, decision, CheckResultInfo.From(result, Now), noCheckerEmails, Now, effects);
        return effects;
    }

    [Fact]
    public void Start_NonAlpha_AllLiveAndQuorumUpWithScriptAndMail()
    {
        var (vs, effects) = Build(c => c with { Quorum = 2 });

        Assert.All(vs.RealServers, r => Assert.True(r.Alive));
        Assert.True(vs.QuorumUp);
        Assert.Contains(effects.Scripts, s => s.Role == ScriptRole.QuorumUp && s.Script.Command == "/bin/qup");
        var mail = Assert.Single(effects.Alerts);
        Assert.Equal(AlertKind.VirtualServer, mail.Kind);
        Assert.Equal("UP", mail.State);
        Assert.Equal("=> Starting with quorum up 2+0=2 <= 3 <=", mail.Body);
        Assert.Equal(3, PoolPolicy.Desired(vs).Destinations.Count);
    }

    [Fact]
    public void Start_Alpha_NobodyLiveAndSorryServerIn()
    {
        var (vs, effects) = Build(c => c with { SorryServer = new SorryServerConfig(IPAddress.Parse("10.0.0.99"), 8080) }, alpha: true);

        Assert.All(vs.RealServers, r => Assert.False(r.Alive));
        Assert.False(vs.QuorumUp);
        Assert.True(vs.SorryServerActive);
        Assert.Contains(effects.Scripts, s => s.Role == ScriptRole.QuorumDown);
        Assert.Equal("=> Starting with quorum down 1+0=1 <= 0 <=", Assert.Single(effects.Alerts).Body);
        var desired = PoolPolicy.Desired(vs);
        var only = Assert.Single(desired.Destinations);
        Assert.Equal(new DesiredDestination(IPAddress.Parse("10.0.0.99"), 8080, 1, DestinationRole.SorryServer), only);
    }

    [Fact]
    public void CheckerDown_ServerLeavesPoolWithNotifyDownAndMail()
    {
        var (vs, _) = Build();
        Pass(vs, 1);

        var effects = Fail(vs, 1);

        Assert.False(vs.RealServers[1].Alive);
        var script = Assert.Single(effects.Scripts);
        Assert.Equal(ScriptRole.NotifyDown, script.Role);
        Assert.Equal("/bin/down 1", script.Script.Command);
        var mail = Assert.Single(effects.Alerts);
        Assert.Equal(AlertKind.RealServer, mail.Kind);
        Assert.Equal("DOWN", mail.State);
        Assert.Equal("=> TCP CHECK failed on service <=", mail.Body);
        Assert.Contains(effects.Logs, l => l.Message == "Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.1]:tcp:80");
        Assert.DoesNotContain(PoolPolicy.Desired(vs).Destinations, d => d.Address.Equals(IPAddress.Parse("10.0.0.11")));
    }

    [Fact]
    public void InhibitOnFailure_FailedServerStaysWithWeightZero()
    {
        var (vs, _) = Build(c => c with { InhibitOnFailure = true });
        Pass(vs, 0);

        var effects = Fail(vs, 0);

        Assert.Contains(effects.Logs, l => l.Message.StartsWith("Disabling service [10.0.0.10]:tcp:80 of VS", StringComparison.Ordinal));
        var d = PoolPolicy.Desired(vs).Destinations.Single(x => x.Address.Equals(IPAddress.Parse("10.0.0.10")));
        Assert.Equal(0, d.Weight);
    }

    [Fact]
    public void Quorum_LostAndRegainedWithHysteresis()
    {
        // quorum 2, hysteresis 1: lost below 1, regained at 3.
        var (vs, _) = Build(c => c with { Quorum = 2, Hysteresis = 1 });
        foreach (var i in new[] { 0, 1, 2 }) Pass(vs, i);

        Assert.DoesNotContain(Fail(vs, 0).Scripts, s => s.Role == ScriptRole.QuorumDown);
        Assert.True(vs.QuorumUp);
        var lost = Fail(vs, 1);
        Assert.True(vs.QuorumUp); // live weight 1, not below quorum - hysteresis = 1
        Assert.DoesNotContain(lost.Scripts, s => s.Role == ScriptRole.QuorumDown);
        var lost2 = Fail(vs, 2);
        Assert.False(vs.QuorumUp);
        Assert.Contains(lost2.Scripts, s => s.Role == ScriptRole.QuorumDown);
        Assert.Contains(lost2.Alerts, a => a.Kind == AlertKind.VirtualServer && a.Body == "=> Lost quorum 2+1=1 <= 0 <=");

        var one = Pass(vs, 0);
        Assert.False(vs.QuorumUp);
        Assert.DoesNotContain(one.Scripts, s => s.Role == ScriptRole.QuorumUp);
        Pass(vs, 1);
        Assert.False(vs.QuorumUp); // 2 < quorum + hysteresis = 3
        var regained = Pass(vs, 2);
        Assert.True(vs.QuorumUp);
        Assert.Contains(regained.Scripts, s => s.Role == ScriptRole.QuorumUp);
        Assert.Contains(regained.Alerts, a => a.Body == "=> Gained quorum 2+1=3 <= 3 <=");
    }

    [Fact]
    public void SorryServer_ReplacesRealServersWhileQuorumLost()
    {
        var sorry = new SorryServerConfig(IPAddress.Parse("10.0.0.99"), 80);
        var (vs, _) = Build(c => c with { Quorum = 2, SorryServer = sorry }, servers: 2);
        Pass(vs, 0);
        Pass(vs, 1);

        Fail(vs, 0);

        Assert.True(vs.SorryServerActive);
        Assert.Equal([new DesiredDestination(sorry.Address, 80, 1, DestinationRole.SorryServer)], PoolPolicy.Desired(vs).Destinations);

        var back = Pass(vs, 0);
        Assert.False(vs.SorryServerActive);
        Assert.Contains(back.Logs, l => l.Message.StartsWith("Removing sorry server [10.0.0.99]:tcp:80", StringComparison.Ordinal));
        Assert.Equal(2, PoolPolicy.Desired(vs).Destinations.Count);
        Assert.All(PoolPolicy.Desired(vs).Destinations, d => Assert.Equal(DestinationRole.RealServer, d.Role));
    }

    [Fact]
    public void SorryServerInhibit_PresentWithWeightZeroWhenNotNeeded()
    {
        var sorry = new SorryServerConfig(IPAddress.Parse("10.0.0.99"), 80, Inhibit: true);
        var (vs, _) = Build(c => c with { SorryServer = sorry }, servers: 1);

        Assert.Contains(new DesiredDestination(sorry.Address, 80, 0, DestinationRole.SorryServer), PoolPolicy.Desired(vs).Destinations);
    }

    [Fact]
    public void NoCheckerEmails_MailOnlyWhenServerChanges()
    {
        var (vs, _) = Build(servers: 1, rsConfigure: (_, rs) => rs with
        {
            Checkers = new CheckerConfig[] { new TcpCheckConfig(), new TcpCheckConfig { Connection = new ConnectionOptions { ConnectPort = 81 } } },
        });
        var rs = vs.RealServers[0];
        void Feed2(int checker, ProbeResult result, PoolEffects effects)
        {
            var slot = rs.Checkers[checker];
            var d = CheckerPolicy.OnResult(slot.State, result, slot.Timing);
            PoolPolicy.OnCheckerDecision(vs, rs, slot, d, CheckResultInfo.From(result, Now), noCheckerEmails: true, Now, effects);
        }
        var e = new PoolEffects();
        Feed2(0, ProbeResult.Ok("", TimeSpan.Zero), e);
        Feed2(1, ProbeResult.Ok("", TimeSpan.Zero), e);

        var first = new PoolEffects();
        Feed2(0, ProbeResult.Fail("x", TimeSpan.Zero), first);
        Assert.Single(first.Alerts, a => a.Kind == AlertKind.RealServer); // the server went down
        var second = new PoolEffects();
        Feed2(1, ProbeResult.Fail("x", TimeSpan.Zero), second);
        Assert.DoesNotContain(second.Alerts, a => a.Kind == AlertKind.RealServer); // already down: no mail with no_checker_emails
        Assert.False(rs.Alive);
        var oneBack = new PoolEffects();
        Feed2(0, ProbeResult.Ok("", TimeSpan.Zero), oneBack);
        Assert.False(rs.Alive); // the other checker still fails
        Assert.DoesNotContain(oneBack.Alerts, a => a.Kind == AlertKind.RealServer);
    }

    [Fact]
    public void DynamicWeight_ChangesWeightAndQuorum()
    {
        var (vs, _) = Build(c => c with { Quorum = 5 }, servers: 1, rsConfigure: (_, rs) => rs with
        {
            Weight = 10,
            Checkers = new CheckerConfig[] { new MiscCheckConfig { Path = "/bin/true", Dynamic = true } },
        });
        var rs = vs.RealServers[0];
        var slot = rs.Checkers[0];
        Assert.True(vs.QuorumUp);

        var result = new ProbeResult(ProbeOutcome.Success, "", TimeSpan.Zero) { ExitStatus = 5 };
        var d = CheckerPolicy.OnMiscResult(slot.State, result, true, slot.Timing);
        var effects = new PoolEffects();
        PoolPolicy.OnCheckerDecision(vs, rs, slot, d, CheckResultInfo.From(result, Now), false, Now, effects);

        Assert.Equal(3, rs.RealWeight);
        Assert.False(vs.QuorumUp);
        Assert.Contains(effects.Logs, l => l.Message.StartsWith("Changing weight from 10 to 3", StringComparison.Ordinal));
        Assert.Equal(3, PoolPolicy.Desired(vs).Destinations.Single().Weight);
    }

    [Fact]
    public void Drain_WeightZeroButStillInPool()
    {
        var (vs, _) = Build(c => c with { Quorum = 1 }, servers: 1);
        var rs = vs.RealServers[0];
        var old = rs.RealWeight;
        rs.Drained = true;
        var effects = new PoolEffects();

        PoolPolicy.OnWeightChanged(vs, rs, old, Now, effects);

        Assert.Equal(0, PoolPolicy.Desired(vs).Destinations.Single().Weight);
        Assert.False(vs.QuorumUp);
    }

    [Fact]
    public void RemoveServer_StoppingWithoutOmega_NoNotifications()
    {
        var (vs, _) = Build();
        var effects = new PoolEffects();

        foreach (var rs in vs.RealServers) PoolPolicy.RemoveServer(vs, rs, stopping: true, Now, effects);
        PoolPolicy.AfterRemoval(vs, stopping: true, Now, effects);

        Assert.Empty(effects.Scripts);
        Assert.Empty(effects.Alerts);
    }

    [Fact]
    public void RemoveServer_StoppingWithOmega_NotifyDownQuorumDownAndMails()
    {
        var (vs, _) = Build(c => c with { Omega = true }, servers: 2);
        var effects = new PoolEffects();

        foreach (var rs in vs.RealServers) PoolPolicy.RemoveServer(vs, rs, stopping: true, Now, effects);
        PoolPolicy.AfterRemoval(vs, stopping: true, Now, effects);

        Assert.Equal(2, effects.Scripts.Count(s => s.Role == ScriptRole.NotifyDown && s.Stopping));
        Assert.Single(effects.Scripts, s => s.Role == ScriptRole.QuorumDown);
        Assert.Equal(2, effects.Alerts.Count(a => a.Kind == AlertKind.RealServerShutdown && a.Body == "=> Shutting down <="));
        Assert.Single(effects.Alerts, a => a.Kind == AlertKind.VirtualServer && a.Body == "=> Shutting down <=");
    }

    [Fact]
    public void AlertTexts_MatchKeepalivedBodies()
    {
        var fail = CheckResultInfo.From(ProbeResult.Fail("Bad greeting banner from server [10.0.0.2]:25", TimeSpan.Zero), Now);
        Assert.Equal("=> CHECK failed on service : Bad greeting banner from server [10.0.0.2]:25 <=", AlertTexts.CheckerBody(CheckType.Smtp, false, fail));
        Assert.Equal("=> CHECK failed on service : HTTP/SSL request failed <=", AlertTexts.CheckerBody(CheckType.Http, false, fail));
        Assert.Equal("=> DNS_CHECK: succeed on service <=", AlertTexts.CheckerBody(CheckType.Dns, true, fail));
        Assert.Equal("=> ICMP CHECK failed on service <=", AlertTexts.CheckerBody(CheckType.Ping, false, fail));
        Assert.Equal("=> MISC CHECK timed out on service <=", AlertTexts.CheckerBody(CheckType.Misc, false, fail with { TimedOut = true }));
    }
}
