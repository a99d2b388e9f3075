namespace Basalt.Inference.Sampling;

/// <summary>
/// One vocabulary entry as it moves through a sampler chain: its token id, its (possibly
/// modified) logit and, when <see cref="TokenCandidates.HasProbabilities"/> is set, its probability.
/// </summary>
/// <remarks>A mutable struct so samplers can edit entries in place through a span, without copies.</remarks>
public struct TokenCandidate
{
    /// <summary>Creates an entry.</summary>
    public TokenCandidate(int id, float logit, float p)
    {
        Id = id;
        Logit = logit;
        P = p;
    }

    /// <summary>The token id.</summary>
    public int Id { get; set; }

    /// <summary>The logit as modified by the samplers applied so far.</summary>
    public float Logit { get; set; }

    /// <summary>The probability; only meaningful while <see cref="TokenCandidates.HasProbabilities"/> is true.</summary>
    public float P { get; set; }

    /// <inheritdoc/>
    public override readonly string ToString() => $"({Id}, logit {Logit}, p {P})";
}
