using Microsoft.Extensions.Logging;
using Vigil.Hosting.Logging;

namespace Vigil.Hosting.Tests;

public sealed class DaemonOptionsTests
{
    [Fact]
    public void Parse_SharedOptions_SetAndRestLeft()
    {
        var o = DaemonOptions.Parse(["--run-dir", "/tmp/x", "-D", "-S", "3", "-f", "a.conf", "--syslog-socket=/tmp/log"]);
        Assert.Equal("/tmp/x", o.RunDir);
        Assert.Equal(LogLevel.Debug, o.LogLevel);
        Assert.Equal(19, o.SyslogFacility);
        Assert.Equal("/tmp/log", o.SyslogSocket);
        Assert.Equal(["-f", "a.conf"], o.Remaining);
    }

    [Fact]
    public void Parse_Defaults_KeepalivedLike()
    {
        var o = DaemonOptions.Parse([]);
        Assert.Equal("/run/vigil", o.RunDir);
        Assert.Null(o.SyslogFacility);
        Assert.Equal(LogLevel.Information, o.LogLevel);
    }

    [Theory]
    [InlineData("-S")]
    [InlineData("--run-dir")]
    public void Parse_MissingValue_NamesOption(string option) =>
        Assert.Contains(option, Assert.Throws<ArgumentException>(() => DaemonOptions.Parse([option])).Message);

    [Fact]
    public void Parse_BadFacility_Explains() =>
        Assert.Contains("invalid syslog facility '9'", Assert.Throws<ArgumentException>(() => DaemonOptions.Parse(["-S", "9"])).Message);

    [Theory]
    [InlineData("0", 16)]
    [InlineData("7", 23)]
    [InlineData("local3", 19)]
    [InlineData("daemon", 3)]
    [InlineData("user", 1)]
    [InlineData("8", null)]
    [InlineData("local8", null)]
    [InlineData("bogus", null)]
    public void ParseFacility_KeepalivedSpellings(string text, int? facility) => Assert.Equal(facility, SyslogSink.ParseFacility(text));

    [Fact]
    public void Socket_PerDaemon_InRunDir()
    {
        Assert.Equal("/run/vigil/vrrpd.sock", VigilPaths.Socket(VigilPaths.DefaultRunDir, VigilPaths.Vrrpd));
        Assert.Equal("/tmp/lab/controld.sock", VigilPaths.Socket("/tmp/lab", VigilPaths.Controld));
    }
}
