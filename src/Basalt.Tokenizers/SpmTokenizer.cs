using System.Text;

namespace Basalt.Tokenizers;

/// <summary>
/// SentencePiece-style BPE (<c>tokenizer.ggml.model = llama</c>): spaces become U+2581, the text is
/// split into characters, and adjacent pieces are merged greedily by vocabulary score. Characters
/// the vocabulary lacks fall back to <c>&lt;0xNN&gt;</c> byte tokens.
/// </summary>
public sealed class SpmTokenizer : Tokenizer
{
    private const char SpaceMarker = '\u2581';

    // llama.cpp renders the unknown token as U+2585 so that it stays visible in decoded text.
    private static readonly byte[] UnknownPiece = Encoding.UTF8.GetBytes("\u2585");

    private readonly int[] _byteTokens;

    /// <summary>Creates an SPM tokenizer over <paramref name="vocabulary"/>.</summary>
    public SpmTokenizer(Vocabulary vocabulary) : base(vocabulary)
    {
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++) _byteTokens[b] = FindByteToken((byte)b);
    }

    /// <inheritdoc />
    protected override bool StripsLeadingSpace => Vocabulary.AddSpacePrefix;

    /// <inheritdoc />
    protected override void EncodeText(string text, bool atStartOrAfterSpecial, List<int> output)
    {
        bool prefix = atStartOrAfterSpecial && Vocabulary.AddSpacePrefix;
        if (text.Length == 0 && !prefix) return;
        string escaped = Escape(text, prefix);
        new Session(this, escaped).Run(output);
    }

    /// <inheritdoc />
    protected override byte[] NormalBytes(int id)
    {
        // Unused and undefined pieces are suppressed like control tokens, as llama.cpp does.
        if (Vocabulary.Types[id] != TokenType.Normal) return [];
        return Encoding.UTF8.GetBytes(Vocabulary.Tokens[id].Replace(SpaceMarker, ' '));
    }

    /// <inheritdoc />
    protected override byte[] UnknownBytes(int id) => (byte[])UnknownPiece.Clone();

    private static string Escape(string text, bool prefix) =>
        string.Create(text.Length + (prefix ? 1 : 0), (text, prefix), static (dst, state) =>
        {
            int o = 0;
            if (state.prefix) dst[o++] = SpaceMarker;
            foreach (char c in state.text) dst[o++] = c == ' ' ? SpaceMarker : c;
        });

    private int FindByteToken(byte b)
    {
        if (Vocabulary.Find($"<0x{b:X2}>") is int id && Vocabulary.Types[id] == TokenType.Byte) return id;
        // Some converted vocabularies lack byte tokens but hold the ASCII character itself.
        if (b < 0x80 && Vocabulary.Find(((char)b).ToString()) is int plain) return plain;
        return Vocabulary.Find($"<0x{b:X2}>") ?? -1;
    }

    private void AppendBytes(ReadOnlySpan<char> piece, List<int> output)
    {
        Span<byte> utf8 = piece.Length <= 2 ? stackalloc byte[8] : new byte[Encoding.UTF8.GetMaxByteCount(piece.Length)];
        int n = Encoding.UTF8.GetBytes(piece, utf8);
        for (int i = 0; i < n; i++)
        {
            int id = _byteTokens[utf8[i]];
            if (id < 0)
                id = Vocabulary.Unk ?? throw new TokenizerFormatException($"Vocabulary has no byte token <0x{utf8[i]:X2}> and no unknown token.");
            output.Add(id);
        }
    }

    // Sentencepiece never merges into control, unknown or byte pieces: those only come from special
    // handling, so typed text such as "<s>" stays ordinary text.
    private bool IsMergeTarget(int id) => Vocabulary.Types[id] is not (TokenType.Control or TokenType.Unknown or TokenType.Byte);

    /// <summary>One encoding pass over one escaped fragment: a linked list of symbols and a queue of candidate merges.</summary>
    private sealed class Session
    {
        private readonly SpmTokenizer _owner;
        private readonly string _text;
        private readonly int[] _start;
        private readonly int[] _length;
        private readonly int[] _prev;
        private readonly int[] _next;
        private readonly PriorityQueue<Bigram, Bigram> _queue = new(BigramPriority.Instance);
        // Only pieces merged into an unused token need their history, to be split apart again at the end.
        private Dictionary<(int Start, int Length), int>? _unusedMerges;

        public Session(SpmTokenizer owner, string text)
        {
            _owner = owner;
            _text = text;
            int capacity = text.Length;
            _start = new int[capacity];
            _length = new int[capacity];
            _prev = new int[capacity];
            _next = new int[capacity];
        }

        public void Run(List<int> output)
        {
            int count = 0;
            for (int pos = 0; pos < _text.Length; count++)
            {
                int len = char.IsHighSurrogate(_text[pos]) && pos + 1 < _text.Length && char.IsLowSurrogate(_text[pos + 1]) ? 2 : 1;
                _start[count] = pos;
                _length[count] = len;
                _prev[count] = count - 1;
                pos += len;
                _next[count] = pos == _text.Length ? -1 : count + 1;
            }
            if (count == 0) return;

            for (int i = 1; i < count; i++) TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                int left = bigram.Left, right = bigram.Right;
                // Stale entry: one side has since been merged into something else.
                if (_length[left] == 0 || _length[right] == 0 || _length[left] + _length[right] != bigram.Length) continue;

                if (_owner.Vocabulary.Types[bigram.Id] == TokenType.Unused)
                    (_unusedMerges ??= [])[(_start[left], bigram.Length)] = _length[left];

                _length[left] += _length[right];
                _length[right] = 0;
                _next[left] = _next[right];
                if (_next[right] >= 0) _prev[_next[right]] = left;

                TryAddBigram(_prev[left], left);
                TryAddBigram(left, _next[left]);
            }

            for (int i = 0; i != -1; i = _next[i]) Resegment(_start[i], _length[i], output);
        }

        private void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int length = _length[left] + _length[right];
            var vocab = _owner.Vocabulary;
            if (!vocab.TryFind(_text.AsSpan(_start[left], length), out int id) || !_owner.IsMergeTarget(id)) return;
            var bigram = new Bigram(left, right, vocab.Scores[id], length, id);
            _queue.Enqueue(bigram, bigram);
        }

        private void Resegment(int start, int length, List<int> output)
        {
            var piece = _text.AsSpan(start, length);
            if (_owner.Vocabulary.TryFind(piece, out int id) && _owner.IsMergeTarget(id))
            {
                bool unused = _owner.Vocabulary.Types[id] == TokenType.Unused;
                if (!unused || _unusedMerges is null || !_unusedMerges.TryGetValue((start, length), out int leftLength))
                {
                    output.Add(id);
                    return;
                }
                Resegment(start, leftLength, output);
                Resegment(start + leftLength, length - leftLength, output);
                return;
            }
            // Only single characters can get here: every merge forms a vocabulary piece.
            _owner.AppendBytes(piece, output);
        }
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Length, int Id);

    // Highest score first; on a tie the leftmost pair, so results do not depend on heap order.
    private sealed class BigramPriority : IComparer<Bigram>
    {
        public static readonly BigramPriority Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            int byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
