using System.Globalization;
using System.Text;

namespace Basalt.Tokenizers;

/// <summary>
/// A copy of a text with one UTF-16 unit per code point, for regex matching. The pre-tokenizer
/// regexes are written for code points (Hugging Face and llama.cpp match them on code points), but
/// .NET matches UTF-16 units, where an emoji is two surrogates of category Cs and a supplementary
/// letter fails <c>\p{L}</c>. Here each supplementary code point is replaced by a BMP stand-in of the
/// same general category that no pre-tokenizer names explicitly, so every class sees the category
/// the code point really has. Text without surrogates is used as is.
/// </summary>
internal readonly struct CodePointView
{
    private readonly int[]? _utf16Offsets; // view index -> UTF-16 index, one extra for the end

    private CodePointView(ReadOnlyMemory<char> text, int[]? offsets)
    {
        Text = text;
        _utf16Offsets = offsets;
    }

    /// <summary>The text to match against.</summary>
    public ReadOnlyMemory<char> Text { get; }

    /// <summary>
    /// Makes the view. With <paramref name="deepSeekCased"/>, the supplementary cased letters that
    /// DeepSeek LLM's letter class lists become U+00B5 (in that class) and other letters U+A000 (not in it).
    /// </summary>
    public static CodePointView Create(string text, bool deepSeekCased)
    {
        int firstSurrogate = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (firstSurrogate < 0) return new CodePointView(text.AsMemory(), null);

        var chars = new char[text.Length];
        var offsets = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length;)
        {
            offsets[n] = i;
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used) == System.Buffers.OperationStatus.Done && used == 2)
                chars[n++] = StandIn(rune, deepSeekCased);
            else
                chars[n++] = text[i]; // BMP character, or a lone surrogate that stays itself
            i += used > 0 ? used : 1;
        }
        offsets[n] = text.Length;
        return new CodePointView(chars.AsMemory(0, n), offsets);
    }

    /// <summary>Rewrites (start, length) pairs from view indices to UTF-16 indices of the original text.</summary>
    public void MapToUtf16(List<(int Start, int Length)> ranges)
    {
        if (_utf16Offsets is null) return;
        for (int i = 0; i < ranges.Count; i++)
        {
            var (start, length) = ranges[i];
            int s = _utf16Offsets[start];
            ranges[i] = (s, _utf16Offsets[start + length] - s);
        }
    }

    private static char StandIn(Rune rune, bool deepSeekCased)
    {
        var category = Rune.GetUnicodeCategory(rune);
        if (deepSeekCased && category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter)
            return InDeepSeekSupplementaryCased(rune.Value) ? '\u00B5' : '\uA000';
        return category switch
        {
            UnicodeCategory.UppercaseLetter => '\u00C0',
            UnicodeCategory.LowercaseLetter => '\u00B5',
            UnicodeCategory.TitlecaseLetter => '\u01C5',
            UnicodeCategory.ModifierLetter => '\u02B0',
            UnicodeCategory.OtherLetter => '\uA000',
            UnicodeCategory.NonSpacingMark => '\u0300',
            UnicodeCategory.SpacingCombiningMark => '\u0903',
            UnicodeCategory.EnclosingMark => '\u20DD',
            UnicodeCategory.DecimalDigitNumber => '\u0660',
            UnicodeCategory.LetterNumber => '\u2160',
            UnicodeCategory.OtherNumber => '\u00B2',
            UnicodeCategory.ConnectorPunctuation => '\u203F',
            UnicodeCategory.DashPunctuation => '\u2010',
            UnicodeCategory.OpenPunctuation => '\u2045',
            UnicodeCategory.ClosePunctuation => '\u2046',
            UnicodeCategory.InitialQuotePunctuation => '\u00AB',
            UnicodeCategory.FinalQuotePunctuation => '\u00BB',
            UnicodeCategory.OtherPunctuation => '\u00B7',
            UnicodeCategory.MathSymbol => '\u00AC',
            UnicodeCategory.CurrencySymbol => '\u00A2',
            UnicodeCategory.ModifierSymbol => '\u00B4',
            UnicodeCategory.OtherSymbol => '\u00A6', // emoji
            UnicodeCategory.Format => '\u00AD',
            UnicodeCategory.PrivateUse => '\uE000',
            _ => '\u0378', // unassigned
        };
    }

    private static bool InDeepSeekSupplementaryCased(int cp) =>
        cp is >= 0x10400 and <= 0x1044F or >= 0x104B0 and <= 0x104D3 or >= 0x104D8 and <= 0x104FB
            or >= 0x10C80 and <= 0x10CB2 or >= 0x10CC0 and <= 0x10CF2 or >= 0x118A0 and <= 0x118DF
            or >= 0x1E900 and <= 0x1E943;
}
