using Basalt.Tensors.Ops;

namespace Basalt.Tensors.Tests.Ops;

public sealed class RopeTests
{
    /// <summary>The rotation written out element by element: each product rounded, then the sum.</summary>
    private static void ScalarRope(float[] x, int headDim, float[] cos, float[] sin, bool neox)
    {
        int half = cos.Length;
        for (int head = 0; head + headDim <= x.Length; head += headDim)
            for (int i = 0; i < half; i++)
            {
                int a = head + (neox ? i : 2 * i), b = head + (neox ? i + half : 2 * i + 1);
                float x0 = x[a], x1 = x[b];
                float c = cos[i], s = sin[i];
                float p0 = x0 * c, p1 = x1 * s, p2 = x0 * s, p3 = x1 * c;
                x[a] = p0 - p1;
                x[b] = p2 + p3;
            }
    }

    [Theory]
    [InlineData(64, 64, 32, false)]   // llama: every dimension rotated, adjacent pairs
    [InlineData(64, 64, 32, true)]    // NeoX layout
    [InlineData(128, 128, 4, false)]
    [InlineData(128, 128, 4, true)]
    [InlineData(80, 80, 3, false)]    // 40 pairs: five vectors of eight, no remainder
    [InlineData(80, 80, 3, true)]     // 40 pairs: two vectors of sixteen and a remainder of eight
    [InlineData(64, 32, 5, false)]    // partial rotary: the last 32 dimensions untouched
    [InlineData(64, 32, 5, true)]
    [InlineData(64, 22, 2, false)]    // 11 pairs: one vector and three by the scalar loop
    [InlineData(64, 22, 2, true)]
    public void GivesTheBitsOfTheElementByElementRotation(int headDim, int ropeDim, int heads, bool neox)
    {
        var rng = new Random(headDim * 31 + ropeDim * 7 + heads + (neox ? 1 : 0));
        var x = new float[headDim * heads + (heads % 2 == 1 ? 5 : 0)]; // a partial head at the end stays as it is
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-3, 4)));
        var cos = new float[ropeDim / 2];
        var sin = new float[ropeDim / 2];
        VectorOps.RopeAngles(rng.Next(0, 5000), ropeDim, 10000f, 1f, cos, sin);
        var expected = (float[])x.Clone();
        ScalarRope(expected, headDim, cos, sin, neox);

        VectorOps.Rope(x, headDim, cos, sin, neox);

        for (int i = 0; i < x.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(x[i]), $"element {i}: {x[i]} against {expected[i]}");
    }

    [Fact]
    public void MoreAnglesThanHalfAHeadAreRejected()
    {
        var x = new float[64];
        var ex = Assert.Throws<ArgumentException>(() => VectorOps.Rope(x, 64, new float[33], new float[33], neox: false));
        Assert.Contains("headDim/2", ex.Message);
        Assert.Throws<ArgumentException>(() => VectorOps.Rope(x, 64, new float[32], new float[31], neox: false));
    }
}
