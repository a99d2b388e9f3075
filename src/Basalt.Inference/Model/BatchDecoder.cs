namespace Basalt.Inference.Model;

/// <summary>
/// One decode step for many sequences at once: each sequence gets its next token and yields the
/// logits after it. This is the entry point a serving loop calls once per step.
/// </summary>
public static class BatchDecoder
{
    /// <summary>
    /// Feeds <paramref name="tokens"/>[i] to <paramref name="sequences"/>[i] and copies the logits after it into
    /// <paramref name="logits"/>[i] (each at least n_vocab long). All sequences must share one model.
    /// </summary>
    /// <exception cref="ContextOverflowException">A sequence is full; the others are not advanced either.</exception>
    public static void Step(IReadOnlyList<Sequence> sequences, ReadOnlySpan<int> tokens, IReadOnlyList<float[]> logits)
    {
        if (sequences.Count != tokens.Length || sequences.Count != logits.Count)
            throw new ArgumentException($"Got {sequences.Count} sequences, {tokens.Length} tokens and {logits.Count} logit buffers; they must match.");
        foreach (var s in sequences)
            if (s.Length >= s.Capacity) throw new ContextOverflowException(s.Length + 1, s.Capacity);
        for (int i = 0; i < sequences.Count; i++)
            sequences[i].Process([tokens[i]]).CopyTo(logits[i]);
    }
}
