using System.Text.RegularExpressions;

namespace Basalt.Tokenizers;

/// <summary>
/// Splits text into the words that byte-level BPE merges within. Each model family has a sequence
/// of regexes (from its Hugging Face <c>tokenizer.json</c>, as llama.cpp lists them per
/// <c>tokenizer.ggml.pre</c>); each one is applied to every piece left by the previous one, and both
/// the matches and the text between them become pieces.
/// </summary>
internal sealed class BpePreTokenizer
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    // The GPT-2 regex. The trailing \s+ is what Hugging Face writes; llama.cpp leaves it out, but
    // whitespace it would match is kept as an in-between piece anyway, so the result is the same.
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    // Contractions are spelled out case by case, as llama.cpp does, rather than with (?i:...): .NET's
    // case folding would also accept characters such as U+017F (long s) that Hugging Face does not.
    private const string Contractions = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    private const string Llama3 = Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Qwen2 = Contractions + @"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // DeepSeek LLM lists the cased letters explicitly. Its supplementary-plane ranges (Deseret, Osage,
    // Old Hungarian, Warang Citi, Adlam) cannot be written in a .NET character class, which works on
    // UTF-16 units; CodePointView maps those letters onto U+00B5, which is in the class.
    private const string DeepSeekCasedLetters =
        "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
        + "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
        + "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
        + "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
        + "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE"
        + "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC"
        + "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139"
        + "\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3"
        + "\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06"
        + "\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A";

    // CJK unified ideographs, U+0800..U+4E00 and Hangul, as DeepSeek writes them.
    private const string DeepSeekCjk = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";

    private const string Gpt4o =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+" + Contractions
        + @"?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*" + Contractions
        + @"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Tekken =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
        + @"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"
        + @"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // BLOOM-style: split only before spaces and a few punctuation marks.
    private const string Poro = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";

    private static readonly string[] DefaultSet = [@"[\p{P}\$\+<=>\^~\|]+", Gpt2, @"\p{N}+", "[0-9][0-9][0-9]"];

    // tokenizer.ggml.pre name -> regex sequence, grouped as llama.cpp groups them.
    private static readonly (string[] Names, string[] Regexes)[] Table =
    [
        (["default"], DefaultSet),
        (["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe",
          "glm4", "chatglm-bpe"], [Llama3]),
        (["deepseek-llm"], ["[\r\n]", @"\s?[" + DeepSeekCasedLetters + "]+", "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", @"\s+\z", DeepSeekCjk, @"\p{N}+"]),
        (["deepseek-coder"], ["[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", DeepSeekCjk, @"\p{N}"]),
        (["deepseek-v3"], [@"\p{N}{1,3}", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
          @"[!""#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"]),
        (["falcon"], [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2, "[0-9][0-9][0-9]"]),
        (["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"], [@"\p{N}", Gpt2]),
        (["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code",
          "roberta-bpe", "mpt", "olmo", "jais", "exaone4", "trillion"], [Gpt2]),
        (["qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan"], [Qwen2]),
        (["poro-chat", "bloom", "gpt3-finnish"], [Poro]),
        (["viking"], [Poro, @"\p{N}"]),
        (["tekken"], [Tekken]),
        (["gpt-4o", "llama4"], [Gpt4o]),
        (["chameleon"], ["<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", @"\p{N}",
          @"[\p{P}!-/:-@\[-`{-~]", Gpt2]),
    ];

    // Pre-tokenizers whose upstream BPE model sets ignore_merges: a word that is itself a token is not merged.
    private static readonly HashSet<string> IgnoreMergesNames = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "tekken"];

    private static readonly Dictionary<string, string[]> RegexesByName = BuildRegexesByName();

    // Compiling a regex set takes milliseconds, so only the sets in use are built.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, BpePreTokenizer> Instances = new(StringComparer.Ordinal);

    [ThreadStatic] private static List<(int Start, int Length)>? t_scratch;

    private readonly Regex[] _steps;
    private readonly bool _deepSeekCased;

    private BpePreTokenizer(string name, string[] regexes)
    {
        Name = name;
        _steps = regexes.Select(r => new Regex(r, Options)).ToArray();
        IgnoreMerges = IgnoreMergesNames.Contains(name);
        _deepSeekCased = name == "deepseek-llm";
    }

    /// <summary>The <c>tokenizer.ggml.pre</c> name this instance was made for ("default" for unknown ones).</summary>
    public string Name { get; }

    /// <summary>Whether a word that is already a token is emitted whole instead of being merged.</summary>
    public bool IgnoreMerges { get; }

    /// <summary>
    /// The pre-tokenizer for a <c>tokenizer.ggml.pre</c> value. Like llama.cpp, a missing or unknown
    /// name gets the default set, which suits GPT-NeoX-style vocabularies.
    /// </summary>
    public static BpePreTokenizer For(string? pre)
    {
        string name = pre is not null && RegexesByName.ContainsKey(pre) ? pre : "default";
        return Instances.GetOrAdd(name, n => new BpePreTokenizer(n, RegexesByName[n]));
    }

    /// <summary>Whether <paramref name="pre"/> has its own entry (false means the default set is used).</summary>
    public static bool IsKnown(string? pre) => pre is not null && RegexesByName.ContainsKey(pre);

    /// <summary>
    /// Splits <paramref name="text"/> into words, written to <paramref name="words"/> as (start, length)
    /// in UTF-16 units. The words cover the text in order, without gaps.
    /// </summary>
    public void Split(string text, List<(int Start, int Length)> words)
    {
        words.Clear();
        if (text.Length == 0) return;
        var view = CodePointView.Create(text, _deepSeekCased);
        var current = words;
        var next = t_scratch ??= [];
        current.Add((0, view.Text.Length));
        foreach (var regex in _steps)
        {
            next.Clear();
            foreach (var (start, length) in current) SplitPiece(regex, view.Text.Span, start, length, next);
            (current, next) = (next, current);
        }
        if (!ReferenceEquals(current, words))
        {
            words.Clear();
            words.AddRange(current);
        }
        view.MapToUtf16(words);
        if (t_scratch?.Capacity > 1 << 18) t_scratch = null;
    }

    private static void SplitPiece(Regex regex, ReadOnlySpan<char> text, int start, int length, List<(int, int)> into)
    {
        int pos = start;
        // Each piece is matched on its own, so anchors and lookaheads stop at the piece's edges,
        // as they do when Hugging Face runs a Split over the pieces of the previous step.
        foreach (var m in regex.EnumerateMatches(text.Slice(start, length)))
        {
            int matchStart = start + m.Index;
            if (matchStart > pos) into.Add((pos, matchStart - pos));
            if (m.Length > 0) into.Add((matchStart, m.Length));
            pos = matchStart + m.Length;
        }
        if (pos < start + length) into.Add((pos, start + length - pos));
    }

    private static Dictionary<string, string[]> BuildRegexesByName()
    {
        var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (names, regexes) in Table)
            foreach (var name in names)
                map[name] = regexes;
        return map;
    }
}
