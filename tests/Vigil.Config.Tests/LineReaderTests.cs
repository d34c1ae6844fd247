using Vigil.Config.Diagnostics;
using Vigil.Config.Text;

namespace Vigil.Config.Tests;

/// <summary>The preprocessing keepalived's read_line() does: comments, quotes, braces, @id, definitions, ~SEQ/~LST.</summary>
public sealed class LineReaderTests
{
    private static List<(string Text, SourcePosition Pos)> Lines(string text, string? configId = null, IConfigFileSystem? fs = null, DiagnosticBag? bag = null)
    {
        bag ??= new DiagnosticBag();
        var reader = new LineReader(fs ?? new InMemoryFileSystem(), bag, configId, 1);
        reader.OpenText(TestSupport.MainFile, text);
        var lines = new List<(string, SourcePosition)>();
        while (reader.ReadLine() is { } line) lines.Add((line.Text, line.PositionAt(0)));
        return lines;
    }

    private static List<string> Texts(string text, string? configId = null, IConfigFileSystem? fs = null) =>
        Lines(text, configId, fs).Select(l => l.Text).ToList();

    [Fact]
    public void ReadLine_HashAndBangComments_AreRemovedAnywhere()
    {
        Assert.Equal(["router_id a", "priority 5"], Texts("# c1\n! c2\nrouter_id a # c3\n  priority 5 ! c4\n"));
    }

    [Fact]
    public void ReadLine_CommentCharactersInQuotes_AreKept()
    {
        Assert.Equal(["script \"a # b ! c\""], Texts("script \"a # b ! c\" # real comment"));
    }

    [Fact]
    public void ReadLine_EscapedHash_IsTextNotComment()
    {
        Assert.Equal(["auth_pass ab#cd"], Texts("auth_pass ab\\#cd"));
    }

    [Fact]
    public void ReadLine_BracesOnOneLine_AreSplitOntoLinesOfTheirOwn()
    {
        Assert.Equal(["vrrp_instance VI_1", "{", "state MASTER", "}"], Texts("vrrp_instance VI_1 { state MASTER }"));
    }

    [Fact]
    public void ReadLine_BraceInQuotes_IsNotABlock()
    {
        Assert.Equal(["script \"echo {}\""], Texts("script \"echo {}\""));
    }

    [Fact]
    public void ReadLine_SplitLines_KeepTheirSourceColumns()
    {
        var lines = Lines("  vrrp_instance VI_1 {  state MASTER }");
        Assert.Equal(3, lines[0].Pos.Column);
        Assert.Equal(22, lines[1].Pos.Column);
        Assert.Equal(25, lines[2].Pos.Column);
        Assert.Equal(38, lines[3].Pos.Column);
        Assert.All(lines, l => Assert.Equal(1, l.Pos.Line));
    }

    [Fact]
    public void ReadLine_ConditionalLines_SelectedByConfigId()
    {
        const string text = "@main router_id m\n@backup router_id b\n@^main peer x\n@^backup peer y\n";
        Assert.Equal(["router_id m", "peer y"], Texts(text, "main"));
        Assert.Equal(["router_id b", "peer x"], Texts(text, "backup"));
        Assert.Equal(["peer x", "peer y"], Texts(text, null));
    }

    [Fact]
    public void ReadLine_Definition_IsSubstitutedPlainAndBraced()
    {
        Assert.Equal(["priority 150", "vip 10.0.7.1"], Texts("$PRIO=150\n$NET=7\npriority $PRIO\nvip 10.0.${NET}.1\n"));
    }

    [Fact]
    public void ReadLine_DefinitionWithoutFollowingBlank_IsNotSubstituted()
    {
        // "$NAME" must be followed by blank, ',', ')' or the end of the line; "${NAME}" need not be.
        Assert.Equal(["a $Xb"], Texts("$X=1\na $Xb\n"));
    }

    [Fact]
    public void ReadLine_UndefinedParameter_IsLeftAlone()
    {
        Assert.Equal(["script \"echo $HOME ${UNDEF}\""], Texts("script \"echo $HOME ${UNDEF}\""));
    }

    [Fact]
    public void ReadLine_DefinitionsAreExpandedAtUseTime_Recursively()
    {
        // The man page example: the value is substituted when used, so later changes show.
        const string text = "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n";
        Assert.Equal(["10.2.0.100/32", "10.2.10.100/32"], Texts(text));
    }

    [Fact]
    public void ReadLine_ConditionalDefinition_FollowsConfigId()
    {
        const string text = "@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n";
        Assert.Equal(["priority 240"], Texts(text, "main"));
        Assert.Equal(["priority 200"], Texts(text, "backup"));
    }

    [Fact]
    public void ReadLine_DefinitionExpandingToConditional_IsRechecked()
    {
        Assert.Equal(["priority 240"], Texts("$IF_MAIN=@main\n$IF_MAIN priority 240\n", "main"));
        Assert.Empty(Texts("$IF_MAIN=@main\n$IF_MAIN priority 240\n", "other"));
    }

    [Fact]
    public void ReadLine_MultilineDefinition_ExpandsToLinesMappedToTheReference()
    {
        const string text = "$BLOCK= \\\n  vrrp_instance VI_${NUM} { \\\n    priority 1${NUM} \\\n  }\n\n$NUM=0\n$BLOCK\n$NUM=1\n$BLOCK\n";
        var lines = Lines(text);
        Assert.Equal(
            ["vrrp_instance VI_0", "{", "priority 10", "}", "vrrp_instance VI_1", "{", "priority 11", "}"],
            lines.Select(l => l.Text).ToList());
        Assert.Equal(7, lines[0].Pos.Line);
        Assert.Equal(9, lines[4].Pos.Line);
    }

    [Fact]
    public void ReadLine_BuiltinDefinitions_HaveKeepalivedsMeanings()
    {
        var fs = new InMemoryFileSystem().AddDirectory("/etc/keepalived");
        var lines = Texts("a ${_PWD}\nb ${_INSTANCE}\nc \"${_HASH}${_BANG}\"\n", "node1", fs);
        Assert.Equal(["a /etc/keepalived", "b node1", "c \"#!\""], lines);
    }

    [Fact]
    public void ReadLine_UnquotedHashFromDefinition_StartsAComment()
    {
        // keepalived removes comments again after substitution, so ${_HASH} only survives in quotes.
        Assert.Equal(["x"], Texts("x ${_HASH} y\n"));
    }

    [Fact]
    public void ReadLine_RandomWithRange_StaysInRange()
    {
        var values = Texts(string.Concat(Enumerable.Repeat("n ${_RANDOM 5 7}\n", 50))).Select(l => int.Parse(l[2..])).ToList();
        Assert.All(values, v => Assert.InRange(v, 5, 7));
        Assert.Equal(3, values.Distinct().Count());
    }

    [Fact]
    public void ReadLine_Seq_RepeatsTheRestOfTheLine()
    {
        Assert.Equal(["ip 10.0.0.1", "ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"], Texts("~SEQ(SUBNET, 0, 3) ip 10.0.${SUBNET}.1\n"));
    }

    [Fact]
    public void ReadLine_SeqWithStepAndHex_FormatsHex()
    {
        Assert.Equal(
            ["ip fe80::20:90:1", "ip fe80::20:a0:1", "ip fe80::20:b0:1", "ip fe80::20:c0:1"],
            Texts("~SEQx(SUBNET, 0x90, 0x10, 0xc0) ip fe80::20:${SUBNET}:1\n"));
    }

    [Fact]
    public void ReadLine_SeqCountingDown_UsesNegativeStep()
    {
        Assert.Equal(["n 3", "n 2", "n 1"], Texts("~SEQ(I, 3, 1) n $I\n"));
        Assert.Equal(["n 1", "n 2"], Texts("~SEQ(I, 2) n $I\n"));
    }

    [Fact]
    public void ReadLine_NestedSeqs_IterateInnermostFastest()
    {
        Assert.Equal(["v 1.5", "v 1.6", "v 2.5", "v 2.6"], Texts("~SEQ(A, 1, 2) ~SEQ(B, 5, 6) v ${A}.${B}\n"));
    }

    [Fact]
    public void ReadLine_Lst_SubstitutesEachValueSet()
    {
        Assert.Equal(
            ["192.168.10.1", "192.168.20.4", "192.168.5.6", "192.168.12.8"],
            Texts("~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}\n"));
    }

    [Fact]
    public void ReadLine_LstWithSeq_CombinesAsTheManPageShows()
    {
        var lines = Texts("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}\n");
        Assert.Equal(["192.168.10.1", "192.170.10.1", "192.172.10.1", "192.168.20.4", "192.170.20.4", "192.172.20.4"], lines);
    }

    [Fact]
    public void ReadLine_SeqOverMultilineDefinition_ExpandsEachTime()
    {
        const string text = "$VI= \\\ninst ${ID} \\\nend ${ID}\n\n~SEQ(ID,1,2) $VI\n";
        Assert.Equal(["inst 1", "end 1", "inst 2", "end 2"], Texts(text));
    }

    [Fact]
    public void ReadLine_InvalidSeq_IsReportedAtTheLine()
    {
        var bag = new DiagnosticBag();
        Lines("x 1\n~SEQ(I, 9, 1, 5) y\n", bag: bag);
        Assert.Contains(bag.Items, d => d.Message == "Invalid ~SEQ values '~SEQ(I, 9, 1, 5) y'" && d.Position.Line == 2 && d.Position.Column == 1);
        Assert.Contains(bag.Items, d => d.Message == "Invalid ~SEQ specification '~SEQ(I, 9, 1, 5) y'");
    }

    [Fact]
    public void ReadLine_RecursiveDefinition_IsReportedNotLooped()
    {
        var bag = new DiagnosticBag();
        var lines = Lines("$A=$A\nx $A\ny 1\n", bag: bag);
        Assert.Contains(lines, l => l.Text == "y 1");
        Assert.Contains(bag.Items, d => d.Message.Contains("would exceed maximum line length", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadLine_UnterminatedQuote_IsReported()
    {
        var bag = new DiagnosticBag();
        Lines("router_id \"abc\n", bag: bag);
        var d = Assert.Single(bag.Items);
        Assert.Equal("Unterminated quote 'router_id \"abc'", d.Message);
        Assert.Equal(new SourcePosition(TestSupport.MainFile, 1, 1), d.Position);
    }

    [Fact]
    public void ReadLine_CommentEndingInBackslash_BecomesABackslashLine()
    {
        // keepalived's decomment() keeps a trailing backslash even after a comment: it then
        // reports "Unknown keyword '\'" for the line. Reproduced so messages match.
        Assert.Equal(["\\", "router_id x\\"], Texts("# comment \\\nrouter_id x # c\\\n"));
    }
}
