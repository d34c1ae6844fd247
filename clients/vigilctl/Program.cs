using System.CommandLine;
using Vigil.Ctl.Commands;

namespace Vigil.Ctl;

/// <summary>vigilctl: the command-line client of Vigil's control API (`vigilctl &lt;noun&gt; [verb]`).</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("vigilctl: inspect and control the Vigil daemons (keepalived-compatible HA)");
        root.Options.Add(GlobalOptions.RunDir);
        root.Options.Add(GlobalOptions.Timeout);
        root.Subcommands.Add(DaemonsCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(ChecksCommand.Create());
        root.Subcommands.Add(LvsCommand.Create());
        root.Subcommands.Add(GenhashCommand.Create());
        root.Subcommands.Add(EventsCommand.Create());
        root.Subcommands.Add(ReloadCommand.Create());
        root.Subcommands.Add(RealServerCommands.Create(RealServerCommand.Add(), RealServerCommand.Remove()));
        root.Subcommands.Add(PriorityCommand.Create());
        root.Subcommands.Add(DumpCommand.Create());
        root.Subcommands.Add(CompletionCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        ExitCodes.Document(root);
        var parse = root.Parse(args);
        var code = await parse.InvokeAsync();
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
