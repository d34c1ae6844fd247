using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    /// <summary>
    /// keepalived's validate_check_config(): defaults and corrections of virtual servers, real
    /// servers (inheriting from the virtual server) and checkers (inheriting from the real server).
    /// </summary>
    private KeepalivedConfig CompleteChecks(KeepalivedConfig config)
    {
        var g = config.Global;
        var nftables = NftablesBackend(g);
        if (nftables is not null && g.LvsSyncDaemon is not null)
        {
            _diag.Note(_syncDaemonAt, $"lvs_sync_daemon needs IPVS; with {nftables} connections are not synchronised");
        }
        var result = new List<VirtualServer>();
        foreach (var vs in _virtualServers)
        {
            var name = VsName(vs);
            if (vs.RealServers.Count == 0)
            {
                _diag.Error(vs.At, $"Virtual server {name} has no real servers - ignoring");
                continue;
            }
            var group = vs.Group is null ? null : config.VirtualServerGroups.FirstOrDefault(x => x.Name == vs.Group);
            if (vs.Kind == VirtualServerKind.Group && group is null)
            {
                // keepalived only finds this out when it builds IPVS; the service could not be created.
                _diag.Error(vs.At, $"Virtual server group {vs.Group} specified but not configured - ignoring virtual server {name}");
                continue;
            }
            var groupHasAddresses = group?.Entries.Any(e => e.Fwmark is null) ?? false;
            var groupHasFwmarks = group?.Entries.Any(e => e.Fwmark is not null) ?? false;

            if (vs.HaSuspend && (vs.Kind == VirtualServerKind.Fwmark || groupHasFwmarks))
            {
                _diag.Error(vs.At, $"Virtual server {name}: cannot use ha_suspend with fwmarks - clearing ha_suspend");
                vs.HaSuspend = false;
            }
            if (groupHasAddresses || vs.Kind == VirtualServerKind.Address)
            {
                if (vs.Protocol is null)
                {
                    _diag.Error(vs.At, $"Virtual server {name}: no protocol set - defaulting to UDP");
                    vs.Protocol = IpvsProtocol.Udp;
                    name = VsName(vs);
                }
                if (vs.Flags.HasFlag(SchedulerFlags.Ops) && vs.Protocol != IpvsProtocol.Udp)
                {
                    _diag.Error(vs.At, $"Virtual server {name}: one packet scheduling requires UDP - resetting");
                    vs.Flags &= ~SchedulerFlags.Ops;
                }
                if (vs.PersistenceTimeout == 0 && vs.Kind == VirtualServerKind.Address && vs.Port == 0)
                {
                    _diag.Error(vs.At, $"Virtual server {name}: zero port only valid for persistent services - setting");
                    vs.PersistenceTimeout = 360;
                }
            }
            if (vs.PersistenceTimeout == 0 && group is not null && group.Entries.Any(e => e.Fwmark is null && e.Port == 0))
            {
                _diag.Error(vs.At, $"Virtual server {name}: zero port only valid for persistent services - setting");
                vs.PersistenceTimeout = 360;
            }
            if (vs.Protocol is not null && ((group is not null && !groupHasAddresses && groupHasFwmarks) || vs.Kind == VirtualServerKind.Fwmark))
            {
                _diag.Error(vs.At, $"Warning: Virtual server {name}: protocol specified for fwmark - protocol will be ignored");
                vs.Protocol = null;
            }
            if (vs.Scheduler is null)
            {
                _diag.Error(vs.At, $"Virtual server {name}: no scheduler set, setting default 'wlc'");
                vs.Scheduler = "wlc";
            }
            var smtpAlert = vs.SmtpAlert ?? g.SmtpAlertChecker ?? g.SmtpAlert ?? false;

            var realServers = new List<RealServer>();
            (RsDraft Draft, string Name)? notNat = null;
            long weightSum = 0;
            foreach (var rs in vs.RealServers)
            {
                var rsName = Trio(rs.Address, vs.Protocol, rs.Port);
                if (realServers.Any(o => o.Address.Equals(rs.Address) && o.Port == rs.Port))
                {
                    _diag.Error(rs.At, $"VS {name}: real server {rsName} is duplicated - removing second rs");
                    continue;
                }
                if (rs.Forwarding is null)
                {
                    if (vs.Forwarding is null)
                    {
                        _diag.Error(vs.At, $"Virtual server {name}: no forwarding method set, setting default NAT");
                        vs.Forwarding = Forwarding.Nat;
                    }
                    rs.Forwarding = vs.Forwarding;
                    rs.ForwardingNode = vs.ForwardingNode;
                }
                if (rs.Forwarding.Method != ForwardingMethod.Nat) notNat ??= (rs, rsName);
                var port = rs.Port;
                if (rs.Forwarding.Method == ForwardingMethod.Nat)
                {
                    if (vs.Kind == VirtualServerKind.Address && port == 0) port = vs.Port;
                }
                else if (vs.Kind == VirtualServerKind.Fwmark)
                {
                    if (port != 0)
                    {
                        _diag.Warning(rs.At, $"WARNING - fwmark virtual server {name}, real server {rsName} has port specified - clearing");
                        port = 0;
                    }
                }
                else if (vs.Kind == VirtualServerKind.Address)
                {
                    if (port == 0) port = vs.Port;
                    else if (port != vs.Port)
                    {
                        _diag.Warning(rs.At, $"WARNING - virtual server {name} and real server {rsName} ports don't match - resetting");
                        port = vs.Port;
                    }
                }
                else if (group is not null)
                {
                    if (groupHasFwmarks && port != 0)
                    {
                        _diag.Warning(rs.At, $"WARNING - fwmark virtual server {name}, real server {rsName} has port specified - port will be ignored");
                    }
                    foreach (var e in group.Entries.Where(e => e.Fwmark is null))
                    {
                        if (port != 0 && e.Port != port)
                        {
                            _diag.Error(rs.At, $"virtual server {name}:[{e.Start}{(Equals(e.Start, e.End) ? "" : "-" + e.End)},{e.Port}] and real server {rsName} ports don't match");
                        }
                    }
                }

                var weight = rs.Weight ?? vs.Weight;
                weightSum += weight;
                var model = new RealServer
                {
                    Address = rs.Address,
                    Port = port,
                    Weight = weight,
                    Forwarding = rs.Forwarding,
                    UpperThreshold = rs.UpperThreshold,
                    LowerThreshold = rs.LowerThreshold,
                    InhibitOnFailure = rs.Inhibit ?? vs.Inhibit,
                    NotifyUp = rs.NotifyUp,
                    NotifyDown = rs.NotifyDown,
                    Alpha = rs.Alpha ?? vs.Alpha,
                    // keepalived's default differs from the other smtp_alerts, for compatibility.
                    SmtpAlert = rs.SmtpAlert ?? g.SmtpAlertChecker ?? g.SmtpAlert ?? true,
                    VirtualHost = rs.VirtualHost,
                    Checkers = [.. rs.Checkers.Select(c => CompleteChecker(c, rs, vs, port, g))],
                };
                if (vs.Sorry is { } ss && ss.Address.Equals(rs.Address) && ss.Port == port && ss.Inhibit != model.InhibitOnFailure)
                {
                    _diag.Error(vs.At, $"Virtual server {name}: real server {rsName} matches sorry server, but inhibit setting differs, {(model.InhibitOnFailure ? "sett" : "clear")}ing on sorry server");
                    ss.Inhibit = model.InhibitOnFailure;
                }
                realServers.Add(model);
            }

            SorryServer? sorry = null;
            if (vs.Sorry is { } s)
            {
                if (s.Forwarding is null)
                {
                    if (vs.Forwarding is null)
                    {
                        _diag.Error(vs.At, $"Virtual server {name}: no forwarding method set, setting default NAT");
                        vs.Forwarding = Forwarding.Nat;
                    }
                    s.Forwarding = vs.Forwarding;
                    s.ForwardingNode = vs.ForwardingNode;
                }
                if (s.Forwarding.Method != ForwardingMethod.Nat && vs.Kind == VirtualServerKind.Fwmark && s.Port != 0)
                {
                    _diag.Warning(vs.At, $"WARNING - virtual server {name}, sorry server has port specified - clearing");
                    s.Port = 0;
                }
                else if (s.Forwarding.Method != ForwardingMethod.Nat && vs.Kind == VirtualServerKind.Address)
                {
                    if (s.Port == 0) s.Port = vs.Port;
                    else if (s.Port != vs.Port)
                    {
                        _diag.Warning(vs.At, $"WARNING - virtual server {name} and sorry server ports don't match - resetting");
                        s.Port = vs.Port;
                    }
                }
                sorry = new SorryServer { Address = s.Address, Port = s.Port, Inhibit = s.Inhibit, Forwarding = s.Forwarding };
            }

            if (nftables is not null) WarnNftables(vs, name, notNat, nftables);

            var quorum = vs.Quorum;
            if (quorum > weightSum)
            {
                _diag.Error(vs.At, $"Warning - quorum {quorum} for {name} exceeds total weight of real servers {weightSum}, reducing quorum to {weightSum}");
                quorum = (uint)weightSum;
            }
            var hysteresis = vs.Hysteresis;
            if (hysteresis >= quorum && !(hysteresis == 0 && quorum == 0))
            {
                _diag.Error(vs.At, $"Virtual server {name}: hysteresis {hysteresis} >= quorum {quorum}; setting hysteresis to {(quorum == 0 ? uint.MaxValue : quorum - 1)}");
                hysteresis = quorum == 0 ? 0 : quorum - 1;
            }

            result.Add(new VirtualServer
            {
                Kind = vs.Kind,
                Address = vs.Address,
                Port = vs.Port,
                Fwmark = vs.Fwmark,
                Group = vs.Group,
                Family = vs.Family ?? (group?.Entries.FirstOrDefault(e => e.Start is not null)?.Start?.AddressFamily ?? group?.Entries.FirstOrDefault()?.FwmarkFamily ?? AddressFamily.InterNetwork),
                Scheduler = vs.Scheduler,
                SchedulerFlags = vs.Flags,
                Forwarding = vs.Forwarding ?? Forwarding.Nat,
                PersistenceTimeout = vs.PersistenceTimeout == 0 ? null : TimeSpan.FromSeconds(vs.PersistenceTimeout),
                PersistenceGranularity = vs.Granularity,
                PersistenceEngine = vs.Engine,
                Protocol = vs.Protocol,
                HaSuspend = vs.HaSuspend,
                SmtpAlert = smtpAlert,
                VirtualHost = vs.VirtualHost,
                Alpha = vs.Alpha,
                Omega = vs.Omega,
                Quorum = quorum,
                Hysteresis = hysteresis,
                QuorumUp = vs.QuorumUp,
                QuorumDown = vs.QuorumDown,
                Weight = vs.Weight,
                SorryServer = sorry,
                ConnectTimeout = vs.ConnectTimeout,
                DelayLoop = vs.DelayLoop,
                InhibitOnFailure = vs.Inhibit,
                RealServers = [.. realServers],
            });
        }
        return config with { VirtualServers = [.. result] };
    }

    /// <summary>
    /// "the nftables backend" when vigil-ipvsd would use nftables (lvs_backend nftables, or auto on
    /// a host without IPVS; without a host environment only the explicit choice counts), else null.
    /// </summary>
    private string? NftablesBackend(GlobalDefs g) => g.LvsBackend switch
    {
        LvsBackend.Nftables => "the nftables backend",
        LvsBackend.Auto when (_virtualServers.Count > 0 || g.LvsSyncDaemon is not null) && _host?.HasIpvs() == false =>
            "the nftables backend (lvs_backend auto, no IPVS on this host)",
        _ => null,
    };

    /// <summary>
    /// What the nftables backend (DNAT) cannot do for a virtual server: DR and TUN forwarding (the
    /// first real server or sorry server using one, at the line that chose it) and one-packet scheduling.
    /// </summary>
    private void WarnNftables(VsDraft vs, string name, (RsDraft Draft, string Name)? notNat, string backend)
    {
        static string Method(Forwarding f) => f.Method == ForwardingMethod.Dr ? "DR" : "TUN";
        string? what = null;
        var at = vs.At;
        if (notNat is var (rs, rsName))
        {
            if (rs.ForwardingNode is { Context: Parsing.BlockContext.RealServer } own)
            {
                what = $"real_server {rsName} {own.Keyword} {Method(rs.Forwarding!)}";
                at = own.Position;
            }
            else
            {
                what = $"{rs.ForwardingNode?.Keyword ?? "lb_kind"} {Method(rs.Forwarding!)}";
                at = rs.ForwardingNode?.Position ?? vs.At;
            }
        }
        else if (vs.Sorry is { Forwarding: { Method: not ForwardingMethod.Nat } sf } sorry)
        {
            what = $"{sorry.ForwardingNode?.Keyword ?? "lb_kind"} {Method(sf)}";
            at = sorry.ForwardingNode?.Position ?? vs.At;
        }
        if (what is not null)
        {
            _diag.Note(at, $"virtual_server {name}: {what} needs IPVS; {backend} does NAT only, this virtual server will not be programmed");
        }
        if (vs.Flags.HasFlag(SchedulerFlags.Ops))
        {
            _diag.Note(vs.OpsAt ?? vs.At, $"virtual_server {name}: ops needs IPVS; {backend} schedules connections, not single packets");
        }
    }

    /// <summary>A checker's values: its own, else the real server's (which took the virtual server's), else the type's default.</summary>
    private static Checker CompleteChecker(CheckerDraft c, RsDraft rs, VsDraft vs, int rsPort, GlobalDefs g)
    {
        var delayLoop = c.DelayLoop ?? rs.DelayLoop ?? vs.DelayLoop;
        var common = c.Specific!;
        if (common is not (FileCheck or BfdCheck))
        {
            common = common with
            {
                Alpha = c.Alpha ?? rs.Alpha ?? vs.Alpha,
                Retry = c.Retry ?? rs.Retry ?? vs.Retry ?? c.DefaultRetry,
                DelayLoop = delayLoop,
                Warmup = c.Warmup ?? rs.Warmup ?? vs.Warmup ?? delayLoop,
                DelayBeforeRetry = c.DelayBeforeRetry ?? rs.DelayBeforeRetry ?? vs.DelayBeforeRetry ?? c.DefaultDelayBeforeRetry ?? delayLoop,
                LogAllFailures = c.LogAllFailures || g.CheckerLogAllFailures,
            };
        }
        else
        {
            common = common with { Alpha = c.Alpha ?? rs.Alpha ?? vs.Alpha, Retry = 0, DelayLoop = delayLoop, Warmup = TimeSpan.Zero, DelayBeforeRetry = TimeSpan.Zero };
        }
        if (!c.HasConnection) return common;
        var connection = new ConnectionOptions
        {
            ConnectIp = c.ConnectIp ?? rs.Address,
            ConnectPort = c.ConnectPort ?? rsPort,
            BindTo = c.BindTo,
            BindPort = c.BindPort,
            BindInterface = c.BindInterface,
            ConnectTimeout = c.ConnectTimeout ?? rs.ConnectTimeout ?? vs.ConnectTimeout,
            Fwmark = c.Fwmark,
        };
        return common switch
        {
            TcpCheck t => t with { Connection = connection },
            HttpCheck h => h with { Connection = connection },
            SmtpCheck s => s with { Connection = connection },
            DnsCheck d => d with { Connection = connection },
            PingCheck p => p with { Connection = connection },
            UdpCheck u => u with { Connection = connection },
            _ => common,
        };
    }

    /// <summary>
    /// keepalived refuses to hide that scripts would run as root without enable_script_security:
    /// each process (VRRP, checker, the parent for start/stop scripts) reports it once. Without
    /// a host environment every configured script counts as present.
    /// </summary>
    private void CheckScriptSecurity(KeepalivedConfig config)
    {
        var secure = config.Global.EnableScriptSecurity;
        var vrrpFlagged = false;
        var checkFlagged = false;
        var startFlagged = false;
        foreach (var (script, at, use, owner) in _scriptUses)
        {
            var probe = _host?.ProbeScript(script.Args[0]) ?? ScriptProbe.Executable;
            if (use == ScriptUse.TrackScript)
            {
                // Missing track scripts were disabled already; an unused one still counts here, as in keepalived.
                if (_scripts.FirstOrDefault(s => s.Model.Name == owner) is not { Disabled: false }) continue;
            }
            if (probe == ScriptProbe.NotFound)
            {
                _diag.Note(at, $"Cannot find script {script.Args[0]} - it will not be run");
                continue;
            }
            if (probe == ScriptProbe.NotExecutable)
            {
                _diag.Note(at, $"WARNING - script '{script.Args[0]}' is not executable - disabling.");
            }
            if (secure || probe == ScriptProbe.System) continue;
            switch (use)
            {
                case ScriptUse.Vrrp or ScriptUse.TrackScript when !vrrpFlagged && !config.Instances.IsEmpty:
                    vrrpFlagged = true;
                    _diag.Error(at, "SECURITY VIOLATION - scripts are being executed but script_security not enabled.", ConfigErrorClass.SecurityError);
                    break;
                case ScriptUse.Checker when !checkFlagged && !config.VirtualServers.IsEmpty:
                    checkFlagged = true;
                    _diag.Error(at, "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.", ConfigErrorClass.SecurityError);
                    break;
                case ScriptUse.StartStop when !startFlagged:
                    startFlagged = true;
                    _diag.Error(at, "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.", ConfigErrorClass.SecurityError);
                    break;
                case ScriptUse.Fifo when !vrrpFlagged && !config.Instances.IsEmpty:
                    vrrpFlagged = true;
                    _diag.Error(at, "SECURITY VIOLATION - scripts are being executed but script_security not enabled.", ConfigErrorClass.SecurityError);
                    break;
            }
        }
    }
}
