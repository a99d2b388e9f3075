namespace Basalt.Tokenizers.Tests;

/// <summary>The SPM merge rules on small hand-made vocabularies, where each rule can be seen in isolation.</summary>
public sealed class SpmMergeTests
{
    private static SpmTokenizer Make(params (string Text, float Score, TokenType Type)[] pieces)
    {
        var vocab = new Vocabulary(TokenizerKind.Spm, null,
            [.. pieces.Select(p => p.Text)], [.. pieces.Select(p => p.Score)], [.. pieces.Select(p => p.Type)])
        {
            Unk = 0,
            AddSpacePrefix = false,
        };
        return new SpmTokenizer(vocab);
    }

    private static string[] Pieces(SpmTokenizer tok, string text) =>
        [.. tok.Encode(text, addSpecial: false, parseSpecial: false).Select(id => tok.Vocabulary.Tokens[id])];

    [Fact]
    public void HigherScoringPairMergesFirst()
    {
        var tok = Make(("<unk>", 0, TokenType.Unknown), ("a", 0, TokenType.Normal), ("b", 0, TokenType.Normal),
            ("c", 0, TokenType.Normal), ("ab", -2, TokenType.Normal), ("bc", -1, TokenType.Normal));
        Assert.Equal(["a", "bc"], Pieces(tok, "abc"));
    }

    [Fact]
    public void EqualScoresMergeLeftmostFirst()
    {
        var tok = Make(("<unk>", 0, TokenType.Unknown), ("a", 0, TokenType.Normal), ("aa", -1, TokenType.Normal));
        Assert.Equal(["aa", "a"], Pieces(tok, "aaa"));
    }

    [Fact]
    public void UnusedPieceIsSplitBackIntoWhatFormedIt()
    {
        var tok = Make(("<unk>", 0, TokenType.Unknown), ("a", 0, TokenType.Normal), ("b", 0, TokenType.Normal),
            ("c", 0, TokenType.Normal), ("ab", -1, TokenType.Unused));
        Assert.Equal(["a", "b", "c"], Pieces(tok, "abc"));
    }

    [Fact]
    public void ControlPiecesAreNeverFormedFromText()
    {
        var tok = Make(("<unk>", 0, TokenType.Unknown), ("a", 0, TokenType.Normal), ("b", 0, TokenType.Normal),
            ("ab", 0, TokenType.Control));
        Assert.Equal(["a", "b"], Pieces(tok, "ab"));
    }

    [Fact]
    public void WithoutByteTokensAnUnknownCharacterBecomesUnknownPerByte()
    {
        var tok = Make(("<unk>", 0, TokenType.Unknown), ("a", 0, TokenType.Normal));
        // "é" is two UTF-8 bytes, neither of which has a byte token.
        Assert.Equal(["a", "<unk>", "<unk>"], Pieces(tok, "aé"));
    }
}
