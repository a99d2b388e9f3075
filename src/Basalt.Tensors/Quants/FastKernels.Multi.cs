using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

public static partial class FastKernels
{
    /// <summary>Whether <see cref="TryDotQuantized4"/> has a kernel for <paramref name="weightType"/> on this CPU.</summary>
    public static bool HasDot4(GgmlType weightType) => Avx2.IsSupported && weightType is GgmlType.Q4_0 or GgmlType.Q8_0;

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
        Dot4(weightType == GgmlType.Q4_0, weightRow, xq0, xq1, xq2, xq3, n, results);
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
}
