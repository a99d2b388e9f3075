using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// The many-rows entry point of the decode GEMV: one validation per call, then a tight loop over rows with no
// per-row checks. With AVX-512BW the loop runs the Vector512 kernels; otherwise the AVX2 row kernels.
public static partial class FastKernels
{
    /// <summary>Whether this machine runs the Vector512 (AVX-512BW) row kernels.</summary>
    public static bool IsVector512Accelerated { get; } = Avx512BW.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// y[r − rowStart] = row r · x for rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of a row-major
    /// weight matrix whose rows start every <paramref name="rowBytes"/> bytes, with x prepared by
    /// <see cref="QuantizeActivations"/>. Arguments are checked once; each result equals
    /// <see cref="DotQuantized(GgmlType, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> of that row bit for bit.
    /// </summary>
    public static void MatVecRows(GgmlType weightType, ReadOnlySpan<byte> weights, int rowBytes, int rowStart, int rowEnd,
        ReadOnlySpan<byte> xq, Span<float> y) =>
        MatVecRows(weightType, weights, rowBytes, rowStart, rowEnd, xq, y, IsVector512Accelerated);

    /// <summary>As the public overload; <paramref name="vector512"/> false forces the AVX2 kernels (tests run both).</summary>
    internal static void MatVecRows(GgmlType weightType, ReadOnlySpan<byte> weights, int rowBytes, int rowStart, int rowEnd,
        ReadOnlySpan<byte> xq, Span<float> y, bool vector512)
    {
        int n = ActivationFormat.ElementCount(weightType, xq.Length);
        long need = GgmlTypeInfo.Of(weightType).RowBytes(n);
        if (rowBytes < need) throw new ArgumentException($"A {weightType} row of {n} elements needs {need} bytes; rows are {rowBytes} apart.", nameof(rowBytes));
        if (rowStart < 0 || rowEnd < rowStart) throw new ArgumentOutOfRangeException(nameof(rowEnd), $"Bad row range [{rowStart}, {rowEnd}).");
        int rows = rowEnd - rowStart;
        if (y.Length < rows) throw new ArgumentException($"y has {y.Length} elements, need {rows}.", nameof(y));
        if (rows == 0) return;
        if ((long)(rowEnd - 1) * rowBytes + need > weights.Length)
            throw new ArgumentException($"Weights hold {weights.Length} bytes, too few for rows up to {rowEnd}.", nameof(weights));

        ref byte first = ref Unsafe.Add(ref MemoryMarshal.GetReference(weights), (nint)rowStart * rowBytes);
        if (!Avx2.IsSupported)
        {
            for (int r = 0; r < rows; r++) y[r] = ReferenceKernels.DotQuantized(weightType, RowAt(ref first, r, rowBytes, need), xq);
            return;
        }
        if (vector512 && IsVector512Accelerated && RowsVector512(weightType, ref first, rowBytes, rows, xq, n, y)) return;
        for (int r = 0; r < rows; r++) y[r] = DotQuantizedUnchecked(weightType, RowAt(ref first, r, rowBytes, need), xq, n);
    }

    /// <summary>Row <paramref name="r"/> of <paramref name="length"/> bytes, without bounds checks (the caller validated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> RowAt(ref byte first, int r, int rowBytes, long length) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref first, (nint)r * rowBytes), (int)length);

    /// <summary>The AVX2 row kernels with no argument checks: <paramref name="n"/> elements, row and xq already validated.</summary>
    internal static float DotQuantizedUnchecked(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> xq, int n) => weightType switch
    {
        GgmlType.F32 => DotF32(weightRow, MemoryMarshal.Cast<byte, float>(xq)),
        GgmlType.F16 => DotF16(weightRow, MemoryMarshal.Cast<byte, float>(xq)),
        GgmlType.BF16 => DotBF16(weightRow, MemoryMarshal.Cast<byte, float>(xq)),
        GgmlType.Q4_0 => DotQ4_0(weightRow, xq, n),
        GgmlType.Q4_1 => DotQ4_1(weightRow, xq, n),
        GgmlType.Q5_0 => DotQ5_0(weightRow, xq, n),
        GgmlType.Q5_1 => DotQ5_1(weightRow, xq, n),
        GgmlType.Q8_0 => DotQ8_0(weightRow, xq, n),
        GgmlType.Q2_K => DotQ2_K(weightRow, xq, n),
        GgmlType.Q3_K => DotQ3_K(weightRow, xq, n),
        GgmlType.Q4_K => DotQ4_K(weightRow, xq, n),
        GgmlType.Q5_K => DotQ5_K(weightRow, xq, n),
        GgmlType.Q6_K => DotQ6_K(weightRow, xq, n),
        _ => throw new NotSupportedException($"No dot kernel for {weightType}."),
    };

    /// <summary>Runs the Vector512 kernel for every row if <paramref name="type"/> has one; false leaves the work to the caller.</summary>
    /// <remarks>
    /// The 32-element formats keep the AVX2 rows: on a Vector512 machine their products run on the load-time
    /// repacked matrices (<c>Basalt.Tensors.Packed</c>) instead.
    /// </remarks>
    private static bool RowsVector512(GgmlType type, ref byte first, int rowBytes, int rows, ReadOnlySpan<byte> xq, int n, Span<float> y)
    {
        ref byte x = ref MemoryMarshal.GetReference(xq);
        switch (type)
        {
            case GgmlType.Q4_K:
                for (int r = 0; r < rows; r++) y[r] = DotQ4_K512(ref Unsafe.Add(ref first, (nint)r * rowBytes), ref x, n);
                return true;
            case GgmlType.Q5_K:
                for (int r = 0; r < rows; r++) y[r] = DotQ5_K512(ref Unsafe.Add(ref first, (nint)r * rowBytes), ref x, n);
                return true;
            case GgmlType.Q6_K:
                for (int r = 0; r < rows; r++) y[r] = DotQ6_K512(ref Unsafe.Add(ref first, (nint)r * rowBytes), ref x, n);
                return true;
            case GgmlType.F16:
                for (int r = 0; r < rows; r++) y[r] = DotF16_512(ref Unsafe.Add(ref first, (nint)r * rowBytes), ref Unsafe.As<byte, float>(ref x), n);
                return true;
            case GgmlType.BF16:
                for (int r = 0; r < rows; r++) y[r] = DotBF16_512(ref Unsafe.Add(ref first, (nint)r * rowBytes), ref Unsafe.As<byte, float>(ref x), n);
                return true;
            default:
                return false;
        }
    }
}
