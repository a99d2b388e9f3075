using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

/// <summary>Top-k, top-p, min-p and temperature on tiny hand-computed distributions.</summary>
public class FilterSamplerTests
{
    // softmax(1, 2, 3, 4) = 0.0321, 0.0871, 0.2369, 0.6439; cumulative from the top: 0.644, 0.881, 0.968, 1.
    [Theory]
    [InlineData(0.5f, new[] { 3 })]
    [InlineData(0.64f, new[] { 3 })]
    [InlineData(0.644f, new[] { 3, 2 })]
    [InlineData(0.9f, new[] { 3, 2, 1 })]
    [InlineData(0.99f, new[] { 3, 2, 1, 0 })]
    public void TopP_keeps_the_smallest_prefix_reaching_p(float p, int[] expected)
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new TopPSampler(p).Apply(c);
        Assert.Equal(expected, Candidates.Ids(c));
    }

    [Fact]
    public void TopP_sorts_unsorted_input_first()
    {
        var c = Candidates.Of(3, 1, 4, 2); // p: id2 0.644, id0 0.237, ...
        new TopPSampler(0.85f).Apply(c);
        Assert.Equal(new[] { 2, 0 }, Candidates.Ids(c));
    }

    [Fact]
    public void TopP_honours_min_keep_and_is_off_at_one()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new TopPSampler(0.1f, minKeep: 3).Apply(c);
        Assert.Equal(new[] { 3, 2, 1 }, Candidates.Ids(c));

        var off = Candidates.Of(1, 2, 3, 4);
        new TopPSampler(1f).Apply(off);
        Assert.Equal(4, off.Count);
        Assert.True(off.IsIdOrdered);
    }

    // p_i / p_max for (1, 2, 3, 4) is e^-3 = 0.0498, e^-2 = 0.135, e^-1 = 0.368, 1.
    [Theory]
    [InlineData(0.3f, new[] { 2, 3 })]
    [InlineData(0.1f, new[] { 1, 2, 3 })]
    [InlineData(0.05f, new[] { 1, 2, 3 })]
    [InlineData(0.049f, new[] { 0, 1, 2, 3 })]
    [InlineData(1f, new[] { 3 })]
    public void MinP_keeps_tokens_within_a_fraction_of_the_top(float minP, int[] expected)
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new MinPSampler(minP).Apply(c);
        Assert.Equal(expected, Candidates.SortedIds(c));
    }

    [Fact]
    public void MinP_keeps_at_least_min_keep_best_tokens()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new MinPSampler(0.9f, minKeep: 3).Apply(c);
        Assert.Equal(new[] { 3, 2, 1 }, Candidates.Ids(c));
    }

    [Fact]
    public void MinP_keeps_a_sorted_buffer_sorted()
    {
        var c = Candidates.Of(4, 1, 3, 2);
        c.Sort();
        new MinPSampler(0.3f).Apply(c);
        Assert.Equal(new[] { 0, 2 }, Candidates.Ids(c));
        Assert.True(c.IsSorted);
    }

    [Fact]
    public void TopK_keeps_k_best_in_order_and_is_off_at_zero()
    {
        var c = Candidates.Of(1, 5, 3, 4, 2);
        new TopKSampler(2).Apply(c);
        Assert.Equal(new[] { 1, 3 }, Candidates.Ids(c));
        Assert.True(c.IsSorted);

        var off = Candidates.Of(1, 5, 3, 4, 2);
        new TopKSampler(0).Apply(off);
        Assert.Equal(5, off.Count);
        Assert.False(off.IsSorted);

        var big = Candidates.Of(1, 5, 3);
        new TopKSampler(40).Apply(big);
        Assert.Equal(new[] { 1, 2, 0 }, Candidates.Ids(big));
    }

    [Fact]
    public void Temperature_two_halves_the_logits()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new TemperatureSampler(2f).Apply(c);
        var p = Candidates.Probabilities(c, 4);
        double[] expected = [0.1015363241, 0.1674050973, 0.2760043447, 0.4550542339];
        for (int i = 0; i < 4; i++)
            Assert.Equal(expected[i], p[i], 6);
    }

    [Fact]
    public void Temperature_half_sharpens_the_distribution()
    {
        var c = Candidates.Of(1, 2, 3, 4);
        new TemperatureSampler(0.5f).Apply(c);
        var p = Candidates.Probabilities(c, 4);
        Assert.Equal(0.8649548768, p[3], 6);
        Assert.Equal(0.0021440088, p[0], 6);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    public void Temperature_zero_or_below_keeps_only_the_max(float t)
    {
        var c = Candidates.Of(1, 7, 3, 7);
        new TemperatureSampler(t).Apply(c);
        Assert.Equal(new[] { 1 }, Candidates.Ids(c));
        Assert.Equal(7f, c.Entries[0].Logit);
    }
}
