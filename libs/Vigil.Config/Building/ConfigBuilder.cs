using Vigil.Config.Diagnostics;
using Vigil.Config.Model;
using Vigil.Config.Parsing;
using Vigil.Config.Text;

namespace Vigil.Config.Building;

/// <summary>
/// Turns the keyword tree into the typed model with keepalived's handlers' semantics: the same
/// ranges, defaults, corrections and messages, in the same order (a track_script can only name a
/// vrrp_script defined before it, as in keepalived), followed by keepalived's completion checks
/// (vrrp_complete_init, validate_check_config).
/// </summary>
internal sealed partial class ConfigBuilder
{
    private readonly DiagnosticBag _diag;
    private readonly Values _values;
    private readonly IHostEnvironment? _host;
    private readonly string _mainFile;

    public ConfigBuilder(DiagnosticBag diagnostics, IHostEnvironment? host, string mainFile)
    {
        _diag = diagnostics;
        _values = new Values(diagnostics);
        _host = host;
        _mainFile = mainFile;
    }

    private bool _vrrpStopped;

    /// <summary>True when keepalived's VRRP process would stop on the configuration (and keepalived with it).</summary>
    public bool VrrpStopped => _vrrpStopped;

    /// <summary>How many diagnostics came from reading the blocks; keepalived's completion checks follow.</summary>
    public int CompletionStart { get; private set; }

    public KeepalivedConfig Build(List<ConfigNode> roots)
    {
        foreach (var node in roots)
        {
            ReportSupport(node);
            switch (node.Keyword)
            {
                case "global_defs":
                    foreach (var child in node.Children) GlobalKeyword(child);
                    break;
                case "vrrp_instance":
                    VrrpInstanceBlock(node);
                    break;
                case "vrrp_sync_group":
                    SyncGroupBlock(node);
                    break;
                case "vrrp_script":
                    VrrpScriptBlock(node);
                    break;
                case "track_file":
                case "vrrp_track_file":
                    TrackFileBlock(node);
                    break;
                case "vrrp_track_process":
                    TrackProcessBlock(node);
                    break;
                case "bfd_instance":
                    BfdInstanceBlock(node);
                    break;
                case "garp_group":
                    GarpGroupBlock(node);
                    break;
                case "track_group":
                    TrackGroupBlock(node);
                    break;
                case "static_ipaddress":
                    foreach (var v in node.Children) ParseAddress(v, _staticAddresses, isStatic: true, vrrpName: null);
                    break;
                case "static_routes":
                    foreach (var v in node.Children) ParseRoute(v, _staticRoutes, isStatic: true);
                    break;
                case "static_rules":
                    foreach (var v in node.Children) ParseRule(v, _staticRules, isStatic: true);
                    break;
                case "SSL":
                    SslBlock(node);
                    break;
                case "virtual_server_group":
                    VirtualServerGroupBlock(node);
                    break;
                case "virtual_server":
                    VirtualServerBlock(node);
                    break;
                case "consul":
                    ConsulBlock(node);
                    break;
                case "metrics":
                    MetricsBlock(node);
                    break;
                case "interface_up_down_delays":
                case "linkbeat_interfaces":
                    foreach (var v in node.Children) CheckInterfaceExists(v.Tokens[0], fatal: true, what: node.Keyword == "linkbeat_interfaces" ? "linkbeat interface" : "up/down delay");
                    break;
            }
        }

        CompletionStart = _diag.Items.Count;
        var global = CompleteGlobal();
        if (_nonExistentInterface is { } missingAt)
        {
            // keepalived's VRRP process stops here, before checking its instances.
            _diag.Fatal(missingAt, "Non-existent interface specified in configuration", ConfigErrorClass.BadInterface);
            _instances.Clear();
            _syncGroups.Clear();
        }
        var config = new KeepalivedConfig
        {
            Global = global,
            TrackGroups = [.. _trackGroups],
            StaticAddresses = [.. _staticAddresses],
            StaticRoutes = [.. _staticRoutes],
            StaticRules = [.. _staticRules],
            GarpGroups = [.. _garpGroups],
            VrrpScripts = [.. _scripts.Select(s => s.Model)],
            TrackFiles = [.. _trackFiles.Select(f => f.Model)],
            TrackProcesses = [.. _trackProcesses.Select(p => p.Model)],
            BfdInstances = [.. _bfds],
            Ssl = _ssl,
            VirtualServerGroups = [.. _vsGroups.Select(g => g.Model)],
            Consul = _consul,
            Metrics = _metrics,
        };
        config = CompleteVrrp(config);
        config = CompleteChecks(config);
        CheckScriptSecurity(config);
        return config;
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Notes keywords Vigil does not act on; keepalived accepts them, so they never change the exit status.</summary>
    private void ReportSupport(ConfigNode node)
    {
        if (node.Info is not { } info) return;
        if (Unimplemented.For(node) is { } missing)
        {
            _diag.Note(node.Position, missing.Message);
            return;
        }
        switch (info.Support)
        {
            case KeywordSupport.NotApplicable:
                _diag.Note(node.Position, $"'{info.Name}' is ignored by Vigil ({info.Note})");
                break;
            case KeywordSupport.ReplacedByApi:
                _diag.Note(node.Position, $"'{info.Name}' is ignored by Vigil ({info.Note})");
                break;
            default:
                if (info.Note is { } note) _diag.Note(node.Position, $"'{info.Name}' is {note}");
                break;
        }
    }

    private void ReportChildren(ConfigNode node)
    {
        foreach (var child in node.Children) ReportSupport(child);
    }

    /// <summary>A boolean keyword with an optional on/off word; null (after reporting) if the word is not one.</summary>
    private bool? OptionalBool(ConfigNode node, string message)
    {
        if (node.ArgCount == 0) return true;
        var value = Values.TrueFalse(node.Arg(0)!);
        if (value is null) _diag.Error(node.ArgPosition(0), string.Format(System.Globalization.CultureInfo.InvariantCulture, message, node.Arg(0)));
        return value;
    }

    /// <summary>
    /// A notify-style script line: "keyword SCRIPT [user [group]]". The line is re-read with quotes
    /// and escapes (keepalived's notify_script_init), and the script string is split into words.
    /// </summary>
    private ScriptSpec? NotifyScript(ConfigNode node)
    {
        var words = Tokenizer.SplitQuotedEscaped(node.Line.Source, _diag);
        if (words is null) return null;
        if (words.Length < 2)
        {
            _values.Required(node, 0);
            return null;
        }
        var script = ScriptFromWords(words[1], node);
        if (script is null) return null;
        if (words.Length > 2)
        {
            var user = words[2].Text;
            var group = words.Length > 3 ? words[3].Text : null;
            if (_host is not null && (!_host.UserExists(user) || (group is not null && !_host.GroupExists(group))))
            {
                _diag.Note(words[2].Position, $"Invalid user/group for {node.Keyword} script {script.Args[0]} - ignoring");
                return null;
            }
            script = script with { User = user, Group = group };
        }
        else if (DefaultScriptUserFails(node.Position))
        {
            _diag.Note(node.Position, $"Failed to set default user for {node.Keyword} script {script.Args[0]} - ignoring");
            ForgetScriptUse(script);
            return null;
        }
        return script;
    }

    /// <summary>vrrp_script "script" and MISC_CHECK "misc_path": the second word is the command (no user).</summary>
    private ScriptSpec? CommandScript(ConfigNode node, string? owner = null)
    {
        var words = Tokenizer.SplitQuotedEscaped(node.Line.Source, _diag);
        if (words is null) return null;
        if (words.Length < 2) return null;
        return ScriptFromWords(words[1], node, owner);
    }

    private ScriptSpec? ScriptFromWords(ConfigToken command, ConfigNode node, string? owner = null)
    {
        var line = new LineText(command.Position.File, command.Position.Line, command.Text, command.Position.Column);
        var args = Tokenizer.SplitQuotedEscaped(line, _diag);
        if (args is null || args.Length == 0)
        {
            _diag.Note(command.Position, $"Unable to parse script '{command.Text}' - ignoring");
            return null;
        }
        var spec = new ScriptSpec { CommandLine = command.Text, Args = [.. args.Select(a => a.Text)] };
        _scriptUses.Add(new ScriptUseEntry(spec, command.Position, ScriptUseOf(node), owner));
        return spec;
    }

    private static ScriptUse ScriptUseOf(ConfigNode node) => node.Context switch
    {
        BlockContext.GlobalDefs when node.Keyword.StartsWith("startup", StringComparison.Ordinal) || node.Keyword.StartsWith("shutdown", StringComparison.Ordinal) => ScriptUse.StartStop,
        BlockContext.GlobalDefs when node.Keyword.StartsWith("lvs", StringComparison.Ordinal) => ScriptUse.Checker,
        BlockContext.GlobalDefs when node.Keyword.StartsWith("vrrp", StringComparison.Ordinal) => ScriptUse.Vrrp,
        BlockContext.GlobalDefs => ScriptUse.Fifo,
        BlockContext.VrrpScript => ScriptUse.TrackScript,
        BlockContext.VrrpInstance or BlockContext.SyncGroup => ScriptUse.Vrrp,
        _ => ScriptUse.Checker,
    };

    /// <summary>Which keepalived process would run a script (its security check is per process).</summary>
    private enum ScriptUse
    {
        Vrrp,
        TrackScript,
        Checker,
        StartStop,
        Fifo,
    }

    private sealed record ScriptUseEntry(ScriptSpec Script, SourcePosition At, ScriptUse Use, string? Owner);

    private readonly List<ScriptUseEntry> _scriptUses = [];

    /// <summary>enable_script_security has been read (keepalived applies it from that line on).</summary>
    private bool _scriptSecurity;
    private bool _defaultUserDecided;
    private bool _defaultUserFailed;

    /// <summary>
    /// keepalived's get_default_script_user(): scripts without their own user run as script_user,
    /// else keepalived_script, else root - but with enable_script_security a missing
    /// keepalived_script user makes every such script unusable (checked only with a host).
    /// </summary>
    private bool DefaultScriptUserFails(SourcePosition at)
    {
        if (_host is null) return false;
        if (_defaultUserFailed) return true;
        if (_defaultUserDecided) return false;
        _defaultUserDecided = true;
        if (_scriptSecurity && !_host.UserExists("keepalived_script"))
        {
            _diag.Error(at, "Unable to set default user keepalived_script for script");
            _defaultUserFailed = true;
        }
        return _defaultUserFailed;
    }

    /// <summary>Forgets the last use of a script that was dropped (so it does not count for script security).</summary>
    private void ForgetScriptUse(ScriptSpec script)
    {
        var i = _scriptUses.FindLastIndex(u => u.Script.CommandLine == script.CommandLine);
        if (i >= 0) _scriptUses.RemoveAt(i);
    }

    /// <summary>Where the first interface that does not exist was named (keepalived then stops its VRRP process).</summary>
    private SourcePosition? _nonExistentInterface;

    /// <summary>Interfaces: keepalived -t checks them on the host (unless dynamic_interfaces).</summary>
    private bool CheckInterfaceExists(ConfigToken name, bool fatal, string what)
    {
        if (_host is null || _global.DynamicInterfaces) return true;
        if (_host.InterfaceIsLoopback(name.Text) is not null) return true;
        if (fatal) _diag.Fatal(name.Position, $"unknown interface {name.Text} specified for {what}");
        else _nonExistentInterface ??= name.Position;
        return false;
    }
}
