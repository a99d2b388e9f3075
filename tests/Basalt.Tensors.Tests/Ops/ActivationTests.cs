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
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(5632)]
    [InlineData(5641)]
    public void SiluMultiplyGivesTheBitsOfSiluThenTheProduct(int n)
    {
        var gate = Inputs(n, 3 * n);
        var up = Inputs(n, 3 * n + 1);
        var expected = (float[])gate.Clone();
        VectorOps.Silu(expected);
        for (int i = 0; i < n; i++) expected[i] *= up[i];

        VectorOps.SiluMultiply(gate, up);

        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(gate[i]), $"element {i}: {gate[i]} against {expected[i]}");
        Assert.Throws<ArgumentException>(() => VectorOps.SiluMultiply(new float[4], new float[3]));
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
    public void TheVectorExponentialIsWithinTwoUlpsOverTheWholeFloatRange()
    {
        Assert.SkipUnless(System.Runtime.Intrinsics.X86.Avx512F.IsSupported, "needs AVX-512");
        var rng = new Random(5);
        var xs = new List<float> { 0f, -0f, 1f, -1f, 88.7f, 88.72f, 88.73f, 89f, 100f, float.MaxValue, float.PositiveInfinity,
            -87.3f, -103f, -103.9f, -104f, -110f, float.MinValue, float.NegativeInfinity, float.NaN, 1e-30f, -1e-30f };
        for (float x = -105f; x <= 90f; x += 0.0137f) xs.Add(x);
        for (int i = 0; i < 20000; i++) xs.Add((float)(rng.NextDouble() * 200 - 110));
        for (int at = 0; at + 16 <= xs.Count; at += 16)
        {
            var y = VectorOps.Exp512(System.Runtime.Intrinsics.Vector512.Create(xs.GetRange(at, 16).ToArray()));
            for (int k = 0; k < 16; k++)
            {
                float x = xs[at + k];
                float expected = (float)Math.Exp(x), actual = y[k];
                if (float.IsNaN(x)) { Assert.True(float.IsNaN(actual), $"exp(NaN) = {actual}"); continue; }
                if (float.IsInfinity(expected) || expected == 0) { Assert.True(actual == expected, $"exp({x}) = {actual}, expected {expected}"); continue; }
                // Two ulps of the expected value; in the subnormal range an ulp is 2^-149.
                float ulp = Math.Max(MathF.BitIncrement(expected) - expected, float.Epsilon);
                Assert.True(Math.Abs(actual - (double)Math.Exp(x)) <= 2 * ulp, $"exp({x}) = {actual}, expected {Math.Exp(x)}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(4000)]
    public void SoftmaxMatchesTheFormulaInDouble(int n)
    {
        var x = Inputs(n, n + 2);
        if (n > 2) (x[0], x[1]) = (80f, -90f); // a spread past the float range of e^x before the max is taken out
        var y = (float[])x.Clone();
        VectorOps.Softmax(y);
        double max = x.Max(), sum = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < n; i++)
        {
            double expected = Math.Exp(x[i] - max) / sum;
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * expected + 1e-30, $"softmax[{i}] of {x[i]} = {y[i]}, expected {expected}");
        }
        Assert.Equal(1.0, y.Sum(v => (double)v), 5);
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
