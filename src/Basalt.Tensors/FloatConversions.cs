using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors;

/// <summary>
/// Conversions between f32 and the 16-bit float formats, matching ggml bit for bit: IEEE half with round-to-nearest-even,
/// and bf16 as ggml's <c>ggml_compute_fp32_to_bf16</c> rounds it (nearest-even, NaN forced quiet, subnormals kept).
/// </summary>
public static class FloatConversions
{
    /// <summary>Widens an IEEE binary16 bit pattern to f32 exactly (a signalling NaN comes back quiet, as F16C does).</summary>
    public static float HalfToSingle(ushort bits)
    {
        // Moving exponent and mantissa into f32 position and multiplying by 2^112 rebiases the exponent (15 -> 127)
        // and, for subnormal halves, normalises them; both are exact. Only Inf/NaN (exponent 31) need patching.
        uint magnitude = (uint)(bits & 0x7FFF) << 13;
        uint sign = (uint)(bits & 0x8000) << 16;
        if (magnitude >= 0x0F800000u)
        {
            uint special = magnitude | 0x7F800000u;
            if (magnitude != 0x0F800000u) special |= 0x00400000u;
            return BitConverter.UInt32BitsToSingle(special | sign);
        }
        float value = BitConverter.UInt32BitsToSingle(magnitude) * 5.192296858534828e33f; // 2^112
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(value) | sign);
    }

    /// <summary>Rounds an f32 to the nearest IEEE binary16 (ties to even), as <c>_cvtss_sh(x, 0)</c> does.</summary>
    public static ushort SingleToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Widens a bf16 bit pattern to f32 (exact: bf16 is the top half of an f32).</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds an f32 to bf16 with ties to even; NaNs keep their top payload bits and are made quiet.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>Reads a little-endian binary16 at the start of <paramref name="src"/> as f32.</summary>
    public static float ReadHalf(ReadOnlySpan<byte> src) => HalfToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src));

    /// <summary>Writes <paramref name="value"/> rounded to binary16, little-endian.</summary>
    public static void WriteHalf(Span<byte> dst, float value) => BinaryPrimitives.WriteUInt16LittleEndian(dst, SingleToHalf(value));

    /// <summary>Widens <c>dst.Length</c> little-endian halves from <paramref name="src"/>, vectorised where the hardware allows.</summary>
    public static void ConvertHalfToSingle(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(src[..(dst.Length * 2)]);
        if (BitConverter.IsLittleEndian)
        {
            // TensorPrimitives widens with F16C/AVX-512 where present; binary16 -> binary32 is exact, so this agrees
            // with HalfToSingle for every finite and infinite input.
            TensorPrimitives.ConvertToSingle(halves, dst);
            return;
        }
        for (int i = 0; i < dst.Length; i++) dst[i] = ReadHalf(src[(2 * i)..]);
    }

    /// <summary>
    /// Widens <paramref name="rows"/> runs of <paramref name="width"/> halves, <paramref name="srcStride"/> halves apart in
    /// <paramref name="src"/>, into <paramref name="dst"/> one after another: a strided gather (one head of a cache, say) in
    /// one call rather than one call per run, vectorised where Vector512 is accelerated.
    /// </summary>
    public static unsafe void WidenHalfRows(ReadOnlySpan<Half> src, int srcStride, int rows, int width, Span<float> dst)
    {
        if (rows < 0 || width < 0 || srcStride < width) throw new ArgumentOutOfRangeException(nameof(srcStride), "Need rows, width >= 0 and a stride of at least the width.");
        if (rows == 0 || width == 0) return;
        if ((long)(rows - 1) * srcStride + width > src.Length) throw new ArgumentException("The source is too short.", nameof(src));
        if ((long)rows * width > dst.Length) throw new ArgumentException("The destination is too short.", nameof(dst));
        if (!Vector512.IsHardwareAccelerated || !BitConverter.IsLittleEndian || width % 16 != 0)
        {
            for (int r = 0; r < rows; r++) TensorPrimitives.ConvertToSingle(src.Slice(r * srcStride, width), dst.Slice(r * width, width));
            return;
        }
        fixed (Half* s0 = src)
        fixed (float* d0 = dst)
        {
            for (int r = 0; r < rows; r++)
            {
                ushort* s = (ushort*)s0 + (long)r * srcStride;
                float* d = d0 + (long)r * width;
                for (int i = 0; i < width; i += 16)
                    Quants.FastKernels.WidenHalves512(Avx512F.ConvertToVector512UInt32(Vector256.Load(s + i))).Store(d + i);
            }
        }
    }

    /// <summary>Widens <c>dst.Length</c> little-endian bf16 values from <paramref name="src"/>.</summary>
    public static void ConvertBFloat16ToSingle(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
    }

    /// <summary>
    /// destination[i] = (float)(Half)source[i]: each value rounded to the nearest f16 (ties to even), kept as f32.
    /// Vectorised where Vector512 is accelerated: in the normal f16 range the mantissa is rounded at bit 13 with
    /// integer arithmetic (a carry into the exponent is the correct result); below 2^−14 adding and subtracting 0.5
    /// rounds to a multiple of 2^−24 (f32's ulp at 0.5); from 65520 up the result is infinite; NaN stays NaN (quieted, payload cut as the cast does).
    /// </summary>
    public static unsafe void RoundToHalfPrecision(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            fixed (float* src = source)
            fixed (float* dst = destination)
                for (; i + 16 <= source.Length; i += 16) RoundToHalf(Vector512.Load(src + i)).Store(dst + i);
        }
        for (; i < source.Length; i++) destination[i] = (float)(Half)source[i];
    }

    /// <summary>
    /// destination[i] = (Half)source[i], ties to even, the same bits as the cast (NaN: a quiet NaN of the same sign
    /// with the payload's top bits). Vectorised where Vector512 is accelerated: each value is rounded as
    /// <see cref="RoundToHalfPrecision"/> rounds, after which its f16 bits are a shift of its f32 bits (normal range) or
    /// its magnitude in units of 2^−24 (subnormal range). A cache stores each token's keys and values this way;
    /// TensorPrimitives.ConvertToHalf took ~1 µs for 512 values.
    /// </summary>
    public static unsafe void NarrowToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            fixed (float* src = source)
            fixed (Half* dst = destination)
                for (; i + 16 <= source.Length; i += 16) Avx512F.ConvertToVector256UInt16(HalfBits(Vector512.Load(src + i))).Store((ushort*)dst + i);
        }
        for (; i < source.Length; i++) destination[i] = (Half)source[i];
    }

    /// <summary>The f16 bits of sixteen floats (in the low half of each lane), rounded as <see cref="RoundToHalf"/> rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> HalfBits(Vector512<float> v)
    {
        var rounded = RoundToHalf(v);
        var bits = rounded.AsUInt32();
        var sign = Vector512.ShiftRightLogical(bits, 16) & Vector512.Create(0x8000u);
        var magnitude = Vector512.Abs(rounded);
        // Normal: exponent rebiased from 127 to 15, mantissa's top ten bits (the rounding left the rest zero).
        var normal = Vector512.ShiftRightLogical(bits & Vector512.Create(0x7FFFFFFFu), 13) - Vector512.Create(112u << 10);
        // Subnormal: a whole number of 2^-24 steps, exact in f32.
        var subnormal = Vector512.ConvertToUInt32(magnitude * Vector512.Create(16777216f));
        var result = Vector512.ConditionalSelect(Vector512.LessThan(magnitude, Vector512.Create(6.103515625e-05f)).AsUInt32(), subnormal, normal);
        result = Vector512.ConditionalSelect(Vector512.Equals(magnitude, Vector512.Create(float.PositiveInfinity)).AsUInt32(), Vector512.Create(0x7C00u), result);
        var nan = Vector512.Create(0x7C00u) | (Vector512.ShiftRightLogical(bits, 13) & Vector512.Create(0x3FFu));
        result = Vector512.ConditionalSelect(Vector512.Equals(v, v).AsUInt32(), result, nan);
        return result | sign;
    }

    /// <summary>Sixteen floats each rounded to the nearest f16 value (ties to even), as <see cref="RoundToHalfPrecision"/> rounds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> RoundToHalf(Vector512<float> v)
    {
        var bits = v.AsUInt32();
        var normal = ((bits + Vector512.Create(0xFFFu) + (Vector512.ShiftRightLogical(bits, 13) & Vector512<uint>.One)) & Vector512.Create(0xFFFFE000u)).AsSingle();
        var magnitude = Vector512.Abs(v);
        var sign = (bits & Vector512.Create(0x80000000u)).AsSingle();
        var tiny = ((magnitude + Vector512.Create(0.5f)) - Vector512.Create(0.5f)) | sign;
        var result = Vector512.ConditionalSelect(Vector512.LessThan(magnitude, Vector512.Create(6.103515625e-05f)), tiny, normal);
        result = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(65520f)), Vector512.Create(float.PositiveInfinity) | sign, result);
        // NaN: quieted, its payload cut to the ten bits an f16 keeps.
        var nan = ((bits & Vector512.Create(0xFFFFE000u)) | Vector512.Create(0x00400000u)).AsSingle();
        return Vector512.ConditionalSelect(Vector512.Equals(v, v), result, nan);
    }
}
