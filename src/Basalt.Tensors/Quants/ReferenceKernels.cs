using System.Buffers;
using System.Runtime.InteropServices;

namespace Basalt.Tensors.Quants;

/// <summary>
/// Plain scalar kernels that compute exactly what ggml's reference C code computes: the ground truth that
/// <see cref="FastKernels"/> is tested against. Rows are whole numbers of blocks; a row of n elements occupies
/// <c>GgmlTypeInfo.Of(type).RowBytes(n)</c> bytes.
/// </summary>
public static partial class ReferenceKernels
{
    /// <summary>Expands one row of <paramref name="type"/> into <c>dst.Length</c> floats.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        CheckRow(type, src, dst.Length);
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(src[..(dst.Length * 4)]).CopyTo(dst);
                break;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = FloatConversions.ReadHalf(src[(2 * i)..]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++) dst[i] = FloatConversions.BFloat16ToSingle((ushort)(src[2 * i] | src[2 * i + 1] << 8));
                break;
            case GgmlType.Q4_0: DequantizeQ4_0(src, dst); break;
            case GgmlType.Q4_1: DequantizeQ4_1(src, dst); break;
            case GgmlType.Q5_0: DequantizeQ5_0(src, dst); break;
            case GgmlType.Q5_1: DequantizeQ5_1(src, dst); break;
            case GgmlType.Q8_0: DequantizeQ8_0(src, dst); break;
            case GgmlType.Q8_1: DequantizeQ8_1(src, dst); break;
            case GgmlType.Q2_K: DequantizeQ2_K(src, dst); break;
            case GgmlType.Q3_K: DequantizeQ3_K(src, dst); break;
            case GgmlType.Q4_K: DequantizeQ4_K(src, dst); break;
            case GgmlType.Q5_K: DequantizeQ5_K(src, dst); break;
            case GgmlType.Q6_K: DequantizeQ6_K(src, dst); break;
            case GgmlType.Q8_K: DequantizeQ8_K(src, dst); break;
            default: throw new NotSupportedException($"Dequantizing {type} is not implemented.");
        }
    }

    /// <summary>
    /// Quantizes an activation row into the format <see cref="ActivationFormat.For"/> names for
    /// <paramref name="weightType"/>; <paramref name="dst"/> needs <see cref="ActivationFormat.RowBytes"/> bytes.
    /// </summary>
    public static void QuantizeActivations(GgmlType weightType, ReadOnlySpan<float> x, Span<byte> dst)
    {
        int bytes = ActivationFormat.RowBytes(weightType, x.Length);
        if (dst.Length < bytes) throw new ArgumentException($"Need {bytes} bytes, got {dst.Length}.", nameof(dst));
        var floats = weightType is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 ? MemoryMarshal.Cast<byte, float>(dst[..bytes]) : default;
        switch (weightType)
        {
            case GgmlType.F32:
                x.CopyTo(floats);
                break;
            case GgmlType.F16:
                for (int i = 0; i < x.Length; i++) floats[i] = FloatConversions.HalfToSingle(FloatConversions.SingleToHalf(x[i]));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < x.Length; i++) floats[i] = FloatConversions.BFloat16ToSingle(FloatConversions.SingleToBFloat16(x[i]));
                break;
            default:
                switch (ActivationFormat.For(weightType))
                {
                    case GgmlType.Q8_0: QuantizeQ8_0(x, dst); break;
                    case GgmlType.Q8_1: QuantizeQ8_1(x, dst); break;
                    default: QuantizeQ8_K(x, dst); break;
                }
                break;
        }
    }

    /// <summary>
    /// Dot product of one weight row with activations already quantized by <see cref="QuantizeActivations"/>; the
    /// row length is implied by <paramref name="xq"/>'s size.
    /// </summary>
    public static float DotQuantized(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> xq)
    {
        int n = ActivationFormat.ElementCount(weightType, xq.Length);
        CheckRow(weightType, weightRow, n);
        switch (weightType)
        {
            case GgmlType.F32:
            case GgmlType.F16:
            case GgmlType.BF16:
                return DotFloat(weightType, weightRow, MemoryMarshal.Cast<byte, float>(xq));
            case GgmlType.Q4_0: return DotQ4_0(weightRow, xq, n);
            case GgmlType.Q4_1: return DotQ4_1(weightRow, xq, n);
            case GgmlType.Q5_0: return DotQ5_0(weightRow, xq, n);
            case GgmlType.Q5_1: return DotQ5_1(weightRow, xq, n);
            case GgmlType.Q8_0: return DotQ8_0(weightRow, xq, n);
            case GgmlType.Q2_K: return DotQ2_K(weightRow, xq, n);
            case GgmlType.Q3_K: return DotQ3_K(weightRow, xq, n);
            case GgmlType.Q4_K: return DotQ4_K(weightRow, xq, n);
            case GgmlType.Q5_K: return DotQ5_K(weightRow, xq, n);
            case GgmlType.Q6_K: return DotQ6_K(weightRow, xq, n);
            default: throw new NotSupportedException($"No dot kernel for {weightType}.");
        }
    }

    /// <summary>Dot product of one weight row with f32 activations, quantizing them first as ggml does.</summary>
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

    /// <summary>y = W·x for a row-major weight matrix of <paramref name="rows"/> rows of <paramref name="cols"/> elements.</summary>
    public static void MatVec(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        int rowBytes = CheckMatVec(weightType, weights, rows, cols, x, y);
        int bytes = ActivationFormat.RowBytes(weightType, cols);
        byte[] rented = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            var xq = rented.AsSpan(0, bytes);
            QuantizeActivations(weightType, x[..cols], xq);
            for (int r = 0; r < rows; r++) y[r] = DotQuantized(weightType, weights.Slice(r * rowBytes, rowBytes), xq);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static float DotFloat(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        // Sequential f32 accumulation, as ggml's scalar fallback sums (ggml_float is double there for F16, but its
        // SIMD paths, which x86 builds use, accumulate in f32).
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float w = type switch
            {
                GgmlType.F32 => BitConverter.Int32BitsToSingle(row[4 * i] | row[4 * i + 1] << 8 | row[4 * i + 2] << 16 | row[4 * i + 3] << 24),
                GgmlType.F16 => FloatConversions.ReadHalf(row[(2 * i)..]),
                _ => FloatConversions.BFloat16ToSingle((ushort)(row[2 * i] | row[2 * i + 1] << 8)),
            };
            sum += w * x[i];
        }
        return sum;
    }

    internal static void CheckRow(GgmlType type, ReadOnlySpan<byte> src, int elements)
    {
        var info = GgmlTypeInfo.Of(type);
        if (elements % info.BlockSize != 0)
            throw new ArgumentException($"{elements} elements is not a whole number of {type} blocks ({info.BlockSize}).");
        long need = info.RowBytes(elements);
        if (src.Length < need) throw new ArgumentException($"A {type} row of {elements} elements needs {need} bytes, got {src.Length}.");
    }

    internal static int CheckMatVec(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        ActivationFormat.CheckColumns(weightType, cols);
        int rowBytes = checked((int)GgmlTypeInfo.Of(weightType).RowBytes(cols));
        if (weights.Length < (long)rowBytes * rows) throw new ArgumentException($"Weights hold {weights.Length} bytes, need {(long)rowBytes * rows}.", nameof(weights));
        if (x.Length < cols) throw new ArgumentException($"x has {x.Length} elements, need {cols}.", nameof(x));
        if (y.Length < rows) throw new ArgumentException($"y has {y.Length} elements, need {rows}.", nameof(y));
        return rowBytes;
    }
}
