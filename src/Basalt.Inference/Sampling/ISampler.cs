namespace Basalt.Inference.Sampling;

/// <summary>
/// One step of a sampler chain. Filters and transforms edit the candidates in place; a picker
/// (greedy or a seeded draw) ends the chain by setting <see cref="TokenCandidates.SelectedIndex"/>.
/// </summary>
/// <remarks>Samplers hold per-sequence state and are not thread-safe: use one chain per sequence.</remarks>
public interface ISampler
{
    /// <summary>A short name for logs and diagnostics, e.g. <c>top-k</c>.</summary>
    string Name { get; }

    /// <summary>Transforms, filters or picks from the candidates.</summary>
    void Apply(TokenCandidates candidates);

    /// <summary>Tells the sampler which token was chosen (or fed from the prompt); used by stateful samplers.</summary>
    void Accept(int token)
    {
    }

    /// <summary>Forgets all accepted tokens and restarts any random sequence from its seed.</summary>
    void Reset()
    {
    }
}
