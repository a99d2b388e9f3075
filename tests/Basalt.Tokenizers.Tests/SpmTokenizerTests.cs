using Basalt.Gguf;

namespace Basalt.Tokenizers.Tests;

/// <summary>SentencePiece-style tokenizers beyond the reference vectors: round trips, special tokens, streaming.</summary>
public sealed class SpmTokenizerTests
{
    private const string LlamaSpm = "ggml-vocab-llama-spm.gguf";
    private const string Phi3 = "ggml-vocab-phi-3.gguf";

    private static readonly string[] RoundTripTexts =
    [
        "",
        "Hello world",
        " leading space",
        "   three leading spaces",
        "trailing space ",
        "\n",
        "line one\nline two\n\n",
        "\ttabbed\tcolumns\t",
        " \n \t ",
        "emoji 🦙 and a family 👨‍👩‍👧 with ZWJ",
        "🚀",
        "中文字符测试，日本語のテキスト",
        "Ελληνικά και русский текст",
        "byte fallback: ꙮ 𓀀 \u0001\u007f",
        "code: for (int i = 0; i < n; i++) { sum += a[i]; }",
        "<s> is ordinary text here </s>",
    ];

    public static TheoryData<string, string> RoundTripCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var vocab in new[] { LlamaSpm, Phi3 })
            foreach (var text in RoundTripTexts) data.Add(vocab, text);
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void DecodeInvertsEncode(string vocab, string text)
    {
        var tok = TokenizerVectorTests.Load(vocab);
        var ids = tok.Encode(text, addSpecial: false, parseSpecial: false);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void CharactersOutsideTheVocabularyBecomeByteTokens()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        // U+A66E is not a llama piece, so its three UTF-8 bytes come out as <0xEA><0x99><0xAE>.
        var ids = tok.Encode("\uA66E", addSpecial: false, parseSpecial: false);
        Assert.Equal(["▁", "<0xEA>", "<0x99>", "<0xAE>"], ids.Select(id => tok.Vocabulary.Tokens[id]));
    }

    [Fact]
    public void SpecialTextIsParsedOnlyWhenAsked()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        int bos = tok.Vocabulary.Bos!.Value, eos = tok.Vocabulary.Eos!.Value;

        var parsed = tok.Encode("<s>hello</s>", addSpecial: false, parseSpecial: true);
        Assert.Equal(bos, parsed[0]);
        Assert.Equal(eos, parsed[^1]);
        Assert.Equal("hello", tok.Decode(parsed));

        var literal = tok.Encode("<s>hello</s>", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(bos, literal);
        Assert.DoesNotContain(eos, literal);
        Assert.Equal("<s>hello</s>", tok.Decode(literal));
    }

    [Fact]
    public void AddSpecialPrependsBosOnly()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        var plain = tok.Encode("Hello world", addSpecial: false);
        var withBos = tok.Encode("Hello world", addSpecial: true);
        Assert.Equal([tok.Vocabulary.Bos!.Value, .. plain], withBos);
        Assert.Equal([tok.Vocabulary.Bos!.Value], tok.Encode("", addSpecial: true));
        Assert.Equal("Hello world", tok.Decode(withBos));
    }

    [Fact]
    public void TextAfterASpecialTokenGetsTheSpacePrefixAgain()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        var ids = tok.Encode("<s>hi", addSpecial: false, parseSpecial: true);
        Assert.Equal(tok.Encode("hi", addSpecial: false), ids[1..]);
    }

    [Fact]
    public void UnknownTokenDecodesAsVisibleBlock()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        Assert.Equal("\u2585", tok.TokenToPiece(tok.Vocabulary.Unk!.Value));
    }

    [Fact]
    public void StreamingNeverSplitsACharacterAcrossByteTokens()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        const string text = "a 🦙 b 👨‍👩‍👧 c ꙮ";
        var ids = tok.Encode(text, addSpecial: true);
        Assert.Contains(ids, id => tok.Vocabulary.Types[id] == TokenType.Byte);

        var detok = new StreamingDetokenizer(tok);
        var pieces = ids.Select(detok.Push).ToList();
        pieces.Add(detok.Flush());

        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
        Assert.Equal(tok.Decode(ids), string.Concat(pieces));
        Assert.Equal(text, string.Concat(pieces));
    }

    [Fact]
    public void LongInputEncodesAndRoundTrips()
    {
        var tok = TokenizerVectorTests.Load(LlamaSpm);
        string text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. 日本語 🦙\n", 2000));
        var ids = tok.Encode(text, addSpecial: false);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Theory]
    [InlineData("Once upon a time, there was a little girl named Lily.")]
    [InlineData("She said: \"Hello!\"\nThen she smiled 😊 and ran to the park.")]
    [InlineData("  spaces\tand tabs ")]
    public void Stories260KRoundTrips(string text)
    {
        using var file = GgufFile.Open(SharedData.Path("models", "stories260K.gguf"));
        var tok = Tokenizer.FromGguf(file);
        Assert.IsType<SpmTokenizer>(tok);
        Assert.Equal(512, tok.Vocabulary.Count);

        var ids = tok.Encode(text, addSpecial: true);
        Assert.Equal(tok.Vocabulary.Bos, ids[0]);
        Assert.All(ids, id => Assert.InRange(id, 0, 511));
        Assert.Equal(text, tok.Decode(ids));
    }
}
