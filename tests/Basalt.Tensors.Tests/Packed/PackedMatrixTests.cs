using Basalt.Tensors.Packed;
using Basalt.Tensors.Quants;
using Basalt.Tensors.Tests.Quants;

namespace Basalt.Tensors.Tests.Packed;

public sealed unsafe class PackedMatrixTests
{
    public static TheoryData<GgmlType> PackedTypes => new([GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16]);

    private sealed record Case(GgmlType Type, int Rows, int Cols, byte[] Weights, PackedMatrix Packed);

    private static Case Make(GgmlType type, int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        int rowBytes = (int)GgmlTypeInfo.Of(type).RowBytes(cols);
        var weights = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++) RandomRows.Row(type, cols, rng).CopyTo(weights, r * rowBytes);
        fixed (byte* w = weights)
        {
            var packed = PackedMatrix.TryPack(type, w, rows, cols, rowBytes);
            Assert.NotNull(packed);
            return new Case(type, rows, cols, weights, packed);
        }
    }

    private static byte[] Inputs(PackedMatrix packed, float[][] xs)
    {
        var inputs = new byte[xs.Length * packed.InputBytes];
        for (int i = 0; i < xs.Length; i++) packed.PrepareInput(xs[i], inputs.AsSpan(i * packed.InputBytes, packed.InputBytes));
        return inputs;
    }

    [Theory]
    [MemberData(nameof(PackedTypes))]
    public void ProductsMatchTheReferenceRowKernel(GgmlType type)
    {
        Assert.SkipUnless(PackedMatrix.CanPack(type, 16, 256), "no packed kernels on this CPU");
        foreach (var (rows, cols) in new[] { (16, 32), (32, 64), (48, 96), (16, 256), (32, 768), (16, 2048), (64, 5632) })
        {
            if (!PackedMatrix.CanPack(type, rows, cols)) continue;
            var c = Make(type, rows, cols, rows + cols);
            using var packed = c.Packed;
            var rng = new Random(cols);
            var xs = Enumerable.Range(0, 5).Select(_ => RandomRows.Floats(rng, cols, 3)).ToArray();
            var y = new float[xs.Length * rows];
            packed.Multiply(Inputs(packed, xs), packed.InputBytes, xs.Length, 0, packed.Groups, y, rows);
            int rowBytes = c.Weights.Length / rows;
            var w = new float[cols];
            for (int i = 0; i < xs.Length; i++)
            {
                var xq = RandomRows.Quantize(type, xs[i]);
                for (int r = 0; r < rows; r++)
                {
                    var row = c.Weights.AsSpan(r * rowBytes, rowBytes);
                    float expected = ReferenceKernels.DotQuantized(type, row, xq);
                    // The f32 rounding of block terms is all that may differ: bound it by the magnitude of the terms.
                    ReferenceKernels.Dequantize(type, row, w);
                    double magnitude = 0;
                    for (int j = 0; j < cols; j++) magnitude += Math.Abs(w[j] * xs[i][j]);
                    Assert.True(Math.Abs(y[i * rows + r] - expected) <= 1e-5 * magnitude + 1e-6,
                        $"{type} {rows}x{cols} input {i} row {r}: packed {y[i * rows + r]}, reference {expected}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(PackedTypes))]
    public void BatchSizeAndGroupSplitChangeNoBit(GgmlType type)
    {
        Assert.SkipUnless(PackedMatrix.CanPack(type, 16, 256), "no packed kernels on this CPU");
        const int rows = 64;
        int cols = GgmlTypeInfo.Of(type).BlockSize == 256 ? 512 : 320;
        var c = Make(type, rows, cols, 5);
        using var packed = c.Packed;
        var rng = new Random(9);
        var xs = Enumerable.Range(0, 16).Select(_ => RandomRows.Floats(rng, cols, 2)).ToArray();
        var inputs = Inputs(packed, xs);
        var single = new float[xs.Length * rows];
        for (int i = 0; i < xs.Length; i++)
            packed.Multiply(inputs.AsSpan(i * packed.InputBytes, packed.InputBytes), packed.InputBytes, 1, 0, packed.Groups, single.AsSpan(i * rows, rows), rows);
        // Every tail after the eight-input passes: 3 and 6–7 take a padded or overlapping wide pass.
        foreach (int count in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14, 15, 16 })
        {
            var y = new float[count * rows];
            // Two calls over different group ranges, as two threads would make them.
            packed.Multiply(inputs, packed.InputBytes, count, 0, 1, y, rows);
            packed.Multiply(inputs, packed.InputBytes, count, 1, packed.Groups, y, rows);
            Assert.Equal(single.AsSpan(0, count * rows).ToArray(), y);
        }
    }

    [Fact]
    public void F16WeightsWidenExactlyIncludingSubnormalsAndInfinities()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.F16, 16, 32), "no packed kernels on this CPU");
        // Column j of row r holds a chosen half; x is one-hot, so each product is exactly one weight.
        ushort[] specials = [0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x8001, 0x0000, 0x8000, 0x3555, 0xC123];
        foreach (bool withInfinity in new[] { false, true })
        {
            const int rows = 16, cols = 32;
            var weights = new ushort[rows * cols];
            for (int i = 0; i < weights.Length; i++) weights[i] = specials[i % specials.Length];
            if (withInfinity) weights[5 * cols + 7] = 0x7C00;
            fixed (ushort* w = weights)
            {
                using var packed = PackedMatrix.TryPack(GgmlType.F16, (byte*)w, rows, cols, cols * 2)!;
                for (int j = 0; j < cols; j++)
                {
                    var x = new float[cols];
                    x[j] = 1;
                    var input = new byte[packed.InputBytes];
                    packed.PrepareInput(x, input);
                    var y = new float[rows];
                    packed.Multiply(input, input.Length, 1, 0, 1, y, rows);
                    // Row 5 of the second matrix holds +Inf in column 7: Inf·1 = Inf there, and Inf·0 = NaN elsewhere.
                    for (int r = 0; r < rows; r++)
                    {
                        float expected = withInfinity && r == 5 && j != 7 ? float.NaN : (float)BitConverter.UInt16BitsToHalf(weights[r * cols + j]);
                        Assert.Equal(expected, y[r]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Q4_0ScalesWidenExactlyIncludingSubnormalsAndInfinities()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.Q4_0, 16, 64), "no packed kernels on this CPU");
        // Two blocks a row, each with a chosen fp16 scale and quants 0..15; x is all ones, so its Q8 blocks are 127s
        // with scale (half)(1/127). Each row is then FMA(Σ₁, d₁·dx, FMA(Σ₀, d₀·dx, 0)) in f32, exactly.
        ushort[] specials = [0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x7BFF, 0xFBFF, 0x8001, 0x0000, 0x8000, 0x3555, 0xC123, 0x2E66];
        foreach (bool withInfinity in new[] { false, true })
        {
            const int rows = 16, cols = 64, rowBytes = 36;
            var weights = new byte[rows * rowBytes];
            var scales = new ushort[rows, 2];
            var sums = new int[rows, 2];
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < 2; k++)
                {
                    scales[r, k] = withInfinity && r == 5 && k == 1 ? (ushort)0x7C00 : specials[(2 * r + k) % specials.Length];
                    BitConverter.TryWriteBytes(weights.AsSpan(r * rowBytes + 18 * k), scales[r, k]);
                    for (int b = 0; b < 16; b++)
                    {
                        int lo = (r + 3 * b + k) % 16, hi = (7 * r + b + 5 * k) % 16;
                        weights[r * rowBytes + 18 * k + 2 + b] = (byte)(lo | hi << 4);
                        sums[r, k] += (lo - 8 + hi - 8) * 127;
                    }
                }
            fixed (byte* w = weights)
            {
                using var packed = PackedMatrix.TryPack(GgmlType.Q4_0, w, rows, cols, rowBytes)!;
                var one = new byte[packed.InputBytes];
                packed.PrepareInput(Enumerable.Repeat(1f, cols).ToArray(), one);
                float dx = (float)(Half)(1f / 127);
                foreach (int count in new[] { 1, 4, 8 }) // the one-, four- and eight-input kernels
                {
                    var inputs = Enumerable.Repeat(one, count).SelectMany(b => b).ToArray();
                    var y = new float[count * rows];
                    packed.Multiply(inputs, one.Length, count, 0, 1, y, rows);
                    for (int i = 0; i < count; i++)
                        for (int r = 0; r < rows; r++)
                        {
                            float first = MathF.FusedMultiplyAdd(sums[r, 0], (float)BitConverter.UInt16BitsToHalf(scales[r, 0]) * dx, 0);
                            float expected = MathF.FusedMultiplyAdd(sums[r, 1], (float)BitConverter.UInt16BitsToHalf(scales[r, 1]) * dx, first);
                            Assert.Equal(expected, y[i * rows + r]);
                        }
                    if (withInfinity) Assert.True(float.IsInfinity(y[5]));
                }
            }
        }
    }

    [Fact]
    public void F16InputIsTheReferenceRoundingScaledBy2To112()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.F16, 16, 32), "no packed kernels on this CPU");
        const int cols = 1056;
        var rng = new Random(8);
        var x = Enumerable.Range(0, cols).Select(i => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, i % 9 - 4))).ToArray();
        // f16 max, a subnormal, zero, beyond f16 range (→ ∞), the largest value that still rounds to 65504, the edge of
        // the subnormals, ties at 1 + 2^-11 and 2^-24·(1/2) (both to even), −0.
        float[] edges = [65504f, -1e-7f, 0f, 70000f, 65519.99f, 6.1035156e-05f, 6.1035153e-05f, 1.00048828125f, -1.00146484375f, 2.9802322e-08f, -0f];
        edges.CopyTo(x, 0);
        var weights = new byte[16 * cols * 2];
        fixed (byte* w = weights)
        {
            using var packed = PackedMatrix.TryPack(GgmlType.F16, w, 16, cols, cols * 2)!;
            var input = new byte[packed.InputBytes];
            packed.PrepareInput(x, input);
            var reference = new byte[cols * 4];
            ReferenceKernels.QuantizeActivations(GgmlType.F16, x, reference);
            var got = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(input);
            var want = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(reference);
            for (int i = 0; i < cols; i++) Assert.Equal(want[i] * 5.192296858534828e33f, got[i]);
        }
    }

    [Fact]
    public void ShapesWithoutWholeGroupsOrBlocksAreNotPacked()
    {
        Assert.False(PackedMatrix.CanPack(GgmlType.Q4_0, 24, 64));
        Assert.False(PackedMatrix.CanPack(GgmlType.Q4_1, 16, 64));
        Assert.False(PackedMatrix.CanPack(GgmlType.F32, 16, 64));
        fixed (byte* w = new byte[16 * 18])
            Assert.Null(PackedMatrix.TryPack(GgmlType.Q4_0, w, 15, 32, 18));
    }

    [Fact]
    public void BadRangesAndShortBuffersAreRejected()
    {
        Assert.SkipUnless(PackedMatrix.CanPack(GgmlType.Q4_0, 16, 32), "no packed kernels on this CPU");
        var c = Make(GgmlType.Q4_0, 32, 64, 1);
        using var packed = c.Packed;
        var input = new byte[packed.InputBytes];
        packed.PrepareInput(new float[64], input);
        Assert.Throws<ArgumentOutOfRangeException>(() => packed.Multiply(input, input.Length, 1, 0, 3, new float[48], 48));
        Assert.Throws<ArgumentException>(() => packed.Multiply(input, input.Length, 2, 0, 2, new float[64], 32));
        Assert.Throws<ArgumentException>(() => packed.Multiply(input, input.Length, 1, 0, 2, new float[16], 16));
        Assert.Throws<ArgumentException>(() => packed.PrepareInput(new float[32], input));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => packed.Multiply(input, input.Length, 1, 0, 1, new float[32], 32));
    }
}
