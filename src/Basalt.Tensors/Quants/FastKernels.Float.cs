using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Basalt.Tensors.Quants;

// Float weight rows. The activations arrive as f32 (already rounded to f16/bf16 for those weight types).
public static partial class FastKernels
{
    private static float DotF32(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        TensorPrimitives.Dot(MemoryMarshal.Cast<byte, float>(row)[..x.Length], x);

    private static float DotF16(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= x.Length; i += 16)
        {
            var raw = Vector256.LoadUnsafe(ref r, (nuint)(i * 2)).AsUInt16();
            acc0 = MultiplyAdd(WidenHalves(Vector256.WidenLower(raw)), Vector256.LoadUnsafe(ref xr, (nuint)i), acc0);
            acc1 = MultiplyAdd(WidenHalves(Vector256.WidenUpper(raw)), Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)), acc1);
        }
        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < x.Length; i++) sum += FloatConversions.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref r, i * 2))) * x[i];
        return sum;
    }

    /// <summary>
    /// Eight halves (one per 32-bit lane) to f32, the same exact rebias-by-multiplication as
    /// <see cref="FloatConversions.HalfToSingle"/>; NaNs stay NaN (their quiet bit is not forced, which a dot cannot observe).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WidenHalves(Vector256<uint> halves)
    {
        var magnitude = Vector256.ShiftLeft(halves & Vector256.Create(0x7FFFu), 13);
        var scaled = magnitude.AsSingle() * Vector256.Create(5.192296858534828e33f);
        var special = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x0F800000u));
        var value = Vector256.ConditionalSelect(special.AsSingle(), (magnitude | Vector256.Create(0x7F800000u)).AsSingle(), scaled);
        return (value.AsUInt32() | Vector256.ShiftLeft(halves & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    private static float DotBF16(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        ref byte r = ref MemoryMarshal.GetReference(row);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= x.Length; i += 16)
        {
            var raw = Vector256.LoadUnsafe(ref r, (nuint)(i * 2)).AsUInt16();
            var lo = Vector256.ShiftLeft(Vector256.WidenLower(raw), 16).AsSingle();
            var hi = Vector256.ShiftLeft(Vector256.WidenUpper(raw), 16).AsSingle();
            acc0 = MultiplyAdd(lo, Vector256.LoadUnsafe(ref xr, (nuint)i), acc0);
            acc1 = MultiplyAdd(hi, Vector256.LoadUnsafe(ref xr, (nuint)(i + 8)), acc1);
        }
        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < x.Length; i++)
            sum += FloatConversions.BFloat16ToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref r, i * 2))) * x[i];
        return sum;
    }

    private static void DequantizeBF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte r = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i + 16 <= dst.Length; i += 16)
        {
            var raw = Vector256.LoadUnsafe(ref r, (nuint)(i * 2)).AsUInt16();
            Vector256.ShiftLeft(Vector256.WidenLower(raw), 16).AsSingle().StoreUnsafe(ref d, (nuint)i);
            Vector256.ShiftLeft(Vector256.WidenUpper(raw), 16).AsSingle().StoreUnsafe(ref d, (nuint)(i + 8));
        }
        for (; i < dst.Length; i++) dst[i] = FloatConversions.BFloat16ToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref r, i * 2)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : a * b + c;
}
