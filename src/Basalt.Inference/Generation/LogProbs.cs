namespace Basalt.Inference.Generation;

/// <summary>Natural-log softmax of raw logits, as llama-server reports log-probs (before any sampler).</summary>
public static class LogProbs
{
    /// <summary>The <paramref name="k"/> most likely tokens with their log-probs, most likely first (ties: lower id first).</summary>
    public static IReadOnlyList<TokenLogProb> Top(ReadOnlySpan<float> logits, int k)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        double logSum = Math.Log(sum);
        k = Math.Min(k, logits.Length);
        // A small sorted insertion list: k is tiny next to the vocabulary.
        var best = new List<TokenLogProb>(k + 1);
        for (int id = 0; id < logits.Length; id++)
        {
            if (best.Count == k && logits[id] <= best[^1].LogProb + max + logSum) continue;
            var entry = new TokenLogProb(id, (float)(logits[id] - max - logSum));
            int at = best.Count;
            while (at > 0 && best[at - 1].LogProb < entry.LogProb) at--;
            best.Insert(at, entry);
            if (best.Count > k) best.RemoveAt(k);
        }
        return best;
    }
}
