using System.CommandLine;

namespace Vigil.Ctl.Commands;

/// <summary>
/// `vigilctl completion bash|zsh`: a shell completion script. The script asks vigilctl itself
/// what can follow, through System.CommandLine's [suggest:POSITION] directive, so it completes
/// whatever commands and options this binary has (another helper's, too) without dotnet-suggest.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "print a shell completion script: eval \"$(vigilctl completion bash)\", or install it (make install does for bash)") { shell };
        command.SetAction(r =>
        {
            Console.Out.Write(r.GetValue(shell) == "zsh" ? Zsh : Bash);
            return ExitCodes.Ok;
        });
        return command;
    }

    public const string Bash = """
        # bash completion for vigilctl (vigilctl completion bash): asks vigilctl what can follow.
        _vigilctl() {
            local IFS=$'\n' cur=${COMP_WORDS[COMP_CWORD]}
            COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "$cur"))
        }
        complete -o default -F _vigilctl vigilctl

        """;

    public const string Zsh = """
        #compdef vigilctl
        # zsh completion for vigilctl (vigilctl completion zsh): asks vigilctl what can follow.
        _vigilctl() {
            local -a suggestions
            suggestions=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
            compadd -a suggestions
        }
        compdef _vigilctl vigilctl

        """;
}
