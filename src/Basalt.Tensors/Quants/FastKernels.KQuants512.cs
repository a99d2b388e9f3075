using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// Vector512 k-quant rows. Each 512-bit step covers two 32-element chunks (64 quants against 64 contiguous Q8_K
// bytes); the sub-block scales are applied in vpmaddwd from one 16-bit scale vector per super-block, spread to the
// lanes by vpermw. The integer super-block sums are the same exact integers the AVX2 and scalar kernels form, and
// they are combined by the same f32 expression in the same order, so results are bit-identical to both.
public static partial class FastKernels
{
    private static readonly Vector512<byte> Nibble512 = Vector512.Create((byte)0x0F);

    // vpermw indices: step j of Q4_K/Q5_K takes chunk scales 2j (words 0..15) and 2j+1 (words 16..31).
    private static readonly Vector512<short>[] ChunkScaleIndex = [.. Enumerable.Range(0, 4).Select(j => WordIndex(w => 2 * j + w / 16))];

    // vpermw indices: step k of Q6_K takes the four 16-element scales 4k..4k+3, eight words each.
    private static readonly Vector512<short>[] HalfChunkScaleIndex = [.. Enumerable.Range(0, 4).Select(k => WordIndex(w => 4 * k + w / 8))];

    // Q5_K high-bit masks for step j: bit 2j in the first 32 bytes, bit 2j+1 in the second.
    private static readonly Vector512<byte>[] Q5HighBit =
        [.. Enumerable.Range(0, 4).Select(j => Vector512.Create(Vector256.Create((byte)(1 << (2 * j))), Vector256.Create((byte)(1 << (2 * j + 1)))))];

    private static Vector512<short> WordIndex(Func<int, int> index)
    {
        var words = new short[32];
        for (int w = 0; w < 32; w++) words[w] = (short)index(w);
        return Vector512.Create(words);
    }

    /// <summary>Q4_K/Q5_K packed 6-bit scales and mins as bytes [sc0..sc7, m0..m7] (ggml's utmp unpacking).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> ScalesAndMinsK4(ref byte packed)
    {
        const uint low6 = 0x3F3F3F3F, low4 = 0x0F0F0F0F, low2 = 0x03030303;
        uint a = Unsafe.ReadUnaligned<uint>(ref packed);
        uint b = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 4));
        uint c = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref packed, 8));
        return Vector128.Create(
            a & low6,
            (c & low4) | (((a >> 6) & low2) << 4),
            b & low6,
            ((c >> 4) & low4) | (((b >> 6) & low2) << 4)).AsByte();
    }

    /// <summary>Σ m_c·(bsum_2c + bsum_2c+1) over the eight chunks: the integer the mins multiply.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSumK4(Vector128<byte> scalesAndMins, ref byte q8Block)
    {
        var pairSums = Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref q8Block, 260).AsInt16(), Vector256.Create((short)1));
        var mins = Avx2.ConvertToVector256Int32(Sse2.UnpackHigh(scalesAndMins.AsUInt64(), scalesAndMins.AsUInt64()).AsByte());
        return Vector256.Sum(pairSums * mins);
    }

    /// <summary>The two nibble planes of 32 bytes as [low nibbles, high nibbles].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> NibblePlanes(ref byte qs)
    {
        var raw = Vector256.LoadUnsafe(ref qs);
        var mask = Vector256.Create((byte)0x0F);
        return Vector512.Create(raw & mask, Vector256.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & mask);
    }

    /// <summary>Σ scale·u·q8 over 64 quants as sixteen int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> ScaledDot512(Vector512<byte> u, ref byte q8, Vector512<short> scales, Vector512<short> index) =>
        Avx512BW.MultiplyAddAdjacent(
            Avx512BW.MultiplyAddAdjacent(u, Vector512.LoadUnsafe(ref q8).AsSByte()),
            Avx512BW.PermuteVar32x16(scales, index));

    private static float DotQ4_K512(ref byte w, ref byte x, int n)
    {
        var index = ChunkScaleIndex;
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref w, i * 144);
            ref byte y = ref Unsafe.Add(ref x, i * 292);
            var sm = ScalesAndMinsK4(ref Unsafe.Add(ref b, 4));
            var scales = Avx2.ConvertToVector256Int16(sm).ToVector512Unsafe();
            var acc0 = ScaledDot512(NibblePlanes(ref Unsafe.Add(ref b, 16)), ref Unsafe.Add(ref y, 4), scales, index[0]);
            var acc1 = ScaledDot512(NibblePlanes(ref Unsafe.Add(ref b, 48)), ref Unsafe.Add(ref y, 68), scales, index[1]);
            acc0 += ScaledDot512(NibblePlanes(ref Unsafe.Add(ref b, 80)), ref Unsafe.Add(ref y, 132), scales, index[2]);
            acc1 += ScaledDot512(NibblePlanes(ref Unsafe.Add(ref b, 112)), ref Unsafe.Add(ref y, 196), scales, index[3]);
            int msum = MinSumK4(sm, ref y);
            float dy = ReadSingle(ref y);
            float dall = dy * ReadHalf(ref b);
            float dmin = dy * ReadHalf(ref Unsafe.Add(ref b, 2));
            sum += dall * Vector512.Sum(acc0 + acc1) - dmin * msum;
        }
        return sum;
    }

    private static float DotQ5_K512(ref byte w, ref byte x, int n)
    {
        var index = ChunkScaleIndex;
        var highBit = Q5HighBit;
        var sixteen = Vector512.Create((byte)16);
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref w, i * 176);
            ref byte y = ref Unsafe.Add(ref x, i * 292);
            var sm = ScalesAndMinsK4(ref Unsafe.Add(ref b, 4));
            var scales = Avx2.ConvertToVector256Int16(sm).ToVector512Unsafe();
            var qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref b, 16));
            var qh2 = Vector512.Create(qh, qh);
            var acc = Vector512<int>.Zero;
            for (int j = 0; j < 4; j++)
            {
                var high = Vector512.Equals(qh2 & highBit[j], highBit[j]) & sixteen;
                var u = NibblePlanes(ref Unsafe.Add(ref b, 48 + 32 * j)) | high;
                acc += ScaledDot512(u, ref Unsafe.Add(ref y, 4 + 64 * j), scales, index[j]);
            }
            int msum = MinSumK4(sm, ref y);
            float dy = ReadSingle(ref y);
            float dall = dy * ReadHalf(ref b);
            float dmin = dy * ReadHalf(ref Unsafe.Add(ref b, 2));
            sum += dall * Vector512.Sum(acc) - dmin * msum;
        }
        return sum;
    }

    private static float DotQ6_K512(ref byte w, ref byte x, int n)
    {
        var index = HalfChunkScaleIndex;
        var mask2 = Vector512.Create((byte)3);
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref w, i * 210);
            ref byte y = ref Unsafe.Add(ref x, i * 292);
            var scales16 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref Unsafe.Add(ref b, 192)).AsSByte());
            var scales = scales16.ToVector512Unsafe();
            var acc0 = Vector512<int>.Zero;
            var acc1 = Vector512<int>.Zero;
            for (int h = 0; h < 2; h++)
            {
                // Chunks 4h, 4h+1 take the low nibbles of ql[64h..] and qh bits 0-1 / 2-3; chunks 4h+2, 4h+3 the
                // high nibbles and qh bits 4-5 / 6-7.
                var ql = Vector512.LoadUnsafe(ref Unsafe.Add(ref b, 64 * h));
                var qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref b, 128 + 32 * h));
                var qh2 = Vector512.Create(qh, Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte());
                var u0 = (ql & Nibble512) | Vector512.ShiftLeft((qh2 & mask2).AsUInt16(), 4).AsByte();
                var u1 = (Vector512.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & Nibble512)
                    | Vector512.ShiftLeft((Vector512.ShiftRightLogical(qh2.AsUInt16(), 4).AsByte() & mask2).AsUInt16(), 4).AsByte();
                acc0 += ScaledDot512(u0, ref Unsafe.Add(ref y, 4 + 128 * h), scales, index[2 * h]);
                acc1 += ScaledDot512(u1, ref Unsafe.Add(ref y, 68 + 128 * h), scales, index[2 * h + 1]);
            }
            // Σ scale_k · bsum_k: the unsigned quants carry +32, so 32 of these come off.
            int offset = Vector256.Sum(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref y, 260).AsInt16(), scales16));
            float d = ReadSingle(ref y) * ReadHalf(ref Unsafe.Add(ref b, 208));
            sum += d * (Vector512.Sum(acc0 + acc1) - 32 * offset);
        }
        return sum;
    }
}
