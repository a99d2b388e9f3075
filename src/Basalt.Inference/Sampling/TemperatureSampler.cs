namespace Basalt.Inference.Sampling;

/// <summary>
/// Divides every logit by the temperature. As in llama.cpp, a temperature of zero or below means
/// greedy: only the highest-logit candidate (ties → lowest id) survives.
/// </summary>
public sealed class TemperatureSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    public TemperatureSampler(float temperature)
    {
        if (float.IsNaN(temperature) || float.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be a finite number; <= 0 means greedy.");
        Temperature = temperature;
    }

    /// <summary>The temperature.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public string Name => "temperature";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (candidates.Count == 0 || Temperature == 1f)
            return;
        var entries = candidates.Entries;
        if (Temperature <= 0f)
        {
            int best = GreedySampler.ArgMax(entries);
            if (best != 0)
            {
                entries[0] = entries[best];
                candidates.OnEntriesMoved();
            }
            candidates.Truncate(1);
            candidates.IsSorted = true;
            return;
        }
        // Multiplying by the reciprocal would differ from llama.cpp in the last bit; divide.
        foreach (ref var e in entries)
            e.Logit /= Temperature;
        candidates.OnLogitsChanged(orderPreserved: true);
    }
}
