using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// Vector512 float rows: 32 weights per step, widened in registers (vpmovzxwd straight from memory) and multiplied
// into two independent accumulators.
public static partial class FastKernels
{
    private static float DotF16_512(ref byte w, ref float x, int n)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var lo = Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref w, (nuint)(2 * i)).AsUInt16());
            var hi = Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref w, (nuint)(2 * i + 32)).AsUInt16());
            acc0 = Avx512F.FusedMultiplyAdd(WidenHalves512(lo), Vector512.LoadUnsafe(ref x, (nuint)i), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(WidenHalves512(hi), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), acc1);
        }
        float sum = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) sum += ReadHalf(ref Unsafe.Add(ref w, 2 * i)) * Unsafe.Add(ref x, i);
        return sum;
    }

    /// <summary>Sixteen halves (one per 32-bit lane) to f32, as <see cref="WidenHalves"/> does for eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> WidenHalves512(Vector512<uint> halves)
    {
        // Shifting left 17 then right 4 drops the sign and puts exponent and mantissa in f32 position.
        var magnitude = Vector512.ShiftRightLogical(Vector512.ShiftLeft(halves, 17), 4);
        var scaled = magnitude.AsSingle() * Vector512.Create(5.192296858534828e33f);
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x0F800000u));
        var value = Vector512.ConditionalSelect(special.AsSingle(), (magnitude | Vector512.Create(0x7F800000u)).AsSingle(), scaled);
        return (value.AsUInt32() | (Vector512.ShiftLeft(halves, 16) & Vector512.Create(0x80000000u))).AsSingle();
    }

    private static float DotBF16_512(ref byte w, ref float x, int n)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var lo = Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref w, (nuint)(2 * i)).AsUInt16());
            var hi = Avx512F.ConvertToVector512UInt32(Vector256.LoadUnsafe(ref w, (nuint)(2 * i + 32)).AsUInt16());
            acc0 = Avx512F.FusedMultiplyAdd(Vector512.ShiftLeft(lo, 16).AsSingle(), Vector512.LoadUnsafe(ref x, (nuint)i), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Vector512.ShiftLeft(hi, 16).AsSingle(), Vector512.LoadUnsafe(ref x, (nuint)(i + 16)), acc1);
        }
        float sum = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) sum += FloatConversions.BFloat16ToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref w, 2 * i))) * Unsafe.Add(ref x, i);
        return sum;
    }
}
