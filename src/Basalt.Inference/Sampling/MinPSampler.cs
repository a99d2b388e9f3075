namespace Basalt.Inference.Sampling;

/// <summary>
/// Keeps candidates whose probability is at least <c>minP</c> times the top probability, but
/// never fewer than <c>minKeep</c>. <c>minP &lt;= 0</c> turns it off.
/// </summary>
/// <remarks>
/// p_i ≥ minP·p_max is the same as logit_i ≥ logit_max + ln(minP), so no softmax (and no sort)
/// is needed; survivors keep their order, so a sorted buffer stays sorted.
/// </remarks>
public sealed class MinPSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    public MinPSampler(float minP, int minKeep = 1)
    {
        if (float.IsNaN(minP))
            throw new ArgumentOutOfRangeException(nameof(minP), minP, "Min-p must be a number; 0 or less disables it.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minKeep);
        MinP = minP;
        MinKeep = minKeep;
    }

    /// <summary>The fraction of the top probability a candidate needs.</summary>
    public float MinP { get; }

    /// <summary>The fewest candidates kept.</summary>
    public int MinKeep { get; }

    /// <inheritdoc/>
    public string Name => "min-p";

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (MinP <= 0f || candidates.Count == 0)
            return;
        var entries = candidates.Entries;
        float max = float.NegativeInfinity;
        foreach (ref readonly var e in entries)
            max = MathF.Max(max, e.Logit);
        float threshold = max + MathF.Log(MinP);

        int survivors = 0;
        foreach (ref readonly var e in entries)
            if (e.Logit >= threshold)
                survivors++;
        if (survivors < MinKeep)
        {
            candidates.KeepTop(Math.Min(MinKeep, entries.Length));
            return;
        }
        if (survivors == entries.Length)
            return;

        int kept = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].Logit >= threshold)
                entries[kept++] = entries[i];
        }
        candidates.OnEntriesMoved();
        candidates.Truncate(kept);
    }
}
