using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

public class DistributionSamplerTests
{
    private static readonly float[] Logits = MakeLogits(1000);

    [Fact]
    public void Xoshiro_matches_reference_outputs()
    {
        // splitmix64 from state 0, as in Vigna's reference splitmix64.c.
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, Xoshiro256StarStar.SplitMix64(ref state));
        Assert.Equal(0x06C45D188009454FUL, Xoshiro256StarStar.SplitMix64(ref state));

        var rng = new Xoshiro256StarStar(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, rng.NextUInt64());
        Assert.Equal(0xBF6E1F784956452AUL, rng.NextUInt64());
        Assert.Equal(0x1A5F849D4933E6E0UL, rng.NextUInt64());
    }

    [Fact]
    public void Same_seed_gives_the_same_1000_tokens()
    {
        var a = Draw(seed: 42, 1000);
        var b = Draw(seed: 42, 1000);
        Assert.Equal(a, b);
        Assert.True(a.Distinct().Count() > 10, "a flat-ish distribution should not keep returning one token");
    }

    [Fact]
    public void Different_seeds_give_different_tokens()
    {
        Assert.NotEqual(Draw(seed: 42, 1000), Draw(seed: 43, 1000));
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_on_every_thread()
    {
        var expected = Draw(seed: 7, 200);
        var results = new int[8][];
        Parallel.For(0, results.Length, i => results[i] = Draw(seed: 7, 200));
        foreach (var r in results)
            Assert.Equal(expected, r);
    }

    [Fact]
    public void Reset_restarts_the_sequence_from_the_seed()
    {
        var dist = new DistributionSampler(99);
        var c = new TokenCandidates(Logits.Length);
        var first = new int[50];
        for (int i = 0; i < first.Length; i++)
        {
            c.Load(Logits);
            dist.Apply(c);
            first[i] = c.SelectedId;
        }
        dist.Reset();
        for (int i = 0; i < first.Length; i++)
        {
            c.Load(Logits);
            dist.Apply(c);
            Assert.Equal(first[i], c.SelectedId);
        }
    }

    [Fact]
    public void Null_seed_picks_a_random_seed_and_reports_it()
    {
        var a = new DistributionSampler();
        var b = new DistributionSampler();
        Assert.NotEqual(a.Seed, b.Seed);
    }

    [Fact]
    public void Frequencies_over_20000_draws_match_the_distribution()
    {
        double[] probabilities = [0.5, 0.3, 0.2];
        float[] logits = [.. probabilities.Select(p => (float)Math.Log(p))];
        var dist = new DistributionSampler(12345);
        var c = new TokenCandidates(3);
        var counts = new int[3];
        const int draws = 20000;
        for (int i = 0; i < draws; i++)
        {
            c.Load(logits);
            dist.Apply(c);
            counts[c.SelectedId]++;
        }
        for (int i = 0; i < 3; i++)
            Assert.InRange(counts[i] / (double)draws, probabilities[i] - 0.02, probabilities[i] + 0.02);
    }

    [Fact]
    public void Never_draws_a_banned_token()
    {
        var dist = new DistributionSampler(5);
        var c = new TokenCandidates(3);
        for (int i = 0; i < 2000; i++)
        {
            c.Load([0f, float.NegativeInfinity, 0f]);
            dist.Apply(c);
            Assert.NotEqual(1, c.SelectedId);
        }
    }

    private static int[] Draw(ulong seed, int count)
    {
        var chain = new SamplerChain([new TopKSampler(0), new DistributionSampler(seed)]);
        var tokens = new int[count];
        for (int i = 0; i < count; i++)
            tokens[i] = chain.Sample(Logits);
        return tokens;
    }

    private static float[] MakeLogits(int n)
    {
        var logits = new float[n];
        for (int i = 0; i < n; i++)
            logits[i] = MathF.Sin(i * 0.37f) * 2f;
        return logits;
    }
}
