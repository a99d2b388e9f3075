using System.Buffers.Binary;

namespace Basalt.Tensors.Quants;

/// <summary>
/// Quantizes f32 weight rows into ggml storage types the way ggml's reference quantizers (<c>quantize_row_*_ref</c>,
/// which <c>llama-quantize</c> runs when no importance matrix is given) do, so a file written from these rows holds the
/// bytes llama.cpp would write. The arithmetic is single-precision and in ggml's order, without fused multiply-adds,
/// because ggml builds that code for baseline x86-64 and any reordering changes rounding in the scale searches.
/// </summary>
public static partial class WeightQuantizer
{
    private static readonly GgmlType[] Supported =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
        GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    /// <summary>Every type <see cref="Quantize"/> can write.</summary>
    public static IReadOnlyList<GgmlType> SupportedTypes => Supported;

    /// <summary>Whether <see cref="Quantize"/> can write <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => Array.IndexOf(Supported, type) >= 0;

    /// <summary>
    /// Quantizes one row (or several rows laid end to end: every supported format quantizes blocks independently) of
    /// <c>src.Length</c> elements, a whole number of <paramref name="type"/>'s blocks, into <paramref name="dst"/>, which
    /// needs <c>GgmlTypeInfo.Of(type).RowBytes(src.Length)</c> bytes.
    /// </summary>
    public static void Quantize(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!IsSupported(type)) throw new NotSupportedException($"Quantizing to {type} is not implemented.");
        var info = GgmlTypeInfo.Of(type);
        if (src.Length % info.BlockSize != 0)
            throw new ArgumentException($"{src.Length} elements is not a whole number of {type} blocks ({info.BlockSize}).", nameof(src));
        long need = info.RowBytes(src.Length);
        if (dst.Length < need) throw new ArgumentException($"A {type} row of {src.Length} elements needs {need} bytes, got {dst.Length}.", nameof(dst));
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], FloatConversions.SingleToHalf(src[i]));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], FloatConversions.SingleToBFloat16(src[i]));
                break;
            case GgmlType.Q8_0: ReferenceKernels.QuantizeQ8_0(src, dst); break;
            case GgmlType.Q4_0: QuantizeQ4_0(src, dst); break;
            case GgmlType.Q4_1: QuantizeQ4_1(src, dst); break;
            case GgmlType.Q5_0: QuantizeQ5_0(src, dst); break;
            case GgmlType.Q5_1: QuantizeQ5_1(src, dst); break;
            case GgmlType.Q2_K: QuantizeQ2_K(src, dst); break;
            case GgmlType.Q3_K: QuantizeQ3_K(src, dst); break;
            case GgmlType.Q4_K: QuantizeQ4_K(src, dst); break;
            case GgmlType.Q5_K: QuantizeQ5_K(src, dst); break;
            case GgmlType.Q6_K: QuantizeQ6_K(src, dst); break;
        }
    }

    /// <summary>
    /// Quantizes a row-major matrix of <paramref name="rows"/> rows of <paramref name="cols"/> elements, spreading
    /// row ranges over threads; the bytes equal those of quantizing each row alone.
    /// </summary>
    public static void QuantizeRows(GgmlType type, ReadOnlyMemory<float> src, Memory<byte> dst, int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (src.Length < (long)rows * cols) throw new ArgumentException($"Need {(long)rows * cols} elements, got {src.Length}.", nameof(src));
        int rowBytes = checked((int)GgmlTypeInfo.Of(type).RowBytes(cols));
        if (dst.Length < (long)rows * rowBytes) throw new ArgumentException($"Need {(long)rows * rowBytes} bytes, got {dst.Length}.", nameof(dst));
        // Chunks of at least ~16k elements keep the per-task overhead small next to the k-quant searches.
        int rowsPerChunk = Math.Max(1, 16384 / cols);
        int chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        Parallel.For(0, chunks, c =>
        {
            int r0 = c * rowsPerChunk;
            int n = Math.Min(rowsPerChunk, rows - r0);
            Quantize(type, src.Span.Slice(r0 * cols, n * cols), dst.Span.Slice(r0 * rowBytes, n * rowBytes));
        });
    }

    // C converts with truncation toward zero ((int8_t)/(uint8_t) casts of values already in range).
    private static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 18, 18);
            MaxByMagnitude(xs, out _, out float max);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            FloatConversions.WriteHalf(b, d);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)(xs[j] * id + 8.5f));
                int q1 = Math.Min(15, (int)(xs[j + 16] * id + 8.5f));
                b[2 + j] = (byte)(q0 | q1 << 4);
            }
        }
    }

    private static void QuantizeQ4_1(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 20, 20);
            MinMax(xs, out float min, out float max);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            FloatConversions.WriteHalf(b, d);
            FloatConversions.WriteHalf(b[2..], min);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)((xs[j] - min) * id + 0.5f));
                int q1 = Math.Min(15, (int)((xs[j + 16] - min) * id + 0.5f));
                b[4 + j] = (byte)(q0 | q1 << 4);
            }
        }
    }

    private static void QuantizeQ5_0(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 22, 22);
            MaxByMagnitude(xs, out _, out float max);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            FloatConversions.WriteHalf(b, d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)(xs[j] * id + 16.5f));
                int q1 = Math.Min(31, (int)(xs[j + 16] * id + 16.5f));
                b[6 + j] = (byte)((q0 & 0xF) | (q1 & 0xF) << 4);
                qh |= (uint)(q0 >> 4 & 1) << j;
                qh |= (uint)(q1 >> 4 & 1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(b[2..], qh);
        }
    }

    private static void QuantizeQ5_1(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 24, 24);
            MinMax(xs, out float min, out float max);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            FloatConversions.WriteHalf(b, d);
            FloatConversions.WriteHalf(b[2..], min);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = (byte)(int)((xs[j] - min) * id + 0.5f);
                int q1 = (byte)(int)((xs[j + 16] - min) * id + 0.5f);
                b[8 + j] = (byte)((q0 & 0xF) | (q1 & 0xF) << 4);
                qh |= (uint)(q0 >> 4 & 1) << j;
                qh |= (uint)(q1 >> 4 & 1) << (j + 16);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], qh);
        }
    }

    /// <summary>The largest magnitude and the signed value that has it (the first one on ties).</summary>
    private static void MaxByMagnitude(ReadOnlySpan<float> xs, out float amax, out float max)
    {
        amax = 0;
        max = 0;
        foreach (float v in xs)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
    }

    private static void MinMax(ReadOnlySpan<float> xs, out float min, out float max)
    {
        min = float.MaxValue;
        max = -float.MaxValue;
        foreach (float v in xs)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
    }
}
