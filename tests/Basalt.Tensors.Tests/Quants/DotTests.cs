using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

public class DotTests
{
    private const double UnitRoundoff = 1.0 / (1 << 24);

    private static bool IsKQuant(GgmlType type) => GgmlTypeInfo.Of(type).BlockSize == 256;

    /// <summary>
    /// Σ|terms| that a dot of this row may add up in f32: |w_i·x_i|, plus |m·x_i| for the offset formats whose dot
    /// splits w = d·q + m into two separately rounded terms.
    /// </summary>
    internal static double Magnitude(GgmlType type, byte[] row, byte[] xq, int n)
    {
        var w = new float[n];
        var x = new float[n];
        ReferenceKernels.Dequantize(type, row, w);
        ReferenceKernels.Dequantize(ActivationFormat.For(type), xq, x);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Abs((double)w[i] * x[i]);
        if (type is GgmlType.Q4_1 or GgmlType.Q5_1)
        {
            int bytes = GgmlTypeInfo.Of(type).BytesPerBlock;
            for (int i = 0; i < n; i++) sum += Math.Abs(FloatConversions.ReadHalf(row.AsSpan(i / 32 * bytes + 2)) * (double)x[i]);
        }
        return sum;
    }

    [Theory]
    [MemberData(nameof(RandomRows.WeightTypeData), MemberType = typeof(RandomRows))]
    public void Fast_MatchesReference(GgmlType type)
    {
        var rng = new Random(2000 + (int)type);
        foreach (int n in RandomRows.Lengths(type))
        {
            var row = RandomRows.Row(type, n, rng);
            var x = RandomRows.Floats(rng, n);
            var xq = RandomRows.Quantize(type, x);
            var fastXq = new byte[xq.Length];
            FastKernels.QuantizeActivations(type, x, fastXq);
            Assert.Equal(xq, fastXq);

            float expected = ReferenceKernels.DotQuantized(type, row, xq);
            float actual = FastKernels.DotQuantized(type, row, xq);
            if (IsKQuant(type))
            {
                // Same exact integer super-block sums, combined by the same f32 expression in the same order.
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));
            }
            else
            {
                // Both sides sum the same exactly-rounded terms (≤ n of them) in different orders, the fast side with
                // FMA. Any two orders of summing m terms differ by at most 2·m·u·Σ|terms| (u = 2^-24); n bounds m.
                double tolerance = 2 * n * UnitRoundoff * Magnitude(type, row, xq, n) + 1e-30;
                Assert.True(Math.Abs(expected - actual) <= tolerance, $"{type} n={n}: reference {expected:R}, fast {actual:R}, tolerance {tolerance:G3}");
            }
            Assert.Equal(actual, FastKernels.Dot(type, row, x));
            Assert.Equal(expected, ReferenceKernels.Dot(type, row, x));
        }
    }

    [Theory]
    [MemberData(nameof(RandomRows.WeightTypeData), MemberType = typeof(RandomRows))]
    public void Reference_EqualsDotOfDequantizedRows(GgmlType type)
    {
        // Ties the dot kernels to the dequantizers (which the real-file test ties to ggml): the quantized dot must be
        // the f64 dot of the dequantized weight row and dequantized activations, up to f32 summation error. Q8_1's
        // fp16 block sum s = fp16(d·Σq) adds up to 2^-11·|m·s| per block.
        var rng = new Random(3000 + (int)type);
        foreach (int n in RandomRows.Lengths(type))
        {
            var row = RandomRows.Row(type, n, rng);
            var xq = RandomRows.Quantize(type, RandomRows.Floats(rng, n));
            var w = new float[n];
            var x = new float[n];
            ReferenceKernels.Dequantize(type, row, w);
            ReferenceKernels.Dequantize(ActivationFormat.For(type), xq, x);
            double exact = 0;
            for (int i = 0; i < n; i++) exact += (double)w[i] * x[i];
            double magnitude = Magnitude(type, row, xq, n);
            double tolerance = 4 * n * UnitRoundoff * magnitude + (type is GgmlType.Q4_1 or GgmlType.Q5_1 ? magnitude / 2048 : 0) + 1e-30;
            float actual = ReferenceKernels.DotQuantized(type, row, xq);
            Assert.True(Math.Abs(actual - exact) <= tolerance, $"{type} n={n}: dot {actual:R}, exact {exact:R}, tolerance {tolerance:G3}");
        }
    }

    [Theory]
    [MemberData(nameof(RandomRows.WeightTypeData), MemberType = typeof(RandomRows))]
    public void MatVec_RowsEqualDotQuantized(GgmlType type)
    {
        var rng = new Random(4000 + (int)type);
        int cols = GgmlTypeInfo.Of(type).BlockSize == 1 ? 96 : 2 * GgmlTypeInfo.Of(type).BlockSize;
        const int rows = 7;
        var weights = RandomRows.Row(type, rows * cols, rng);
        var x = RandomRows.Floats(rng, cols);
        var xq = RandomRows.Quantize(type, x);
        var fast = new float[rows];
        var reference = new float[rows];
        FastKernels.MatVec(type, weights, rows, cols, x, fast);
        ReferenceKernels.MatVec(type, weights, rows, cols, x, reference);
        int rowBytes = (int)GgmlTypeInfo.Of(type).RowBytes(cols);
        for (int r = 0; r < rows; r++)
        {
            var row = weights.AsSpan(r * rowBytes, rowBytes);
            Assert.Equal(FastKernels.DotQuantized(type, row, xq), fast[r]);
            Assert.Equal(ReferenceKernels.DotQuantized(type, row, xq), reference[r]);
        }
    }
}
