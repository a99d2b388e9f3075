using Basalt.Tensors.Ops;

namespace Basalt.Tensors.Tests.Ops;

public sealed class ActivationTests
{
    private static float[] Inputs(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * 12);
        return x;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(512)]
    [InlineData(1100)]
    public void SiluMatchesTheFormulaInDouble(int n)
    {
        var x = Inputs(n, n);
        var y = (float[])x.Clone();
        VectorOps.Silu(y);
        for (int i = 0; i < n; i++)
        {
            double expected = x[i] / (1 + Math.Exp(-(double)x[i]));
            Assert.True(Math.Abs(y[i] - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"silu({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(512)]
    [InlineData(1100)]
    public void GeluMatchesTheTanhFormulaInDouble(int n)
    {
        var x = Inputs(n, n + 1);
        var y = (float[])x.Clone();
        VectorOps.Gelu(y);
        for (int i = 0; i < n; i++)
        {
            double v = x[i];
            double expected = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * v * (1 + 0.044715 * v * v)));
            Assert.True(Math.Abs(y[i] - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"gelu({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void ExtremeInputsStayFinite()
    {
        float[] x = [-100f, -30f, 0f, 30f, 100f];
        var s = (float[])x.Clone();
        VectorOps.Silu(s);
        Assert.Equal([-0f, -2.8072e-12f, 0f, 30f, 100f], s, (a, b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1, Math.Abs(b)));
        var g = (float[])x.Clone();
        VectorOps.Gelu(g);
        Assert.Equal([0f, 0f, 0f, 30f, 100f], g, (a, b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1, Math.Abs(b)));
    }
}
