namespace Basalt.Inference.Model;

/// <summary>
/// One decode step for many sequences at once: each sequence gets its next token, and all of them
/// go through the network as one batch, so the weights are read once per step rather than once per
/// sequence. This is the entry point a serving loop calls once per step.
/// </summary>
public static class BatchDecoder
{
    /// <summary>
    /// Feeds <paramref name="tokens"/>[i] to <paramref name="sequences"/>[i] and copies the logits after it into
    /// <paramref name="logits"/>[i] (each at least n_vocab long). The sequences must have been created
    /// on one shared <see cref="BatchForward"/> (<c>new Sequence(forward, …)</c>), which runs the batch.
    /// </summary>
    /// <exception cref="ContextOverflowException">A sequence is full; none is advanced.</exception>
    public static void Step(IReadOnlyList<Sequence> sequences, ReadOnlySpan<int> tokens, IReadOnlyList<float[]> logits)
    {
        if (sequences.Count != tokens.Length || sequences.Count != logits.Count)
            throw new ArgumentException($"Got {sequences.Count} sequences, {tokens.Length} tokens and {logits.Count} logit buffers; they must match.");
        if (sequences.Count == 0) return;
        var forward = sequences[0].Forward;
        foreach (var s in sequences)
        {
            if (s.Forward != forward) throw new ArgumentException("All sequences of a step must share one BatchForward.", nameof(sequences));
            if (s.Length >= s.Capacity) throw new ContextOverflowException(s.Length + 1, s.Capacity);
        }
        int vocab = forward.Model.Config.VocabSize;
        int batch = Math.Min(sequences.Count, forward.MaxBatch);
        var entries = System.Buffers.ArrayPool<BatchEntry>.Shared.Rent(batch);
        try
        {
            Run(forward, sequences, tokens, logits, entries, batch, vocab);
        }
        finally
        {
            Array.Clear(entries, 0, batch);
            System.Buffers.ArrayPool<BatchEntry>.Shared.Return(entries);
        }
    }

    private static void Run(BatchForward forward, IReadOnlyList<Sequence> sequences, ReadOnlySpan<int> tokens, IReadOnlyList<float[]> logits,
        BatchEntry[] entries, int batch, int vocab)
    {
        for (int done = 0; done < sequences.Count;)
        {
            int n = Math.Min(batch, sequences.Count - done);
            for (int i = 0; i < n; i++)
            {
                var s = sequences[done + i];
                entries[i] = new BatchEntry(s.Cache, tokens[done + i], s.Length, WantLogits: true);
            }
            var all = forward.Forward(entries.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                var row = all.Slice(i * vocab, vocab);
                sequences[done + i].Advance(tokens[done + i], row);
                row.CopyTo(logits[done + i]);
            }
            done += n;
        }
    }
}
