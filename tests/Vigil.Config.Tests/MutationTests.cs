using System.Text;
using Vigil.Config.Model;
using Vigil.Config.Output;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>
/// Randomly damaged corpus files (deleted, duplicated and moved tokens, braces, lines, random
/// bytes, half-written definitions) only ever produce configuration diagnostics: no exception
/// from reading, checking, printing, diffing or serialising, and a model that can run always
/// prints back to text that reads to the same model.
/// </summary>
public sealed class MutationTests
{
    private const string Root = "/etc/keepalived/";

    /// <summary>Every configuration of tests/Config (with the include files), as in-memory files.</summary>
    private static (InMemoryFileSystem Fs, List<(string Path, byte[] Bytes)> Files) Corpus()
    {
        var fs = new InMemoryFileSystem(Root);
        var files = new List<(string, byte[])>();
        foreach (var f in Directory.GetFiles(TestSupport.ConfigDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var path = Root + Path.GetRelativePath(TestSupport.ConfigDir, f).Replace('\\', '/');
            var bytes = File.ReadAllBytes(f);
            fs.Add(path, bytes);
            if (f.EndsWith(".conf", StringComparison.Ordinal)) files.Add((path, bytes));
        }
        return (fs, files);
    }

    private static readonly string[] Snippets =
    [
        "{", "}", "{ }", "\"", "'", "\\", "\\\n", "$", "$X=", "$X=1\n$X", "${", "${X", "${_RANDOM 9", "$Y= \\\n", "~SEQ(", "~SEQ(i,1,", "~SEQ(i, 1, 3) x${i}",
        "~SEQx(h, 0xff, -1, 0xf0) ", "~LST({a,b},{1,2},{3}", "~LST(", "@", "@^", "@lb1 ", "!", "#", "\t", "\u00a0", "\0", "\r", "\n", "\n}\n", "\n{\n",
        "include ", "includem /nonexistent/*.conf\n", "include *.conf\n", "includeb {a,b}.conf\n", " 999999999999999999999 ", " -1 ", " 0 ", " 0.0000001 ",
        " 1e309 ", " nan ", " 256 ", " 65536 ", " :: ", " 1.2.3.4/33 ", " fe80::/129 ", " 10.0.0.1-300 ", " [ ", " ] ", " / ", " dev ", " via ",
        "vrrp_instance ", "virtual_server ", "real_server ", "HTTP_GET {", "url {", "global_defs {", "vrrp_script s {", "track_script {", "group {",
        "virtual_ipaddress {", "static_routes {", "SSL {", "virtual_server_group g {", "fwmark ", "weight ", "priority ", "state ", "interface ",
    ];

    private static byte[] Mutate(byte[] input, Random rng, StringBuilder log)
    {
        var bytes = new List<byte>(input);
        var count = rng.Next(1, 4);
        for (var m = 0; m < count; m++)
        {
            var op = rng.Next(10);
            var pos = bytes.Count == 0 ? 0 : rng.Next(bytes.Count + 1);
            switch (op)
            {
                case 0:
                case 1:
                {
                    // delete or duplicate a whitespace-delimited token
                    var (start, end) = TokenAround(bytes, pos);
                    if (end <= start) break;
                    var token = bytes.GetRange(start, end - start);
                    if (op == 0)
                    {
                        bytes.RemoveRange(start, end - start);
                        log.Append($" delete-token@{start}");
                    }
                    else
                    {
                        bytes.InsertRange(end, [(byte)' ', .. token]);
                        log.Append($" duplicate-token@{start}");
                    }
                    break;
                }
                case 2:
                {
                    // delete a brace
                    var braces = Enumerable.Range(0, bytes.Count).Where(i => bytes[i] is (byte)'{' or (byte)'}').ToList();
                    if (braces.Count == 0) break;
                    var at = braces[rng.Next(braces.Count)];
                    bytes.RemoveAt(at);
                    log.Append($" delete-brace@{at}");
                    break;
                }
                case 3:
                {
                    bytes.Insert(pos, rng.Next(2) == 0 ? (byte)'{' : (byte)'}');
                    log.Append($" insert-brace@{pos}");
                    break;
                }
                case 4:
                {
                    var n = rng.Next(1, 5);
                    for (var i = 0; i < n; i++) bytes.Insert(pos, (byte)rng.Next(256));
                    log.Append($" random-bytes@{pos}");
                    break;
                }
                case 5:
                {
                    if (bytes.Count == 0) break;
                    var at = rng.Next(bytes.Count);
                    bytes[at] = (byte)rng.Next(256);
                    log.Append($" replace-byte@{at}");
                    break;
                }
                case 6:
                {
                    // delete, duplicate or move a line
                    var lines = Encoding.UTF8.GetString([.. bytes]).Split('\n').ToList();
                    var i = rng.Next(lines.Count);
                    var kind = rng.Next(3);
                    if (kind == 0) lines.RemoveAt(i);
                    else if (kind == 1) lines.Insert(i, lines[i]);
                    else
                    {
                        var line = lines[i];
                        lines.RemoveAt(i);
                        lines.Insert(rng.Next(lines.Count + 1), line);
                    }
                    bytes = [.. Encoding.UTF8.GetBytes(string.Join('\n', lines))];
                    log.Append($" line-{(kind == 0 ? "delete" : kind == 1 ? "duplicate" : "move")}@{i}");
                    break;
                }
                case 7:
                case 8:
                {
                    var snippet = Snippets[rng.Next(Snippets.Length)];
                    bytes.InsertRange(pos, Encoding.UTF8.GetBytes(snippet));
                    log.Append($" insert[{snippet.Replace("\n", "\\n", StringComparison.Ordinal)}]@{pos}");
                    break;
                }
                default:
                {
                    bytes.RemoveRange(pos, bytes.Count - pos);
                    log.Append($" truncate@{pos}");
                    break;
                }
            }
        }
        return [.. bytes];
    }

    private static (int Start, int End) TokenAround(List<byte> bytes, int pos)
    {
        static bool Blank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
        pos = Math.Min(pos, bytes.Count - 1);
        while (pos >= 0 && pos < bytes.Count && Blank(bytes[pos])) pos++;
        if (pos < 0 || pos >= bytes.Count) return (0, 0);
        var start = pos;
        while (start > 0 && !Blank(bytes[start - 1])) start--;
        var end = pos;
        while (end < bytes.Count && !Blank(bytes[end])) end++;
        return (start, end);
    }

    /// <summary>Everything a caller does with a result; must not throw.</summary>
    private static void Exercise(ConfigLoadResult result, KeepalivedConfig? original)
    {
        foreach (var d in result.Diagnostics) _ = d.ToString();
        if (result.ReadModel is { } read) _ = ConfigJson.Serialize(read);
        if (result.Config is not { } config) return;
        if (original is not null) _ = ConfigDiff.Compute(original, config);
        var text = ConfigWriter.Write(config);
        var again = ConfigLoader.Parse(text, new ConfigLoadOptions { ConfigId = "lb1", FileSystem = new InMemoryFileSystem() });
        if (again.Config != config)
        {
            throw new InvalidOperationException("the printed model reads back differently:\n"
                + (again.Config is null ? "(it does not run)" : TestSupport.JsonDifference(config, again.Config))
                + "\n--- diagnostics:\n" + TestSupport.Describe(again.Diagnostics) + "\n--- text:\n" + text);
        }
    }

    [Fact]
    public void MutatedCorpusFiles_OnlyEverGiveConfigurationDiagnostics()
    {
        var (fs, files) = Corpus();
        var originals = files.ToDictionary(f => f.Path, f => ConfigLoader.Load(f.Path, Options(fs)).Config);
        var failures = new List<string>();
        // VIGIL_CONFIG_MUTATIONS=N runs more (or fewer) iterations.
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("VIGIL_CONFIG_MUTATIONS"), out var n) ? n : 6000;
        for (var seed = 0; seed < iterations && failures.Count < 5; seed++)
        {
            var rng = new Random(seed);
            var (path, bytes) = files[rng.Next(files.Count)];
            var log = new StringBuilder();
            var mutated = Mutate(bytes, rng, log);
            fs.Add(path, mutated);
            try
            {
                Exercise(ConfigLoader.Load(path, Options(fs)), originals[path]);
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed}, {path},{log}: {e}");
            }
            finally
            {
                fs.Add(path, bytes);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void RandomBytes_OnlyEverGiveConfigurationDiagnostics()
    {
        var failures = new List<string>();
        for (var seed = 0; seed < 500; seed++)
        {
            var rng = new Random(seed);
            var bytes = new byte[rng.Next(0, 2000)];
            rng.NextBytes(bytes);
            // Sprinkle configuration syntax over the noise so the parser gets past the first word.
            for (var i = 0; i < bytes.Length; i += rng.Next(1, 40))
            {
                const string Syntax = "{}\n \"$@~!#\\";
                bytes[i] = (byte)Syntax[rng.Next(Syntax.Length)];
            }
            var fs = new InMemoryFileSystem(Root).Add(Root + "keepalived.conf", bytes);
            try
            {
                Exercise(ConfigLoader.Load(Root + "keepalived.conf", Options(fs)), null);
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed}: {e}");
                if (failures.Count >= 5) break;
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static ConfigLoadOptions Options(IConfigFileSystem fs) => new() { ConfigId = "lb1", FileSystem = fs, RandomSeed = 1 };
}
