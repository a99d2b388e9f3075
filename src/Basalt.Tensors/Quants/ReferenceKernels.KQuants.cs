using System.Buffers.Binary;

namespace Basalt.Tensors.Quants;

// The 256-element k-quant super-blocks. Layouts (fp16 = IEEE half, little-endian):
//   Q2_K (84 B):  u8 scales[16] (low nibble scale, high nibble min), u8 qs[64] (2-bit), fp16 d, fp16 dmin
//   Q3_K (110 B): u8 hmask[32], u8 qs[64] (low 2 bits), u8 scales[12] (sixteen 6-bit scales, biased by 32), fp16 d
//   Q4_K (144 B): fp16 d, fp16 dmin, u8 scales[12] (eight 6-bit scales and eight 6-bit mins), u8 qs[128]
//   Q5_K (176 B): fp16 d, fp16 dmin, u8 scales[12], u8 qh[32], u8 qs[128]
//   Q6_K (210 B): u8 ql[128], u8 qh[64], i8 scales[16], fp16 d
//   Q8_K (292 B): f32 d, i8 qs[256], i16 bsums[16] (sum of each 16 qs)
// In Q2_K, Q3_K and Q6_K, scale k covers elements 16k..16k+15; in Q4_K and Q5_K, scale/min k covers 32k..32k+31.
public static partial class ReferenceKernels
{
    /// <summary>Unpacks Q4_K/Q5_K's 12 scale bytes into the 6-bit scale and min of sub-block <paramref name="j"/> (0..7).</summary>
    internal static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>Unpacks Q3_K's 12 scale bytes into sixteen signed scales (the stored 6-bit value minus 32).</summary>
    internal static void GetScalesQ3_K(ReadOnlySpan<byte> packed, Span<int> scales)
    {
        // Bytes 0..7 hold the low nibbles (scales 0..7 in the low halves, 8..15 in the high halves); bytes 8..11
        // hold the top two bits, four scales per byte.
        for (int k = 0; k < 16; k++)
        {
            int low = k < 8 ? packed[k] & 0xF : packed[k - 8] >> 4;
            int high = (packed[8 + (k & 3)] >> (2 * (k >> 2))) & 3;
            scales[k] = (low | high << 4) - 32;
        }
    }

    private static void DequantizeQ2_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 84, 84);
            float d = FloatConversions.ReadHalf(b[80..]);
            float min = FloatConversions.ReadHalf(b[82..]);
            var y = dst.Slice(i * 256, 256);
            for (int e = 0; e < 256; e++)
            {
                int sc = b[e / 16];
                float dl = d * (sc & 0xF);
                float ml = min * (sc >> 4);
                int q = (b[16 + (e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3;
                y[e] = dl * q - ml;
            }
        }
    }

    private static void DequantizeQ3_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<int> scales = stackalloc int[16];
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 110, 110);
            float dAll = FloatConversions.ReadHalf(b[108..]);
            GetScalesQ3_K(b.Slice(96, 12), scales);
            var y = dst.Slice(i * 256, 256);
            for (int e = 0; e < 256; e++)
            {
                float dl = dAll * scales[e / 16];
                int l = e % 32;
                int group = e / 32; // 0..7: which 2-bit plane (and hmask bit)
                int low = (b[32 + (e / 128) * 32 + l] >> (2 * (group % 4))) & 3;
                int q = low - ((b[l] & (1 << group)) != 0 ? 0 : 4);
                y[e] = dl * q;
            }
        }
    }

    private static void DequantizeQ4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 144, 144);
            float d = FloatConversions.ReadHalf(b);
            float min = FloatConversions.ReadHalf(b[2..]);
            var scales = b.Slice(4, 12);
            var y = dst.Slice(i * 256, 256);
            for (int sub = 0; sub < 8; sub++)
            {
                GetScaleMinK4(sub, scales, out int sc, out int m);
                float d1 = d * sc;
                float m1 = min * m;
                var qs = b.Slice(16 + (sub / 2) * 32, 32);
                int shift = 4 * (sub % 2);
                for (int l = 0; l < 32; l++) y[sub * 32 + l] = d1 * ((qs[l] >> shift) & 0xF) - m1;
            }
        }
    }

    private static void DequantizeQ5_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 176, 176);
            float d = FloatConversions.ReadHalf(b);
            float min = FloatConversions.ReadHalf(b[2..]);
            var scales = b.Slice(4, 12);
            var qh = b.Slice(16, 32);
            var y = dst.Slice(i * 256, 256);
            for (int sub = 0; sub < 8; sub++)
            {
                GetScaleMinK4(sub, scales, out int sc, out int m);
                float d1 = d * sc;
                float m1 = min * m;
                var qs = b.Slice(48 + (sub / 2) * 32, 32);
                int shift = 4 * (sub % 2);
                for (int l = 0; l < 32; l++)
                {
                    int q = ((qs[l] >> shift) & 0xF) + ((qh[l] & (1 << sub)) != 0 ? 16 : 0);
                    y[sub * 32 + l] = d1 * q - m1;
                }
            }
        }
    }

    private static void DequantizeQ6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 210, 210);
            float d = FloatConversions.ReadHalf(b[208..]);
            var y = dst.Slice(i * 256, 256);
            for (int e = 0; e < 256; e++)
            {
                y[e] = d * (sbyte)b[192 + e / 16] * Q6Value(b, e);
            }
        }
    }

    /// <summary>The signed 6-bit value (-32..31) of element <paramref name="e"/> of a Q6_K block.</summary>
    internal static int Q6Value(ReadOnlySpan<byte> block, int e)
    {
        int half = e / 128;
        int within = e % 128;
        int quarter = within / 32; // 0..3
        int l = within % 32;
        byte ql = block[half * 64 + (quarter % 2) * 32 + l];
        int low = (ql >> (4 * (quarter / 2))) & 0xF;
        int high = (block[128 + half * 32 + l] >> (2 * quarter)) & 3;
        return (low | high << 4) - 32;
    }

    private static void DequantizeQ8_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            var b = src.Slice(i * 292, 292);
            float d = BinaryPrimitives.ReadSingleLittleEndian(b);
            for (int j = 0; j < 256; j++) dst[i * 256 + j] = d * (sbyte)b[4 + j];
        }
    }

    /// <summary>Rounds to nearest with ties to even, as ggml's <c>nearest_int</c> (the 1.5·2^23 trick) does for |v| &lt; 2^22.</summary>
    internal static int NearestInt(float v) => (int)MathF.Round(v, MidpointRounding.ToEven);

    private static void QuantizeQ8_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 292, 292);
            // The scale keeps the sign of the element with the largest magnitude (the first one on ties), so that
            // element maps to exactly -127.
            float max = 0, amax = 0;
            foreach (float v in xs)
            {
                float av = MathF.Abs(v);
                if (av > amax)
                {
                    amax = av;
                    max = v;
                }
            }
            if (amax == 0)
            {
                b.Clear();
                continue;
            }
            float iscale = -127.0f / max;
            for (int j = 0; j < 256; j++) b[4 + j] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * xs[j]));
            for (int k = 0; k < 16; k++)
            {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += (sbyte)b[4 + k * 16 + j];
                BinaryPrimitives.WriteInt16LittleEndian(b[(260 + 2 * k)..], (short)sum);
            }
            BinaryPrimitives.WriteSingleLittleEndian(b, 1 / iscale);
        }
    }
}
