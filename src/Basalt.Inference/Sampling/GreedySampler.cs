namespace Basalt.Inference.Sampling;

/// <summary>Picks the highest-logit candidate; ties go to the lowest token id.</summary>
public sealed class GreedySampler : ISampler
{
    /// <inheritdoc/>
    public string Name => "greedy";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (candidates.Count == 0)
            throw new InvalidOperationException("No candidates are left to pick from.");
        candidates.SelectedIndex = ArgMax(candidates.Entries);
    }

    /// <summary>The token with the highest logit, the lowest id on ties: greedy decoding straight from the logits.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>Index of the best entry by logit, ties → lowest id.</summary>
    internal static int ArgMax(ReadOnlySpan<TokenCandidate> entries)
    {
        int best = 0;
        for (int i = 1; i < entries.Length; i++)
            if (CandidateOrder.Before(entries[i], entries[best]))
                best = i;
        if (float.IsNegativeInfinity(entries[best].Logit))
            throw new InvalidOperationException("Every remaining candidate has logit -infinity (all tokens banned); there is nothing to pick.");
        return best;
    }
}
