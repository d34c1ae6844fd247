using System.Text.RegularExpressions;
using Vigil.Testing;
using Xunit.Abstractions;

namespace Vigil.Hosting.Tests;

/// <summary>
/// `make install DESTDIR=... PREFIX=/usr` of the built programs ($VIGIL_OUT), then the installed
/// units as systemd reads them: `systemd-analyze verify` under the staged root (so the ExecStart
/// programs it checks are the installed ones) with no warning about a unit, and the sandbox of
/// each unit. systemd is not PID 1 here, so the units are verified, never started.
/// </summary>
[Trait("Category", "Daemon")]
public sealed partial class SystemdUnitsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vigil-install-").FullName;

    private static readonly string[] DaemonNames = ["vigil-controld", "vigil-vrrpd", "vigil-checkd", "vigil-ipvsd"];

    public static readonly TheoryData<string> Daemons = new(DaemonNames);

    /// <summary>Every unit has these, whatever its daemon needs.</summary>
    private static readonly string[] Common =
    [
        "ProtectSystem=strict", "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes", "RestrictNamespaces=yes", "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes", "LockPersonality=yes", "MemoryDenyWriteExecute=yes", "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM", "RuntimeDirectory=vigil", "Type=notify", "WatchdogSec=10",
    ];

    /// <summary>What differs: capabilities, address families, and the settings a daemon cannot have (see the comments in the units).</summary>
    private static readonly Dictionary<string, string[]> PerDaemon = new()
    {
        ["vigil-controld"] = ["CapabilityBoundingSet=", "NoNewPrivileges=yes", "ProtectHome=yes", "ProtectKernelTunables=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "--supervise systemd"],
        ["vigil-vrrpd"] = ["CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SETUID CAP_SETGID CAP_KILL", "NoNewPrivileges=no",
            "ProtectHome=read-only", "ProtectKernelTunables=no", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET"],
        ["vigil-checkd"] = ["CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SETUID CAP_SETGID CAP_KILL", "NoNewPrivileges=no",
            "ProtectHome=read-only", "ProtectKernelTunables=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
        ["vigil-ipvsd"] = ["CapabilityBoundingSet=CAP_NET_ADMIN", "NoNewPrivileges=yes", "ProtectHome=yes", "ProtectKernelTunables=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK", "ExecStartPre=-+/sbin/modprobe -q ip_vs"],
    };

    private string UnitDir => Path.Combine(_root, "usr/lib/systemd/system");

    private async Task InstallAsync()
    {
        var vigil = RepoPaths.Program("vigil");
        var r = await Shell.RunAsync("make", ["-C", RepoPaths.Root, "--no-print-directory", "install", $"DESTDIR={_root}", "PREFIX=/usr", $"OUT={Path.GetDirectoryName(vigil)}"], TimeSpan.FromMinutes(2));
        output.WriteLine(r.Stdout + r.Stderr);
        r.EnsureOk();
    }

    [Fact]
    public async Task Install_PrefixUsr_ProgramsLinksUnitsTmpfilesAndConfig()
    {
        await InstallAsync();
        Assert.True(File.Exists(Path.Combine(_root, "usr/lib/vigil/vigil")));
        foreach (var link in new[] { "vigil-controld", "vigil-vrrpd", "vigil-checkd", "vigil-ipvsd", "vigilctl" })
            Assert.Equal("vigil", new FileInfo(Path.Combine(_root, "usr/lib/vigil", link)).LinkTarget);
        Assert.Equal("../lib/vigil/vigil", new FileInfo(Path.Combine(_root, "usr/bin/vigilctl")).LinkTarget);
        Assert.Equal("../lib/vigil/vigil", new FileInfo(Path.Combine(_root, "usr/sbin/vigil-controld")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(_root, "usr/lib/tmpfiles.d/vigil.conf")));
        Assert.True(File.Exists(Path.Combine(_root, "usr/share/doc/vigil/examples/keepalived.conf")));
        Assert.True(File.Exists(Path.Combine(_root, "etc/keepalived/keepalived.conf")));
        Assert.Contains("complete -o default -F _vigilctl vigilctl", await File.ReadAllTextAsync(Path.Combine(_root, "usr/share/bash-completion/completions/vigilctl")));
        foreach (var unit in Directory.GetFiles(UnitDir))
        {
            var text = await File.ReadAllTextAsync(unit);
            Assert.DoesNotMatch(Placeholder(), text);
        }
        Assert.Contains("ExecStart=/usr/lib/vigil/vigil-vrrpd --run-dir /run/vigil", await File.ReadAllTextAsync(Path.Combine(UnitDir, "vigil-vrrpd.service")));
        Assert.Contains("-f /etc/keepalived/keepalived.conf", await File.ReadAllTextAsync(Path.Combine(UnitDir, "vigil-controld.service")));

        // The installed program runs from the staged tree (and finds what it is from its name).
        var v = await Shell.RunAsync(Path.Combine(_root, "usr/bin/vigilctl"), "--version");
        Assert.True(v.Ok, v.Stdout + v.Stderr);

        // A second install keeps an edited configuration; uninstall removes everything else.
        await File.WriteAllTextAsync(Path.Combine(_root, "etc/keepalived/keepalived.conf"), "! mine\n");
        await InstallAsync();
        Assert.Equal("! mine\n", await File.ReadAllTextAsync(Path.Combine(_root, "etc/keepalived/keepalived.conf")));
        (await Shell.RunAsync("make", ["-C", RepoPaths.Root, "--no-print-directory", "uninstall", $"DESTDIR={_root}", "PREFIX=/usr"])).EnsureOk();
        Assert.False(Directory.Exists(Path.Combine(_root, "usr/lib/vigil")));
        Assert.Empty(Directory.GetFiles(UnitDir));
        Assert.False(File.Exists(Path.Combine(_root, "usr/share/bash-completion/completions/vigilctl")));
        Assert.True(File.Exists(Path.Combine(_root, "etc/keepalived/keepalived.conf")));
    }

    [Fact]
    public async Task Install_DefaultPrefix_UnitsRunProgramsFromUsrLocal()
    {
        var r = await Shell.RunAsync("make", ["-C", RepoPaths.Root, "--no-print-directory", "install", $"DESTDIR={_root}", $"OUT={Path.GetDirectoryName(RepoPaths.Program("vigil"))}"], TimeSpan.FromMinutes(2));
        r.EnsureOk();
        var unit = await File.ReadAllTextAsync(Path.Combine(_root, "usr/local/lib/systemd/system/vigil-ipvsd.service"));
        Assert.Contains("ExecStart=/usr/local/lib/vigil/vigil-ipvsd ", unit);
        Assert.True(File.Exists(Path.Combine(_root, "usr/local/lib/vigil/vigil")));
    }

    [Fact]
    public async Task Verify_InstalledUnits_NoWarningAboutAnyUnit()
    {
        Shell.Require("systemd-analyze");
        await InstallAsync();
        StageHostSystem();
        var units = new[] { "vigil.target" }.Concat(DaemonNames.Select(d => d + ".service")).Select(u => Path.Combine(UnitDir, u)).ToList();
        var r = await Shell.RunAsync("systemd-analyze", ["verify", $"--root={_root}", "--man=no", .. units], TimeSpan.FromMinutes(1));
        output.WriteLine($"exit {r.ExitCode}\n{r.Stdout}{r.Stderr}");
        Assert.True(r.Ok, $"systemd-analyze verify failed:\n{r.Stdout}{r.Stderr}");
        // verify also reports on units it pulls in (network-online.target and the like, on this
        // machine's own systemd); none of its lines may name one of Vigil's.
        var aboutVigil = (r.Stdout + r.Stderr).Split('\n').Where(l => l.Contains("vigil", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(aboutVigil.Count == 0, "systemd-analyze verify says:\n" + string.Join('\n', aboutVigil));
    }

    /// <summary>
    /// Under --root, systemd-analyze looks for everything below the root: the units Vigil's depend
    /// on (sysinit.target, network-online.target, ...) and the programs they run besides Vigil's
    /// (/bin/kill, /sbin/modprobe). Those come from this machine, copied into the staged root
    /// beside what `make install` put there (/lib/systemd/system, not the /usr/lib/systemd/system
    /// that holds Vigil's units).
    /// </summary>
    private void StageHostSystem()
    {
        var units = Path.Combine(_root, "lib/systemd/system");
        Directory.CreateDirectory(units);
        foreach (var f in Directory.EnumerateFileSystemEntries("/lib/systemd/system"))
        {
            var target = Path.Combine(units, Path.GetFileName(f));
            if (Directory.Exists(f) && !File.Exists(f)) continue; // *.wants/ and *.d/: verify needs none
            if (new FileInfo(f).LinkTarget is { } link) File.CreateSymbolicLink(target, link);
            else File.Copy(f, target);
        }
        foreach (var program in new[] { "/bin/kill", "/sbin/modprobe" })
        {
            var target = Path.Combine(_root, program.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(program, target);
        }
    }

    [Theory]
    [MemberData(nameof(Daemons))]
    public async Task Units_Sandbox_EachDaemonHardenedForWhatItNeeds(string daemon)
    {
        await InstallAsync();
        var lines = (await File.ReadAllLinesAsync(Path.Combine(UnitDir, daemon + ".service"))).Where(l => !l.StartsWith('#')).ToList();
        foreach (var directive in Common.Concat(PerDaemon[daemon]))
        {
            // A directive is a whole line; an option ("--supervise systemd") is part of ExecStart.
            var present = directive.StartsWith("--", StringComparison.Ordinal)
                ? lines.Any(l => l.StartsWith("ExecStart=", StringComparison.Ordinal) && l.Contains(directive, StringComparison.Ordinal))
                : lines.Contains(directive);
            Assert.True(present, $"{daemon}.service lacks '{directive}'");
        }
        // Root services: the capability bounding set is what limits them, ambient capabilities add nothing.
        Assert.DoesNotContain(lines, l => l.StartsWith("AmbientCapabilities=", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => CapSysAdmin().IsMatch(l));
    }

    /// <summary>
    /// `systemd-analyze security` of each installed unit, recorded in the test output. It needs a
    /// running systemd (it asks PID 1 over D-Bus, or reads the unit with --offline=yes): the
    /// offline form is used and its exposure score only reported, not asserted.
    /// </summary>
    [Theory]
    [MemberData(nameof(Daemons))]
    public async Task Security_OfflineExposure_Recorded(string daemon)
    {
        Shell.Require("systemd-analyze");
        await InstallAsync();
        var r = await Shell.RunAsync("systemd-analyze", ["security", "--offline=yes", $"--root={_root}", "--no-pager", Path.Combine(UnitDir, daemon + ".service")], TimeSpan.FromMinutes(1));
        var score = r.Stdout.Split('\n').LastOrDefault(l => l.Contains("Overall exposure level", StringComparison.Ordinal));
        output.WriteLine($"{daemon}: exit {r.ExitCode}: {score ?? "(no score)"}\n{r.Stderr}");
        Assert.NotNull(score);
    }

    [GeneratedRegex(@"@[a-z]+@")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^CapabilityBoundingSet=.*CAP_SYS_ADMIN")]
    private static partial Regex CapSysAdmin();

    public void Dispose() => Directory.Delete(_root, true);
}
