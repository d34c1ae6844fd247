using System.Globalization;
using System.Text.Json;
using Vigil.Config.Model;
using Vigil.Config.Output;

namespace Vigil.Config.Tests;

/// <summary>
/// Expectations written inside a configuration as "#@" comments (keepalived skips them):
/// <code>
/// #@ exit 4
/// #@ does-not-run
/// #@ config-id main
/// #@ diag 14:31 warning Unknown keyword 'x'
/// #@ expect instances[VI_1].priority = 150
/// #@ expect virtualServers[address=10.0.0.1].realServers.#count = 3
/// #@ keepalived-unknown v3_checksum_as_v2
/// #@ keepalived-needs-file /tmp/x
/// </code>
/// "expect" paths walk the JSON of the model (--dump-config): ".name" properties, "[n]" indexes,
/// "[NAME]" the element whose name is NAME, "[field=value]" the element with that field,
/// ".#count" the length of an array. Values compare with the JSON text (strings unquoted).
/// "diag" lists every problem keepalived would report (line:col severity message), in any order.
/// "does-not-run" says keepalived would stop on the configuration (no runnable model); "expect"
/// lines then read the model as far as it was read.
/// </summary>
internal sealed class Expectations
{
    public int? Exit { get; private set; }
    public bool DoesNotRun { get; private set; }
    public string? ConfigId { get; private set; }
    public List<string> Diagnostics { get; } = [];
    public List<(string Path, string Value, int Line)> Values { get; } = [];
    public List<string> KeepalivedUnknown { get; } = [];
    public List<string> KeepalivedInterfaces { get; } = [];

    public static Expectations Read(string path)
    {
        var e = new Expectations();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            if (!raw.StartsWith("#@ ", StringComparison.Ordinal)) continue;
            var line = raw[3..].Trim();
            var space = line.IndexOf(' ');
            var verb = space < 0 ? line : line[..space];
            var rest = space < 0 ? "" : line[(space + 1)..].Trim();
            switch (verb)
            {
                case "exit":
                    e.Exit = int.Parse(rest, CultureInfo.InvariantCulture);
                    break;
                case "does-not-run":
                    e.DoesNotRun = true;
                    break;
                case "config-id":
                    e.ConfigId = rest;
                    break;
                case "diag":
                    e.Diagnostics.Add(rest);
                    break;
                case "expect":
                    var eq = rest.IndexOf(" = ", StringComparison.Ordinal);
                    if (eq < 0) throw new FormatException($"{path}:{lineNo}: expect needs 'path = value'");
                    e.Values.Add((rest[..eq].Trim(), rest[(eq + 3)..].Trim(), lineNo));
                    break;
                case "keepalived-unknown":
                    e.KeepalivedUnknown.AddRange(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "keepalived-interfaces":
                    e.KeepalivedInterfaces.AddRange(rest.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    break;
                default:
                    throw new FormatException($"{path}:{lineNo}: unknown expectation '{verb}'");
            }
        }
        return e;
    }

    /// <summary>Checks the result against the expectations; returns the failures (empty if all hold).</summary>
    public List<string> Check(string file, ConfigLoadResult result)
    {
        var failures = new List<string>();
        var exit = Exit ?? 0;
        if (result.ExitCode != exit) failures.Add($"exit {result.ExitCode}, expected {exit}");

        var actual = result.Reported()
            .Select(d => $"{d.Position.Line}:{d.Position.Column} {(d.Severity == Vigil.Config.Diagnostics.DiagnosticSeverity.Error ? "error" : "warning")} {d.Message}")
            .ToList();
        foreach (var missing in Diagnostics.Except(actual)) failures.Add($"expected diagnostic not reported: {missing}");
        foreach (var extra in actual.Except(Diagnostics)) failures.Add($"unexpected diagnostic: {extra}");

        if (DoesNotRun != (result.Config is null))
        {
            failures.Add(DoesNotRun ? "the configuration runs, expected does-not-run" : "the configuration does not run (no model)");
        }
        if (Values.Count > 0)
        {
            if ((result.Config ?? result.ReadModel) is not { } model)
            {
                failures.Add("no model at all but values are expected");
                return failures;
            }
            using var doc = JsonDocument.Parse(ConfigJson.Serialize(model));
            foreach (var (path, value, line) in Values)
            {
                var got = Evaluate(doc.RootElement, path, out var error);
                if (error is not null) failures.Add($"{file}:{line}: {path}: {error}");
                else if (got != value) failures.Add($"{file}:{line}: {path} = {got}, expected {value}");
            }
        }
        return failures;
    }

    private static string? Evaluate(JsonElement root, string path, out string? error)
    {
        error = null;
        var current = root;
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
                continue;
            }
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                var selector = path[(i + 1)..close];
                i = close + 1;
                if (current.ValueKind != JsonValueKind.Array)
                {
                    error = $"[{selector}] applied to {current.ValueKind}";
                    return null;
                }
                JsonElement? found = null;
                if (int.TryParse(selector, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    if (index < current.GetArrayLength()) found = current[index];
                }
                else
                {
                    var eq = selector.IndexOf('=');
                    var (field, wanted) = eq < 0 ? ("name", selector) : (selector[..eq], selector[(eq + 1)..]);
                    foreach (var item in current.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty(field, out var v) && Text(v) == wanted)
                        {
                            found = item;
                            break;
                        }
                    }
                }
                if (found is null)
                {
                    error = $"no element [{selector}]";
                    return null;
                }
                current = found.Value;
                continue;
            }
            var end = path.IndexOfAny(['.', '['], i);
            var name = end < 0 ? path[i..] : path[i..end];
            i = end < 0 ? path.Length : end;
            if (name == "#count")
            {
                if (current.ValueKind != JsonValueKind.Array)
                {
                    error = "#count of a non-array";
                    return null;
                }
                return current.GetArrayLength().ToString(CultureInfo.InvariantCulture);
            }
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out var next))
            {
                error = $"no property '{name}'";
                return null;
            }
            current = next;
        }
        return Text(current);
    }

    private static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Null => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => e.GetRawText(),
        _ => JsonSerializer.Serialize(e),
    };
}
