using Basalt.Gguf;

namespace Basalt.Tokenizers.Tests;

/// <summary>Every case of every llama.cpp vocabulary test vector: ids must match exactly.</summary>
public sealed class TokenizerVectorTests
{
    private static readonly Dictionary<string, Tokenizer> Cache = [];

    internal static Tokenizer Load(string vocab)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(vocab, out var tok))
            {
                using var file = GgufFile.Open(SharedData.Path("testdata", "tokenizers", vocab));
                Cache[vocab] = tok = Tokenizer.FromGguf(file);
            }
            return tok;
        }
    }

    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var vocab in TokenizerVectors.Vocabularies())
            for (int i = 0; i < TokenizerVectors.Cases(vocab).Count; i++)
                data.Add(vocab, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void EncodeMatchesReference(string vocab, int caseIndex)
    {
        var (input, expected) = TokenizerVectors.Cases(vocab)[caseIndex];
        var actual = Load(vocab).Encode(input, addSpecial: false, parseSpecial: false);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EveryVocabularyHasAllCases()
    {
        var vocabs = TokenizerVectors.Vocabularies();
        Assert.Equal(10, vocabs.Count);
        Assert.All(vocabs, v => Assert.Equal(46, TokenizerVectors.Cases(v).Count));
    }
}
