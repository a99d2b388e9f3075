using System.Text;
using Basalt.Gguf;

namespace Basalt.Tokenizers.Tests;

/// <summary>Byte-level BPE: round trips, special-token parsing, streaming, and the merge order itself.</summary>
public sealed class BpeTokenizerTests
{
    /// <summary>Every gpt2-model vocabulary in shared/, as (folder, file).</summary>
    private static readonly (string Folder, string File)[] BpeVocabularies =
    [
        ("testdata/tokenizers", "ggml-vocab-gpt-2.gguf"),
        ("testdata/tokenizers", "ggml-vocab-deepseek-coder.gguf"),
        ("testdata/tokenizers", "ggml-vocab-deepseek-llm.gguf"),
        ("testdata/tokenizers", "ggml-vocab-falcon.gguf"),
        ("testdata/tokenizers", "ggml-vocab-mpt.gguf"),
        ("testdata/tokenizers", "ggml-vocab-refact.gguf"),
        ("testdata/tokenizers", "ggml-vocab-starcoder.gguf"),
        ("testdata/tokenizers", "ggml-vocab-gpt-neox.gguf"),
        ("models/arch", "llama-bpe-tiny-random.gguf"),
        ("models/arch", "qwen2-tiny-random.gguf"),
    ];

    private static readonly Dictionary<string, Tokenizer> Cache = [];

    private static Tokenizer Load(string folder, string file)
    {
        lock (Cache)
        {
            string path = SharedData.Path([.. folder.Split('/'), file]);
            if (!Cache.TryGetValue(path, out var tok))
            {
                using var gguf = GgufFile.Open(path);
                Cache[path] = tok = Tokenizer.FromGguf(gguf);
            }
            return tok;
        }
    }

    private static readonly string[] TrickyStrings =
    [
        "",
        " ",
        "\t\n \r\n",
        "Hello, world!",
        "  leading and trailing  ",
        "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 family \U0001F3F3\uFE0F\u200D\U0001F308",
        "\U0001F636\u200D\U0001F32B\uFE0F \U0001F999\U0001F999 \u2705",
        "日本語のテキスト、中文文本。한국어 텍스트",
        "Привет, мир! Ёжик",
        "ខ្មែរ ภาษาไทย العربية עברית",
        "Cửa Việt",
        "0123456789 3333333 1.5e-10 ١٢٣ 𝟏𝟐𝟑",
        "don't I'LL we'Ve it'S 'tis",
        "\u0000\u0001\u007F\u0085 control",
        "\uFEFFbom a\u00A0b\u2028c\u3000d",
        "𝐀𝐁𝐂 𐐀𐐁𐐂 𞤀𞤁",
        "\\x80 <0x80> <|endoftext|> <s></s> [CLS]",
        "Text with\r\nwindows\nline endings\r",
        "    indented code()\n\tx = 1;\n\n\n}",
        new string(' ', 1000) + "x" + new string('7', 500),
        "ﬁﬂ ＡＢＣ ａｂｃ ǅ ʰ \u0300\u0301 Ω K ι",
    ];

    public static TheoryData<string, string, int> RoundTripCases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var (folder, file) in BpeVocabularies)
            for (int i = 0; i < TrickyStrings.Length; i++)
                data.Add(folder, file, i);
        return data;
    }

    public static TheoryData<string, string> Vocabularies()
    {
        var data = new TheoryData<string, string>();
        foreach (var (folder, file) in BpeVocabularies) data.Add(folder, file);
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void DecodeOfEncodeGivesTheTextBack(string folder, string file, int index)
    {
        string text = TrickyStrings[index];
        var tok = Load(folder, file);
        var ids = tok.Encode(text, addSpecial: false, parseSpecial: false);
        Assert.True(Representable(tok, text));
        Assert.Equal(text, tok.Decode(ids));
        // Encoding again hits the word cache and must give the same ids.
        Assert.Equal(ids, tok.Encode(text, addSpecial: false, parseSpecial: false));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void RandomTextRoundTrips(string folder, string file)
    {
        var tok = Load(folder, file);
        var rng = new Random(1234);
        // Code points from scripts, symbols, digits, whitespace and the supplementary planes.
        (int Lo, int Hi)[] ranges = [(0x20, 0x7E), (0x09, 0x0D), (0xA0, 0x24F), (0x370, 0x52F), (0x900, 0x97F), (0x3000, 0x30FF),
            (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF), (0x1D400, 0x1D7FF), (0x10400, 0x1044F), (0x20000, 0x200FF)];
        for (int n = 0; n < 100; n++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 40);
            for (int i = 0; i < len; i++)
            {
                var (lo, hi) = ranges[rng.Next(ranges.Length)];
                sb.Append(char.ConvertFromUtf32(rng.Next(lo, hi + 1)));
            }
            string text = sb.ToString();
            if (!Representable(tok, text)) continue;
            Assert.Equal(text, tok.Decode(tok.Encode(text, addSpecial: false, parseSpecial: false)));
        }
    }

    // Falcon, StarCoder, MPT and others have no token for a few bytes (control characters, bytes that
    // never occur in UTF-8); text with those bytes cannot come back whole.
    private static bool Representable(Tokenizer tok, string text) =>
        Encoding.UTF8.GetBytes(text).All(b => tok.Vocabulary.Find(ByteLevel.ByteToChar(b).ToString()) is not null);

    [Fact]
    public void BytesWithoutATokenAreDropped()
    {
        var falcon = Load("testdata/tokenizers", "ggml-vocab-falcon.gguf");
        Assert.Null(falcon.Vocabulary.Find(ByteLevel.ByteToChar(0x0B).ToString()));
        Assert.Equal("a\tb", falcon.Decode(falcon.Encode("a\t\vb", false, false)));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void StreamingNeverEmitsHalfACharacter(string folder, string file)
    {
        var tok = Load(folder, file);
        string text = "Llamas \U0001F999\U0001F999 and \U0001F468\u200D\U0001F469\u200D\U0001F467 in 日本語 — Ёжик ✅";
        var ids = tok.Encode(text, addSpecial: false, parseSpecial: false);
        var detok = new StreamingDetokenizer(tok);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = detok.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            sb.Append(piece);
        }
        sb.Append(detok.Flush());
        Assert.Equal(tok.Decode(ids), sb.ToString());
        Assert.Equal(text, sb.ToString());
    }

    [Fact]
    public void Gpt2SplitsAnEmojiAcrossTokens()
    {
        // Makes the streaming test above meaningful: the llama emoji's 4 bytes span several tokens.
        var tok = Load("testdata/tokenizers", "ggml-vocab-gpt-2.gguf");
        var ids = tok.Encode("\U0001F999", addSpecial: false, parseSpecial: false);
        Assert.True(ids.Length > 1);
        Assert.Contains(ids, id => tok.TokenToBytes(id).Length < 4);
    }

    [Fact]
    public void EndOfTextIsOneTokenOnlyWhenParsingSpecials()
    {
        var tok = Load("testdata/tokenizers", "ggml-vocab-gpt-2.gguf");
        int eot = tok.Vocabulary.Find("<|endoftext|>")!.Value;
        Assert.Equal(50256, eot);

        var parsed = tok.Encode("Hi<|endoftext|>there", addSpecial: false, parseSpecial: true);
        Assert.Equal(1, parsed.Count(id => id == eot));
        Assert.Equal(tok.Encode("Hi", false, false).Concat([eot]).Concat(tok.Encode("there", false, false)), parsed);

        var plain = tok.Encode("Hi<|endoftext|>there", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(eot, plain);
        Assert.Equal("Hi<|endoftext|>there", tok.Decode(plain));
        Assert.Equal("Hi<|endoftext|>there", tok.Decode(parsed, renderSpecial: true));
        Assert.Equal("Hithere", tok.Decode(parsed));
    }

    [Fact]
    public void AddSpecialFollowsTheVocabulary()
    {
        var gpt2 = Load("testdata/tokenizers", "ggml-vocab-gpt-2.gguf");
        Assert.Equal(gpt2.Encode("hello", addSpecial: false), gpt2.Encode("hello", addSpecial: true));

        // The cut-down Llama vocabulary sets add_bos_token; BOS = EOS = <|endoftext|> = 4095.
        var llama = Load("models/arch", "llama-bpe-tiny-random.gguf");
        Assert.True(llama.Vocabulary.AddBos);
        var ids = llama.Encode("hello", addSpecial: true);
        Assert.Equal(4095, ids[0]);
        Assert.Equal(llama.Encode("hello", addSpecial: false), ids[1..]);
    }

    [Theory]
    [InlineData("gpt-2")]
    [InlineData("deepseek-llm")]
    [InlineData("falcon")]
    [InlineData(null)]
    public void KnownVocabulariesGetTheirOwnPreTokenizer(string? expectedOrDefault)
    {
        string file = expectedOrDefault is null ? "ggml-vocab-gpt-neox.gguf" : $"ggml-vocab-{expectedOrDefault}.gguf";
        var tok = Assert.IsType<BpeTokenizer>(Load("testdata/tokenizers", file));
        Assert.Equal(expectedOrDefault ?? "default", tok.PreTokenizer);
    }

    // A tiny vocabulary: the 256 byte characters, then whatever pieces the merges make.
    private static BpeTokenizer Tiny(string[] merges, params string[] pieces)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevel.ByteToChar((byte)b).ToString()).Concat(pieces).ToArray();
        return new BpeTokenizer(new Vocabulary(TokenizerKind.Bpe, "gpt-2", tokens, merges: merges));
    }

    private static string[] Pieces(Tokenizer tok, string text) =>
        tok.Encode(text, false, false).Select(id => tok.Vocabulary.Tokens[id]).ToArray();

    [Fact]
    public void LowestRankMergesFirst()
    {
        var tok = Tiny(["b c", "a b", "a bc"], "bc", "ab", "abc");
        Assert.Equal(["abc"], Pieces(tok, "abc"));

        var other = Tiny(["a b", "b c", "a bc"], "ab", "bc", "abc");
        Assert.Equal(["ab", "c"], Pieces(other, "abc"));
    }

    [Fact]
    public void EqualRanksMergeLeftmostFirst()
    {
        var tok = Tiny(["a a"], "aa");
        Assert.Equal(["aa", "a"], Pieces(tok, "aaa"));
        Assert.Equal(["aa", "aa"], Pieces(tok, "aaaa"));
    }

    [Fact]
    public void MergesApplyOnlyWithinAWord()
    {
        // "a b" would merge "a" and "b", but the space puts them in different words ("a", " b").
        var tok = Tiny(["a b", "\u0120 b"], "ab", "\u0120b");
        Assert.Equal(["a", "\u0120b"], Pieces(tok, "a b"));
        Assert.Equal(["ab"], Pieces(tok, "ab"));
    }

    [Fact]
    public void TokensDecodeThroughTheByteTable()
    {
        var tok = Tiny(["\u0120 h", "\u0120h i"], "\u0120h", "\u0120hi");
        var ids = tok.Encode(" hi\n", false, false);
        Assert.Equal(["\u0120hi", "\u010A"], ids.Select(id => tok.Vocabulary.Tokens[id]));
        Assert.Equal(" hi"u8.ToArray(), tok.TokenToBytes(ids[0]));
        Assert.Equal(" hi\n", tok.Decode(ids));
    }
}
