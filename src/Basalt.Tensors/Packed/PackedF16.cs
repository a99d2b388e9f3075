using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Packed;

/// <summary>
/// F16 in sixteen-row groups, by column pairs: columns 2p and 2p+1 of the sixteen rows share one 64-byte line, row r's
/// two halves in 32-bit lane r (column 2p in the low half). One aligned load then widens into two vectors of sixteen
/// rows, each meeting its x[j] broadcast — no horizontal sums, and no cross-lane shuffle: the widening is shifts and a
/// mask within each lane. The weights stay 2 bytes each (decode reads them all every token); the widening is done once
/// per column for all the inputs of a call (up to eight at a time). Each row keeps two accumulators, even and odd
/// columns, added at the end.
/// Input: the activations rounded to f16 values and stored as f32 (as for the row kernels: the products are exact),
/// for matrices without infinities or NaNs also scaled by 2^112 (see <see cref="FiniteWidening"/>).
/// </summary>
internal sealed unsafe class PackedF16 : PackedMatrix
{
    // Set while packing if any weight is ±Inf or NaN: only then does a column take the slower exact widening.
    private volatile bool _nonFinite;

    public PackedF16(int rows, int cols) : base(GgmlType.F16, rows, cols, (long)cols * 32) { }

    public override int InputBytes => Cols * sizeof(float);

    // Scaled by 2^112 or not: a finite matrix cannot read a non-finite one's input, nor the reverse.
    private protected override int InputVariant => _nonFinite ? 1 : 0;

    public override void PrepareInput(ReadOnlySpan<float> x, Span<byte> input)
    {
        if (x.Length != Cols) throw new ArgumentException($"Expected {Cols} activations, got {x.Length}.", nameof(x));
        if (input.Length < InputBytes) throw new ArgumentException($"Need {InputBytes} bytes, got {input.Length}.", nameof(input));
        var floats = MemoryMarshal.Cast<byte, float>(input[..InputBytes]);
        FloatConversions.RoundToHalfPrecision(x, floats);
        // An f16 value is below 2^16 in magnitude, so the scaled one stays finite; each product x·w is the same real
        // number either way, and so rounds (or fuses into an FMA) to the same bits.
        if (!_nonFinite) TensorPrimitives.Multiply(floats, TwoTo112, floats);
    }

    private protected override void PackGroup(byte* src, int rowBytes, byte* dst)
    {
        for (int r = 0; r < GroupRows; r++)
        {
            ushort* row = (ushort*)(src + (long)r * rowBytes);
            for (int j = 0; j < Cols; j++)
            {
                ((ushort*)(dst + 64L * (j >> 1)))[2 * r + (j & 1)] = row[j];
                if ((row[j] & 0x7C00) == 0x7C00) _nonFinite = true;
            }
        }
    }

    /// <summary>
    /// How a line's two columns become f32: a type argument, so each kernel is compiled for one way with no test in its
    /// loop. Both take the line as sixteen 32-bit lanes.
    /// </summary>
    private interface IWidening
    {
        static abstract Vector512<float> Even(Vector512<int> line);

        static abstract Vector512<float> Odd(Vector512<int> line);
    }

    /// <summary>
    /// For matrices with no infinities or NaNs: sixteen finite halves as f32 values 2^−112 times theirs. With the half
    /// in a lane's top 16 bits, an arithmetic shift right by 3 puts its exponent and mantissa in an f32's low exponent
    /// and mantissa bits and its sign in bit 31; clearing bits 28–30 (copies of the sign) and 0–12 (the other column)
    /// leaves exactly w·2^−112, subnormals included. The missing 2^112 rides on the input (see
    /// <see cref="PrepareInput"/>). The even column, in the low half, is shifted up 16 first.
    /// </summary>
    private struct FiniteWidening : IWidening
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Even(Vector512<int> line) => Odd(Vector512.ShiftLeft(line, 16));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Odd(Vector512<int> line) =>
            (Vector512.ShiftRightArithmetic(line, 3) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle();
    }

    /// <summary>The exact widening of every half, infinities and NaNs included (it reads a lane's low 16 bits).</summary>
    private struct ExactWidening : IWidening
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Even(Vector512<int> line) => FastKernels.WidenHalves512(line.AsUInt32());

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Odd(Vector512<int> line) => FastKernels.WidenHalves512(Vector512.ShiftRightLogical(line.AsUInt32(), 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Line(byte* group, int j) => Vector512.LoadAligned((int*)(group + 32L * j));

    /// <summary>
    /// Columns between the one-input kernel's prefetches (4 KiB): one line <see cref="PackedMatrix.PageAhead"/> past the
    /// prefetch distance each time, and no burst of every line. Measured on one Zen 5 thread over the model's products,
    /// the two variants compiled side by side in one process (generic instances, not a flag) and alternated against a
    /// plain read (four runs of 24–30 passes, medians of the paired ratios): without the bursts the products read 1.01,
    /// 1.05, 1.05 and 1.09 times as fast (83–92% of the plain read → 89–96%); two threads 1.04–1.10. Q4_0 and Q8_0
    /// still want their bursts (without them 0.89–0.91 times as fast). Earlier, before the page prefetch, bursts of
    /// 1 KiB had read 91–93% of a plain read, 2 KiB 95–97%, 4 KiB 96–101%, 8 KiB 80–83%.
    /// </summary>
    private const int ChunkColumns = 128;

    private protected override void Group1(byte* group, byte* x, float* y)
    {
        if (_nonFinite) Group1<ExactWidening>(group, x, y);
        else Group1<FiniteWidening>(group, x, y);
    }

    private protected override void Group4(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        if (_nonFinite) Group4<ExactWidening>(group, x, xStride, y, yStride);
        else Group4<FiniteWidening>(group, x, xStride, y, yStride);
    }

    private protected override void Group8(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        if (_nonFinite) Group8<ExactWidening>(group, x, xStride, y, yStride);
        else Group8<FiniteWidening>(group, x, xStride, y, yStride);
    }

    private void Group1<T>(byte* group, byte* x, float* y) where T : struct, IWidening
    {
        int near = NearPrefetch; // a local: a static read in the loop can make the JIT spill the accumulators
        Vector512<float> a = default, b = default;
        // Pointers walk the lines and the input: indexing both from the column cost five scalar instructions a line
        // (of sixteen). Over the model's products, compiled side by side with the indexed loop and alternated against a
        // plain read: two threads 1.035, 1.055 and 1.063 times as fast (medians of the paired ratios), one thread 1.006.
        byte* line = group;
        float* xf = (float*)x;
        for (int chunk = 0; chunk < Cols; chunk += ChunkColumns)
        {
            PrefetchPage(line, near);
            for (byte* end = line + 32L * Math.Min(ChunkColumns, Cols - chunk); line < end; line += 64, xf += 2)
            {
                var pair = Vector512.LoadAligned((int*)line);
                a = Vector512.FusedMultiplyAdd(T.Even(pair), Vector512.Create(xf[0]), a);
                b = Vector512.FusedMultiplyAdd(T.Odd(pair), Vector512.Create(xf[1]), b);
            }
        }
        (a + b).Store(y);
    }

    private void Group4<T>(byte* group, byte* x, int xStride, float* y, int yStride) where T : struct, IWidening
    {
        float* x0 = (float*)x, x1 = (float*)(x + xStride), x2 = (float*)(x + 2 * xStride), x3 = (float*)(x + 3 * xStride);
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        for (int j = 0; j < Cols; j += 2)
        {
            if ((j & 31) == 0) Prefetch(group + 32L * j, 1024, FarPrefetch);
            var line = Line(group, j);
            var w = T.Even(line);
            var v = T.Odd(line);
            a0 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x0[j]), a0);
            b0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x0[j + 1]), b0);
            a1 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x1[j]), a1);
            b1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x1[j + 1]), b1);
            a2 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x2[j]), a2);
            b2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x2[j + 1]), b2);
            a3 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x3[j]), a3);
            b3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x3[j + 1]), b3);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + yStride);
        (a2 + b2).Store(y + 2 * yStride);
        (a3 + b3).Store(y + 3 * yStride);
    }

    private void Group8<T>(byte* group, byte* x, int xStride, float* y, int yStride) where T : struct, IWidening
    {
        float* x0 = (float*)x, x1 = (float*)(x + xStride), x2 = (float*)(x + 2 * xStride), x3 = (float*)(x + 3 * xStride);
        float* x4 = (float*)(x + 4 * xStride), x5 = (float*)(x + 5 * xStride), x6 = (float*)(x + 6 * xStride), x7 = (float*)(x + 7 * xStride);
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        Vector512<float> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
        for (int j = 0; j < Cols; j += 2)
        {
            if ((j & 31) == 0) Prefetch(group + 32L * j, 1024, FarPrefetch);
            var line = Line(group, j);
            var w = T.Even(line);
            var v = T.Odd(line);
            a0 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x0[j]), a0);
            b0 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x0[j + 1]), b0);
            a1 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x1[j]), a1);
            b1 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x1[j + 1]), b1);
            a2 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x2[j]), a2);
            b2 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x2[j + 1]), b2);
            a3 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x3[j]), a3);
            b3 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x3[j + 1]), b3);
            a4 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x4[j]), a4);
            b4 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x4[j + 1]), b4);
            a5 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x5[j]), a5);
            b5 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x5[j + 1]), b5);
            a6 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x6[j]), a6);
            b6 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x6[j + 1]), b6);
            a7 = Vector512.FusedMultiplyAdd(w, Vector512.Create(x7[j]), a7);
            b7 = Vector512.FusedMultiplyAdd(v, Vector512.Create(x7[j + 1]), b7);
        }
        (a0 + b0).Store(y);
        (a1 + b1).Store(y + yStride);
        (a2 + b2).Store(y + 2 * yStride);
        (a3 + b3).Store(y + 3 * yStride);
        (a4 + b4).Store(y + 4 * yStride);
        (a5 + b5).Store(y + 5 * yStride);
        (a6 + b6).Store(y + 6 * yStride);
        (a7 + b7).Store(y + 7 * yStride);
    }
}
