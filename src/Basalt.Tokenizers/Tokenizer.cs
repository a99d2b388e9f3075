using System.Text;
using Basalt.Gguf;

namespace Basalt.Tokenizers;

/// <summary>
/// Text to token ids and back for one vocabulary. The family-specific algorithm (SPM, BPE, WordPiece)
/// lives in a subclass; this class handles what they share: splitting out special-token text,
/// BOS/EOS, and turning ids back into bytes.
/// </summary>
public abstract class Tokenizer
{
    private readonly SpecialTokenSplitter _splitter;

    /// <summary>Creates the shared part of a tokenizer over <paramref name="vocabulary"/>.</summary>
    protected Tokenizer(Vocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        _splitter = new SpecialTokenSplitter(vocabulary);
    }

    /// <summary>The vocabulary.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Creates the right tokenizer for a GGUF file's vocabulary.</summary>
    public static Tokenizer FromGguf(GgufFile file) => Create(Vocabulary.FromGguf(file.Metadata, file.Path));

    /// <summary>Creates the right tokenizer for a vocabulary.</summary>
    public static Tokenizer Create(Vocabulary vocabulary) => vocabulary.Kind switch
    {
        TokenizerKind.Spm => new SpmTokenizer(vocabulary),
        TokenizerKind.Bpe => new BpeTokenizer(vocabulary),
        TokenizerKind.Wpm => new WpmTokenizer(vocabulary),
        _ => throw new TokenizerFormatException($"No tokenizer for {vocabulary.Kind}."),
    };

    /// <summary>
    /// Encodes text. With <paramref name="addSpecial"/> the vocabulary's BOS/EOS (or CLS/SEP) are added
    /// as it asks; with <paramref name="parseSpecial"/> control-token text such as <c>&lt;s&gt;</c> or
    /// <c>&lt;|im_start|&gt;</c> becomes that token, otherwise it is ordinary text. User-defined
    /// tokens are always matched, as llama.cpp and Hugging Face do.
    /// </summary>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        var output = new List<int>();
        if (addSpecial) AddLeadingSpecial(output);
        bool afterSpecial = true;
        foreach (var fragment in _splitter.Split(text, parseSpecial))
        {
            if (fragment.Token is int id)
            {
                output.Add(id);
                afterSpecial = true;
            }
            else
            {
                EncodeText(fragment.Text, afterSpecial, output);
                afterSpecial = false;
            }
        }
        if (addSpecial) AddTrailingSpecial(output);
        return output.ToArray();
    }

    /// <summary>
    /// Encodes a stretch of text that holds no special tokens. <paramref name="atStartOrAfterSpecial"/>
    /// tells SPM whether to add its space prefix.
    /// </summary>
    protected abstract void EncodeText(string text, bool atStartOrAfterSpecial, List<int> output);

    /// <summary>Adds BOS (or CLS) when the vocabulary asks for it.</summary>
    protected virtual void AddLeadingSpecial(List<int> output)
    {
        if (Vocabulary.AddBos && Vocabulary.Bos is int bos) output.Add(bos);
    }

    /// <summary>Adds EOS (or SEP) when the vocabulary asks for it.</summary>
    protected virtual void AddTrailingSpecial(List<int> output)
    {
        if (Vocabulary.AddEos && Vocabulary.Eos is int eos) output.Add(eos);
    }

    /// <summary>
    /// The bytes a token stands for. Control tokens give nothing unless <paramref name="renderSpecial"/>;
    /// byte tokens give their byte; normal tokens are decoded the family's way.
    /// </summary>
    public byte[] TokenToBytes(int id, bool renderSpecial = false)
    {
        if ((uint)id >= (uint)Vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be in 0..{Vocabulary.Count - 1}.");
        string text = Vocabulary.Tokens[id];
        return Vocabulary.Types[id] switch
        {
            TokenType.Control => renderSpecial ? Encoding.UTF8.GetBytes(text) : [],
            TokenType.Byte when TryParseByteToken(text, out byte b) => [b],
            TokenType.Unknown => UnknownBytes(id),
            TokenType.UserDefined => UserDefinedBytes(id),
            _ => NormalBytes(id),
        };
    }

    /// <summary>A token's piece as text (invalid UTF-8 shows as U+FFFD).</summary>
    public string TokenToPiece(int id, bool renderSpecial = false) => Encoding.UTF8.GetString(TokenToBytes(id, renderSpecial));

    /// <summary>Bytes for a normal token.</summary>
    protected abstract byte[] NormalBytes(int id);

    /// <summary>Bytes for a user-defined token: its text as written.</summary>
    protected virtual byte[] UserDefinedBytes(int id) => Encoding.UTF8.GetBytes(Vocabulary.Tokens[id]);

    /// <summary>Bytes for the unknown token.</summary>
    protected virtual byte[] UnknownBytes(int id) => Encoding.UTF8.GetBytes(Vocabulary.Tokens[id]);

    /// <summary>Whether decoding drops one leading space of the first piece (SPM's space prefix).</summary>
    protected virtual bool StripsLeadingSpace => false;

    /// <summary>Decodes ids to text. Special tokens are dropped unless <paramref name="renderSpecial"/>.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool renderSpecial = false)
    {
        var detok = new StreamingDetokenizer(this, renderSpecial);
        var sb = new StringBuilder();
        foreach (int id in ids) sb.Append(detok.Push(id));
        sb.Append(detok.Flush());
        return sb.ToString();
    }

    /// <summary>
    /// Appends the bytes of <paramref name="id"/> as they appear in running text (the first piece may lose its space prefix).
    /// Returns whether the token had any bytes, i.e. whether it used up the first-piece position.
    /// </summary>
    internal bool AppendPieceBytes(int id, bool renderSpecial, bool first, List<byte> into)
    {
        var bytes = TokenToBytes(id, renderSpecial);
        int start = first && StripsLeadingSpace && bytes.Length > 0 && bytes[0] == (byte)' ' ? 1 : 0;
        for (int i = start; i < bytes.Length; i++) into.Add(bytes[i]);
        return bytes.Length > 0;
    }

    /// <summary>Parses SentencePiece byte tokens of the form <c>&lt;0xNN&gt;</c>.</summary>
    public static bool TryParseByteToken(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }
}
