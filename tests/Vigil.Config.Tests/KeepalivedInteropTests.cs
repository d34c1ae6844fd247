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
/// keepalived 2.2.7 is the judge: every configuration Vigil calls valid passes keepalived -t;
/// every problem Vigil reports, keepalived reports too (same words); and the exit status is
/// keepalived's (whose binary says 4/5/6 where its man page and Vigil say 3/4/5).
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

    private static readonly Regex LinePrefix = new(@"^\((?:[^()]*: )?Line \d+\) ", RegexOptions.Compiled);

    [Theory]
    [MemberData(nameof(CorpusTests.Files), MemberType = typeof(CorpusTests))]
    public async Task KeepalivedAgreesWithVigil(string file)
    {
        var path = Path.Combine(TestSupport.ConfigDir, file);
        var expectations = Expectations.Read(path);
        var host = new NamespaceHost(await ns.LinksAsync());
        var vigil = ConfigLoader.Load(path, new ConfigLoadOptions { ConfigId = expectations.ConfigId ?? "none", Host = host, RandomSeed = 1 });

        string[] args = expectations.ConfigId is { } id ? ["-t", "-i", id, "-f", path] : ["-t", "-i", "none", "-f", path];
        var ka = await ns.Host.ExecAsync(TimeSpan.FromSeconds(60), [ns.Keepalived, .. args]);
        var kaMessages = (ka.Stderr + ka.Stdout)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => LinePrefix.Replace(l, ""))
            .ToHashSet(StringComparer.Ordinal);
        var context = $"\n--- keepalived (status {ka.ExitCode}):\n{string.Join("\n", kaMessages.Order(StringComparer.Ordinal))}\n--- vigil (status {vigil.ExitCode}):\n{TestSupport.Describe(vigil.Diagnostics)}";

        // Keywords from keepalived releases after 2.2.7 are the one thing 2.2.7 reports and Vigil does not.
        var unknownToKeepalived = expectations.KeepalivedUnknown.Select(k => $"Unknown keyword '{k}'").ToHashSet(StringComparer.Ordinal);
        var onlyNewKeywords = unknownToKeepalived.Count > 0 && kaMessages.Except(unknownToKeepalived).All(m => !m.StartsWith("Unknown keyword", StringComparison.Ordinal));

        foreach (var d in vigil.Diagnostics.Where(d => d.CountsForExitCode))
        {
            Assert.True(kaMessages.Contains(d.Message), $"keepalived does not report: {d}{context}");
        }

        var expectedKeepalivedStatus = vigil.ExitCode == ConfigExitCode.Ok ? 0 : vigil.ExitCode + 1;
        if (onlyNewKeywords && vigil.ExitCode == ConfigExitCode.Ok) expectedKeepalivedStatus = 5;
        Assert.True(expectedKeepalivedStatus == ka.ExitCode, $"keepalived exits {ka.ExitCode}, Vigil {vigil.ExitCode}{context}");

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
            Assert.Equal(4, code);
            Assert.Equal(5, ka.ExitCode);
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
