using Basalt.Inference.Generation;

namespace Basalt.Inference.Tests.Generation;

public sealed class LogProbsTests
{
    [Fact]
    public void TopKAreSortedNaturalLogSoftmax()
    {
        float[] logits = [1f, 3f, 2f, 3f];
        var top = LogProbs.Top(logits, 3);
        double z = Math.Log(Math.Exp(1) + 2 * Math.Exp(3) + Math.Exp(2));
        Assert.Equal([1, 3, 2], top.Select(t => t.Id));
        Assert.Equal(3 - z, top[0].LogProb, 5);
        Assert.Equal(3 - z, top[1].LogProb, 5);
        Assert.Equal(2 - z, top[2].LogProb, 5);
    }

    [Fact]
    public void KLargerThanVocabularyReturnsEverything() => Assert.Equal(2, LogProbs.Top([0f, 0f], 10).Count);
}
