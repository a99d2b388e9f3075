using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

public class TokenCandidatesTests
{
    [Fact]
    public void Softmax_of_1_2_3_4_matches_hand_computed_values()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        var p = Candidates.Probabilities(c, 4);
        double[] expected = [0.0320586033, 0.0871443187, 0.2368828181, 0.6439142599];
        for (int i = 0; i < 4; i++)
            Assert.Equal(expected[i], p[i], 6);
        Assert.True(c.HasProbabilities);
        Assert.False(c.IsSorted);
    }

    [Fact]
    public void Softmax_is_stable_for_huge_logits()
    {
        var p = Candidates.Probabilities(Candidates.Of(1000, 1001), 2);
        Assert.Equal(0.2689414214, p[0], 6);
        Assert.Equal(0.7310585786, p[1], 6);
    }

    [Fact]
    public void Softmax_with_every_token_banned_throws()
    {
        var c = Candidates.Of(float.NegativeInfinity, float.NegativeInfinity);
        Assert.Throws<InvalidOperationException>(c.Softmax);
    }

    [Fact]
    public void Load_reuses_the_buffer_and_clears_state()
    {
        var c = new TokenCandidates(4);
        c.Load([1, 2, 3, 4]);
        c.KeepTop(2);
        c.SelectedIndex = 0;
        c.Load([4, 3]);
        Assert.Equal(2, c.Count);
        Assert.Equal(new[] { 0, 1 }, Candidates.Ids(c));
        Assert.False(c.IsSorted);
        Assert.True(c.IsIdOrdered);
        Assert.Equal(-1, c.SelectedIndex);
        Assert.Throws<ArgumentException>(() => c.Load(new float[5]));
    }

    [Fact]
    public void Sort_orders_by_logit_then_lower_id()
    {
        var c = Candidates.Of(1, 5, 3, 5, 2);
        c.Sort();
        Assert.Equal(new[] { 1, 3, 2, 4, 0 }, Candidates.Ids(c));
        Assert.True(c.IsSorted);
        Assert.False(c.IsIdOrdered);
    }

    [Fact]
    public void KeepTop_matches_a_full_sort_on_random_logits_with_ties()
    {
        var rng = new Random(7);
        foreach (int k in new[] { 1, 2, 3, 17, 100, 999, 1000, 5000 })
        {
            var logits = new float[1000];
            for (int i = 0; i < logits.Length; i++)
                logits[i] = rng.Next(0, 20); // many ties

            var heap = Candidates.Of(logits);
            heap.KeepTop(k);
            var full = Candidates.Of(logits);
            full.Sort();
            full.Truncate(Math.Min(k, 1000));

            Assert.Equal(Candidates.Ids(full), Candidates.Ids(heap));
            Assert.True(heap.IsSorted);
        }
    }

    [Fact]
    public void IndexOf_works_before_and_after_reordering()
    {
        var c = Candidates.Of(1, 3, 2);
        Assert.Equal(2, c.IndexOf(2));
        Assert.Equal(-1, c.IndexOf(3));
        c.Sort();
        Assert.Equal(1, c.IndexOf(2));
        Assert.Equal(0, c.IndexOf(1));
    }

    [Fact]
    public void SelectedId_without_a_picker_throws()
    {
        var c = Candidates.Of(1, 2);
        Assert.Throws<InvalidOperationException>(() => c.SelectedId);
    }
}
