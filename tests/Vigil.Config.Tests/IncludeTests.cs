using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>include and its variants: relative paths, globs, braces, checks, cycles, positions.</summary>
public sealed class IncludeTests
{
    private static ConfigLoadResult Load(InMemoryFileSystem fs, string path = TestSupport.MainFile) =>
        ConfigLoader.Load(path, new ConfigLoadOptions { ConfigId = null, FileSystem = fs });

    private const string Instance = "vrrp_instance {0} {{\n interface eth0\n virtual_router_id {1}\n virtual_ipaddress {{\n  10.0.0.{1}\n }}\n}}\n";

    private static string Vi(string name, int vrid) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Instance, name, vrid);

    [Fact]
    public void Load_IncludeGlob_ReadsMatchesInOrderRelativeToTheIncludingFile()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include conf.d/*.conf\n")
            .Add("/etc/keepalived/conf.d/20-b.conf", Vi("B", 2))
            .Add("/etc/keepalived/conf.d/10-a.conf", Vi("A", 1))
            .Add("/etc/keepalived/conf.d/readme.txt", "junk");
        var r = Load(fs);
        Assert.True(r.IsValid, TestSupport.Describe(r.Diagnostics));
        Assert.Equal(["A", "B"], r.Config!.Instances.Select(i => i.Name));
        Assert.Equal([TestSupport.MainFile, "/etc/keepalived/conf.d/10-a.conf", "/etc/keepalived/conf.d/20-b.conf"], r.Files);
    }

    [Fact]
    public void Load_NestedInclude_IsRelativeToItsOwnFile()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include sub/a.conf\n")
            .Add("/etc/keepalived/sub/a.conf", "include ../other/b.conf\n")
            .Add("/etc/keepalived/other/b.conf", Vi("B", 2));
        var r = Load(fs);
        Assert.True(r.IsValid, TestSupport.Describe(r.Diagnostics));
        Assert.Equal("B", Assert.Single(r.Config!.Instances).Name);
    }

    [Fact]
    public void Load_BraceAlternatives_KeepTheirOrder()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include {z,a}.conf\n")
            .Add("/etc/keepalived/a.conf", Vi("A", 1))
            .Add("/etc/keepalived/z.conf", Vi("Z", 2));
        var r = Load(fs);
        Assert.Equal(["Z", "A"], r.Config!.Instances.Select(i => i.Name));
    }

    [Fact]
    public void Load_ErrorInIncludedFile_NamesThatFileAndLine()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "global_defs {\n router_id x\n}\ninclude extra.conf\n")
            .Add("/etc/keepalived/extra.conf", "\n\n   bogus_keyword 1\n");
        var d = Assert.Single(Load(fs).Reported());
        Assert.Equal("/etc/keepalived/extra.conf:3:4: warning: Unknown keyword 'bogus_keyword'", d.ToString());
    }

    [Fact]
    public void Load_BlockSpanningIncludes_IsOneBlock()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "vrrp_instance A {\n include body.conf\n}\n")
            .Add("/etc/keepalived/body.conf", "interface eth0\nvirtual_router_id 7\nvirtual_ipaddress {\n 10.1.1.1\n}\n");
        var r = Load(fs);
        Assert.True(r.IsValid, TestSupport.Describe(r.Diagnostics));
        Assert.Equal(7, Assert.Single(r.Config!.Instances).VirtualRouterId);
    }

    [Fact]
    public void Load_PlainIncludeOfMissingFile_IsOnlyANote()
    {
        var fs = new InMemoryFileSystem().Add(TestSupport.MainFile, Vi("A", 1) + "include missing.conf\n");
        var r = Load(fs);
        Assert.Equal(0, r.ExitCode);
        var d = Assert.Single(r.Diagnostics);
        Assert.Equal(ConfigErrorClass.None, d.Class);
        Assert.Equal("Config files missing 'missing.conf'.", d.Message);
        Assert.Equal(8, d.Position.Line);
    }

    [Theory]
    [InlineData("includem missing.conf", "Config files missing 'missing.conf'.")]
    [InlineData("includew none*.conf", "No config files matched 'none*.conf'.")]
    [InlineData("includea none*.conf", "No config files matched 'none*.conf'.")]
    [InlineData("includeb {a,b}.conf", "Config files missing '{a,b}.conf'.")]
    [InlineData("includer conf.d", "Configuration file '/etc/keepalived/conf.d/' is a directory - skipping")]
    public void Load_CheckedIncludeVariants_MakeTheConfigurationUnrunnable(string line, string message)
    {
        var fs = new InMemoryFileSystem().Add(TestSupport.MainFile, Vi("A", 1) + line + "\n").AddDirectory("/etc/keepalived/conf.d");
        var r = Load(fs);
        Assert.Equal(ConfigExitCode.CannotRun, r.ExitCode);
        Assert.Null(r.Config);
        var d = Assert.Single(r.Reported());
        Assert.Equal(message, d.Message);
        Assert.Equal(ConfigErrorClass.FileNotFound, d.Class);
        Assert.Equal(new SourcePosition(TestSupport.MainFile, 8, 1), d.Position);
    }

    [Fact]
    public void Load_IncludeBraceWithOneAlternativeMissing_ReadsTheOthersUnlessBraceMatchIsRequired()
    {
        var fs = new InMemoryFileSystem().Add("/etc/keepalived/a.conf", Vi("A", 1));
        fs.Add(TestSupport.MainFile, "include {a,b}.conf\n");
        var plain = Load(fs);
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal("A", Assert.Single(plain.Config!.Instances).Name);
        Assert.Equal("Some config files missing: \"{a,b}.conf\".", Assert.Single(plain.Diagnostics).Message);

        fs.Add(TestSupport.MainFile, "includeb {a,b}.conf\n");
        Assert.Equal(ConfigExitCode.CannotRun, Load(fs).ExitCode);
    }

    [Fact]
    public void Load_IncludeCheckInGlobalDefs_AppliesToLaterPlainIncludes()
    {
        var fs = new InMemoryFileSystem().Add(TestSupport.MainFile, "global_defs {\n include_check match\n}\ninclude missing.conf\n");
        var r = Load(fs);
        Assert.Equal(ConfigExitCode.CannotRun, r.ExitCode);
        Assert.Equal("Config files missing 'missing.conf'.", Assert.Single(r.Reported()).Message);
    }

    [Fact]
    public void Load_IncludeCycle_IsReportedNotFollowed()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include a.conf\n")
            .Add("/etc/keepalived/a.conf", "include keepalived.conf\n");
        var r = Load(fs);
        Assert.Equal(ConfigExitCode.CannotRun, r.ExitCode);
        var d = Assert.Single(r.Reported());
        Assert.StartsWith("Configuration file '/etc/keepalived/keepalived.conf' includes itself", d.Message);
        Assert.Equal(new SourcePosition("/etc/keepalived/a.conf", 1, 1), d.Position);
    }

    [Fact]
    public void Load_ExecutableConfigFile_IsRefusedLikeKeepalived()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "includer x.conf\n")
            .Add("/etc/keepalived/x.conf", Vi("A", 1), executable: true);
        var r = Load(fs);
        Assert.Equal("Configuration file '/etc/keepalived/x.conf' is not a regular non-executable file - skipping", Assert.Single(r.Reported()).Message);
    }

    [Fact]
    public void Load_MissingMainFile_CannotRun()
    {
        var r = Load(new InMemoryFileSystem(), "/etc/keepalived/nothing.conf");
        Assert.Equal(ConfigExitCode.CannotRun, r.ExitCode);
        Assert.Equal("/etc/keepalived/nothing.conf: error: Configuration file '/etc/keepalived/nothing.conf' not found", Assert.Single(r.Diagnostics).ToString());
    }

    [Fact]
    public void Load_DefinitionsCarryAcrossIncludes()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include defs.conf\n" + Vi("A", 1).Replace("virtual_router_id 1", "virtual_router_id $VRID", StringComparison.Ordinal))
            .Add("/etc/keepalived/defs.conf", "$VRID=42\n");
        Assert.Equal(42, Assert.Single(Load(fs).Config!.Instances).VirtualRouterId);
    }

    [Fact]
    public void Load_PwdInIncludedFile_IsThatFilesDirectory()
    {
        var fs = new InMemoryFileSystem()
            .Add(TestSupport.MainFile, "include scripts/defs.conf\n")
            .Add("/etc/keepalived/scripts/defs.conf", "vrrp_script chk {\n script \"${_PWD}/check.sh\"\n}\n");
        var r = Load(fs);
        Assert.Contains(r.Diagnostics, d => d.Message == "Warning - script chk is not used");
        // The script is dropped as unused, but the note shows where ${_PWD} pointed: the definition's file.
        Assert.Equal("/etc/keepalived/scripts/defs.conf", Assert.Single(r.Diagnostics).Position.File);
    }
}
