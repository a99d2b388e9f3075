using System.Text;

namespace Basalt.Tokenizers;

/// <summary>
/// Turns tokens into text one at a time without ever emitting half a UTF-8 character: bytes of a
/// character that spans tokens are held back until the character is complete.
/// </summary>
public sealed class StreamingDetokenizer(Tokenizer tokenizer, bool renderSpecial = false)
{
    private readonly List<byte> _pending = [];
    private bool _first = true;

    /// <summary>Adds one token; returns the text that is now complete (possibly empty).</summary>
    public string Push(int id)
    {
        // A lone space-prefix piece ("▁") loses its only byte yet still ends the first position.
        if (tokenizer.AppendPieceBytes(id, renderSpecial, _first, _pending)) _first = false;
        int complete = CompletePrefixLength(_pending);
        if (complete == 0) return "";
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete];
        string text = Encoding.UTF8.GetString(span);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is held back (an incomplete character becomes U+FFFD) and resets.</summary>
    public string Flush()
    {
        string text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>
    /// Length of the longest prefix that does not end inside an incomplete UTF-8 sequence. Invalid
    /// bytes count as complete (they will decode to U+FFFD); only a truncated tail is held.
    /// </summary>
    internal static int CompletePrefixLength(List<byte> bytes)
    {
        int n = bytes.Count;
        // A UTF-8 sequence is at most 4 bytes, so only the last 3 can start an unfinished one.
        for (int back = 1; back <= Math.Min(3, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: keep looking for the lead
            int need = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
