using System.Buffers.Binary;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

public class ActivationQuantizeTests
{
    [Fact]
    public void Q8_0_RoundTripErrorIsWithinHalfAStep()
    {
        // q = roundf(x / d) with d = amax / 127 leaves |x − d·q| ≤ d/2. The stored scale is fp16(d), which moves each
        // value by a further |q|·|fp16(d) − d| ≤ 127·|fp16(d) − d|; f32 rounding of x·(1/d) adds a few ulps.
        var rng = new Random(5);
        var x = RandomRows.Floats(rng, 32 * 64, 3.0);
        var xq = RandomRows.Quantize(GgmlType.Q8_0, x);
        var y = new float[x.Length];
        ReferenceKernels.Dequantize(GgmlType.Q8_0, xq, y);
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[b * 32 + j]));
            double d = amax / 127.0;
            double stored = FloatConversions.ReadHalf(xq.AsSpan(b * 34));
            for (int j = 0; j < 32; j++)
            {
                int q = (sbyte)xq[b * 34 + 2 + j];
                double bound = d / 2 + Math.Abs(q) * Math.Abs(stored - d) + 1e-6 * amax;
                Assert.True(Math.Abs(x[b * 32 + j] - y[b * 32 + j]) <= bound, $"block {b} element {j}");
            }
        }
    }

    [Fact]
    public void Q8_0_ExactScaleGivesErrorAtMostHalfAStep()
    {
        // With amax = 127·2^-4 the scale 2^-4 is exact in fp16, so the bound is exactly scale/2.
        var rng = new Random(6);
        var x = RandomRows.Floats(rng, 32, 127.0 / 16);
        x[5] = 127f / 16;
        var xq = RandomRows.Quantize(GgmlType.Q8_0, x);
        var y = new float[32];
        ReferenceKernels.Dequantize(GgmlType.Q8_0, xq, y);
        Assert.Equal(1f / 16, FloatConversions.ReadHalf(xq));
        for (int j = 0; j < 32; j++) Assert.True(Math.Abs(x[j] - y[j]) <= 1f / 32, $"element {j}");
        Assert.Equal(127, (sbyte)xq[2 + 5]);
    }

    [Fact]
    public void Q8_0_RoundsHalfAwayFromZero()
    {
        var x = new float[32];
        x[0] = 127;
        x[1] = 2.5f;
        x[2] = -2.5f;
        var xq = RandomRows.Quantize(GgmlType.Q8_0, x);
        Assert.Equal(3, (sbyte)xq[3]);
        Assert.Equal(-3, (sbyte)xq[4]);
    }

    [Fact]
    public void Q8_K_RoundTripAndBlockSums()
    {
        var rng = new Random(8);
        var x = RandomRows.Floats(rng, 256 * 4, 2.0);
        x[300] = -5f; // a negative extreme: the scale takes its sign
        var xq = RandomRows.Quantize(GgmlType.Q4_K, x);
        var y = new float[x.Length];
        ReferenceKernels.Dequantize(GgmlType.Q8_K, xq, y);
        for (int b = 0; b < 4; b++)
        {
            var block = xq.AsSpan(b * 292, 292);
            float d = BinaryPrimitives.ReadSingleLittleEndian(block);
            for (int j = 0; j < 256; j++)
                Assert.True(Math.Abs(x[b * 256 + j] - y[b * 256 + j]) <= Math.Abs(d) * 0.5001, $"block {b} element {j}");
            for (int k = 0; k < 16; k++)
            {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += (sbyte)block[4 + 16 * k + j];
                Assert.Equal(sum, BinaryPrimitives.ReadInt16LittleEndian(block[(260 + 2 * k)..]));
            }
        }
        Assert.Equal(-127, (sbyte)xq[292 + 4 + 300 - 256]);
    }

    [Fact]
    public void Q8_1_StoresFp16BlockSum()
    {
        var rng = new Random(9);
        var x = RandomRows.Floats(rng, 64);
        var xq = RandomRows.Quantize(GgmlType.Q4_1, x);
        for (int b = 0; b < 2; b++)
        {
            float d = FloatConversions.ReadHalf(xq.AsSpan(b * 36));
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += (sbyte)xq[b * 36 + 4 + j];
            float s = FloatConversions.ReadHalf(xq.AsSpan(b * 36 + 2));
            Assert.True(Math.Abs(s - sum * d) <= Math.Abs(sum * d) / 1024 + 1e-6, $"block {b}");
        }
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void FloatWeightTypes_RoundActivationsToTheWeightFormat(GgmlType type)
    {
        var x = new[] { 1 + MathF.Pow(2, -12), 3.14159f, -1e-3f, 65504f };
        var xq = RandomRows.Quantize(type, x);
        for (int i = 0; i < x.Length; i++)
        {
            float expected = type == GgmlType.F16
                ? FloatConversions.HalfToSingle(FloatConversions.SingleToHalf(x[i]))
                : FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(x[i]));
            Assert.Equal(expected, BinaryPrimitives.ReadSingleLittleEndian(xq.AsSpan(4 * i)));
        }
    }
}
