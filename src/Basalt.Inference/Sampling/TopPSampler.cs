namespace Basalt.Inference.Sampling;

/// <summary>
/// Nucleus sampling: keeps the smallest highest-probability prefix whose cumulative probability
/// reaches <c>p</c>, but never fewer than <c>minKeep</c> candidates. <c>p &gt;= 1</c> turns it off.
/// </summary>
public sealed class TopPSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    public TopPSampler(float p, int minKeep = 1)
    {
        if (float.IsNaN(p))
            throw new ArgumentOutOfRangeException(nameof(p), p, "Top-p must be a number; 1 or more disables it.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minKeep);
        P = p;
        MinKeep = minKeep;
    }

    /// <summary>The cumulative probability to reach.</summary>
    public float P { get; }

    /// <summary>The fewest candidates kept.</summary>
    public int MinKeep { get; }

    /// <inheritdoc/>
    public string Name => "top-p";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (P >= 1f || candidates.Count == 0)
            return;
        candidates.Sort();
        candidates.Softmax();
        var entries = candidates.Entries;
        double cumulative = 0;
        int keep = entries.Length;
        for (int i = 0; i < entries.Length; i++)
        {
            cumulative += entries[i].P;
            if (cumulative >= P && i + 1 >= MinKeep)
            {
                keep = i + 1;
                break;
            }
        }
        candidates.Truncate(keep);
    }
}
