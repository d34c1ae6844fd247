using System.CommandLine;
using Vigil.Control.V1;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl reload [--dry-run]`: controld re-reads its configuration file and applies it, as
/// SIGHUP does (ReloadConfig). --dry-run only reads it and prints what would change and the
/// errors that would refuse it. Exits 1 when the configuration has errors (nothing applied).
/// </summary>
internal static class ReloadCommand
{
    public static Command Create()
    {
        var json = GlobalOptions.Json();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "only read the file and print what would change and its errors" };
        var command = new Command("reload", "re-read the configuration file and apply it (as SIGHUP)") { dryRun, json };
        command.SetAction(async (r, token) =>
        {
            var dry = r.GetValue(dryRun);
            var result = await ControlCall.RunAsync(r, dry ? "check the configuration" : "reload the configuration",
                (c, call) => c.ReloadConfigAsync(new ReloadConfigRequest { DryRun = dry }, call), token);
            if (result.Value is not { } response) return result.Exit;
            if (r.GetValue(json)) GlobalOptions.PrintJson(response);
            else Console.Out.Write(Format(response, dry));
            return response.Errors.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Errors and warnings as "error: FILE:LINE:COL: ..." lines, then the changes, then a one-line verdict.</summary>
    public static string Format(ReloadConfigResponse response, bool dryRun)
    {
        var s = new System.Text.StringBuilder();
        foreach (var e in response.Errors) s.Append("error: ").Append(e).Append('\n');
        foreach (var w in response.Warnings) s.Append(w.Contains("warning", StringComparison.Ordinal) ? "" : "warning: ").Append(w).Append('\n');
        foreach (var c in response.Changes) s.Append(c).Append('\n');
        s.Append((dryRun, response.Errors.Count > 0, response.Changes.Count) switch
        {
            (true, true, _) => $"the configuration has {response.Errors.Count} error(s): a reload would be refused\n",
            (true, false, 0) => "the configuration is valid; a reload would change nothing\n",
            (true, false, var n) => $"the configuration is valid; a reload would make {n} change(s)\n",
            (false, _, 0) => "reloaded: nothing changed\n",
            (false, _, var n) => $"reloaded: {n} change(s)\n",
        });
        return s.ToString();
    }
}
