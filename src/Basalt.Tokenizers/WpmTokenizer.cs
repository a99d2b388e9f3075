using System.Globalization;
using System.Text;

namespace Basalt.Tokenizers;

/// <summary>
/// WordPiece (<c>tokenizer.ggml.model = bert</c>), as BERT's uncased tokenizer does it: clean and
/// lowercase the text, strip accents, split on whitespace with punctuation and CJK characters as
/// words of their own, then take the longest vocabulary piece at each position of each word.
/// </summary>
/// <remarks>
/// llama.cpp's converter stores word-initial pieces with a U+2581 prefix and continuation pieces
/// (BERT's <c>##x</c>) without one, so a word is matched as U+2581 + word.
/// </remarks>
public sealed class WpmTokenizer : Tokenizer
{
    private const char WordMarker = '\u2581';

    // BERT gives up on very long words (in characters) and emits the unknown token instead.
    private const int MaxWordLength = 100;

    private readonly int _maxTokenLength;

    /// <summary>Creates a WordPiece tokenizer over <paramref name="vocabulary"/>.</summary>
    public WpmTokenizer(Vocabulary vocabulary) : base(vocabulary)
    {
        foreach (string token in vocabulary.Tokens) _maxTokenLength = Math.Max(_maxTokenLength, token.Length);
    }

    /// <inheritdoc />
    protected override bool StripsLeadingSpace => true;

    /// <inheritdoc />
    protected override void AddLeadingSpecial(List<int> output)
    {
        if ((Vocabulary.Cls ?? Vocabulary.Bos) is int cls) output.Add(cls);
    }

    /// <inheritdoc />
    protected override void AddTrailingSpecial(List<int> output)
    {
        if ((Vocabulary.Sep ?? Vocabulary.Eos) is int sep) output.Add(sep);
    }

    /// <inheritdoc />
    protected override void EncodeText(string text, bool atStartOrAfterSpecial, List<int> output)
    {
        string normalized = Normalize(text);
        var word = new StringBuilder();
        foreach (var rune in normalized.EnumerateRunes())
        {
            if (rune.Value == ' ')
            {
                FlushWord(word, output);
            }
            else if (IsPunctuation(rune))
            {
                FlushWord(word, output);
                word.Append(rune.ToString());
                FlushWord(word, output);
            }
            else
            {
                word.Append(rune.ToString());
            }
        }
        FlushWord(word, output);
    }

    /// <inheritdoc />
    protected override byte[] NormalBytes(int id)
    {
        // Unused and undefined pieces are suppressed like control tokens, as llama.cpp does.
        if (Vocabulary.Types[id] != TokenType.Normal) return [];
        return Encoding.UTF8.GetBytes(Vocabulary.Tokens[id].Replace(WordMarker, ' '));
    }

    /// <summary>
    /// BERT's normaliser: drops control characters, turns whitespace into spaces, puts spaces around
    /// CJK ideographs, decomposes and drops combining marks, lowercases. Whitespace is reduced to
    /// single spaces so the caller splits on ' ' only.
    /// </summary>
    internal static string Normalize(string text)
    {
        var cleaned = new StringBuilder(text.Length);
        // Enumerating runes turns lone surrogates into U+FFFD, which is then dropped like BERT drops it.
        foreach (var rune in text.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == 0 || c == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (IsCjk(c)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }

        var stripped = new StringBuilder(cleaned.Length);
        foreach (var rune in cleaned.ToString().EnumerateRunes()) AccentStripper.Append(rune, stripped);

        var result = new StringBuilder(stripped.Length);
        foreach (var rune in stripped.ToString().EnumerateRunes()) result.Append(Rune.ToLowerInvariant(rune).ToString());
        return result.ToString();
    }

    private void FlushWord(StringBuilder word, List<int> output)
    {
        if (word.Length == 0) return;
        // One buffer holding marker + word: word-initial probes include the marker, later ones skip it.
        var buffer = new char[word.Length + 1];
        buffer[0] = WordMarker;
        word.CopyTo(0, buffer, 1, word.Length);
        word.Clear();
        EncodeWord(buffer, output);
    }

    private void EncodeWord(ReadOnlySpan<char> marked, List<int> output)
    {
        int unk = Vocabulary.Unk ?? throw new TokenizerFormatException("A WordPiece vocabulary needs an unknown token.");
        ReadOnlySpan<char> word = marked[1..];
        if (CountRunes(word) > MaxWordLength)
        {
            output.Add(unk);
            return;
        }

        int firstPiece = output.Count;
        for (int start = 0; start < word.Length;)
        {
            int found = -1, foundEnd = -1;
            int end = Math.Min(word.Length, start + _maxTokenLength);
            for (; end > start; end--)
            {
                // Never probe a piece that ends between the two halves of a surrogate pair.
                if (end < word.Length && char.IsLowSurrogate(word[end])) continue;
                var probe = start == 0 ? marked[..(end + 1)] : word[start..end];
                if (Vocabulary.TryFind(probe, out int id))
                {
                    found = id;
                    foundEnd = end;
                    break;
                }
            }
            if (found < 0)
            {
                // BERT emits one unknown token for the whole word, not for the unmatched tail.
                output.RemoveRange(firstPiece, output.Count - firstPiece);
                output.Add(unk);
                return;
            }
            output.Add(found);
            start = foundEnd;
        }
    }

    private static int CountRunes(ReadOnlySpan<char> s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    // BERT counts tab, newline and carriage return as whitespace, not control.
    private static bool IsControl(Rune r) =>
        r.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    private static bool IsWhitespace(Rune r) => r.Value is ' ' or '\t' or '\n' or '\r' || Rune.IsWhiteSpace(r);

    private static bool IsPunctuation(Rune r)
    {
        int c = r.Value;
        // ASCII symbols such as $ + < = > ^ ` | ~ are not Unicode punctuation but BERT splits them too.
        if (c is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    // The CJK Unified Ideograph blocks BERT isolates; Hangul, kana and CJK punctuation are not among them.
    private static bool IsCjk(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
