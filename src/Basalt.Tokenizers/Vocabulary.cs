using Basalt.Gguf;

namespace Basalt.Tokenizers;

/// <summary>
/// A vocabulary as stored in a GGUF file's <c>tokenizer.ggml.*</c> metadata: token texts, scores,
/// types, merges and special-token ids, plus the look-ups tokenizers need.
/// </summary>
public sealed class Vocabulary
{
    private readonly Dictionary<string, int> _idByText;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idBySpan;

    /// <summary>Builds a vocabulary from parts; <paramref name="scores"/> and <paramref name="types"/> default to 0 and Normal.</summary>
    public Vocabulary(TokenizerKind kind, string? pre, string[] tokens, float[]? scores = null, TokenType[]? types = null, string[]? merges = null)
    {
        Kind = kind;
        Pre = pre;
        Tokens = tokens;
        Scores = scores ?? new float[tokens.Length];
        Types = types ?? Enumerable.Repeat(TokenType.Normal, tokens.Length).ToArray();
        Merges = merges ?? [];
        if (Scores.Length != tokens.Length || Types.Length != tokens.Length)
            throw new TokenizerFormatException($"Vocabulary has {tokens.Length} tokens but {Scores.Length} scores and {Types.Length} token types.");
        _idByText = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        // The first id wins when a text repeats (llama.cpp keeps the last; no real vocabulary has repeats that matter).
        for (int i = 0; i < tokens.Length; i++) _idByText.TryAdd(tokens[i], i);
        _idBySpan = _idByText.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The tokenizer family.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>The pre-tokenizer name (<c>tokenizer.ggml.pre</c>), or null when absent.</summary>
    public string? Pre { get; }

    /// <summary>Token texts by id.</summary>
    public string[] Tokens { get; }

    /// <summary>Token scores by id (SPM merge priorities).</summary>
    public float[] Scores { get; }

    /// <summary>Token types by id.</summary>
    public TokenType[] Types { get; }

    /// <summary>BPE merges, highest priority first, each "left right".</summary>
    public string[] Merges { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Length;

    public int? Bos { get; init; }
    public int? Eos { get; init; }
    public int? Eot { get; init; }
    public int? Eom { get; init; }
    public int? Unk { get; init; }
    public int? Sep { get; init; }
    public int? Pad { get; init; }
    public int? Cls { get; init; }
    public int? Mask { get; init; }

    /// <summary>Whether a BOS token is prepended when special tokens are added.</summary>
    public bool AddBos { get; init; }

    /// <summary>Whether an EOS token is appended when special tokens are added.</summary>
    public bool AddEos { get; init; }

    /// <summary>Whether SPM prefixes the text with a space (SentencePiece's <c>add_dummy_prefix</c>).</summary>
    public bool AddSpacePrefix { get; init; }

    /// <summary>The model's <c>general.name</c>, used where llama.cpp special-cases a family.</summary>
    public string? ModelName { get; init; }

    /// <summary>The id of a token text, or null.</summary>
    public int? Find(string text) => _idByText.TryGetValue(text, out int id) ? id : null;

    /// <summary>Looks up a token text given as a span, so hot loops need not allocate a string per probe.</summary>
    public bool TryFind(ReadOnlySpan<char> text, out int id) => _idBySpan.TryGetValue(text, out id);

    /// <summary>Whether <paramref name="id"/> is a control token (never produced from plain text).</summary>
    public bool IsControl(int id) => Types[id] == TokenType.Control;

    /// <summary>Whether <paramref name="id"/> ends generation: EOS, EOT or EOM.</summary>
    public bool IsEndOfGeneration(int id) => id == Eos || id == Eot || id == Eom;

    /// <summary>Reads a vocabulary from a GGUF file's metadata.</summary>
    /// <exception cref="TokenizerFormatException">The tokenizer metadata is missing or inconsistent.</exception>
    public static Vocabulary FromGguf(GgufMetadata md, string file = "model") => VocabularyLoader.Load(md, file);
}
