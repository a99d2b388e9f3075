using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Tests.Quants;

/// <summary>
/// <see cref="FastKernels.MatVecRows(GgmlType, ReadOnlySpan{byte}, int, int, int, ReadOnlySpan{byte}, Span{float})"/>
/// on both code paths (the AVX2 kernels forced, and the Vector512 kernels where the machine has them) at every row
/// length the dot tests use, which covers every tail: odd block counts, pair-loop remainders, float tails.
/// </summary>
public class MatVecRowsTests
{
    private const double UnitRoundoff = 1.0 / (1 << 24);

    public static TheoryData<GgmlType, bool> TypesAndPaths()
    {
        var data = new TheoryData<GgmlType, bool>();
        foreach (var type in RandomRows.WeightTypes)
        {
            data.Add(type, false);
            data.Add(type, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndPaths))]
    public void Rows_EqualDotQuantized_AndMatchReference(GgmlType type, bool vector512)
    {
        var rng = new Random(5000 + (int)type + (vector512 ? 100 : 0));
        bool kQuant = GgmlTypeInfo.Of(type).BlockSize == 256;
        foreach (int n in RandomRows.Lengths(type))
        {
            const int rows = 6, rowStart = 1, rowEnd = 5;
            int need = (int)GgmlTypeInfo.Of(type).RowBytes(n);
            // Rows a few bytes further apart than they need, so a kernel that assumed a packed stride would misread.
            int rowBytes = need + 3;
            var weights = new byte[(rows - 1) * rowBytes + need];
            var rowData = new byte[rows][];
            for (int r = 0; r < rows; r++)
            {
                rowData[r] = RandomRows.Row(type, n, rng);
                rowData[r].CopyTo(weights, r * rowBytes);
            }
            var xq = RandomRows.Quantize(type, RandomRows.Floats(rng, n));
            var y = new float[rowEnd - rowStart + 2];
            y.AsSpan().Fill(float.NaN);

            FastKernels.MatVecRows(type, weights, rowBytes, rowStart, rowEnd, xq, y, vector512);

            for (int r = rowStart; r < rowEnd; r++)
            {
                float actual = y[r - rowStart];
                Assert.Equal(BitConverter.SingleToUInt32Bits(FastKernels.DotQuantized(type, rowData[r], xq, vector512)), BitConverter.SingleToUInt32Bits(actual));
                float expected = ReferenceKernels.DotQuantized(type, rowData[r], xq);
                AssertClose(type, n, rowData[r], xq, expected, actual, kQuant, vector512);
            }
            // Rows outside the range leave y alone.
            Assert.True(float.IsNaN(y[rowEnd - rowStart]) && float.IsNaN(y[^1]));
        }
    }

    private static void AssertClose(GgmlType type, int n, byte[] row, byte[] xq, float expected, float actual, bool kQuant, bool vector512)
    {
        if (kQuant)
        {
            // Exact integer super-block sums, combined by the reference's f32 expression: bit-identical.
            Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));
        }
        else
        {
            // The same bound as DotTests: two summation orders of at most n exactly rounded terms.
            double tolerance = 2 * n * UnitRoundoff * DotTests.Magnitude(type, row, xq, n) + 1e-30;
            Assert.True(Math.Abs(expected - actual) <= tolerance,
                $"{type} n={n} vector512={vector512}: reference {expected:R}, fast {actual:R}, tolerance {tolerance:G3}");
        }
    }

    [Fact]
    public void PublicEntryPoints_UseTheSamePath()
    {
        var rng = new Random(77);
        foreach (var type in RandomRows.WeightTypes)
        {
            int n = GgmlTypeInfo.Of(type).BlockSize == 1 ? 100 : 3 * GgmlTypeInfo.Of(type).BlockSize;
            var row = RandomRows.Row(type, n, rng);
            var xq = RandomRows.Quantize(type, RandomRows.Floats(rng, n));
            var y = new float[1];
            FastKernels.MatVecRows(type, row, row.Length, 0, 1, xq, y);
            Assert.Equal(FastKernels.DotQuantized(type, row, xq), y[0]);
            Assert.Equal(FastKernels.DotQuantized(type, row, xq, FastKernels.IsVector512Accelerated), y[0]);
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        var type = GgmlType.Q4_0;
        var rng = new Random(9);
        var weights = RandomRows.Row(type, 4 * 64, rng); // four rows of 64
        var xq = RandomRows.Quantize(type, RandomRows.Floats(rng, 64));
        int rowBytes = 36;
        var y = new float[4];
        Assert.Throws<ArgumentException>(() => FastKernels.MatVecRows(type, weights, rowBytes - 1, 0, 4, xq, y));
        Assert.Throws<ArgumentException>(() => FastKernels.MatVecRows(type, weights.AsSpan(0, 3 * rowBytes + 1), rowBytes, 0, 4, xq, y));
        Assert.Throws<ArgumentException>(() => FastKernels.MatVecRows(type, weights, rowBytes, 0, 4, xq, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastKernels.MatVecRows(type, weights, rowBytes, 3, 2, xq, y));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastKernels.MatVecRows(type, weights, rowBytes, -1, 2, xq, y));
        Assert.Throws<ArgumentException>(() => FastKernels.MatVecRows(type, weights, rowBytes, 0, 4, xq.AsSpan(0, 33), y));
        // An empty range reads nothing and writes nothing.
        FastKernels.MatVecRows(type, weights, rowBytes, 4, 4, xq, Span<float>.Empty);
    }
}
