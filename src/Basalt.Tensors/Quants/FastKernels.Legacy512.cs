using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// Vector512 rows for the 32-element formats Q4_0, Q4_1 and Q8_0. The activations are shared by every row, so they
// are repacked once per call: each pair of Q8_0/Q8_1 blocks becomes one aligned 64-byte vector in the order the
// weight unpacking produces, their fp16 scales become f32, and for Q4_0 the "−8" of every weight is folded into a
// per-lane integer bias (8·Σx over the lane's four quants). Per row, the fp16 weight scales of all blocks are
// gathered and widened eight at a time into d_w·d_x, then the main loop handles two blocks per 512-bit vector
// with two independent accumulators. Block integer sums are the same exact values the AVX2 kernels form; only the
// order of the f32 additions differs.
public static partial class FastKernels
{
    // Lanes of a nibble pair [lo A, lo B, hi A, hi B] (four int32 lanes each) to block A (0) or B (1).
    private static readonly Vector512<int> NibblePairScaleIndex = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);

    // Lanes of a byte pair [A, B] (eight int32 lanes each) to block A (0) or B (1).
    private static readonly Vector512<int> BytePairScaleIndex = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);

    private static unsafe void RowsLegacy512(GgmlType type, ref byte first, int rowBytes, int rows, ReadOnlySpan<byte> xq, int n, Span<float> y)
    {
        int blocks = n / 32, pairs = blocks / 2;
        int xBlock = type == GgmlType.Q4_1 ? 36 : 34;
        // Packed quants, Q4_0 lane biases, x scales, x block sums (Q8_1) and the per-row scale scratch; 64 spare for alignment.
        int quantBytes = pairs * 64, biasBytes = type == GgmlType.Q4_0 ? pairs * 64 : 0;
        int total = quantBytes + biasBytes + 3 * (blocks + 8) * sizeof(float) + 64;
        byte[] rented = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            fixed (byte* raw = rented)
            fixed (byte* w = &first)
            fixed (byte* x = xq)
            {
                byte* packed = raw + ((64 - ((nint)raw & 63)) & 63);
                int* bias = (int*)(packed + quantBytes);
                float* xScale = (float*)(packed + quantBytes + biasBytes);
                float* xSum = xScale + blocks + 8;
                float* rowScale = xSum + blocks + 8;
                PackActivations(type, x, blocks, xBlock, packed, bias, xScale, xSum);
                for (int r = 0; r < rows; r++)
                {
                    byte* row = w + (nint)r * rowBytes;
                    y[r] = type switch
                    {
                        GgmlType.Q4_0 => RowQ4_0_512(row, x, blocks, packed, bias, xScale, rowScale),
                        GgmlType.Q4_1 => RowQ4_1_512(row, x, blocks, packed, xScale, xSum, rowScale),
                        _ => RowQ8_0_512(row, x, blocks, packed, xScale, rowScale),
                    };
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Regroups the activation pairs for the weight layout and widens their fp16 scale (and Q8_1 sum) fields.</summary>
    private static unsafe void PackActivations(GgmlType type, byte* x, int blocks, int xBlock, byte* packed, int* bias, float* xScale, float* xSum)
    {
        int q = type == GgmlType.Q4_1 ? 4 : 2;
        var eight = Vector512.Create((byte)8);
        var ones = Vector512.Create((short)1);
        for (int p = 0; p < blocks / 2; p++)
        {
            byte* a = x + 2 * p * xBlock + q, b = a + xBlock;
            Vector512<byte> v = type == GgmlType.Q8_0
                ? Vector512.Create(Vector256.Load(a), Vector256.Load(b))
                : Vector512.Create(Vector256.Create(Vector128.Load(a), Vector128.Load(b)), Vector256.Create(Vector128.Load(a + 16), Vector128.Load(b + 16)));
            v.Store(packed + 64 * p);
            if (type == GgmlType.Q4_0)
                Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(eight, v.AsSByte()), ones).Store(bias + 16 * p);
        }
        for (int k = 0; k < blocks; k++)
        {
            xScale[k] = ReadHalf(ref x[k * xBlock]);
            if (type == GgmlType.Q4_1) xSum[k] = ReadHalf(ref x[k * xBlock + 2]);
        }
    }

    /// <summary>
    /// rowScale[k] = d_w·d_x for every block (eight fp16 fields per gather), and for the offset formats the sum of
    /// m_w·s_x over all blocks, which is returned.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float RowScales(byte* row, int blocks, int blockBytes, float* xScale, float* xSum, float* rowScale, bool offsets)
    {
        var stride = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * blockBytes;
        var lowHalf = Vector256.Create(0xFFFFu);
        var offsetAcc = Vector256<float>.Zero;
        int k = 0;
        for (; k + 8 <= blocks; k += 8)
        {
            var fields = Avx2.GatherVector256((int*)(row + k * blockBytes), stride, 1).AsUInt32();
            (WidenHalves(fields & lowHalf) * Vector256.Load(xScale + k)).Store(rowScale + k);
            if (offsets) offsetAcc += WidenHalves(Vector256.ShiftRightLogical(fields, 16)) * Vector256.Load(xSum + k);
        }
        float offset = offsets ? Vector256.Sum(offsetAcc) : 0;
        for (; k < blocks; k++)
        {
            byte* b = row + k * blockBytes;
            rowScale[k] = ReadHalf(ref *b) * xScale[k];
            if (offsets) offset += ReadHalf(ref b[2]) * xSum[k];
        }
        return offset;
    }

    /// <summary>[s_A × 8, s_B × 8] or the nibble-order variant, from the two scales at <paramref name="scales"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> PairScales(float* scales, Vector512<int> index) =>
        Avx512F.PermuteVar16x32(Vector512.CreateScalarUnsafe(*(double*)scales).AsSingle(), index);

    /// <summary>The 64 nibbles of two Q4 blocks as [lo A, lo B, hi A, hi B].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<byte> NibblePair(byte* a, byte* b)
    {
        var both = Avx2.InsertVector128(Vector128.Load(a).ToVector256Unsafe(), Vector128.Load(b), 1);
        var mask = Vector256.Create((byte)0x0F);
        return Avx512F.InsertVector256((both & mask).ToVector512Unsafe(), Vector256.ShiftRightLogical(both.AsUInt16(), 4).AsByte() & mask, 1);
    }

    private static unsafe float RowQ4_0_512(byte* row, byte* x, int blocks, byte* packed, int* bias, float* xScale, float* rowScale)
    {
        RowScales(row, blocks, 18, xScale, null, rowScale, offsets: false);
        var ones = Vector512.Create((short)1);
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        byte* w = row, xp = packed;
        int* bp = bias;
        float* sp = rowScale;
        for (int p = 0; p < blocks / 2; p++, w += 36, xp += 64, bp += 16, sp += 2)
        {
            // Alternating accumulators keep two FMA chains in flight.
            var next = PairQ4_0(w, xp, bp, sp, ones, acc0);
            acc0 = acc1;
            acc1 = next;
        }
        float sum = Vector512.Sum(acc0 + acc1);
        if ((blocks & 1) != 0)
        {
            // The odd last block: the AVX2 single-block product, from the original activation block.
            int k = blocks - 1;
            var q = (LoadNibbles(ref row[18 * k + 2]) - Vector256.Create((byte)8)).AsSByte();
            var dot = DotSigned(q, Vector256.Load(x + 34 * k + 2).AsSByte());
            sum += Vector256.Sum(Avx.ConvertToVector256Single(dot) * Vector256.Create(rowScale[k]));
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> PairQ4_0(byte* w, byte* xPair, int* bias, float* scales, Vector512<short> ones, Vector512<float> acc)
    {
        var u = NibblePair(w + 2, w + 20);
        var dot = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.LoadAligned(xPair).AsSByte()), ones) - Vector512.LoadAligned(bias);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), PairScales(scales, NibblePairScaleIndex), acc);
    }

    private static unsafe float RowQ4_1_512(byte* row, byte* x, int blocks, byte* packed, float* xScale, float* xSum, float* rowScale)
    {
        float offsets = RowScales(row, blocks, 20, xScale, xSum, rowScale, offsets: true);
        var ones = Vector512.Create((short)1);
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        byte* w = row, xp = packed;
        float* sp = rowScale;
        for (int p = 0; p < blocks / 2; p++, w += 40, xp += 64, sp += 2)
        {
            // Alternating accumulators keep two FMA chains in flight.
            var next = PairQ4_1(w, xp, sp, ones, acc0);
            acc0 = acc1;
            acc1 = next;
        }
        float sum = Vector512.Sum(acc0 + acc1);
        if ((blocks & 1) != 0)
        {
            int k = blocks - 1;
            var dot = DotUnsigned(LoadNibbles(ref row[20 * k + 4]), Vector256.Load(x + 36 * k + 4).AsSByte());
            sum += Vector256.Sum(Avx.ConvertToVector256Single(dot) * Vector256.Create(rowScale[k]));
        }
        return sum + offsets;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> PairQ4_1(byte* w, byte* xPair, float* scales, Vector512<short> ones, Vector512<float> acc)
    {
        var u = NibblePair(w + 4, w + 24);
        var dot = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, Vector512.LoadAligned(xPair).AsSByte()), ones);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), PairScales(scales, NibblePairScaleIndex), acc);
    }

    private static unsafe float RowQ8_0_512(byte* row, byte* x, int blocks, byte* packed, float* xScale, float* rowScale)
    {
        RowScales(row, blocks, 34, xScale, null, rowScale, offsets: false);
        var ones = Vector512.Create((short)1);
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        byte* w = row, xp = packed;
        float* sp = rowScale;
        for (int p = 0; p < blocks / 2; p++, w += 68, xp += 64, sp += 2)
        {
            // Alternating accumulators keep two FMA chains in flight.
            var next = PairQ8_0(w, xp, sp, ones, acc0);
            acc0 = acc1;
            acc1 = next;
        }
        float sum = Vector512.Sum(acc0 + acc1);
        if ((blocks & 1) != 0)
        {
            int k = blocks - 1;
            var dot = DotSigned(Vector256.Load(row + 34 * k + 2).AsSByte(), Vector256.Load(x + 34 * k + 2).AsSByte());
            sum += Vector256.Sum(Avx.ConvertToVector256Single(dot) * Vector256.Create(rowScale[k]));
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> PairQ8_0(byte* w, byte* xPair, float* scales, Vector512<short> ones, Vector512<float> acc)
    {
        var q = Avx512F.InsertVector256(Vector256.Load(w + 2).ToVector512Unsafe(), Vector256.Load(w + 36), 1).AsSByte();
        var xv = Vector512.LoadAligned(xPair).AsSByte();
        // AVX-512 has no vpsignb: |w| as the unsigned side, and x negated where w is negative (w = 0 gives |w| = 0).
        var signed = Avx512BW.BlendVariable(xv, Vector512<sbyte>.Zero - xv, q);
        var dot = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(q), signed), ones);
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(dot), PairScales(scales, BytePairScaleIndex), acc);
    }
}
