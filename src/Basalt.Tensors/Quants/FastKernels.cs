using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

/// <summary>
/// Vectorised row kernels for the decode GEMV. The integer dot products use AVX2 <c>vpmaddubsw</c>/<c>vpmaddwd</c>
/// (the CPUs we target lack VNNI); without AVX2 every call falls back to <see cref="ReferenceKernels"/>.
/// Dequantization reproduces the reference bit for bit (same operations, no fused multiply-add). Dots form the same
/// exact integer block sums as the reference; the k-quants also combine them in the same order and so match exactly,
/// while the 32-element formats accumulate block terms in vector lanes, which only reorders f32 additions.
/// </summary>
public static partial class FastKernels
{
    /// <summary>Whether the SIMD dot kernels run here (otherwise the scalar reference does the work).</summary>
    public static bool IsAccelerated => Avx2.IsSupported;

    /// <summary>Expands one row of <paramref name="type"/> into <c>dst.Length</c> floats.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        ReferenceKernels.CheckRow(type, src, dst.Length);
        // The bit-spreading shuffles are AVX2-only, so plain Vector256 acceleration is not enough.
        if (!Avx2.IsSupported)
        {
            ReferenceKernels.Dequantize(type, src, dst);
            return;
        }
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src[..(dst.Length * 4)]).CopyTo(dst); break;
            case GgmlType.F16: FloatConversions.ConvertHalfToSingle(src, dst); break;
            case GgmlType.BF16: DequantizeBF16(src, dst); break;
            case GgmlType.Q4_0: DequantizeQ4_0(src, dst); break;
            case GgmlType.Q4_1: DequantizeQ4_1(src, dst); break;
            case GgmlType.Q5_0: DequantizeQ5_0(src, dst); break;
            case GgmlType.Q5_1: DequantizeQ5_1(src, dst); break;
            case GgmlType.Q8_0: DequantizeQ8_0(src, dst); break;
            case GgmlType.Q2_K: DequantizeQ2_K(src, dst); break;
            case GgmlType.Q3_K: DequantizeQ3_K(src, dst); break;
            case GgmlType.Q4_K: DequantizeQ4_K(src, dst); break;
            case GgmlType.Q5_K: DequantizeQ5_K(src, dst); break;
            case GgmlType.Q6_K: DequantizeQ6_K(src, dst); break;
            default: ReferenceKernels.Dequantize(type, src, dst); break;
        }
    }

    /// <summary>
    /// Quantizes an activation row for <paramref name="weightType"/> (see <see cref="ActivationFormat"/>). This runs
    /// once per matrix-vector product, O(cols) against the product's O(rows·cols), so it uses the reference code and
    /// its output is identical to <see cref="ReferenceKernels.QuantizeActivations"/>.
    /// </summary>
    public static void QuantizeActivations(GgmlType weightType, ReadOnlySpan<float> x, Span<byte> dst) =>
        ReferenceKernels.QuantizeActivations(weightType, x, dst);

    /// <summary>Dot product of one weight row with activations quantized by <see cref="QuantizeActivations"/>.</summary>
    public static float DotQuantized(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> xq) =>
        DotQuantized(weightType, weightRow, xq, IsVector512Accelerated);

    /// <summary>As the public overload; <paramref name="vector512"/> false forces the AVX2 kernels (tests run both).</summary>
    internal static float DotQuantized(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> xq, bool vector512)
    {
        int n = ActivationFormat.ElementCount(weightType, xq.Length);
        ReferenceKernels.CheckRow(weightType, weightRow, n);
        if (!Avx2.IsSupported) return ReferenceKernels.DotQuantized(weightType, weightRow, xq);
        if (!vector512 || !IsVector512Accelerated) return DotQuantizedUnchecked(weightType, weightRow, xq, n);
        // One-row MatVecRows, so a row's dot never depends on which entry point computed it.
        Span<float> result = stackalloc float[1];
        MatVecRows(weightType, weightRow, weightRow.Length, 0, 1, xq, result, vector512: true);
        return result[0];
    }

    /// <summary>
    /// Dot product of one weight row with f32 activations, quantizing them first as ggml does. For many rows against
    /// the same x, quantize once with <see cref="QuantizeActivations"/> and call <see cref="DotQuantized(GgmlType, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>.
    /// </summary>
    public static float Dot(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<float> x)
    {
        int bytes = ActivationFormat.RowBytes(weightType, x.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            QuantizeActivations(weightType, x, rented.AsSpan(0, bytes));
            return DotQuantized(weightType, weightRow, rented.AsSpan(0, bytes));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// y = W·x for a row-major weight matrix of <paramref name="rows"/> rows of <paramref name="cols"/> elements,
    /// quantizing x once for all rows. Single-threaded.
    /// </summary>
    public static void MatVec(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        int rowBytes = ReferenceKernels.CheckMatVec(weightType, weights, rows, cols, x, y);
        int bytes = ActivationFormat.RowBytes(weightType, cols);
        byte[] rented = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            var xq = rented.AsSpan(0, bytes);
            QuantizeActivations(weightType, x[..cols], xq);
            MatVecRows(weightType, weights, rowBytes, 0, rows, xq, y);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
