namespace Vigil.Programs;

/// <summary>
/// Dispatch of the multi-call binary: the program is the name it was started under (argv[0], as
/// exec(2) passed it, so a link named vigil-vrrpd runs vrrpd), else its first argument.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<string[], Task<int>>> Programs = new(StringComparer.Ordinal)
    {
        ["vigil-controld"] = Controld.Program.Main,
        ["vigil-vrrpd"] = Vrrpd.Program.Main,
        ["vigil-checkd"] = Checkd.Program.Main,
        ["vigil-ipvsd"] = Ipvsd.Program.Main,
        ["vigilctl"] = Ctl.Program.Main,
    };

    public static Task<int> Main(string[] args)
    {
        if (Programs.TryGetValue(Path.GetFileName(InvokedAs()), out var main)) return main(args);
        if (args.Length > 0 && Resolve(args[0]) is { } sub) return sub(args[1..]);
        Console.Error.WriteLine($"""
            usage: vigil PROGRAM [options]   (or run it under the program's name: vigil-vrrpd [options])
            programs: {string.Join(", ", Programs.Keys)} (the "vigil-" may be left out)
            """);
        return Task.FromResult(2);
    }

    private static Func<string[], Task<int>>? Resolve(string name) =>
        Programs.TryGetValue(name, out var m) ? m : Programs.TryGetValue("vigil-" + name, out m) ? m : name == "ctl" ? Programs["vigilctl"] : null;

    /// <summary>argv[0] as exec(2) got it (a .NET host may pass the program's .dll instead in the managed args).</summary>
    private static string InvokedAs()
    {
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            return System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
        }
        catch (IOException)
        {
            return Environment.GetCommandLineArgs()[0];
        }
    }
}
