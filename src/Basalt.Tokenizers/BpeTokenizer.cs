using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace Basalt.Tokenizers;

/// <summary>
/// Byte-level BPE (<c>tokenizer.ggml.model = "gpt2"</c>), as used by GPT-2, Llama 3, Qwen, DeepSeek,
/// Falcon, StarCoder and others. Text is split into words by the model's pre-tokenizer regexes; each
/// word's UTF-8 bytes start as one symbol each, and adjacent symbols are merged by merge rank (lowest
/// first, leftmost on ties) until no listed merge applies. Any text can be encoded, because every byte
/// has a token.
/// </summary>
public sealed class BpeTokenizer : Tokenizer
{
    // Words repeat a lot in real text; past this many distinct ones the cache starts over.
    private const int CacheLimit = 1 << 16;

    private readonly BpePreTokenizer _pre;
    private readonly Dictionary<long, long> _merges; // (left id, right id) -> (rank, merged id)
    private readonly int[] _byteIds;                   // byte -> id of its one-character token, or -1
    private readonly byte[]?[] _pieceBytes;            // decoded normal tokens, filled on first use
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheCount; // ConcurrentDictionary.Count takes every lock, so adds are counted here

    [ThreadStatic] private static List<(int Start, int Length)>? t_words;

    /// <summary>Builds the merge table and pre-tokenizer for <paramref name="vocabulary"/>.</summary>
    /// <exception cref="TokenizerFormatException">The vocabulary is not a byte-level BPE one.</exception>
    public BpeTokenizer(Vocabulary vocabulary) : base(vocabulary)
    {
        if (vocabulary.Kind != TokenizerKind.Bpe)
            throw new TokenizerFormatException($"BpeTokenizer needs a gpt2 (BPE) vocabulary, not {vocabulary.Kind}.");
        _pre = BpePreTokenizer.For(vocabulary.Pre);
        _merges = BuildMerges(vocabulary);
        _byteIds = new int[256];
        for (int b = 0; b < 256; b++) _byteIds[b] = vocabulary.Find(ByteLevel.ByteToChar((byte)b).ToString()) ?? -1;
        _pieceBytes = new byte[vocabulary.Count][];
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The pre-tokenizer in use: the vocabulary's <c>tokenizer.ggml.pre</c>, or "default" when that is missing or unknown.</summary>
    public string PreTokenizer => _pre.Name;

    /// <summary>Whether the vocabulary's <c>tokenizer.ggml.pre</c> has its own regex set here.</summary>
    public static bool IsKnownPreTokenizer(string? pre) => BpePreTokenizer.IsKnown(pre);

    /// <inheritdoc />
    protected override void EncodeText(string text, bool atStartOrAfterSpecial, List<int> output)
    {
        var words = t_words ??= [];
        _pre.Split(text, words);
        foreach (var (start, length) in words) EncodeWord(text.AsSpan(start, length), output);
        // Reuse the list across calls, but do not pin a huge one to the thread after a huge text.
        if (words.Capacity > 1 << 18) t_words = null;
    }

    /// <inheritdoc />
    protected override byte[] NormalBytes(int id) => _pieceBytes[id] ??= DecodePiece(Vocabulary.Tokens[id]);

    private void EncodeWord(ReadOnlySpan<char> word, List<int> output)
    {
        if (!_cacheBySpan.TryGetValue(word, out int[]? ids))
        {
            ids = MergeWord(word);
            if (Interlocked.Increment(ref _cacheCount) > CacheLimit)
            {
                _cache.Clear();
                Interlocked.Exchange(ref _cacheCount, 0);
            }
            _cacheBySpan.TryAdd(word, ids);
        }
        output.AddRange(ids);
    }

    private int[] MergeWord(ReadOnlySpan<char> word)
    {
        int max = Encoding.UTF8.GetMaxByteCount(word.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            // Lone surrogates become U+FFFD here, the same bytes any UTF-8 encoder would give.
            var bytes = buffer[..Encoding.UTF8.GetBytes(word, buffer)];
            if (_pre.IgnoreMerges && Vocabulary.Find(ByteLevel.Encode(bytes)) is int whole) return [whole];
            return Merge(bytes);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private int[] Merge(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        if (n == 0) return [];
        if (n == 1) return _byteIds[bytes[0]] is >= 0 and int only ? [only] : [];

        // Symbols form a linked list over the byte positions; a merged-away symbol gets id Dead.
        const int Dead = int.MinValue;
        var ids = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = _byteIds[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Priority = rank in the high half, left position in the low half: lowest rank first, leftmost on ties.
        var queue = new PriorityQueue<int, long>();
        for (int i = 0; i + 1 < n; i++) TryQueue(i, i + 1);

        while (queue.TryDequeue(out int left, out long priority))
        {
            int right = next[left];
            if (ids[left] == Dead || right < 0) continue;
            // A stale entry: one side has merged since it was queued, so the pair (and its rank) changed.
            if (!_merges.TryGetValue(Key(ids[left], ids[right]), out long merge) || (int)(merge >> 32) != (int)(priority >> 32)) continue;

            ids[left] = (int)merge;
            ids[right] = Dead;
            next[left] = next[right];
            if (next[left] >= 0) prev[next[left]] = left;
            if (prev[left] >= 0) TryQueue(prev[left], left);
            if (next[left] >= 0) TryQueue(left, next[left]);
        }

        // Some vocabularies lack a few byte tokens (Falcon has none for 0x0B, for instance). Such a byte
        // never merges and is dropped, as llama.cpp drops it: its fallback finds no token either.
        var result = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i])
            if (ids[i] >= 0) result.Add(ids[i]);
        return result.ToArray();

        void TryQueue(int l, int r)
        {
            if (ids[l] >= 0 && ids[r] >= 0 && _merges.TryGetValue(Key(ids[l], ids[r]), out long m))
                queue.Enqueue(l, (m >> 32 << 32) | (uint)l);
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private static Dictionary<long, long> BuildMerges(Vocabulary vocab)
    {
        var merges = new Dictionary<long, long>(vocab.Merges.Length);
        for (int rank = 0; rank < vocab.Merges.Length; rank++)
        {
            string merge = vocab.Merges[rank];
            // Search from 1 so that a left part that is itself a space still splits correctly, as llama.cpp does.
            int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
            if (space < 0) continue;
            string left = merge[..space], right = merge[(space + 1)..];
            // A merge whose parts or result are not tokens can never produce an id, so it is left out.
            if (vocab.Find(left) is int l && vocab.Find(right) is int r && vocab.Find(left + right) is int m)
                merges.TryAdd(Key(l, r), ((long)rank << 32) | (uint)m);
        }
        return merges;
    }

    private static byte[] DecodePiece(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && ByteLevel.TryCharToByte((char)rune.Value, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            // Not a byte-level character (a hand-added token): keep it as its own UTF-8.
            int len = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < len; i++) bytes.Add(utf8[i]);
        }
        return bytes.ToArray();
    }
}
