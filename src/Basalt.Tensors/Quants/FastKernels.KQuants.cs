using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Quants;

// k-quants (layouts in ReferenceKernels.KQuants.cs). Each super-block is handled as eight 32-element chunks: a chunk
// helper returns the chunk's quants as unsigned bytes u (the signed value is u minus a per-type bias), which feed
// both dequantization and the vpmaddubsw dot. Dots keep per-super-block integer sums exact and combine them in the
// reference's order, so they equal the reference bit for bit.
public static partial class FastKernels
{
    private static readonly Vector256<byte> Mask2 = Vector256.Create((byte)3);
    private static readonly Vector256<byte> Mask4 = Vector256.Create((byte)0x0F);

    /// <summary>Q2_K chunk c: 2-bit plane (c % 4) of qs bytes 32·(c / 4)…+31, values 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ChunkQ2_K(ref byte block, int c) =>
        Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref block, (nuint)(16 + (c >> 2) * 32)), 2 * (c & 3)) & Mask2;

    /// <summary>Q3_K chunk c: the 2-bit plane plus 4 where hmask bit c is set, values 0..7 (signed value is u − 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ChunkQ3_K(ref byte block, int c)
    {
        var low = Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref block, (nuint)(32 + (c >> 2) * 32)), 2 * (c & 3)) & Mask2;
        var bit = Vector256.Create((byte)(1 << c));
        var hmask = Vector256.LoadUnsafe(ref block);
        return low | (Vector256.Equals(hmask & bit, bit) & Vector256.Create((byte)4));
    }

    /// <summary>Q4_K chunk c: nibble (c % 2) of qs bytes 32·(c / 2)…+31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ChunkQ4_K(ref byte block, int c) =>
        Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref block, (nuint)(16 + (c >> 1) * 32)), 4 * (c & 1)) & Mask4;

    /// <summary>Q5_K chunk c: the Q4_K nibble plus 16 where qh bit c is set, values 0..31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ChunkQ5_K(ref byte block, int c)
    {
        var low = Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref block, (nuint)(48 + (c >> 1) * 32)), 4 * (c & 1)) & Mask4;
        var bit = Vector256.Create((byte)(1 << c));
        var qh = Vector256.LoadUnsafe(ref block, 16);
        return low | (Vector256.Equals(qh & bit, bit) & Vector256.Create((byte)16));
    }

    /// <summary>Q6_K chunk c: low nibble from ql, two high bits from qh, values 0..63 (signed value is u − 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ChunkQ6_K(ref byte block, int c)
    {
        int half = c >> 2, quarter = c & 3;
        var ql = Vector256.LoadUnsafe(ref block, (nuint)(half * 64 + (quarter & 1) * 32));
        var qh = Vector256.LoadUnsafe(ref block, (nuint)(128 + half * 32));
        var low = Vector256.ShiftRightLogical(ql, 4 * (quarter >> 1)) & Mask4;
        var high = Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2 * quarter) & Mask2, 4);
        return low | high;
    }

    /// <summary>Int32 lanes of Σ scale·u·q8 for one chunk, scaleLo on elements 0..15 and scaleHi on 16..31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledChunkDot(Vector256<byte> u, ref byte q8, short scaleLo, short scaleHi)
    {
        var pairs = Avx2.MultiplyAddAdjacent(u, Vector256.LoadUnsafe(ref q8).AsSByte());
        var scales = Vector256.Create(Vector128.Create(scaleLo), Vector128.Create(scaleHi));
        return Avx2.MultiplyAddAdjacent(pairs, scales);
    }

    private static short BlockSum(ref byte q8Block, int k) => Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref q8Block, 260 + 2 * k));

    private static float ReadSingle(ref byte at) => Unsafe.ReadUnaligned<float>(ref at);

    private static float DotQ2_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref wr, i * 84);
            ref byte y = ref Unsafe.Add(ref xr, i * 292);
            var acc = Vector256<int>.Zero;
            int msum = 0;
            for (int c = 0; c < 8; c++)
            {
                int s0 = Unsafe.Add(ref b, 2 * c), s1 = Unsafe.Add(ref b, 2 * c + 1);
                acc += ScaledChunkDot(ChunkQ2_K(ref b, c), ref Unsafe.Add(ref y, 4 + 32 * c), (short)(s0 & 0xF), (short)(s1 & 0xF));
                msum += (s0 >> 4) * BlockSum(ref y, 2 * c) + (s1 >> 4) * BlockSum(ref y, 2 * c + 1);
            }
            float dy = ReadSingle(ref y);
            float dall = dy * ReadHalf(ref Unsafe.Add(ref b, 80));
            float dmin = dy * ReadHalf(ref Unsafe.Add(ref b, 82));
            sum += dall * Vector256.Sum(acc) - dmin * msum;
        }
        return sum;
    }

    /// <summary>Q3_K's sixteen signed scales, unpacked four at a time (same result as ReferenceKernels.GetScalesQ3_K).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> ScalesQ3_K(ref byte block)
    {
        const uint low4 = 0x0F0F0F0F, low2 = 0x03030303;
        uint a0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 96));
        uint a1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 100));
        uint high = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 104));
        var packed = Vector128.Create(
            (a0 & low4) | ((high & low2) << 4),
            (a1 & low4) | (((high >> 2) & low2) << 4),
            ((a0 >> 4) & low4) | (((high >> 4) & low2) << 4),
            ((a1 >> 4) & low4) | (((high >> 6) & low2) << 4));
        return packed.AsSByte() - Vector128.Create((sbyte)32);
    }

    private static float DotQ3_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref wr, i * 110);
            ref byte y = ref Unsafe.Add(ref xr, i * 292);
            var scales = ScalesQ3_K(ref b);
            var acc = Vector256<int>.Zero;
            for (int c = 0; c < 8; c++)
                acc += ScaledChunkDot(ChunkQ3_K(ref b, c), ref Unsafe.Add(ref y, 4 + 32 * c), scales.GetElement(2 * c), scales.GetElement(2 * c + 1));
            // Σ scale_k · bsum_k in one vpmaddwd: the unsigned quants carry +4, so subtract 4 of these.
            var bsums = Vector256.LoadUnsafe(ref y, 260).AsInt16();
            int offset = Vector256.Sum(Avx2.MultiplyAddAdjacent(bsums, Avx2.ConvertToVector256Int16(scales)));
            float d = ReadSingle(ref y) * ReadHalf(ref Unsafe.Add(ref b, 108));
            sum += d * (Vector256.Sum(acc) - 4 * offset);
        }
        return sum;
    }

    private static float DotQ4_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n) => DotQ4OrQ5_K(w, xq, n, fifthBit: false);

    private static float DotQ5_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n) => DotQ4OrQ5_K(w, xq, n, fifthBit: true);

    /// <summary>Q4_K and Q5_K share scales, mins and layout; Q5_K adds a high bit per quant (and 32 bytes per block).</summary>
    private static float DotQ4OrQ5_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n, bool fifthBit)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        int blockBytes = fifthBit ? 176 : 144;
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref wr, i * blockBytes);
            ref byte y = ref Unsafe.Add(ref xr, i * 292);
            var packed = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, 4), 12);
            var acc = Vector256<int>.Zero;
            int msum = 0;
            for (int c = 0; c < 8; c++)
            {
                ReferenceKernels.GetScaleMinK4(c, packed, out int sc, out int m);
                var chunk = fifthBit ? ChunkQ5_K(ref b, c) : ChunkQ4_K(ref b, c);
                acc += ScaledChunkDot(chunk, ref Unsafe.Add(ref y, 4 + 32 * c), (short)sc, (short)sc);
                msum += m * (BlockSum(ref y, 2 * c) + BlockSum(ref y, 2 * c + 1));
            }
            float dy = ReadSingle(ref y);
            float dall = dy * ReadHalf(ref b);
            float dmin = dy * ReadHalf(ref Unsafe.Add(ref b, 2));
            sum += dall * Vector256.Sum(acc) - dmin * msum;
        }
        return sum;
    }

    private static float DotQ6_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref byte xr = ref MemoryMarshal.GetReference(xq);
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref wr, i * 210);
            ref byte y = ref Unsafe.Add(ref xr, i * 292);
            var acc = Vector256<int>.Zero;
            int offset = 0;
            for (int c = 0; c < 8; c++)
            {
                int s0 = (sbyte)Unsafe.Add(ref b, 192 + 2 * c), s1 = (sbyte)Unsafe.Add(ref b, 193 + 2 * c);
                acc += ScaledChunkDot(ChunkQ6_K(ref b, c), ref Unsafe.Add(ref y, 4 + 32 * c), (short)s0, (short)s1);
                offset += s0 * BlockSum(ref y, 2 * c) + s1 * BlockSum(ref y, 2 * c + 1);
            }
            float d = ReadSingle(ref y) * ReadHalf(ref Unsafe.Add(ref b, 208));
            sum += d * (Vector256.Sum(acc) - 32 * offset);
        }
        return sum;
    }

    private static void DequantizeQ2_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float o = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 84);
            float d = ReadHalf(ref Unsafe.Add(ref b, 80));
            float min = ReadHalf(ref Unsafe.Add(ref b, 82));
            for (int c = 0; c < 8; c++)
            {
                int s0 = Unsafe.Add(ref b, 2 * c), s1 = Unsafe.Add(ref b, 2 * c + 1);
                StoreChunk(ChunkQ2_K(ref b, c), 0, d * (s0 & 0xF), min * (s0 >> 4), d * (s1 & 0xF), min * (s1 >> 4),
                    ref Unsafe.Add(ref o, i * 256 + 32 * c));
            }
        }
    }

    private static void DequantizeQ3_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float o = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 110);
            float d = ReadHalf(ref Unsafe.Add(ref b, 108));
            var scales = ScalesQ3_K(ref b);
            for (int c = 0; c < 8; c++)
                StoreChunk(ChunkQ3_K(ref b, c), 4, d * scales.GetElement(2 * c), d * scales.GetElement(2 * c + 1), ref Unsafe.Add(ref o, i * 256 + 32 * c));
        }
    }

    private static void DequantizeQ4_K(ReadOnlySpan<byte> src, Span<float> dst) => DequantizeQ4OrQ5_K(src, dst, fifthBit: false);

    private static void DequantizeQ5_K(ReadOnlySpan<byte> src, Span<float> dst) => DequantizeQ4OrQ5_K(src, dst, fifthBit: true);

    private static void DequantizeQ4OrQ5_K(ReadOnlySpan<byte> src, Span<float> dst, bool fifthBit)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float o = ref MemoryMarshal.GetReference(dst);
        int blockBytes = fifthBit ? 176 : 144;
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * blockBytes);
            float d = ReadHalf(ref b);
            float min = ReadHalf(ref Unsafe.Add(ref b, 2));
            var packed = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, 4), 12);
            for (int c = 0; c < 8; c++)
            {
                ReferenceKernels.GetScaleMinK4(c, packed, out int sc, out int m);
                float d1 = d * sc, m1 = min * m;
                var chunk = fifthBit ? ChunkQ5_K(ref b, c) : ChunkQ4_K(ref b, c);
                StoreChunk(chunk, 0, d1, m1, d1, m1, ref Unsafe.Add(ref o, i * 256 + 32 * c));
            }
        }
    }

    private static void DequantizeQ6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ref byte s = ref MemoryMarshal.GetReference(src);
        ref float o = ref MemoryMarshal.GetReference(dst);
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ref byte b = ref Unsafe.Add(ref s, i * 210);
            float d = ReadHalf(ref Unsafe.Add(ref b, 208));
            for (int c = 0; c < 8; c++)
            {
                float s0 = d * (sbyte)Unsafe.Add(ref b, 192 + 2 * c), s1 = d * (sbyte)Unsafe.Add(ref b, 193 + 2 * c);
                StoreChunk(ChunkQ6_K(ref b, c), 32, s0, s1, ref Unsafe.Add(ref o, i * 256 + 32 * c));
            }
        }
    }
}
