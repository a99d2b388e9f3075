using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors.Quants;

namespace Basalt.Tensors.Packed;

/// <summary>
/// Q8_0 in sixteen-row groups. Per block of 32 columns a group holds sixteen 32-byte chunks, chunk j carrying each
/// row's weights 2j and 2j+1 (row r in bytes 2r, 2r+1). Blocks go in pairs, the two blocks' quants followed by their
/// sixteen fp16 scales each: 1088 bytes, seventeen cache lines. Both sides are signed, which <c>vpmaddubsw</c> cannot take, so a chunk is sign-extended to sixteen int16
/// pairs and multiplied with <c>vpmaddwd</c> against the input pair broadcast to every lane: the block sum is the
/// exact Σq·x that ggml forms.
/// Input: the Q8_0 quants of x widened to int16 (64 bytes per block), then the block scales as f32.
/// </summary>
internal sealed unsafe class PackedQ8_0 : PackedMatrix
{
    private readonly int _blocks;

    private const int QuantBytes = 512, PairBytes = 2 * QuantBytes + 64;

    public PackedQ8_0(int rows, int cols) : base(GgmlType.Q8_0, rows, cols, (long)(cols / 32 + 1) / 2 * PairBytes) => _blocks = cols / 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Quants(byte* group, int k) => group + (k >> 1) * PairBytes + (k & 1) * QuantBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort* Scales(byte* group, int k) => (ushort*)(group + (k >> 1) * PairBytes + 2 * QuantBytes + (k & 1) * 32);

    public override int InputBytes => _blocks * 68;

    public override void PrepareInput(ReadOnlySpan<float> x, Span<byte> input)
    {
        if (x.Length != Cols) throw new ArgumentException($"Expected {Cols} activations, got {x.Length}.", nameof(x));
        if (input.Length < InputBytes) throw new ArgumentException($"Need {InputBytes} bytes, got {input.Length}.", nameof(input));
        fixed (float* xp = x)
        fixed (byte* dst = input)
            Q8Blocks.QuantizeShorts(xp, _blocks, (short*)dst, (float*)(dst + _blocks * 64));
    }

    private protected override void PackGroup(byte* src, int rowBytes, byte* dst)
    {
        for (int r = 0; r < GroupRows; r++)
        {
            byte* row = src + (long)r * rowBytes;
            for (int k = 0; k < _blocks; k++)
            {
                byte* block = row + 34 * k;
                Scales(dst, k)[r] = Unsafe.ReadUnaligned<ushort>(block);
                for (int j = 0; j < 16; j++)
                    Unsafe.WriteUnaligned(Quants(dst, k) + 32 * j + 2 * r, Unsafe.ReadUnaligned<ushort>(block + 2 + 2 * j));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> BroadcastPair(byte* at) => Broadcast(at).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Widen(byte* chunk) => Avx512BW.ConvertToVector512Int16(Vector256.LoadAligned((sbyte*)chunk));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> WeightScales(byte* group, int k) => Halves((byte*)Scales(group, k));

    private protected override void Group1(byte* group, byte* x, float* y)
    {
        int near = NearPrefetch; // a local: a static read in the loop can make the JIT spill the accumulators
        float* xScale = (float*)(x + _blocks * 64);
        var acc = Vector512<float>.Zero;
        for (int k = 0; k < _blocks; k++)
        {
            byte* q = Quants(group, k), xb = x + 64 * k;
            if ((k & 1) == 0) PrefetchBurst(q, PairBytes, near);
            // Two integer chains, added at the end: the block sum is exact either way.
            Vector512<int> s0 = default, s1 = default;
            for (int j = 0; j < 16; j += 2)
            {
                s0 += Avx512BW.MultiplyAddAdjacent(Widen(q + 32 * j), BroadcastPair(xb + 4 * j));
                s1 += Avx512BW.MultiplyAddAdjacent(Widen(q + 32 * j + 32), BroadcastPair(xb + 4 * j + 4));
            }
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s0 + s1), WeightScales(group, k) * Vector512.Create(xScale[k]), acc);
        }
        acc.Store(y);
    }

    private protected override void Group4(byte* group, byte* x, int xStride, float* y, int yStride)
    {
        byte* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int scaleAt = _blocks * 64;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < _blocks; k++)
        {
            byte* q = Quants(group, k);
            if ((k & 1) == 0) Prefetch(q, PairBytes, FarPrefetch);
            int at = 64 * k;
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < 16; j++)
            {
                var w = Widen(q + 32 * j);
                int xj = at + 4 * j;
                s0 += Avx512BW.MultiplyAddAdjacent(w, BroadcastPair(x0 + xj));
                s1 += Avx512BW.MultiplyAddAdjacent(w, BroadcastPair(x1 + xj));
                s2 += Avx512BW.MultiplyAddAdjacent(w, BroadcastPair(x2 + xj));
                s3 += Avx512BW.MultiplyAddAdjacent(w, BroadcastPair(x3 + xj));
            }
            var dw = WeightScales(group, k);
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s0), dw * Vector512.Create(((float*)(x0 + scaleAt))[k]), a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s1), dw * Vector512.Create(((float*)(x1 + scaleAt))[k]), a1);
            a2 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s2), dw * Vector512.Create(((float*)(x2 + scaleAt))[k]), a2);
            a3 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(s3), dw * Vector512.Create(((float*)(x3 + scaleAt))[k]), a3);
        }
        a0.Store(y);
        a1.Store(y + yStride);
        a2.Store(y + 2 * yStride);
        a3.Store(y + 3 * yStride);
    }
}
