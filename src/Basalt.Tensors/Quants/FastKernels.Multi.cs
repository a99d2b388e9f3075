using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

public static partial class FastKernels
{
    /// <summary>Whether <see cref="TryDotQuantized4"/> has a kernel for <paramref name="weightType"/> on this CPU.</summary>
    /// <remarks>The k-quants have none: their Vector512 one-input rows already match a four-input AVX2 kernel here.</remarks>
    public static bool HasDot4(GgmlType weightType) =>
        (Avx2.IsSupported && weightType is GgmlType.Q4_0 or GgmlType.Q8_0)
        // F16 mirrors the Vector512 row kernel, which is what one-input dots use on such a CPU.
        || (IsVector512Accelerated && weightType == GgmlType.F16);

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
        if (weightType == GgmlType.F16) Dot4F16(weightRow, xq0, xq1, xq2, xq3, n, results);
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

    /// <summary>
    /// Four-input form of DotF16_512: the software half-to-float widening, the costly part, is done once;
    /// per input the same two accumulators, reduction and tail as the one-input kernel.
    /// </summary>
    private static void Dot4F16(ReadOnlySpan<byte> w, ReadOnlySpan<byte> x0, ReadOnlySpan<byte> x1, ReadOnlySpan<byte> x2, ReadOnlySpan<byte> x3,
        int n, Span<float> results)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref float f0 = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(x0));
        ref float f1 = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(x1));
        ref float f2 = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(x2));
        ref float f3 = ref Unsafe.As<byte, float>(ref MemoryMarshal.GetReference(x3));
        Vector512<float> l0 = default, l1 = default, l2 = default, l3 = default, h0 = default, h1 = default, h2 = default, h3 = default;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var lo = WidenHalves512(Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref wr, (nuint)(2 * i)).AsUInt16()));
            var hi = WidenHalves512(Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref wr, (nuint)(2 * i + 32)).AsUInt16()));
            l0 = Avx512F.FusedMultiplyAdd(lo, Vector512.LoadUnsafe(ref f0, (nuint)i), l0);
            h0 = Avx512F.FusedMultiplyAdd(hi, Vector512.LoadUnsafe(ref f0, (nuint)(i + 16)), h0);
            l1 = Avx512F.FusedMultiplyAdd(lo, Vector512.LoadUnsafe(ref f1, (nuint)i), l1);
            h1 = Avx512F.FusedMultiplyAdd(hi, Vector512.LoadUnsafe(ref f1, (nuint)(i + 16)), h1);
            l2 = Avx512F.FusedMultiplyAdd(lo, Vector512.LoadUnsafe(ref f2, (nuint)i), l2);
            h2 = Avx512F.FusedMultiplyAdd(hi, Vector512.LoadUnsafe(ref f2, (nuint)(i + 16)), h2);
            l3 = Avx512F.FusedMultiplyAdd(lo, Vector512.LoadUnsafe(ref f3, (nuint)i), l3);
            h3 = Avx512F.FusedMultiplyAdd(hi, Vector512.LoadUnsafe(ref f3, (nuint)(i + 16)), h3);
        }
        results[0] = Vector512.Sum(l0 + h0);
        results[1] = Vector512.Sum(l1 + h1);
        results[2] = Vector512.Sum(l2 + h2);
        results[3] = Vector512.Sum(l3 + h3);
        for (; i < n; i++)
        {
            float wi = ReadHalf(ref Unsafe.Add(ref wr, 2 * i));
            results[0] += wi * Unsafe.Add(ref f0, i);
            results[1] += wi * Unsafe.Add(ref f1, i);
            results[2] += wi * Unsafe.Add(ref f2, i);
            results[3] += wi * Unsafe.Add(ref f3, i);
        }
    }
}
