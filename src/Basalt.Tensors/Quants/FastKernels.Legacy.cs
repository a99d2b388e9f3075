using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// 32-element block formats against Q8_0/Q8_1 activations (layouts in ReferenceKernels.Legacy.cs).
public static partial class FastKernels
{
    private static readonly Vector256<short> OnesInt16 = Vector256.Create((short)1);

    // pshufb indices that copy byte (i / 8) of a broadcast dword into byte i (each 128-bit lane holds the dword).
    private static readonly Vector256<byte> SpreadBitsShuffle = Vector256.Create(
        (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);

    private static readonly Vector256<byte> BitPerByte = Vector256.Create(
        (byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ReadHalf(ref byte at) => FloatConversions.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref at));

    /// <summary>Byte i becomes 0xFF where bit i of <paramref name="bits"/> is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> SpreadBits(uint bits)
    {
        var spread = Avx2.Shuffle(Vector256.Create(bits).AsByte(), SpreadBitsShuffle);
        return Vector256.Equals(spread & BitPerByte, BitPerByte);
    }

    /// <summary>The 32 nibbles of a Q4/Q5 block in element order: low nibbles are elements 0..15, high 16..31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LoadNibbles(ref byte qs)
    {
        var raw = Vector128.LoadUnsafe(ref qs);
        return Vector256.Create(raw & Vector128.Create((byte)0x0F), Vector128.ShiftRightLogical(raw, 4));
    }

    /// <summary>Eight int32 partial sums of signed bytes a·b, using the sign trick so vpmaddubsw sees an unsigned side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotSigned(Vector256<sbyte> a, Vector256<sbyte> b) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(a), Avx2.Sign(b, a)), OnesInt16);

    /// <summary>Eight int32 partial sums of unsigned a (below 128) times signed b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotUnsigned(Vector256<byte> a, Vector256<sbyte> b) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a, b), OnesInt16);

    private static float DotQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        var acc = Vector256<float>.Zero;
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * 34);
            ref byte xb = ref Unsafe.Add(ref xr, i * 34);
            var p = DotSigned(Vector256.LoadUnsafe(ref wb, 2).AsSByte(), Vector256.LoadUnsafe(ref xb, 2).AsSByte());
            acc = MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(ReadHalf(ref wb) * ReadHalf(ref xb)), acc);
        }
        return Vector256.Sum(acc);
    }

    private static float DotQ4_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        var acc = Vector256<float>.Zero;
        var eight = Vector256.Create((byte)8);
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * 18);
            ref byte xb = ref Unsafe.Add(ref xr, i * 34);
            var q = (LoadNibbles(ref Unsafe.Add(ref wb, 2)) - eight).AsSByte();
            var p = DotSigned(q, Vector256.LoadUnsafe(ref xb, 2).AsSByte());
            acc = MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(ReadHalf(ref wb) * ReadHalf(ref xb)), acc);
        }
        return Vector256.Sum(acc);
    }

    private static float DotQ5_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        var acc = Vector256<float>.Zero;
        var sixteen = Vector256.Create((byte)16);
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * 22);
            ref byte xb = ref Unsafe.Add(ref xr, i * 34);
            var high = SpreadBits(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref wb, 2))) & sixteen;
            var q = ((LoadNibbles(ref Unsafe.Add(ref wb, 6)) | high) - sixteen).AsSByte();
            var p = DotSigned(q, Vector256.LoadUnsafe(ref xb, 2).AsSByte());
            acc = MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(ReadHalf(ref wb) * ReadHalf(ref xb)), acc);
        }
        return Vector256.Sum(acc);
    }

    private static float DotQ4_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        var acc = Vector256<float>.Zero;
        float offsets = 0;
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * 20);
            ref byte xb = ref Unsafe.Add(ref xr, i * 36);
            var p = DotUnsigned(LoadNibbles(ref Unsafe.Add(ref wb, 4)), Vector256.LoadUnsafe(ref xb, 4).AsSByte());
            acc = MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(ReadHalf(ref wb) * ReadHalf(ref xb)), acc);
            offsets += ReadHalf(ref Unsafe.Add(ref wb, 2)) * ReadHalf(ref Unsafe.Add(ref xb, 2));
        }
        return Vector256.Sum(acc) + offsets;
    }

    private static float DotQ5_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        var acc = Vector256<float>.Zero;
        var sixteen = Vector256.Create((byte)16);
        float offsets = 0;
        for (int i = 0; i < n / 32; i++)
        {
            ref byte wb = ref Unsafe.Add(ref wr, i * 24);
            ref byte xb = ref Unsafe.Add(ref xr, i * 36);
            var high = SpreadBits(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref wb, 4))) & sixteen;
            var u = LoadNibbles(ref Unsafe.Add(ref wb, 8)) | high;
            var p = DotUnsigned(u, Vector256.LoadUnsafe(ref xb, 4).AsSByte());
            acc = MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(ReadHalf(ref wb) * ReadHalf(ref xb)), acc);
            offsets += ReadHalf(ref Unsafe.Add(ref wb, 2)) * ReadHalf(ref Unsafe.Add(ref xb, 2));
        }
        return Vector256.Sum(acc) + offsets;
    }

    /// <summary>
    /// Writes scale·(u − bias) − min for 32 bytes, with one scale/min for elements 0..15 and one for 16..31. The
    /// reference's "q·d + m" is the same f32 result as "q·d − (−m)", so the offset formats pass a negated min.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChunk(Vector256<byte> u, int bias, float scaleLo, float minLo, float scaleHi, float minHi, ref float dst)
    {
        var b = Vector256.Create(bias);
        var lo16 = Vector256.WidenLower(u);
        var hi16 = Vector256.WidenUpper(u);
        var f0 = Vector256.ConvertToSingle(Vector256.WidenLower(lo16).AsInt32() - b);
        var f1 = Vector256.ConvertToSingle(Vector256.WidenUpper(lo16).AsInt32() - b);
        var f2 = Vector256.ConvertToSingle(Vector256.WidenLower(hi16).AsInt32() - b);
        var f3 = Vector256.ConvertToSingle(Vector256.WidenUpper(hi16).AsInt32() - b);
        var sLo = Vector256.Create(scaleLo);
        var sHi = Vector256.Create(scaleHi);
        var mLo = Vector256.Create(minLo);
        var mHi = Vector256.Create(minHi);
        (sLo * f0 - mLo).StoreUnsafe(ref dst);
        (sLo * f1 - mLo).StoreUnsafe(ref dst, 8);
        (sHi * f2 - mHi).StoreUnsafe(ref dst, 16);
        (sHi * f3 - mHi).StoreUnsafe(ref dst, 24);
    }

    /// <summary>As the StoreChunk overload with mins, without the subtraction, for formats whose reference stops at the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChunk(Vector256<byte> u, int bias, float scaleLo, float scaleHi, ref float dst)
    {
        var b = Vector256.Create(bias);
        var lo16 = Vector256.WidenLower(u);
        var hi16 = Vector256.WidenUpper(u);
        var sLo = Vector256.Create(scaleLo);
        var sHi = Vector256.Create(scaleHi);
        (sLo * Vector256.ConvertToSingle(Vector256.WidenLower(lo16).AsInt32() - b)).StoreUnsafe(ref dst);
        (sLo * Vector256.ConvertToSingle(Vector256.WidenUpper(lo16).AsInt32() - b)).StoreUnsafe(ref dst, 8);
        (sHi * Vector256.ConvertToSingle(Vector256.WidenLower(hi16).AsInt32() - b)).StoreUnsafe(ref dst, 16);
        (sHi * Vector256.ConvertToSingle(Vector256.WidenUpper(hi16).AsInt32() - b)).StoreUnsafe(ref dst, 24);
    }

    private static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var bias = Vector256.Create((byte)128);
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 34);
            float scale = ReadHalf(ref b);
            // Flipping the sign bit turns int8 q into q + 128 as a byte; the store subtracts the 128 again.
            StoreChunk(Vector256.LoadUnsafe(ref b, 2) ^ bias, 128, scale, scale, ref Unsafe.Add(ref d, i * 32));
        }
    }

    private static void DequantizeQ4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 18);
            float scale = ReadHalf(ref b);
            StoreChunk(LoadNibbles(ref Unsafe.Add(ref b, 2)), 8, scale, scale, ref Unsafe.Add(ref d, i * 32));
        }
    }

    private static void DequantizeQ4_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 20);
            float scale = ReadHalf(ref b);
            float negMin = -ReadHalf(ref Unsafe.Add(ref b, 2));
            StoreChunk(LoadNibbles(ref Unsafe.Add(ref b, 4)), 0, scale, negMin, scale, negMin, ref Unsafe.Add(ref d, i * 32));
        }
    }

    private static void DequantizeQ5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var sixteen = Vector256.Create((byte)16);
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 22);
            float scale = ReadHalf(ref b);
            var high = SpreadBits(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, 2))) & sixteen;
            StoreChunk(LoadNibbles(ref Unsafe.Add(ref b, 6)) | high, 16, scale, scale, ref Unsafe.Add(ref d, i * 32));
        }
    }

    private static void DequantizeQ5_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var sixteen = Vector256.Create((byte)16);
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 24);
            float scale = ReadHalf(ref b);
            float negMin = -ReadHalf(ref Unsafe.Add(ref b, 2));
            var high = SpreadBits(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, 4))) & sixteen;
            StoreChunk(LoadNibbles(ref Unsafe.Add(ref b, 8)) | high, 0, scale, negMin, scale, negMin, ref Unsafe.Add(ref d, i * 32));
        }
    }
}
