using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Config.Diagnostics;
using Vigil.Testing;

namespace Vigil.Config.Tests;

/// <summary>
/// A network namespace with the interfaces the configurations name (veth pairs eth0, eth1,
/// eth2, eth3, eth6), in which keepalived 2.2.7 -t judges every configuration of tests/Config.
/// </summary>
public sealed class KeepalivedNamespace : IAsyncLifetime
{
    public static readonly string[] Interfaces = ["eth0", "eth1", "eth2", "eth3", "eth6"];

    private Lab? _lab;

    public LabHost Host { get; private set; } = null!;

    public string Keepalived { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Keepalived = Shell.Require("keepalived");
        _lab = await Lab.CreateAsync();
        Host = await _lab.AddHostAsync("ka");
        var ip = Shell.Require("ip");
        foreach (var name in Interfaces)
        {
            await Shell.CheckAsync(ip, "-n", Host.Namespace, "link", "add", name, "type", "veth", "peer", "name", "p" + name);
            await Shell.CheckAsync(ip, "-n", Host.Namespace, "link", "set", name, "up");
            await Shell.CheckAsync(ip, "-n", Host.Namespace, "link", "set", "p" + name, "up");
        }
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null) await _lab.DisposeAsync();
    }

    /// <summary>The interfaces of the namespace (name -> loopback?).</summary>
    public async Task<Dictionary<string, bool>> LinksAsync()
    {
        var r = await Shell.CheckAsync(Shell.Require("ip"), "-n", Host.Namespace, "-j", "link", "show");
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.EnumerateArray().ToDictionary(
            l => l.GetProperty("ifname").GetString()!,
            l => l.GetProperty("link_type").GetString() == "loopback");
    }
}

/// <summary>
/// keepalived 2.2.7 is the judge of <c>vigil-controld -t</c> on every configuration of tests/Config:
/// the exit status is keepalived's; every line keepalived flags (with its line number), Vigil
/// flags at that line with the same words; and the severity agrees: keepalived prints no label,
/// so its own "WARNING" in the text is the label, everything else it reports is an error - bar
/// the commented exceptions in <see cref="VigilWarnsOnPurpose"/>.
/// </summary>
[Trait("Category", "Interop")]
public sealed class KeepalivedInteropTests(KeepalivedNamespace ns) : IClassFixture<KeepalivedNamespace>
{
    /// <summary>This machine's scripts, users and IPVS, the namespace's interfaces.</summary>
    private sealed class NamespaceHost(Dictionary<string, bool> links) : IHostEnvironment
    {
        public bool? InterfaceIsLoopback(string name) => links.TryGetValue(name, out var lo) ? lo : null;

        public ScriptProbe ProbeScript(string command) => SystemHostEnvironment.Instance.ProbeScript(command);

        public bool UserExists(string name) => SystemHostEnvironment.Instance.UserExists(name);

        public bool GroupExists(string name) => SystemHostEnvironment.Instance.GroupExists(name);

        public bool? HasIpvs() => SystemHostEnvironment.Instance.HasIpvs();
    }

    /// <summary>keepalived -t's lines: "(FILE: Line N) message", "(Line N) message" or just "message".</summary>
    private static readonly Regex KeepalivedLine = new(@"^(?:\((?:(?<file>[^()]*): )?Line (?<line>\d+)\) )?(?<msg>.*)$", RegexOptions.Compiled);

    /// <summary>vigil-controld -t's lines: "FILE:LINE:COL: error|warning: message" (FILE: ... without a line).</summary>
    private static readonly Regex VigilLine = new(@"^(?<file>[^:]+):(?:(?<line>\d+):\d+: )?\s*(?<sev>error|warning): (?<msg>.*)$", RegexOptions.Compiled);

    /// <summary>
    /// Lines keepalived counts as errors (its status says so; the text has no "WARNING") that
    /// Vigil labels "warning" on purpose. The exit status still agrees: only the label differs.
    /// </summary>
    private static readonly (Regex Message, string Why)[] VigilWarnsOnPurpose =
    [
        // keepalived skips the line and runs (CONFIG_UNKNOWN_KEYWORD); a typo should stand out
        // from real errors, as compilers label an ignored unknown option.
        (new Regex("^Unknown keyword '"), "keepalived ignores the line and runs"),
        // CONFIG_DEPRECATED: the keyword still works; keepalived says so without WARNING.
        (new Regex(" is deprecated"), "the keyword still works"),
    ];

    /// <summary>keepalived's own label in the text: "WARNING - ...", "(VI_1) WARNING - ...", "Warning - script ... is not used".</summary>
    private static readonly Regex KeepalivedWarning = new(@"\bWARNING\b|\bWarning - ", RegexOptions.Compiled);

    private static string SeverityOf(string keepalivedMessage) => KeepalivedWarning.IsMatch(keepalivedMessage) ? "warning" : "error";

    [Theory]
    [MemberData(nameof(CorpusTests.Files), MemberType = typeof(CorpusTests))]
    public async Task KeepalivedAgreesWithVigil(string file)
    {
        var path = Path.Combine(TestSupport.ConfigDir, file);
        var expectations = Expectations.Read(path);
        var host = new NamespaceHost(await ns.LinksAsync());
        string[] args = ["-t", "-i", expectations.ConfigId ?? "none", "-f", path];
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var vigilStatus = ConfigCheck.Run(args, stdout, stderr, new ConfigLoadOptions { Host = host, RandomSeed = 1 });
        var vigil = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => VigilLine.Match(l))
            .Where(m => m.Success)
            .Select(m => (Line: m.Groups["line"].Success ? int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture) : (int?)null, Severity: m.Groups["sev"].Value, Message: m.Groups["msg"].Value))
            .ToList();
        // Vigil's own notes ("not supported yet by Vigil") are not keepalived's to judge.
        var notes = ConfigLoader.Load(path, new ConfigLoadOptions { ConfigId = expectations.ConfigId ?? "none", Host = host, RandomSeed = 1 })
            .Diagnostics.Where(d => !d.CountsForExitCode).Select(d => d.Message).ToHashSet(StringComparer.Ordinal);
        var judged = vigil.Where(v => !notes.Contains(v.Message)).ToList();

        var ka = await ns.Host.ExecAsync(TimeSpan.FromSeconds(60), [ns.Keepalived, .. args]);
        var kaLines = (ka.Stderr + ka.Stdout)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => KeepalivedLine.Match(l))
            .Select(m => (Line: m.Groups["line"].Success ? int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture) : (int?)null, Message: m.Groups["msg"].Value))
            .Distinct()
            .ToList();
        var context = $"\n--- keepalived (status {ka.ExitCode}):\n{string.Join("\n", kaLines.Select(k => $"{k.Line}: {k.Message}"))}\n--- vigil-controld -t (status {vigilStatus}):\n{stderr}";

        // Keywords from keepalived releases after 2.2.7 are the one thing 2.2.7 reports and Vigil does not.
        var unknownToKeepalived = expectations.KeepalivedUnknown.Select(k => $"Unknown keyword '{k}'").ToHashSet(StringComparer.Ordinal);
        var kaJudged = kaLines.Where(k => !unknownToKeepalived.Contains(k.Message)).ToList();

        // Both ways, line by line: what keepalived flags, Vigil flags at the same line, and back.
        foreach (var k in kaJudged)
        {
            var same = judged.Where(v => v.Message == k.Message).ToList();
            Assert.True(same.Count > 0, $"Vigil does not report keepalived's line {k.Line}: {k.Message}{context}");
            if (k.Line is { } line) Assert.True(same.Any(v => v.Line == line), $"Vigil reports '{k.Message}' at line {string.Join(",", same.Select(v => v.Line))}, keepalived at {line}{context}");
            var expected = SeverityOf(k.Message);
            foreach (var v in same)
            {
                var onPurpose = expected == "error" && v.Severity == "warning" && VigilWarnsOnPurpose.Any(e => e.Message.IsMatch(k.Message));
                Assert.True(v.Severity == expected || onPurpose, $"Vigil labels '{k.Message}' {v.Severity}, keepalived's is {expected}{context}");
            }
        }
        foreach (var v in judged)
        {
            Assert.True(kaJudged.Any(k => k.Message == v.Message), $"keepalived does not report: {v.Line}: {v.Severity}: {v.Message}{context}");
        }

        var expectedStatus = ka.ExitCode;
        // keepalived 2.2.7 also reports the later keywords as unknown (status 5) where Vigil knows them.
        if (unknownToKeepalived.Count > 0 && ka.ExitCode == ConfigExitCode.ErrorsButWouldRun && kaJudged.Count == 0) expectedStatus = ConfigExitCode.Ok;
        Assert.True(expectedStatus == vigilStatus, $"keepalived exits {ka.ExitCode}, vigil-controld -t {vigilStatus}{context}");

        if (file.StartsWith("corpus", StringComparison.Ordinal) && (expectations.Exit ?? 0) == 0 && unknownToKeepalived.Count == 0)
        {
            // The team's configurations that Vigil calls valid are valid to keepalived.
            Assert.True(ka.ExitCode == 0, $"keepalived rejects a configuration Vigil accepts{context}");
        }
    }

    [Fact]
    public async Task ConfigCheckRun_MatchesKeepalivedOnABrokenFile()
    {
        var dir = Directory.CreateTempSubdirectory("vigil-config-interop-");
        try
        {
            var path = Path.Combine(dir.FullName, "keepalived.conf");
            await File.WriteAllTextAsync(path, """
                global_defs {
                    router_idd x
                }
                vrrp_instance VI_1 {
                    interface eth0
                    virtual_router_id 1
                    priority 0
                    virtual_ipaddress {
                        192.0.2.1
                    }
                }
                """);
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var host = new NamespaceHost(await ns.LinksAsync());
            var code = ConfigCheck.Run(["-t", "-f", path], stdout, stderr, new ConfigLoadOptions { Host = host });
            var ka = await ns.Host.ExecAsync(TimeSpan.FromSeconds(60), ns.Keepalived, "-t", "-f", path);
            Assert.Equal(5, code);
            Assert.Equal(ka.ExitCode, code);
            Assert.Equal(
                [
                    $"{path}:2:5: warning: Unknown keyword 'router_idd'",
                    $"{path}:7:14: error: number '0' outside range [1, 255]",
                    $"{path}:7:14: error: (VI_1) Priority not valid! must be between 1 & 255. Using default 100",
                ],
                stderr.ToString().TrimEnd('\n').Split('\n'));
            foreach (var line in stderr.ToString().TrimEnd('\n').Split('\n'))
            {
                var message = line[(line.IndexOf(": ", line.IndexOf(": ", StringComparison.Ordinal) + 2, StringComparison.Ordinal) + 2)..];
                Assert.Contains(message, ka.Stderr, StringComparison.Ordinal);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
