namespace Basalt.Tokenizers.Tests;

/// <summary>The WordPiece (BERT) tokenizer beyond the reference vectors.</summary>
public sealed class WpmTokenizerTests
{
    private const string BertBge = "ggml-vocab-bert-bge.gguf";

    [Fact]
    public void AddSpecialWrapsInClsAndSep()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        var plain = tok.Encode("Hello world!", addSpecial: false);
        var wrapped = tok.Encode("Hello world!", addSpecial: true);
        Assert.Equal("[CLS]", tok.Vocabulary.Tokens[wrapped[0]]);
        Assert.Equal("[SEP]", tok.Vocabulary.Tokens[wrapped[^1]]);
        Assert.Equal(plain, wrapped[1..^1]);
        Assert.Equal(["[CLS]", "[SEP]"], tok.Encode("", addSpecial: true).Select(id => tok.Vocabulary.Tokens[id]));
    }

    [Fact]
    public void ContinuationPiecesJoinTheirWordWhenDecoded()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        var ids = tok.Encode("unaffable tokenization", addSpecial: true);
        // Both words are split into several pieces, yet decode back to whole words.
        Assert.True(ids.Length > 4, $"expected word pieces, got {ids.Length} tokens");
        Assert.Equal("unaffable tokenization", tok.Decode(ids));
    }

    [Fact]
    public void PunctuationAndIdeographsAreWordsOfTheirOwn()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        Assert.Equal("hello , world ! 中 文", tok.Decode(tok.Encode("Hello,world!中文", addSpecial: false)));
    }

    [Fact]
    public void CaseAndAccentsAreIgnored()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        Assert.Equal(tok.Encode("fuhrer cafe", addSpecial: false), tok.Encode("FÜHRER Café", addSpecial: false));
        Assert.Equal(tok.Encode("cafe", addSpecial: false), tok.Encode("cafe\u0301", addSpecial: false));
    }

    [Fact]
    public void UnmatchableWordBecomesOneUnknownToken()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        var ids = tok.Encode("hello 🦙🦙 world", addSpecial: false);
        Assert.Equal(["▁hello", "[UNK]", "▁world"], ids.Select(id => tok.Vocabulary.Tokens[id]));
    }

    [Fact]
    public void ControlCharactersAreDroppedAndWhitespaceSeparates()
    {
        var tok = TokenizerVectorTests.Load(BertBge);
        Assert.Equal(tok.Encode("hello world", addSpecial: false), tok.Encode("\u200Bhel\u200Dlo\t\n world\u0000", addSpecial: false));
    }
}
