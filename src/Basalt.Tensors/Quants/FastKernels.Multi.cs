using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

public static partial class FastKernels
{
    /// <summary>Whether <see cref="TryDotQuantized4"/> has a kernel for <paramref name="weightType"/> on this CPU.</summary>
    public static bool HasDot4(GgmlType weightType) => Avx2.IsSupported && weightType is GgmlType.Q4_0 or GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q5_K;

    /// <summary>
    /// Four dot products of one weight row with four activation rows at once, for batched products
    /// (prompts, several sequences per step). Each weight block is unpacked once for all four, and the
    /// four accumulators are independent, so the FMA latency is hidden. Every result is bit-identical to
    /// <see cref="DotQuantized(GgmlType, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> of that row and input: each input keeps its own accumulator, summed in
    /// the same block order. Returns false (and computes nothing) for types without a four-way kernel.
    /// </summary>
    public static bool TryDotQuantized4(GgmlType weightType, ReadOnlySpan<byte> weightRow,
        ReadOnlySpan<byte> xq0, ReadOnlySpan<byte> xq1, ReadOnlySpan<byte> xq2, ReadOnlySpan<byte> xq3, Span<float> results)
    {
        if (!HasDot4(weightType)) return false;
        int n = ActivationFormat.ElementCount(weightType, xq0.Length);
        ReferenceKernels.CheckRow(weightType, weightRow, n);
        if (xq1.Length < xq0.Length || xq2.Length < xq0.Length || xq3.Length < xq0.Length)
            throw new ArgumentException("The four activation rows must have the same length.");
        if (results.Length < 4) throw new ArgumentException("Room for four results is needed.", nameof(results));
        if (weightType is GgmlType.Q4_K or GgmlType.Q5_K) Dot4Q4OrQ5_K(weightType == GgmlType.Q5_K, weightRow, xq0, xq1, xq2, xq3, n, results);
        else Dot4(weightType == GgmlType.Q4_0, weightRow, xq0, xq1, xq2, xq3, n, results);
        return true;
    }

    private static void Dot4(bool q4, ReadOnlySpan<byte> w, ReadOnlySpan<byte> x0, ReadOnlySpan<byte> x1, ReadOnlySpan<byte> x2, ReadOnlySpan<byte> x3,
        int n, Span<float> results)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte r0 = ref MemoryMarshal.GetReference(x0);
        ref byte r1 = ref MemoryMarshal.GetReference(x1);
        ref byte r2 = ref MemoryMarshal.GetReference(x2);
        ref byte r3 = ref MemoryMarshal.GetReference(x3);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var eight = Vector256.Create((byte)8);
        int blockBytes = q4 ? 18 : 34;
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * blockBytes);
            // The same weight vector as DotQ4_0 / DotQ8_0 build, once for all four inputs.
            var q = q4 ? (LoadNibbles(ref Unsafe.Add(ref wb, 2)) - eight).AsSByte() : Vector256.LoadUnsafe(ref wb, 2).AsSByte();
            var magnitude = Avx2.Abs(q); // the unsigned side of the sign trick, shared by all four
            float dw = ReadHalf(ref wb);
            int at = i * 34;
            a0 = Accumulate(q, magnitude, dw, ref Unsafe.Add(ref r0, at), a0);
            a1 = Accumulate(q, magnitude, dw, ref Unsafe.Add(ref r1, at), a1);
            a2 = Accumulate(q, magnitude, dw, ref Unsafe.Add(ref r2, at), a2);
            a3 = Accumulate(q, magnitude, dw, ref Unsafe.Add(ref r3, at), a3);
        }
        results[0] = Vector256.Sum(a0);
        results[1] = Vector256.Sum(a1);
        results[2] = Vector256.Sum(a2);
        results[3] = Vector256.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<sbyte> q, Vector256<byte> magnitude, float dw, ref byte xb, Vector256<float> acc)
    {
        // Same integer sums as DotSigned(q, x): |q| · (x with q's sign).
        var p = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitude, Avx2.Sign(Vector256.LoadUnsafe(ref xb, 2).AsSByte(), q)), OnesInt16);
        return MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(dw * ReadHalf(ref xb)), acc);
    }

    /// <summary>Four-input form of DotQ4OrQ5_K: each 32-quant chunk is unpacked once; per input the same operations in the same order.</summary>
    private static void Dot4Q4OrQ5_K(bool fifthBit, ReadOnlySpan<byte> w, ReadOnlySpan<byte> x0, ReadOnlySpan<byte> x1, ReadOnlySpan<byte> x2, ReadOnlySpan<byte> x3,
        int n, Span<float> results)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        Span<float> sums = stackalloc float[4];
        sums.Clear();
        int blockBytes = fifthBit ? 176 : 144;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref wr, i * blockBytes);
            ref byte y0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x0), i * 292);
            ref byte y1 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x1), i * 292);
            ref byte y2 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x2), i * 292);
            ref byte y3 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x3), i * 292);
            var packed = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, 4), 12);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int m0 = 0, m1 = 0, m2 = 0, m3 = 0;
            for (int c = 0; c < 8; c++)
            {
                ReferenceKernels.GetScaleMinK4(c, packed, out int sc, out int m);
                var chunk = fifthBit ? ChunkQ5_K(ref b, c) : ChunkQ4_K(ref b, c);
                int at = 4 + 32 * c;
                a0 += ScaledChunkDot(chunk, ref Unsafe.Add(ref y0, at), (short)sc, (short)sc);
                a1 += ScaledChunkDot(chunk, ref Unsafe.Add(ref y1, at), (short)sc, (short)sc);
                a2 += ScaledChunkDot(chunk, ref Unsafe.Add(ref y2, at), (short)sc, (short)sc);
                a3 += ScaledChunkDot(chunk, ref Unsafe.Add(ref y3, at), (short)sc, (short)sc);
                m0 += m * (BlockSum(ref y0, 2 * c) + BlockSum(ref y0, 2 * c + 1));
                m1 += m * (BlockSum(ref y1, 2 * c) + BlockSum(ref y1, 2 * c + 1));
                m2 += m * (BlockSum(ref y2, 2 * c) + BlockSum(ref y2, 2 * c + 1));
                m3 += m * (BlockSum(ref y3, 2 * c) + BlockSum(ref y3, 2 * c + 1));
            }
            float dw = ReadHalf(ref b), dminw = ReadHalf(ref Unsafe.Add(ref b, 2));
            sums[0] += BlockTotal(ref y0, dw, dminw, a0, m0);
            sums[1] += BlockTotal(ref y1, dw, dminw, a1, m1);
            sums[2] += BlockTotal(ref y2, dw, dminw, a2, m2);
            sums[3] += BlockTotal(ref y3, dw, dminw, a3, m3);
        }
        sums.CopyTo(results);
    }

    /// <summary>dall · Σacc − dmin · msum, with dall and dmin formed exactly as the one-input kernel forms them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float BlockTotal(ref byte y, float dw, float dminw, Vector256<int> acc, int msum)
    {
        float dy = ReadSingle(ref y);
        float dall = dy * dw;
        float dmin = dy * dminw;
        return dall * Vector256.Sum(acc) - dmin * msum;
    }
}
