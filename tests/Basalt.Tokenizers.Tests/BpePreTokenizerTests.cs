namespace Basalt.Tokenizers.Tests;

/// <summary>
/// Word splits per pre-tokenizer. Llama 3 and Qwen2 have no full vocabulary in shared/, so their
/// regexes are checked here directly, on splits worked out from the Hugging Face regexes.
/// </summary>
public sealed class BpePreTokenizerTests
{
    private static string[] Split(string? pre, string text)
    {
        var words = new List<(int Start, int Length)>();
        BpePreTokenizer.For(pre).Split(text, words);
        return words.Select(w => text.Substring(w.Start, w.Length)).ToArray();
    }

    [Fact]
    public void Llama3GroupsDigitsInThrees()
    {
        Assert.Equal(["Hello", " world", " ", "123", "456", "7", " don", "'t"], Split("llama-bpe", "Hello world 1234567 don't"));
    }

    [Fact]
    public void Llama3KeepsNewlinesApartFromIndentation()
    {
        // A tab is not a newline, letter or digit, so it leads the word after it.
        Assert.Equal(["\n\n", " ", " hi", "!\n", "\tx"], Split("llama-bpe", "\n\n  hi!\n\tx"));
    }

    [Fact]
    public void Llama3ContractionsIgnoreCase()
    {
        Assert.Equal(["I", "'LL", " we", "'Ve"], Split("llama3", "I'LL we'Ve"));
        // GPT-2's contractions are lower case only.
        Assert.Equal(["I", "'", "LL"], Split("gpt-2", "I'LL"));
    }

    [Fact]
    public void Qwen2SplitsEveryDigit()
    {
        Assert.Equal(["a", "1", "2", "3", "4", "5"], Split("qwen2", "a12345"));
    }

    [Fact]
    public void DeepSeekCoderSplitsEveryDigitAndPunctuationRun()
    {
        // '=' is a math symbol, not punctuation, so it stays in the in-between text with the spaces.
        Assert.Equal(["x", " = ", "4", "2", ";", "\n", "y"], Split("deepseek-coder", "x = 42;\ny"));
    }

    [Fact]
    public void Gpt2KeepsEmojiTogetherWithFollowingSymbols()
    {
        Assert.Equal(["a", " \U0001F999\U0001F999!", " b"], Split("gpt-2", "a \U0001F999\U0001F999! b"));
    }

    [Fact]
    public void SupplementaryLettersAndDigitsKeepTheirCategory()
    {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A is a letter, so it joins the letters after it.
        Assert.Equal(["\U0001D400b", " c"], Split("gpt-2", "\U0001D400b c"));
        // U+1D7CF MATHEMATICAL BOLD DIGIT ONE is a digit: DeepSeek Coder splits digits one by one.
        Assert.Equal(["\U0001D7CF", "\U0001D7D0"], Split("deepseek-coder", "\U0001D7CF\U0001D7D0"));
    }

    [Fact]
    public void DeepSeekLlmLetterClassCoversItsSupplementaryRanges()
    {
        // Deseret letters are in DeepSeek LLM's explicit list; mathematical bold letters are not.
        Assert.Equal(["\U00010400\U00010401", " \U0001D400"], Split("deepseek-llm", "\U00010400\U00010401 \U0001D400"));
    }

    [Fact]
    public void UnknownOrMissingNamesUseTheDefaultSet()
    {
        Assert.Equal("default", BpePreTokenizer.For(null).Name);
        Assert.Equal("default", BpePreTokenizer.For("no-such-pre").Name);
        Assert.False(BpePreTokenizer.IsKnown("no-such-pre"));
        Assert.True(BpePreTokenizer.IsKnown("qwen2"));
    }

    public static TheoryData<string> AllNames() =>
        new(["default", "llama-bpe", "deepseek-llm", "deepseek-coder", "deepseek-v3", "falcon", "starcoder", "gpt-2",
             "qwen2", "poro-chat", "viking", "tekken", "gpt-4o", "chameleon", "chatglm-bpe", "olmo", "stablelm2",
             "command-r", "smollm", "mpt", "refact"]);

    [Theory]
    [MemberData(nameof(AllNames))]
    public void EveryRegexSetCompilesAndCoversTheText(string pre)
    {
        Assert.True(BpePreTokenizer.IsKnown(pre));
        const string text = "Hello, World! It's 2024: 12345 \U0001F999\u200D \t\n\n  日本語 한국어 Ёжик <sentinel:3> IMGIMGABZ x";
        var words = Split(pre, text);
        Assert.Equal(text, string.Concat(words));
        Assert.All(words, w => Assert.NotEmpty(w));
    }
}
