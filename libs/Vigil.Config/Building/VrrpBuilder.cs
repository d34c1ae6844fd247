using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config.Building;

internal sealed partial class ConfigBuilder
{
    private readonly List<VrrpDraft> _instances = [];
    private readonly List<SyncGroupDraft> _syncGroups = [];
    private readonly List<ScriptDraft> _scripts = [];
    private readonly List<TrackFileDraft> _trackFiles = [];
    private readonly List<TrackProcessDraft> _trackProcesses = [];
    private readonly List<BfdInstance> _bfds = [];
    private readonly List<GarpGroup> _garpGroups = [];
    private readonly List<TrackGroup> _trackGroups = [];
    private readonly List<VirtualIpAddress> _staticAddresses = [];
    private readonly List<IpRoute> _staticRoutes = [];
    private readonly List<IpRule> _staticRules = [];

    // ------------------------------------------------------------------ vrrp_script

    private sealed class ScriptDraft(VrrpScript model, SourcePosition at)
    {
        public VrrpScript Model { get; set; } = model;
        public SourcePosition At { get; } = at;
        public bool Used { get; set; }
        public bool Disabled { get; set; }
    }

    private void VrrpScriptBlock(ConfigNode node)
    {
        ReportChildren(node);
        var name = _values.Required(node, 0);
        if (name is null) return;
        var s = new VrrpScript { Name = name, Script = new ScriptSpec { CommandLine = "" } };
        var hasScript = false;
        var remove = false;
        var userSet = false;
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "script":
                    if (CommandScript(n, name) is { } spec)
                    {
                        s = s with { Script = spec with { User = s.Script.User, Group = s.Script.Group } };
                        hasScript = true;
                    }
                    break;
                case "interval":
                    if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var interval))
                    {
                        if (interval == 0)
                        {
                            _diag.Error(n.ArgPosition(0), $"({name}): vrrp script interval must be greater than 0, setting to 1");
                            interval = 1;
                        }
                        s = s with { Interval = TimeSpan.FromSeconds(interval) };
                    }
                    else if (n.ArgCount > 0)
                    {
                        _diag.Error(n.ArgPosition(0), $"({name}): vrrp script interval '{n.Arg(0)}' must be between 1 and {uint.MaxValue / 1_000_000} - ignoring");
                    }
                    break;
                case "timeout":
                    if (_values.TryUnsigned(n, 0, 0, uint.MaxValue / 1_000_000, out var timeout))
                    {
                        if (timeout == 0)
                        {
                            _diag.Error(n.ArgPosition(0), $"({name}): vrrp script timeout must be greater than 0, setting to 1");
                            timeout = 1;
                        }
                        s = s with { Timeout = TimeSpan.FromSeconds(timeout) };
                    }
                    else if (n.ArgCount > 0)
                    {
                        _diag.Error(n.ArgPosition(0), $"({name}): vrrp script timeout '{n.Arg(0)}' invalid - ignoring");
                    }
                    break;
                case "weight":
                    if (_values.TryInt(n, 0, -253, 253, out var weight)) s = s with { Weight = (int)weight };
                    else if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"vrrp_script {name} weight {n.Arg(0)} must be in [-253, 253]");
                    if (n.ArgCount >= 2)
                    {
                        if (n.Arg(1) == "reverse") s = s with { WeightReverse = true };
                        else _diag.Error(n.ArgPosition(1), $"vrrp_script {name} unknown weight option {n.Arg(1)}");
                    }
                    break;
                case "rise":
                case "fall":
                    if (!_values.TryUnsigned(n, 0, 1, int.MaxValue, out var count))
                    {
                        if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"({name}): vrrp script {n.Keyword} value '{n.Arg(0)}' invalid, defaulting to 1");
                        count = 1;
                    }
                    s = n.Keyword == "rise" ? s with { Rise = (int)count } : s with { Fall = (int)count };
                    break;
                case "user":
                    if (_values.Required(n, 0) is { } user)
                    {
                        if (_host is not null && (!_host.UserExists(user) || (n.Arg(1) is { } grp && !_host.GroupExists(grp))))
                        {
                            _diag.Error(n.ArgPosition(0), $"Unable to set uid/gid for script {s.Script.CommandLine}");
                            remove = true;
                        }
                        else
                        {
                            remove = false;
                            s = s with { Script = s.Script with { User = user, Group = n.Arg(1) } };
                        }
                        userSet = true;
                    }
                    break;
                case "init_fail":
                    s = s with { InitFail = true };
                    break;
            }
        }
        if (!hasScript)
        {
            _diag.Error(node.End, $"No script set for vrrp_script {name} - removing");
            return;
        }
        if (remove) return;
        if (!userSet && DefaultScriptUserFails(node.End))
        {
            _diag.Error(node.End, $"Unable to set default user for vrrp script {name} - removing");
            ForgetScriptUse(s.Script);
            return;
        }
        _scripts.Add(new ScriptDraft(s, node.Position));
    }

    // ------------------------------------------------------------------ track_file

    private sealed class TrackFileDraft(TrackFile model)
    {
        public TrackFile Model { get; set; } = model;
    }

    private void TrackFileBlock(ConfigNode node)
    {
        ReportChildren(node);
        if (node.Keyword == "vrrp_track_file")
        {
            _diag.Note(node.Position, "\"vrrp_track_file\" is deprecated, please use \"track_file\"");
        }
        var name = _values.Required(node, 0);
        if (name is null) return;
        var f = new TrackFile { Name = name, Path = "" };
        var weightSet = false;
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "file":
                    if (n.ArgCount < 1) _diag.Error(n.Position, "track file file name missing");
                    else if (f.Path.Length > 0) _diag.Error(n.ArgPosition(0), $"File already set for track file {name} - ignoring {n.Arg(0)}");
                    else f = f with { Path = n.Arg(0)! };
                    break;
                case "weight":
                    if (n.ArgCount < 1)
                    {
                        _diag.Error(n.Position, $"No weight specified for track file {name} - ignoring");
                        break;
                    }
                    if (weightSet && f.Weight != 1)
                    {
                        _diag.Error(n.ArgPosition(0), $"Weight already set for track file {name} - ignoring {n.Arg(0)}");
                        break;
                    }
                    if (!_values.TryInt(n, 0, -254, 254, out var w))
                    {
                        _diag.Error(n.ArgPosition(0), $"Weight ({n.Arg(0)}) for track_file {name} must be between [-254..254] inclusive. Ignoring...");
                        w = 1;
                    }
                    weightSet = true;
                    f = f with { Weight = (int)w };
                    if (n.ArgCount >= 2)
                    {
                        if (n.Arg(1) == "reverse") f = f with { WeightReverse = true };
                        else _diag.Error(n.ArgPosition(1), $"track_file {name} unknown weight option {n.Arg(1)}");
                    }
                    break;
                case "init_file":
                    f = f with { InitValue = 0, InitOverwrite = false };
                    for (var i = 0; i < n.ArgCount; i++)
                    {
                        var word = n.Arg(i)!.TrimStart(' ', '\t');
                        if (word.Length > 0 && (char.IsAsciiDigit(word[0]) || word[0] == '-'))
                        {
                            if (!_values.TryInt(n.Arg(i)!, n.ArgPosition(i), int.MinValue, int.MaxValue, out var v))
                            {
                                _diag.Error(n.ArgPosition(i), $"Track file {name} init value {word} is invalid");
                                v = 0;
                            }
                            else if (v is < -254 or > 254)
                            {
                                _diag.Error(n.ArgPosition(i), $"Track file {name} init value {v} is outside sensible range [-254, 254]");
                            }
                            f = f with { InitValue = (int)v };
                        }
                        else if (word == "overwrite")
                        {
                            f = f with { InitOverwrite = true };
                        }
                        else
                        {
                            _diag.Error(n.ArgPosition(i), $"Unknown track file init option {word}");
                        }
                    }
                    break;
            }
        }
        if (f.Path.Length == 0)
        {
            _diag.Error(node.End, $"No file set for track_file {name} - ignoring");
            return;
        }
        _trackFiles.Add(new TrackFileDraft(f));
    }

    // ------------------------------------------------------------------ vrrp_track_process

    private sealed class TrackProcessDraft(TrackProcess model)
    {
        public TrackProcess Model { get; set; } = model;
    }

    private void TrackProcessBlock(ConfigNode node)
    {
        ReportChildren(node);
        var name = _values.Required(node, 0);
        if (name is null) return;
        var p = new TrackProcess { Name = name, Process = "", QuorumMax = int.MaxValue };
        var quorumMax = (long)uint.MaxValue;
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "process":
                    if (p.Process.Length > 0)
                    {
                        _diag.Error(n.ArgPosition(0), $"Process already set for track process {name} - ignoring {n.Arg(0)}");
                        break;
                    }
                    if (_values.Required(n, 0) is not { } proc) break;
                    p = p with { Process = proc };
                    if (n.ArgCount > 1)
                    {
                        p = p with
                        {
                            Parameters = [.. n.Args.Skip(1).Select(t => t.Text)],
                            ParamMatch = p.ParamMatch == ProcessParamMatch.None ? ProcessParamMatch.Exact : p.ParamMatch,
                            FullCommand = true,
                        };
                    }
                    break;
                case "param_match":
                    if (n.ArgCount == 0) p = p with { ParamMatch = ProcessParamMatch.Exact, FullCommand = true };
                    else if (n.Arg(0) == "initial") p = p with { ParamMatch = ProcessParamMatch.Initial, FullCommand = true };
                    else if (n.Arg(0) == "partial") p = p with { ParamMatch = ProcessParamMatch.Partial, FullCommand = true };
                    else _diag.Error(n.ArgPosition(0), $"Invalid param_match type {n.Arg(0)} - ignoring");
                    break;
                case "weight":
                    if (n.ArgCount < 1)
                    {
                        _diag.Error(n.Position, $"No weight specified for track process {name} - ignoring");
                        break;
                    }
                    if (p.Weight != 0)
                    {
                        _diag.Error(n.ArgPosition(0), $"Weight already set for track process {name} - ignoring {n.Arg(0)}");
                        break;
                    }
                    if (!_values.TryInt(n, 0, -254, 254, out var w))
                    {
                        _diag.Error(n.ArgPosition(0), $"Weight ({n.Arg(0)}) for vrrp_track_process {name} must be between [-254..254] inclusive. Ignoring...");
                        break;
                    }
                    if (n.ArgCount >= 2)
                    {
                        if (n.Arg(1) == "reverse") p = p with { WeightReverse = true };
                        else _diag.Error(n.ArgPosition(1), $"vrrp_track_process {name} unknown weight option {n.Arg(1)}");
                    }
                    p = p with { Weight = (int)w };
                    break;
                case "quorum":
                    if (!_values.TryUnsigned(n, 0, 1, 65535, out var q))
                    {
                        if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"Quorum ({n.Arg(0)}) for vrrp_track_process {name} must be between [1..65535] inclusive. Ignoring...");
                        break;
                    }
                    if ((long)q > quorumMax)
                    {
                        _diag.Error(n.ArgPosition(0), "Quorum is greater than quorum_max - ignoring");
                        break;
                    }
                    p = p with { Quorum = (int)q };
                    break;
                case "quorum_max":
                    if (!_values.TryUnsigned(n, 0, 0, 65535, out var qm))
                    {
                        if (n.ArgCount > 0) _diag.Error(n.ArgPosition(0), $"quorum_max ({n.Arg(0)}) for vrrp_track_process {name} must be between [0..65535] inclusive. Ignoring...");
                        break;
                    }
                    if ((qm != 0 || p.Quorum > 1) && (long)qm < p.Quorum)
                    {
                        _diag.Error(n.ArgPosition(0), "quorum_max is less than quorum - ignoring");
                        break;
                    }
                    quorumMax = (long)qm;
                    p = p with { QuorumMax = (int)qm, Quorum = qm == 0 ? 0 : p.Quorum == 0 ? 1 : p.Quorum };
                    break;
                case "delay":
                case "terminate_delay":
                case "fork_delay":
                    var prefix = n.Keyword == "delay" ? "" : n.Keyword[..^5];
                    if (_values.Required(n, 0) is { } d)
                    {
                        if (!_values.TryDecimal(d, n.ArgPosition(0), 6, 1, 3600UL * 1_000_000, out var micros))
                        {
                            _diag.Error(n.ArgPosition(0), $"{prefix}delay ({d}) for vrrp_track_process {name} must be between [0.000001..3600] inclusive. Ignoring...");
                            break;
                        }
                        var ts = TimeSpan.FromTicks((long)micros * 10);
                        if (n.Keyword != "fork_delay") p = p with { TerminateDelay = ts };
                        if (n.Keyword != "terminate_delay") p = p with { ForkDelay = ts };
                    }
                    break;
                case "full_command":
                    p = p with { FullCommand = true };
                    break;
            }
        }
        if (p.Process.Length == 0)
        {
            _diag.Error(node.End, $"track process '{name}' process name not specified");
            return;
        }
        _trackProcesses.Add(new TrackProcessDraft(p));
    }

    // ------------------------------------------------------------------ bfd_instance, garp_group, track_group

    private void BfdInstanceBlock(ConfigNode node)
    {
        ReportChildren(node);
        var name = _values.Required(node, 0);
        if (name is null) return;
        if (name.Length >= 32)
        {
            _diag.Error(node.ArgPosition(0), $"Configuration error: BFD instance {name} name too long (maximum length is 31 characters) - ignoring instance");
            return;
        }
        if (_bfds.Any(b => b.Name == name))
        {
            _diag.Error(node.ArgPosition(0), $"Configuration error: BFD instance {name} already configured - ignoring instance");
            return;
        }
        var b = new BfdInstance { Name = name };
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "neighbor_ip":
                case "neighbour_ip":
                case "source_ip":
                    if (_values.Required(n, 0) is { } a)
                    {
                        var ip = Values.ParseAddress(a);
                        if (ip is null) _diag.Error(n.ArgPosition(0), $"Configuration error: BFD instance {name} {n.Keyword} {a} not valid - ignoring");
                        else b = n.Keyword == "source_ip" ? b with { SourceAddress = ip } : b with { NeighborAddress = ip };
                    }
                    break;
                case "min_rx":
                case "min_tx":
                case "idle_tx":
                    if (_values.Required(n, 0) is { } ms && _values.TryDecimal(ms, n.ArgPosition(0), 3, 1, 1000UL * 1000, out var micros))
                    {
                        var ts = TimeSpan.FromTicks((long)micros * 10);
                        b = n.Keyword switch
                        {
                            "min_rx" => b with { MinRx = ts },
                            "min_tx" => b with { MinTx = ts },
                            _ => b with { IdleTx = ts },
                        };
                    }
                    break;
                case "multiplier":
                    if (_values.TryUnsigned(n, 0, 1, 255, out var mult)) b = b with { Multiplier = (int)mult };
                    break;
                case "passive":
                    b = b with { Passive = true };
                    break;
                case "ttl":
                case "hoplimit":
                    if (_values.TryUnsigned(n, 0, 1, 255, out var ttl)) b = b with { Ttl = (int)ttl };
                    break;
                case "max_hops":
                    if (_values.TryUnsigned(n, 0, 0, 255, out var hops)) b = b with { MaxHops = (int)hops };
                    break;
                case "weight":
                    if (_values.TryInt(n, 0, -253, 253, out var w)) b = b with { Weight = (int)w, WeightReverse = n.Arg(1) == "reverse" };
                    break;
                case "vrrp":
                    b = b with { ToVrrp = true };
                    break;
                case "checker":
                    b = b with { ToChecker = true };
                    break;
            }
        }
        if (b.NeighborAddress is null)
        {
            _diag.Error(node.End, $"Configuration error: BFD instance {name} has no neighbor_ip - ignoring instance");
            return;
        }
        _bfds.Add(b);
    }

    private void GarpGroupBlock(ConfigNode node)
    {
        ReportChildren(node);
        var group = new GarpGroup();
        var interfaces = new List<string>();
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "garp_interval":
                case "gna_interval":
                    if (_values.Required(n, 0) is { } t)
                    {
                        if (!_values.TryDecimal(t, n.ArgPosition(0), 6, 0, int.MaxValue, out var micros))
                        {
                            _diag.Error(n.ArgPosition(0), $"garp_group {n.Keyword} '{t}' invalid");
                            break;
                        }
                        var ts = TimeSpan.FromTicks((long)micros * 10);
                        group = n.Keyword == "garp_interval" ? group with { GarpInterval = ts } : group with { GnaInterval = ts };
                    }
                    break;
                case "interface":
                    if (_values.Required(n, 0) is { } ifname)
                    {
                        if (!CheckInterfaceExists(n.Token(1)!.Value, fatal: false, what: "garp_group"))
                        {
                            _diag.Warning(n.ArgPosition(0), $"WARNING - interface {ifname} specified for garp_group doesn't exist");
                            break;
                        }
                        if (_garpGroups.Any(g => g.Interfaces.Contains(ifname)) || interfaces.Contains(ifname))
                        {
                            _diag.Error(n.ArgPosition(0), $"garp_group already specified for {ifname} - ignoring");
                            break;
                        }
                        interfaces.Add(ifname);
                    }
                    break;
                case "interfaces":
                    if (n.Children.Count == 0) _diag.Error(n.Position, "Warning - empty garp_group interfaces block");
                    foreach (var v in n.Children)
                    {
                        foreach (var tok in v.Tokens)
                        {
                            if (!CheckInterfaceExists(tok, fatal: false, what: "garp_group"))
                            {
                                _diag.Warning(tok.Position, $"WARNING - interface {tok.Text} specified for garp_group doesn't exist");
                                continue;
                            }
                            if (_garpGroups.Any(g => g.Interfaces.Contains(tok.Text)) || interfaces.Contains(tok.Text))
                            {
                                _diag.Error(tok.Position, $"garp_group already specified for {tok.Text} - ignoring");
                                continue;
                            }
                            interfaces.Add(tok.Text);
                        }
                    }
                    break;
            }
        }
        if (group.GarpInterval is null && group.GnaInterval is null)
        {
            _diag.Error(node.End, $"garp group {_garpGroups.Count + 1} does not have any delay set - removing");
            return;
        }
        _garpGroups.Add(group with { Interfaces = [.. interfaces] });
    }

    private void TrackGroupBlock(ConfigNode node)
    {
        ReportChildren(node);
        if (node.ArgCount != 1)
        {
            _diag.Error(node.Position, "track_group must have a name - skipping");
            return;
        }
        var name = node.Arg(0)!;
        if (_trackGroups.Any(g => g.Name == name))
        {
            _diag.Error(node.ArgPosition(0), $"track_group {name} already defined");
            return;
        }
        List<string>? members = null;
        foreach (var n in node.Children)
        {
            if (n.Keyword != "group") continue;
            if (members is not null)
            {
                _diag.Error(n.Position, $"Group list already specified for sync group {name}");
                continue;
            }
            members = [.. n.Children.SelectMany(v => v.Tokens).Select(t => t.Text)];
            if (members.Count == 0)
            {
                _diag.Error(n.Position, $"Warning - track group {name} has empty group block");
                members = null;
            }
        }
        if (members is null)
        {
            // keepalived only logs this (static_track_group_set); it is not a configuration error.
            _diag.Note(node.Position, $"Static track group {name} has no virtual router(s) - removing");
            return;
        }
        _trackGroups.Add(new TrackGroup(name, [.. members]));
    }

    // ------------------------------------------------------------------ vrrp_sync_group

    private sealed class SyncGroupDraft
    {
        public required string Name { get; init; }
        public required SourcePosition At { get; init; }
        public List<ConfigToken>? Members { get; set; }
        public List<TrackedInterface> TrackInterfaces { get; } = [];
        public List<TrackedObject> TrackScripts { get; } = [];
        public List<TrackedObject> TrackFiles { get; } = [];
        public List<TrackedObject> TrackProcesses { get; } = [];
        public List<TrackedObject> TrackBfds { get; } = [];
        public ScriptSpec? NotifyMaster { get; set; }
        public ScriptSpec? NotifyBackup { get; set; }
        public ScriptSpec? NotifyFault { get; set; }
        public ScriptSpec? NotifyStop { get; set; }
        public ScriptSpec? Notify { get; set; }
        public bool? SmtpAlert { get; set; }
        public bool TrackingWeight { get; set; }
        public bool? NotifyPriorityChanges { get; set; }
        public List<string> ResolvedMembers { get; } = [];
    }

    private void SyncGroupBlock(ConfigNode node)
    {
        ReportChildren(node);
        if (node.ArgCount != 1)
        {
            _diag.Error(node.Position, "vrrp_sync_group must have a name - skipping");
            return;
        }
        var name = node.Arg(0)!;
        if (_syncGroups.Any(g => g.Name == name))
        {
            _diag.Error(node.ArgPosition(0), $"vrrp sync group {name} already defined");
            return;
        }
        var g = new SyncGroupDraft { Name = name, At = node.Position };
        foreach (var n in node.Children)
        {
            switch (n.Keyword)
            {
                case "group":
                    if (g.Members is not null)
                    {
                        _diag.Error(n.Position, $"Group list already specified for sync group {name}");
                        break;
                    }
                    var members = n.Children.SelectMany(v => v.Tokens).ToList();
                    if (members.Count == 0) _diag.Error(n.Position, $"Warning - sync group {name} has empty group block");
                    else g.Members = members;
                    break;
                case "track_interface":
                    foreach (var v in n.Children) TrackInterface(name, v, g.TrackInterfaces);
                    break;
                case "track_script":
                    foreach (var v in n.Children) TrackScript(name, v, g.TrackScripts);
                    break;
                case "track_file":
                    foreach (var v in n.Children) TrackFileRef(name, v, g.TrackFiles);
                    break;
                case "track_process":
                    foreach (var v in n.Children) TrackProcessRef(name, v, g.TrackProcesses);
                    break;
                case "track_bfd":
                    foreach (var v in n.Children) TrackBfdRef(name, v, g.TrackBfds);
                    break;
                case "notify_master":
                    g.NotifyMaster = GroupNotify(g, n, g.NotifyMaster, "notify_master");
                    break;
                case "notify_backup":
                    g.NotifyBackup = GroupNotify(g, n, g.NotifyBackup, "notify_backup");
                    break;
                case "notify_fault":
                    g.NotifyFault = GroupNotify(g, n, g.NotifyFault, "notify_fault");
                    break;
                case "notify_stop":
                    g.NotifyStop = GroupNotify(g, n, g.NotifyStop, "notify_stop");
                    break;
                case "notify":
                    g.Notify = GroupNotify(g, n, g.Notify, "notify");
                    break;
                case "smtp_alert":
                    if (OptionalBool(n, "Invalid vrrp_group smtp_alert parameter {0}") is bool sa) g.SmtpAlert = sa;
                    break;
                case "global_tracking":
                    _diag.Error(n.Position, $"({name}) global_tracking is deprecated. Use track_interface/script/file on the sync group");
                    g.TrackingWeight = true;
                    break;
                case "sync_group_tracking_weight":
                    g.TrackingWeight = true;
                    break;
                case "notify_priority_changes":
                    if (OptionalBool(n, $"({name}) Invalid value '{{0}}' for sync group notify_priority_changes specified") is bool npc) g.NotifyPriorityChanges = npc;
                    break;
            }
        }
        _syncGroups.Add(g);
    }

    private ScriptSpec? GroupNotify(SyncGroupDraft g, ConfigNode n, ScriptSpec? existing, string what)
    {
        if (existing is not null)
        {
            _diag.Error(n.Position, $"vrrp group {g.Name}: {what} script already specified - ignoring {n.Arg(0)}");
            return existing;
        }
        return NotifyScript(n);
    }

    // ------------------------------------------------------------------ tracking references

    private void TrackInterface(string owner, ConfigNode v, List<TrackedInterface> list)
    {
        var tracked = v.Tokens[0];
        if (!CheckInterfaceExists(tracked, fatal: false, what: "track_interface"))
        {
            _diag.Error(tracked.Position, $"({owner}) tracked interface {tracked.Text} doesn't exist");
            return;
        }
        if (list.Any(t => t.Name == tracked.Text))
        {
            _diag.Error(tracked.Position, $"({owner}) duplicate track_interface {tracked.Text} - ignoring");
            return;
        }
        var weight = 0;
        var reverse = false;
        if (v.Tokens.Count >= 2)
        {
            if (v.Tokens[1].Text != "weight")
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) unknown track_interface {tracked.Text} option {v.Tokens[1].Text} - ignoring");
                return;
            }
            if (v.Tokens.Count == 2)
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) weight without value specified for track_interface {tracked.Text} - ignoring");
                return;
            }
            weight = TrackWeight(owner, v, tracked.Text, 0, $"({owner}) weight {v.Tokens[2].Text} for {tracked.Text} must be between [-253..253] inclusive. Ignoring...");
            if (v.Tokens.Count >= 4)
            {
                if (v.Tokens[3].Text == "reverse") reverse = true;
                else _diag.Error(v.Tokens[3].Position, $"({owner}) unknown track_interace {tracked.Text} weight option {v.Tokens[3].Text} - ignoring");
            }
        }
        list.Add(new TrackedInterface(tracked.Text, weight, reverse));
    }

    /// <summary>"NAME weight W": -254..254 is read, and +/-254 is turned into +/-253 with keepalived's message.</summary>
    private int TrackWeight(string owner, ConfigNode v, string tracked, int fallback, string rangeMessage, bool clamp254 = true, long limit = 254)
    {
        if (!_values.TryInt(v.Tokens[2].Text, v.Tokens[2].Position, -limit, limit, out var w))
        {
            _diag.Error(v.Tokens[2].Position, rangeMessage);
            return fallback;
        }
        if (clamp254 && (w == -254 || w == 254))
        {
            _diag.Error(v.Tokens[2].Position, $"({owner}) weight for {tracked} cannot be +/-254. Setting to +/-253");
            return w < 0 ? -253 : 253;
        }
        return (int)w;
    }

    private void TrackScript(string owner, ConfigNode v, List<TrackedObject> list)
    {
        var tracked = v.Tokens[0];
        var script = _scripts.FirstOrDefault(s => s.Model.Name == tracked.Text);
        if (script is null)
        {
            _diag.Error(tracked.Position, $"({owner}) track script {tracked.Text} not found, ignoring...");
            if (_pendingScriptNames.Contains(tracked.Text))
            {
                _diag.Note(tracked.Position, $"vrrp_script {tracked.Text} is defined after this point; keepalived only finds scripts defined before they are tracked");
            }
            return;
        }
        if (list.Any(t => t.Name == tracked.Text))
        {
            _diag.Error(tracked.Position, $"({owner}) duplicate track_script {tracked.Text} - ignoring");
            return;
        }
        var weight = script.Model.Weight;
        var reverse = script.Model.WeightReverse;
        if (v.Tokens.Count >= 2)
        {
            if (v.Tokens[1].Text != "weight")
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) unknown track script option {v.Tokens[1].Text} - ignoring");
                return;
            }
            if (v.Tokens.Count == 2)
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) weight without value specified for track script {tracked.Text} - ignoring");
                return;
            }
            weight = TrackWeight(owner, v, tracked.Text, script.Model.Weight, $"({owner}) track script {tracked.Text}: weight must be between [-253..253] inclusive, ignoring...");
            if (v.Tokens.Count >= 4)
            {
                if (v.Tokens[3].Text == "reverse") reverse = true;
                else if (v.Tokens[3].Text == "noreverse") reverse = false;
                else _diag.Error(v.Tokens[3].Position, $"({owner}) unknown track_script {tracked.Text} weight option {v.Tokens[3].Text} - ignoring");
            }
        }
        script.Used = true;
        list.Add(new TrackedObject(tracked.Text, weight, reverse));
    }

    private void TrackFileRef(string owner, ConfigNode v, List<TrackedObject> list)
    {
        var tracked = v.Tokens[0];
        var file = _trackFiles.FirstOrDefault(f => f.Model.Name == tracked.Text);
        if (file is null)
        {
            _diag.Error(tracked.Position, $"({owner}) track file {tracked.Text} not found, ignoring...");
            return;
        }
        if (list.Any(t => t.Name == tracked.Text))
        {
            _diag.Error(tracked.Position, $"({owner}) duplicate track_file {tracked.Text} - ignoring");
            return;
        }
        var weight = file.Model.Weight;
        var reverse = file.Model.WeightReverse;
        if (v.Tokens.Count >= 2)
        {
            if (v.Tokens[1].Text != "weight")
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) unknown track file option {v.Tokens[1].Text} - ignoring");
                return;
            }
            if (v.Tokens.Count == 2)
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) weight without value specified for track file {tracked.Text} - ignoring");
                return;
            }
            weight = TrackWeight(owner, v, tracked.Text, file.Model.Weight, $"({owner}) weight for track file {tracked.Text} must be in [-254..254] inclusive. Ignoring...", clamp254: false);
            if (v.Tokens.Count >= 4)
            {
                if (v.Tokens[3].Text == "reverse") reverse = true;
                else if (v.Tokens[3].Text == "noreverse") reverse = false;
                else
                {
                    _diag.Error(v.Tokens[3].Position, $"({owner}) unknown track file {tracked.Text} weight option {v.Tokens[3].Text} - ignoring");
                    return;
                }
            }
        }
        list.Add(new TrackedObject(tracked.Text, weight, reverse));
    }

    private void TrackProcessRef(string owner, ConfigNode v, List<TrackedObject> list)
    {
        var tracked = v.Tokens[0];
        var process = _trackProcesses.FirstOrDefault(p => p.Model.Name == tracked.Text);
        if (process is null)
        {
            _diag.Error(tracked.Position, $"({owner}) track process {tracked.Text} not found, ignoring...");
            return;
        }
        if (list.Any(t => t.Name == tracked.Text))
        {
            _diag.Error(tracked.Position, $"({owner}) duplicate track_process {tracked.Text} - ignoring");
            return;
        }
        var weight = process.Model.Weight;
        var reverse = process.Model.WeightReverse;
        if (v.Tokens.Count >= 2)
        {
            if (v.Tokens[1].Text != "weight")
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) unknown track process option {v.Tokens[1].Text} - ignoring");
                return;
            }
            if (v.Tokens.Count == 2)
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) weight without value specified for track process {tracked.Text} - ignoring");
                return;
            }
            weight = TrackWeight(owner, v, tracked.Text, process.Model.Weight, $"({owner}) weight for track process {tracked.Text} must be in [-254..254] inclusive. Ignoring...", clamp254: false);
            if (v.Tokens.Count >= 4)
            {
                if (v.Tokens[3].Text == "reverse") reverse = true;
                else if (v.Tokens[3].Text == "noreverse") reverse = false;
                else _diag.Error(v.Tokens[3].Position, $"({owner}) unknown track_process {tracked.Text} weight option {v.Tokens[3].Text} - ignoring");
            }
        }
        list.Add(new TrackedObject(tracked.Text, weight, reverse));
    }

    private void TrackBfdRef(string owner, ConfigNode v, List<TrackedObject> list)
    {
        var tracked = v.Tokens[0];
        var bfd = _bfds.FirstOrDefault(b => b.Name == tracked.Text);
        if (bfd is null)
        {
            _diag.Error(tracked.Position, $"({owner}) track bfd {tracked.Text} not found, ignoring...");
            return;
        }
        if (list.Any(t => t.Name == tracked.Text))
        {
            _diag.Error(tracked.Position, $"({owner}) duplicate track_bfd {tracked.Text} - ignoring");
            return;
        }
        var weight = bfd.Weight;
        var reverse = bfd.WeightReverse;
        if (v.Tokens.Count >= 2)
        {
            if (v.Tokens[1].Text != "weight")
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) unknown track bfd {tracked.Text} option {v.Tokens[1].Text} - ignoring");
                return;
            }
            if (v.Tokens.Count == 2)
            {
                _diag.Error(v.Tokens[1].Position, $"({owner}) weight without value specified for track bfd {tracked.Text} - ignoring");
                return;
            }
            weight = TrackWeight(owner, v, tracked.Text, bfd.Weight, $"({owner}) weight for track bfd {tracked.Text} must be in [-253..253] inclusive. Ignoring...", clamp254: false, limit: 253);
            if (v.Tokens.Count >= 4)
            {
                if (v.Tokens[3].Text == "reverse") reverse = true;
                else if (v.Tokens[3].Text == "noreverse") reverse = false;
                else
                {
                    _diag.Error(v.Tokens[3].Position, $"({owner}) unknown track bfd {tracked.Text} weight option {v.Tokens[3].Text} - ignoring");
                    return;
                }
            }
        }
        list.Add(new TrackedObject(tracked.Text, weight, reverse));
    }

    /// <summary>Names of every vrrp_script in the file, to explain a reference made before the definition.</summary>
    private HashSet<string> _pendingScriptNames = [];

    internal void NoteScriptNames(IEnumerable<ConfigNode> roots) =>
        _pendingScriptNames = [.. roots.Where(r => r.Keyword == "vrrp_script" && r.Arg(0) is not null).Select(r => r.Arg(0)!)];
}
