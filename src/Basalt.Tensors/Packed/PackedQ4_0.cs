using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Packed;

/// <summary>
/// Q4_0 in sixteen-row groups. Per block of 32 columns a group holds four 64-byte vectors, vector c carrying bytes
/// 4c..4c+3 of each row's sixteen quant bytes (row r in lanes 4r..4r+3): their low nibbles are the row's weights
/// 4c..4c+3 and their high nibbles weights 16+4c..16+4c+3. Blocks go in pairs, the two blocks' quants followed by
/// their sixteen fp16 scales each: 576 bytes, nine cache lines, so a group is one aligned sequential stream. The nibbles stay unsigned (0..15) for <c>vpmaddubsw</c>; the "−8" of every weight is taken out once per
/// block as 8·Σx, so the integer block sum is exactly Σ(q−8)·x as ggml forms it.
/// The kernels widen the fp16 block scales with two integer operations to 2^−112 times their values (see
/// <see cref="PackedMatrix.FiniteScales"/>); the missing 2^112 rides on the input's scales, so each product of a
/// weight scale and an input scale is the same real number, rounded to the same bits.
/// Input: the Q8_0 quants of x (32 bytes per block), then the block scales as f32 times 2^112 (finite: an fp16
/// value times 2^112 stays below f32's maximum), then 8·Σx per block as int32.
/// </summary>
internal sealed unsafe class PackedQ4_0 : PackedMatrix
{
    private readonly int _blocks;
    private const int QuantBytes = 256, PairBytes = 2 * QuantBytes + 64;

    /// <summary>
    /// Blocks the one-input kernel prefetches at a time (36 lines). Measured on one thread, alternating in one process
    /// over the model's products (Zen 5, 4 KiB ahead; not measured on other cores): the decode read 93–94% of a plain
    /// read with bursts of 8 blocks (94.5% with 16) and 85–86% with bursts of one pair, the same bytes prefetched the
    /// same distance ahead.
    /// </summary>
    private const int BurstBlocks = 8;

    // Set while packing if any block scale is ±Inf or NaN: only then do the kernels take the slower exact widening.
    private volatile bool _nonFinite;

    public PackedQ4_0(int rows, int cols) : base(GgmlType.Q4_0, rows, cols, (long)(cols / 32 + 1) / 2 * PairBytes) => _blocks = cols / 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Quants(byte* group, int k) => group + (k >> 1) * PairBytes + (k & 1) * QuantBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort* Scales(byte* group, int k) => (ushort*)(group + (k >> 1) * PairBytes + 2 * QuantBytes + (k & 1) * 32);

    public override int InputBytes => _blocks * 40;

    public override void PrepareInput(ReadOnlySpan<float> x, Span<byte> input)
    {
        if (x.Length != Cols) throw new ArgumentException($"Expected {Cols} activations, got {x.Length}.", nameof(x));
        if (input.Length < InputBytes) throw new ArgumentException($"Need {InputBytes} bytes, got {input.Length}.", nameof(input));
        fixed (float* xp = x)
        fixed (byte* dst = input)
            Q8Blocks.QuantizeBytes(xp, _blocks, (sbyte*)dst, (float*)(dst + _blocks * 32), (int*)(dst + _blocks * 36), sumFactor: 8, scaleFactor: TwoTo112);
    }

    private protected override void PackGroup(byte* src, int rowBytes, byte* dst)
    {
        for (int r = 0; r < GroupRows; r++)
        {
            byte* row = src + (long)r * rowBytes;
            for (int k = 0; k < _blocks; k++)
            {
                byte* block = row + 18 * k;
                ushort scale = Unsafe.ReadUnaligned<ushort>(block);
                Scales(dst, k)[r] = scale;
                if ((scale & 0x7C00) == 0x7C00) _nonFinite = true;
                for (int c = 0; c < 4; c++)
                    Unsafe.WriteUnaligned(Quants(dst, k) + 64 * c + 4 * r, Unsafe.ReadUnaligned<uint>(block + 2 + 4 * c));
            }
        }
    }

    /// <summary>The sixteen block scales of block <paramref name="k"/> as f32, 2^−112 times theirs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> WeightScales<T>(byte* group, int k) where T : struct, IScaleWidening => T.Widen(Scales(group, k));

    private protected override void Group1(byte* group, byte* x, float* y)
    {
        if (_nonFinite) Group1<ExactScales>(group, x, y);
        else Group1<FiniteScales>(group, x, y);
    }

    private void Group1<T>(byte* group, byte* x, float* y) where T : struct, IScaleWidening
    {
        int near = NearPrefetch; // a local: a static read in the loop can make the JIT spill the accumulators
        var mask = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        float* xScale = (float*)(x + _blocks * 32);
        int* bias = (int*)(x + _blocks * 36);
        var acc = Vector512<float>.Zero;
        // Pointers walk the pairs of blocks: against indexing every address from k, the same blocks streamed 2.5% faster
        // from memory (85.3% -> 87.7% of a plain read over the model's products, alternating in one process).
        byte* pair = group, xb = x;
        int k = 0;
        for (; k + 2 <= _blocks; k += 2, pair += PairBytes, xb += 64)
        {
            if ((k & (BurstBlocks - 1)) == 0) PrefetchBurst(pair, BurstBlocks / 2 * PairBytes, near);
            acc = Block1<T>(pair, (ushort*)(pair + 2 * QuantBytes), xb, bias[k], xScale[k], mask, ones, acc);
            acc = Block1<T>(pair + QuantBytes, (ushort*)(pair + 2 * QuantBytes + 32), xb + 32, bias[k + 1], xScale[k + 1], mask, ones, acc);
        }
        if (k < _blocks)
            acc = Block1<T>(pair, (ushort*)(pair + 2 * QuantBytes), xb, bias[k], xScale[k], mask, ones, acc);
        acc.Store(y);
    }

    /// <summary>
    /// One block's term for one input. Each vpmaddubsw lane is at most 2·15·127, so the eight products add up exactly in
    /// int16. The four chunks unrolled by hand (the JIT keeps such a loop rolled), low and high nibbles in two sums, so
    /// that the adds form two short chains rather than one of eight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Block1<T>(byte* q, ushort* scales, byte* xb, int bias, float xScale, Vector512<byte> mask, Vector512<short> ones, Vector512<float> acc)
        where T : struct, IScaleWidening
    {
        var (l0, h0) = Nibbles(q, mask);
        var pl = Avx512BW.MultiplyAddAdjacent(l0, Broadcast(xb));
        var ph = Avx512BW.MultiplyAddAdjacent(h0, Broadcast(xb + 16));
        var (l1, h1) = Nibbles(q + 64, mask);
        pl += Avx512BW.MultiplyAddAdjacent(l1, Broadcast(xb + 4));
        ph += Avx512BW.MultiplyAddAdjacent(h1, Broadcast(xb + 20));
        var (l2, h2) = Nibbles(q + 128, mask);
        pl += Avx512BW.MultiplyAddAdjacent(l2, Broadcast(xb + 8));
        ph += Avx512BW.MultiplyAddAdjacent(h2, Broadcast(xb + 24));
        var (l3, h3) = Nibbles(q + 192, mask);
        pl += Avx512BW.MultiplyAddAdjacent(l3, Broadcast(xb + 12));
        ph += Avx512BW.MultiplyAddAdjacent(h3, Broadcast(xb + 28));
        return Term(pl + ph, ones, bias, xScale, T.Widen(scales), acc);
    }

    private protected override void Group4(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        if (_nonFinite) Group4<ExactScales>(group, x, xStride, y, yStride);
        else Group4<FiniteScales>(group, x, xStride, y, yStride);
    }

    private void Group4<T>(byte* group, byte* x, int xStride, float* y, int yStride) where T : struct, IScaleWidening
    {
        var mask = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        byte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int scaleAt = _blocks * 32, biasAt = _blocks * 36;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < _blocks; k++)
        {
            byte* q = Quants(group, k);
            if ((k & 1) == 0) Prefetch(q, PairBytes, FarPrefetch);
            int at = 32 * k;
            Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default;
            // The four chunks unrolled by hand (the JIT keeps such a loop rolled).
            var (l0, h0) = Nibbles(q, mask);
            Chunk(l0, h0, x0 + at, x1 + at, x2 + at, x3 + at, ref p0, ref p1, ref p2, ref p3);
            var (l1, h1) = Nibbles(q + 64, mask);
            Chunk(l1, h1, x0 + at + 4, x1 + at + 4, x2 + at + 4, x3 + at + 4, ref p0, ref p1, ref p2, ref p3);
            var (l2, h2) = Nibbles(q + 128, mask);
            Chunk(l2, h2, x0 + at + 8, x1 + at + 8, x2 + at + 8, x3 + at + 8, ref p0, ref p1, ref p2, ref p3);
            var (l3, h3) = Nibbles(q + 192, mask);
            Chunk(l3, h3, x0 + at + 12, x1 + at + 12, x2 + at + 12, x3 + at + 12, ref p0, ref p1, ref p2, ref p3);
            var dw = WeightScales<T>(group, k);
            a0 = Block(p0, ones, x0, scaleAt, biasAt, k, dw, a0);
            a1 = Block(p1, ones, x1, scaleAt, biasAt, k, dw, a1);
            a2 = Block(p2, ones, x2, scaleAt, biasAt, k, dw, a2);
            a3 = Block(p3, ones, x3, scaleAt, biasAt, k, dw, a3);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
    }

    private protected override void Group8(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        if (_nonFinite) Group8<ExactScales>(group, x, xStride, y, yStride);
        else Group8<FiniteScales>(group, x, xStride, y, yStride);
    }

    private void Group8<T>(byte* group, byte* x, int xStride, float* y, int yStride) where T : struct, IScaleWidening
    {
        var mask = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        byte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        byte* x4 = x + 4 * xStride, x5 = x + 5 * xStride, x6 = x + 6 * xStride, x7 = x + 7 * xStride;
        int scaleAt = _blocks * 32, biasAt = _blocks * 36;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int k = 0; k < _blocks; k++)
        {
            byte* q = Quants(group, k);
            if ((k & 1) == 0) Prefetch(q, PairBytes, FarPrefetch);
            int at = 32 * k;
            Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default, p4 = default, p5 = default, p6 = default, p7 = default;
            Chunk8(q, mask, at, x0, x1, x2, x3, x4, x5, x6, x7, ref p0, ref p1, ref p2, ref p3, ref p4, ref p5, ref p6, ref p7);
            Chunk8(q + 64, mask, at + 4, x0, x1, x2, x3, x4, x5, x6, x7, ref p0, ref p1, ref p2, ref p3, ref p4, ref p5, ref p6, ref p7);
            Chunk8(q + 128, mask, at + 8, x0, x1, x2, x3, x4, x5, x6, x7, ref p0, ref p1, ref p2, ref p3, ref p4, ref p5, ref p6, ref p7);
            Chunk8(q + 192, mask, at + 12, x0, x1, x2, x3, x4, x5, x6, x7, ref p0, ref p1, ref p2, ref p3, ref p4, ref p5, ref p6, ref p7);
            var dw = WeightScales<T>(group, k);
            a0 = Block(p0, ones, x0, scaleAt, biasAt, k, dw, a0);
            a1 = Block(p1, ones, x1, scaleAt, biasAt, k, dw, a1);
            a2 = Block(p2, ones, x2, scaleAt, biasAt, k, dw, a2);
            a3 = Block(p3, ones, x3, scaleAt, biasAt, k, dw, a3);
            a4 = Block(p4, ones, x4, scaleAt, biasAt, k, dw, a4);
            a5 = Block(p5, ones, x5, scaleAt, biasAt, k, dw, a5);
            a6 = Block(p6, ones, x6, scaleAt, biasAt, k, dw, a6);
            a7 = Block(p7, ones, x7, scaleAt, biasAt, k, dw, a7);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
        a4.Store(y + 4 * yStride);
        a5.Store(y + 5 * yStride);
        a6.Store(y + 6 * yStride);
        a7.Store(y + 7 * yStride);
    }

    /// <summary>One 64-byte chunk against eight inputs, whose matching activation bytes are <paramref name="o"/> bytes into each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk8(byte* q, Vector512<byte> mask, int o, byte* x0, byte* x1, byte* x2, byte* x3, byte* x4, byte* x5, byte* x6, byte* x7,
        ref Vector512<short> p0, ref Vector512<short> p1, ref Vector512<short> p2, ref Vector512<short> p3,
        ref Vector512<short> p4, ref Vector512<short> p5, ref Vector512<short> p6, ref Vector512<short> p7)
    {
        var (lo, hi) = Nibbles(q, mask);
        Chunk(lo, hi, x0 + o, x1 + o, x2 + o, x3 + o, ref p0, ref p1, ref p2, ref p3);
        Chunk(lo, hi, x4 + o, x5 + o, x6 + o, x7 + o, ref p4, ref p5, ref p6, ref p7);
    }

    /// <summary>The low and high nibbles of the 64-byte chunk at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<byte> Low, Vector512<byte> High) Nibbles(byte* at, Vector512<byte> mask)
    {
        var v = Vector512.LoadAligned(at);
        return (v & mask, Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask);
    }

    /// <summary>
    /// One 64-byte chunk (four weights of each row, as low and high nibbles) against four inputs, whose matching
    /// activation bytes are at <paramref name="x0"/>… and 16 bytes further.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk(Vector512<byte> lo, Vector512<byte> hi, byte* x0, byte* x1, byte* x2, byte* x3,
        ref Vector512<short> p0, ref Vector512<short> p1, ref Vector512<short> p2, ref Vector512<short> p3)
    {
        p0 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(x0)) + Avx512BW.MultiplyAddAdjacent(hi, Broadcast(x0 + 16));
        p1 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(x1)) + Avx512BW.MultiplyAddAdjacent(hi, Broadcast(x1 + 16));
        p2 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(x2)) + Avx512BW.MultiplyAddAdjacent(hi, Broadcast(x2 + 16));
        p3 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(x3)) + Avx512BW.MultiplyAddAdjacent(hi, Broadcast(x3 + 16));
    }

    /// <summary>One block's term for one input of the multi-input kernels, from the input's scale and bias arrays.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Block(Vector512<short> p, Vector512<short> ones, byte* x, int scaleAt, int biasAt, int k, Vector512<float> dw, Vector512<float> acc) =>
        Term(p, ones, ((int*)(x + biasAt))[k], ((float*)(x + scaleAt))[k], dw, acc);

    /// <summary>
    /// acc + (Σ pairs of <paramref name="p"/> − bias) · (dw · xScale): the one formula every kernel adds a block with,
    /// so that a result does not depend on which kernel formed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Term(Vector512<short> p, Vector512<short> ones, int bias, float xScale, Vector512<float> dw, Vector512<float> acc)
    {
        var sum = Avx512BW.MultiplyAddAdjacent(p, ones) - Vector512.Create(bias);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(sum), dw * Vector512.Create(xScale), acc);
    }
}
