using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

public sealed class Dot4Tests
{
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    public void FourAtOnceEqualsFourSingleDotsBitForBit(GgmlType type)
    {
        Assert.SkipUnless(FastKernels.HasDot4(type), $"no four-input {type} kernel on this CPU");
        var rng = new Random(17);
        int blockSize = GgmlTypeInfo.Of(type).BlockSize;
        // F16 rows have no blocks; odd lengths exercise the scalar tail.
        int[] lengths = type == GgmlType.F16 ? [1, 15, 32, 33, 100, 2048] : new[] { 1, 2, 3, 7, 64 }.Select(b => b * Math.Max(32, blockSize)).ToArray();
        foreach (int n in lengths)
        {
            var weights = new byte[GgmlTypeInfo.Of(type).RowBytes(n)];
            WeightQuantizer.Quantize(type, RandomFloats(rng, n), weights);
            var xq = Enumerable.Range(0, 4).Select(_ =>
            {
                var q = new byte[ActivationFormat.RowBytes(type, n)];
                FastKernels.QuantizeActivations(type, RandomFloats(rng, n), q);
                return q;
            }).ToArray();
            var results = new float[4];
            Assert.True(FastKernels.TryDotQuantized4(type, weights, xq[0], xq[1], xq[2], xq[3], results));
            for (int k = 0; k < 4; k++)
                Assert.Equal(FastKernels.DotQuantized(type, weights, xq[k]), results[k]);
        }
    }

    [Fact]
    public void TypesWithoutAFourWayKernelSayNo() =>
        Assert.False(FastKernels.TryDotQuantized4(GgmlType.Q4_K, new byte[144], new byte[292], new byte[292], new byte[292], new byte[292], new float[4]));

    private static float[] RandomFloats(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
