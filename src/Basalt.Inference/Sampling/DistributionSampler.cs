using System.Security.Cryptography;

namespace Basalt.Inference.Sampling;

/// <summary>
/// Picks a token at random in proportion to the softmax of the remaining logits. The draw walks
/// the cumulative sum in candidate order with one uniform number from a seeded xoshiro256**, so
/// the same seed and logits give the same tokens on every run, machine and thread count.
/// </summary>
public sealed class DistributionSampler : ISampler
{
    private Xoshiro256StarStar _rng;

    /// <summary>Creates the sampler; a null seed picks a random one (see <see cref="Seed"/>).</summary>
    public DistributionSampler(ulong? seed = null)
    {
        Seed = seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
        _rng = new Xoshiro256StarStar(Seed);
    }

    /// <summary>The seed in use, so a random run can be reported and replayed.</summary>
    public ulong Seed { get; }

    /// <inheritdoc/>
    public string Name => "dist";

    /// <summary>Restarts the random sequence from <see cref="Seed"/>.</summary>
    public void Reset() => _rng = new Xoshiro256StarStar(Seed);

    /// <inheritdoc/>
    public void Apply(TokenCandidates candidates)
    {
        if (candidates.Count == 0)
            throw new InvalidOperationException("No candidates are left to pick from.");
        candidates.Softmax();
        var entries = candidates.Entries;

        // Scale the draw by the actual total so float rounding in p cannot push it past the end.
        double total = 0;
        foreach (ref readonly var e in entries)
            total += e.P;
        double target = _rng.NextDouble() * total;

        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].P <= 0f)
                continue;
            cumulative += entries[i].P;
            last = i;
            if (target < cumulative)
            {
                candidates.SelectedIndex = i;
                return;
            }
        }
        candidates.SelectedIndex = last;
    }
}
