namespace Basalt.Inference.Sampling;

/// <summary>
/// Adds a fixed bias to chosen tokens' logits; a bias of negative infinity bans a token outright.
/// </summary>
public sealed class LogitBiasSampler : ISampler
{
    private readonly Dictionary<int, float> _biases;

    /// <summary>Creates the sampler.</summary>
    /// <param name="biases">Token id → value added to its logit.</param>
    /// <param name="vocabSize">The vocabulary size, used to reject ids that do not exist.</param>
    public LogitBiasSampler(IReadOnlyDictionary<int, float> biases, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(biases);
        foreach (var (id, bias) in biases)
        {
            if ((uint)id >= (uint)vocabSize)
                throw new ArgumentOutOfRangeException(nameof(biases), id, $"Logit bias names token {id}, but token ids run from 0 to {vocabSize - 1}.");
            if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
                throw new ArgumentOutOfRangeException(nameof(biases), bias, $"Logit bias for token {id} must be finite or -infinity (a ban).");
        }
        _biases = new Dictionary<int, float>(biases);
    }

    /// <summary>The biases by token id.</summary>
    public IReadOnlyDictionary<int, float> Biases => _biases;

    /// <inheritdoc/>
    public string Name => "logit-bias";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (_biases.Count == 0)
            return;
        var entries = candidates.Entries;
        if (candidates.IsIdOrdered)
        {
            foreach (var (id, bias) in _biases)
            {
                int i = candidates.IndexOf(id);
                if (i >= 0)
                    entries[i].Logit += bias;
            }
        }
        else
        {
            // One pass with lookups beats one scan per biased id once the order is shuffled.
            foreach (ref var e in entries)
                if (_biases.TryGetValue(e.Id, out float bias))
                    e.Logit += bias;
        }
        candidates.OnLogitsChanged(orderPreserved: false);
    }
}
