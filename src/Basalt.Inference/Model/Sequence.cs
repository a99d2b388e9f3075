using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// One sequence being decoded: its KV cache over a shared model. Feed tokens with <see cref="Process"/>;
/// each call appends them to the cache and returns the logits after the last. Prompts go through
/// the fast batched forward pass in batches of up to <see cref="BatchForward.MaxBatch"/> tokens.
/// </summary>
public sealed class Sequence
{
    private readonly BatchForward _forward;
    private readonly KvCache _cache;
    private readonly float[] _logits;
    private readonly int[] _tokens; // the token at each cached position
    private readonly int _vocab;
    private BatchEntry[] _entries = [];

    /// <summary>
    /// Creates a sequence with room for <paramref name="contextLength"/> tokens (default: the model's
    /// context length) and its own forward-pass buffers. Matrix products are split across
    /// <paramref name="runtime"/> when given.
    /// </summary>
    public Sequence(TransformerModel model, int? contextLength = null, bool f16Cache = true, WorkerPool? runtime = null)
        : this(new BatchForward(model, runtime), contextLength, f16Cache)
    {
    }

    /// <summary>Creates a sequence that runs on a shared <paramref name="forward"/> (one loop serving many sequences).</summary>
    public Sequence(BatchForward forward, int? contextLength = null, bool f16Cache = true)
    {
        _forward = forward;
        var c = forward.Model.Config;
        int n = contextLength ?? c.ContextLength;
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), n, "Context length must be positive.");
        _cache = new KvCache(c, n, f16Cache);
        _vocab = c.VocabSize;
        _logits = new float[_vocab];
        _tokens = new int[n];
    }

    /// <summary>The forward pass this sequence runs on.</summary>
    public BatchForward Forward => _forward;

    /// <summary>The sequence's KV cache.</summary>
    public KvCache Cache => _cache;

    /// <summary>Tokens in the cache.</summary>
    public int Length => _cache.Length;

    /// <summary>Positions the cache can hold.</summary>
    public int Capacity => _cache.Capacity;

    /// <summary>The logits after the last processed token.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>The tokens in the cache, in position order.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, _cache.Length);

    /// <summary>
    /// Makes this sequence hold the first <paramref name="count"/> tokens of <paramref name="source"/> (same model, same
    /// cache type): their keys and values are copied, so the tokens need not go through the model again.
    /// </summary>
    public void CopyPrefixFrom(Sequence source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (count < 0 || count > source.Length || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The source holds {source.Length} tokens and this sequence room for {Capacity}.");
        _cache.CopyFrom(source._cache, count);
        source._tokens.AsSpan(0, count).CopyTo(_tokens);
    }

    /// <summary>Forgets every token (the cache is reused).</summary>
    public void Reset() => _cache.Length = 0;

    /// <summary>Drops tokens after the first <paramref name="length"/>.</summary>
    public void Truncate(int length) => _cache.Length = Math.Clamp(length, 0, _cache.Length);

    /// <summary>
    /// Runs <paramref name="tokens"/> through the model at the next positions and returns the logits
    /// after the last one (valid until the next call). When <paramref name="allLogits"/> is given, it
    /// receives the logits after every token ([tokens × n_vocab]).
    /// </summary>
    /// <exception cref="ContextOverflowException">The tokens do not fit in the remaining context.</exception>
    public ReadOnlySpan<float> Process(scoped ReadOnlySpan<int> tokens, scoped Span<float> allLogits = default)
    {
        if (tokens.IsEmpty) throw new ArgumentException("At least one token is needed.", nameof(tokens));
        if (_cache.Length + tokens.Length > _cache.Capacity)
            throw new ContextOverflowException(_cache.Length + tokens.Length, _cache.Capacity);
        bool everyToken = !allLogits.IsEmpty;
        // Reused across calls: decoding one token at a time allocates nothing.
        if (_entries.Length < Math.Min(tokens.Length, _forward.MaxBatch)) _entries = new BatchEntry[Math.Min(tokens.Length, _forward.MaxBatch)];
        var entries = _entries;
        for (int done = 0; done < tokens.Length;)
        {
            int n = Math.Min(Math.Min(entries.Length, _forward.MaxBatch), tokens.Length - done);
            for (int i = 0; i < n; i++)
                entries[i] = new BatchEntry(_cache, tokens[done + i], _cache.Length + i, everyToken || done + i == tokens.Length - 1);
            var logits = _forward.Forward(entries.AsSpan(0, n));
            if (everyToken) logits.CopyTo(allLogits.Slice(done * _vocab, n * _vocab));
            if (done + n == tokens.Length) logits[^_vocab..].CopyTo(_logits);
            tokens.Slice(done, n).CopyTo(_tokens.AsSpan(_cache.Length));
            _cache.Length += n;
            done += n;
        }
        Array.Clear(entries, 0, Math.Min(entries.Length, tokens.Length)); // drop references to the cache
        return _logits;
    }

    /// <summary>Records that a batch computed elsewhere (<see cref="BatchDecoder"/>) appended <paramref name="token"/> with these logits.</summary>
    internal void Advance(int token, ReadOnlySpan<float> logits) => Extend([token], logits);

    /// <summary>
    /// Records that a batch computed elsewhere stored <paramref name="tokens"/> in the cache at the next positions; the
    /// logits after the last, when given, become <see cref="Logits"/>.
    /// </summary>
    internal void Extend(ReadOnlySpan<int> tokens, ReadOnlySpan<float> logits)
    {
        if (_cache.Length + tokens.Length > _cache.Capacity)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"{tokens.Length} more tokens do not fit: {_cache.Length} of {_cache.Capacity} used.");
        tokens.CopyTo(_tokens.AsSpan(_cache.Length));
        _cache.Length += tokens.Length;
        if (!logits.IsEmpty) logits.CopyTo(_logits);
    }
}
