using Vigil.Scripts;

namespace Vigil.Scripts.Tests;

public sealed class ScriptCommandTests
{
    [Theory]
    [InlineData("/bin/true", new[] { "/bin/true" })]
    [InlineData("  /usr/bin/check   a  b ", new[] { "/usr/bin/check", "a", "b" })]
    [InlineData("[ -f /tmp/hehe ]", new[] { "[", "-f", "/tmp/hehe", "]" })]
    [InlineData("/x \"two words\" 'single quoted'", new[] { "/x", "two words", "single quoted" })]
    [InlineData("/x a\"b c\"d", new[] { "/x", "ab cd" })]
    [InlineData("/x 'it\"s'", new[] { "/x", "it\"s" })]
    [InlineData("/x \"it's\"", new[] { "/x", "it's" })]
    [InlineData("/x a\\ b", new[] { "/x", "a b" })]
    [InlineData("/x \\n\\t\\x41\\101\\cA", new[] { "/x", "\n\tAA\u0001" })]
    [InlineData("/x \"\"", new[] { "/x", "" })]
    public void Parse_KeepalivedQuoting_SplitsWords(string text, string[] words)
    {
        var command = ScriptCommand.Parse(text);

        Assert.Equal(words, command.Words);
        Assert.Equal(text, command.Text);
    }

    [Theory]
    [InlineData("/x \"unterminated", "missing terminating \"")]
    [InlineData("/x 'unterminated", "missing terminating '")]
    [InlineData("/x a\\", "backslash at the end")]
    [InlineData("   ", "empty")]
    [InlineData("", "empty")]
    [InlineData("\"\" a", "program name is empty")]
    public void Parse_Malformed_ThrowsWithReason(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => ScriptCommand.Parse(text));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Equals_SameText_Equal()
    {
        Assert.Equal(ScriptCommand.Parse("/bin/x 'a b'"), ScriptCommand.Parse("/bin/x 'a b'"));
        Assert.NotEqual(ScriptCommand.Parse("/bin/x a"), ScriptCommand.Parse("/bin/x  a"));
    }

    [Fact]
    public void ScriptUser_Parse_AcceptsKeepalivedForms()
    {
        Assert.Equal(new ScriptUser("nobody"), ScriptUser.Parse("nobody"));
        Assert.Equal(new ScriptUser("nobody", "nogroup"), ScriptUser.Parse("nobody nogroup"));
        Assert.Equal(new ScriptUser("nobody", "nogroup"), ScriptUser.Parse("nobody:nogroup"));
        Assert.Throws<FormatException>(() => ScriptUser.Parse("a b c"));
    }

    [Fact]
    public void ScriptUser_Resolve_LooksUpIds()
    {
        var root = new ScriptUser("root").Resolve();
        Assert.Equal(0u, root.Uid);
        Assert.Equal(0u, root.Gid);
        var nobody = new ScriptUser("nobody", "root").Resolve();
        Assert.NotEqual(0u, nobody.Uid);
        Assert.Equal(0u, nobody.Gid);
        Assert.Throws<ArgumentException>(() => new ScriptUser("no-such-user-vigil").Resolve());
        Assert.Throws<ArgumentException>(() => new ScriptUser("root", "no-such-group-vigil").Resolve());
    }
}
