using Basalt.Inference.Generation;

namespace Basalt.Inference.Tests.Generation;

public sealed class StopSequenceMatcherTests
{
    private static (string Emitted, bool Stopped) Feed(string[] stops, params string[] pieces)
    {
        var m = new StopSequenceMatcher(stops);
        var emitted = string.Concat(pieces.Select(m.Push));
        if (!m.Stopped) emitted += m.Flush();
        return (emitted, m.Stopped);
    }

    [Fact]
    public void StopInsideOnePieceCutsBeforeIt() =>
        Assert.Equal(("Hello ", true), Feed(["\n\n"], "Hello \n\nworld"));

    [Fact]
    public void StopSplitAcrossPiecesIsCaughtAndNotEmitted() =>
        Assert.Equal(("The end", true), Feed(["<|im_end|>"], "The end<|im", "_e", "nd|> more"));

    [Fact]
    public void HeldBackTextIsReleasedWhenTheStopDoesNotComplete() =>
        Assert.Equal(("a <|im_x and more", false), Feed(["<|im_end|>"], "a <|im", "_x and more"));

    [Fact]
    public void EarliestOfSeveralStopsWins() =>
        Assert.Equal(("x", true), Feed(["yz", "y"], "xyz"));

    [Fact]
    public void TextIsHeldOnlyWhileItCouldStillBeAStop()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("abc ", m.Push("abc ST"));
        Assert.Equal("STx", m.Push("x"));
        Assert.False(m.Stopped);
    }
}
