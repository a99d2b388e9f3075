using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Sampling;

public class LogProbsTests
{
    [Fact]
    public void LogSoftmax_of_1_2_3_4_matches_hand_computed_values()
    {
        var dest = new float[4];
        LogProbs.LogSoftmax([1f, 2f, 3f, 4f], dest);
        double[] expected = [-3.4401896986, -2.4401896986, -1.4401896986, -0.4401896986];
        for (int i = 0; i < 4; i++)
            Assert.Equal(expected[i], dest[i], 5);
    }

    [Fact]
    public void LogSoftmax_is_stable_for_huge_and_banned_logits()
    {
        var dest = new float[3];
        LogProbs.LogSoftmax([1000f, 1001f, float.NegativeInfinity], dest);
        Assert.Equal(-1.3132616875, dest[0], 5);
        Assert.Equal(-0.3132616875, dest[1], 5);
        Assert.Equal(float.NegativeInfinity, dest[2]);
    }

    [Fact]
    public void TopK_returns_the_most_likely_tokens_first_ties_by_lower_id()
    {
        var top = LogProbs.TopK([1f, 4f, 3f, 4f, 2f], 3);
        Assert.Equal(new[] { 1, 3, 2 }, top.Select(t => t.Id).ToArray());
        double lse = Math.Log(Math.Exp(1) + 2 * Math.Exp(4) + Math.Exp(3) + Math.Exp(2));
        Assert.Equal(4 - lse, top[0].LogProb, 5);
        Assert.Equal(3 - lse, top[2].LogProb, 5);
    }

    [Fact]
    public void TopK_clamps_k_to_the_vocabulary()
    {
        Assert.Equal(2, LogProbs.TopK([1f, 2f], 5).Length);
        Assert.Empty(LogProbs.TopK([1f, 2f], 0));
    }

    [Fact]
    public void LogProbOf_matches_log_softmax()
    {
        Assert.Equal(-1.4401896986, LogProbs.LogProbOf([1f, 2f, 3f, 4f], 2), 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => LogProbs.LogProbOf([1f], 1));
    }
}
