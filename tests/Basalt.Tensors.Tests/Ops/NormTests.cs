using Basalt.Tensors.Ops;

namespace Basalt.Tensors.Tests.Ops;

public sealed class NormTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(2048)]
    [InlineData(5001)]
    public void SumOfSquaresIsTheDoubleSumToDoublePrecision(int n)
    {
        var rng = new Random(n);
        var x = Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 4)))).ToArray();
        double expected = 0;
        foreach (float v in x) expected += (double)v * v;
        double actual = VectorOps.SumOfSquares(x);
        Assert.True(Math.Abs(actual - expected) <= 1e-14 * expected, $"{actual} against {expected}");
    }

    [Fact]
    public void RmsNormScalesToUnitMeanSquareTimesTheWeight()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 2048).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var weight = Enumerable.Range(0, 2048).Select(i => 0.5f + i % 3).ToArray();
        var output = new float[x.Length];
        VectorOps.RmsNorm(x, weight, 1e-5f, output);
        double meanSquare = x.Sum(v => (double)v * v) / x.Length;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = x[i] / Math.Sqrt(meanSquare + 1e-5) * weight[i];
            Assert.True(Math.Abs(output[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{i}: {output[i]} against {expected}");
        }
    }
}
