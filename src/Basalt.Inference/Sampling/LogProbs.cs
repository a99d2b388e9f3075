namespace Basalt.Inference.Sampling;

/// <summary>
/// Log-probabilities of raw logits, before any sampler runs, as reported by <c>--logprobs K</c>
/// and the OpenAI <c>logprobs</c> field. Stable: the maximum is subtracted and the sum is kept in double.
/// </summary>
public static class LogProbs
{
    /// <summary>ln Σ exp(logit), computed without overflow.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
            throw new ArgumentException("Expected at least one logit.", nameof(logits));
        float max = float.NegativeInfinity;
        foreach (float x in logits)
            max = MathF.Max(max, x);
        if (float.IsNegativeInfinity(max) || float.IsNaN(max))
            throw new ArgumentException($"Expected at least one finite logit, but the maximum is {max}.", nameof(logits));
        double sum = 0;
        foreach (float x in logits)
            sum += Math.Exp((double)x - max);
        return max + Math.Log(sum);
    }

    /// <summary>Writes ln softmax(logits) into <paramref name="destination"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (destination.Length < logits.Length)
            throw new ArgumentException($"Destination holds {destination.Length} values but {logits.Length} logits were given.", nameof(destination));
        double lse = LogSumExp(logits);
        for (int i = 0; i < logits.Length; i++)
            destination[i] = (float)(logits[i] - lse);
    }

    /// <summary>ln p of one token.</summary>
    public static float LogProbOf(ReadOnlySpan<float> logits, int token)
    {
        if ((uint)token >= (uint)logits.Length)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token ids run from 0 to {logits.Length - 1}.");
        return (float)(logits[token] - LogSumExp(logits));
    }

    /// <summary>
    /// The <paramref name="k"/> most likely tokens with their log-probabilities, most likely first,
    /// ties by lower id.
    /// </summary>
    public static TokenLogProb[] TopK(ReadOnlySpan<float> logits, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        k = Math.Min(k, logits.Length);
        if (k == 0)
            return [];
        double lse = LogSumExp(logits);

        // Insertion into a small sorted array: k is a handful (OpenAI caps it at 20).
        var top = new TokenLogProb[k];
        int filled = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            float x = logits[id];
            if (filled == k && !(x > top[k - 1].LogProb))
                continue;
            int pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && x > top[pos - 1].LogProb)
            {
                top[pos] = top[pos - 1];
                pos--;
            }
            top[pos] = new TokenLogProb(id, x);
        }
        for (int i = 0; i < k; i++)
            top[i] = top[i] with { LogProb = (float)(top[i].LogProb - lse) };
        return top;
    }
}
