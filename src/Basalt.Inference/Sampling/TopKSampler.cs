namespace Basalt.Inference.Sampling;

/// <summary>Keeps the <c>k</c> highest-logit candidates (sorted); <c>k &lt;= 0</c> turns it off.</summary>
public sealed class TopKSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    public TopKSampler(int k) => K = k;

    /// <summary>How many candidates to keep; 0 or below = off.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public string Name => "top-k";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (K <= 0 || candidates.Count == 0)
            return;
        candidates.KeepTop(K);
    }
}
