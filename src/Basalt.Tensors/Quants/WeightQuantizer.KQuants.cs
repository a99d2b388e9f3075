namespace Basalt.Tensors.Quants;

// The k-quant super-block quantizers (block layouts are listed in ReferenceKernels.KQuants.cs). Each first searches a
// scale (and min) per sub-block, then quantizes those scales to 4, 6 or 8 bits against one fp16 super-scale, and
// finally requantizes every element against the scale it will really be dequantized with.
public static partial class WeightQuantizer
{
    private static void QuantizeQ2_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        Span<byte> levels = stackalloc byte[256];
        Span<byte> aux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        const float q4scale = 15f;
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 84, 84);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                var sub = xs.Slice(16 * j, 16);
                for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(sub[l]);
                scales[j] = MakeQkx2Quants(3, sub, weights, levels.Slice(16 * j, 16), out mins[j], aux, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            if (maxScale > 0)
            {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; j++) b[j] = (byte)NearestInt(iscale * scales[j]);
                FloatConversions.WriteHalf(b[80..], maxScale / q4scale);
            }
            else
            {
                b[..16].Clear();
                FloatConversions.WriteHalf(b[80..], 0f);
            }
            if (maxMin > 0)
            {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; j++) b[j] |= (byte)(NearestInt(iscale * mins[j]) << 4);
                FloatConversions.WriteHalf(b[82..], maxMin / q4scale);
            }
            else
            {
                FloatConversions.WriteHalf(b[82..], 0f);
            }
            float dAll = FloatConversions.ReadHalf(b[80..]);
            float mAll = FloatConversions.ReadHalf(b[82..]);
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * (b[j] & 0xF);
                if (d == 0) continue;
                float dm = mAll * (b[j] >> 4);
                for (int e = 0; e < 16; e++) levels[16 * j + e] = (byte)Math.Clamp(NearestInt((xs[16 * j + e] + dm) / d), 0, 3);
            }
            PackTwoBitPlanes(levels, b.Slice(16, 64));
        }
    }

    private static void QuantizeQ3_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<byte> low = stackalloc byte[256];
        Span<float> scales = stackalloc float[16];
        Span<int> stored = stackalloc int[16];
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 110, 110);
            var hmask = b[..32];
            var packed = b.Slice(96, 12);
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = MakeQ3Quants(4, xs.Slice(16 * j, 16), levels.Slice(16 * j, 16));
                float scale = MathF.Abs(scales[j]);
                if (scale > amax)
                {
                    amax = scale;
                    maxScale = scales[j];
                }
            }
            packed.Clear();
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    int l = Math.Clamp((int)(sbyte)NearestInt(iscale * scales[j]), -32, 31) + 32;
                    if (j < 8) packed[j] = (byte)(l & 0xF);
                    else packed[j - 8] |= (byte)((l & 0xF) << 4);
                    packed[8 + j % 4] |= (byte)((l >> 4) << (2 * (j / 4)));
                }
                FloatConversions.WriteHalf(b[108..], 1 / iscale);
            }
            else
            {
                FloatConversions.WriteHalf(b[108..], 0f);
            }
            ReferenceKernels.GetScalesQ3_K(packed, stored);
            float dAll = FloatConversions.ReadHalf(b[108..]);
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * stored[j];
                if (d == 0) continue;
                for (int e = 0; e < 16; e++) levels[16 * j + e] = (sbyte)(Math.Clamp(NearestInt(xs[16 * j + e] / d), -4, 3) + 4);
            }
            // The third bit of element e goes to bit e/32 of hmask[e % 32].
            hmask.Clear();
            for (int e = 0; e < 256; e++)
            {
                int l = levels[e];
                if (l > 3)
                {
                    hmask[e % 32] |= (byte)(1 << (e / 32));
                    l -= 4;
                }
                low[e] = (byte)l;
            }
            PackTwoBitPlanes(low, b.Slice(32, 64));
        }
    }

    private static void QuantizeQ4_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        Span<byte> levels = stackalloc byte[256];
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 144, 144);
            QuantizeScaleMinK4(xs, 15, -1f, 0.1f, 20, b, levels);
            for (int j = 0; j < 256; j += 64)
            {
                for (int l = 0; l < 32; l++) b[16 + j / 2 + l] = (byte)(levels[j + l] | levels[j + l + 32] << 4);
            }
        }
    }

    private static void QuantizeQ5_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        Span<byte> levels = stackalloc byte[256];
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 176, 176);
            QuantizeScaleMinK4(xs, 31, -0.5f, 0.1f, 15, b, levels);
            var qh = b.Slice(16, 32);
            var ql = b.Slice(48, 128);
            qh.Clear();
            // Pair p (elements 64p..64p+63) puts its fifth bits into bits 2p and 2p+1 of qh.
            for (int p = 0; p < 4; p++)
            {
                for (int j = 0; j < 32; j++)
                {
                    int l1 = levels[64 * p + j];
                    int l2 = levels[64 * p + j + 32];
                    if (l1 > 15)
                    {
                        l1 -= 16;
                        qh[j] |= (byte)(1 << (2 * p));
                    }
                    if (l2 > 15)
                    {
                        l2 -= 16;
                        qh[j] |= (byte)(2 << (2 * p));
                    }
                    ql[32 * p + j] = (byte)(l1 | l2 << 4);
                }
            }
        }
    }

    /// <summary>
    /// Q4_K/Q5_K's common part: the eight sub-block scale/min searches, their 6-bit packing into bytes 4..15 with the
    /// fp16 d and dmin in bytes 0..3, and the final levels (0..nmax) against the packed scales.
    /// </summary>
    private static void QuantizeScaleMinK4(ReadOnlySpan<float> xs, int nmax, float rmin, float rdelta, int nstep, Span<byte> b, Span<byte> levels)
    {
        Span<byte> aux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            var sub = xs.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += sub[l] * sub[l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(sub[l]);
            scales[j] = MakeQkx2Quants(nmax, sub, weights, levels.Slice(32 * j, 32), out mins[j], aux, rmin, rdelta, nstep, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        var packed = b.Slice(4, 12);
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++)
        {
            // ggml stores the rounded value in a uint8_t before clamping, so a negative one wraps and clamps to 63.
            int ls = Math.Min(63, (int)(byte)NearestInt(invScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)NearestInt(invMin * mins[j]));
            if (j < 4)
            {
                packed[j] = (byte)ls;
                packed[j + 4] = (byte)lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | (lm & 0xF) << 4);
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
        FloatConversions.WriteHalf(b, maxScale / 63f);
        FloatConversions.WriteHalf(b[2..], maxMin / 63f);
        float dAll = FloatConversions.ReadHalf(b);
        float mAll = FloatConversions.ReadHalf(b[2..]);
        for (int j = 0; j < 8; j++)
        {
            ReferenceKernels.GetScaleMinK4(j, packed, out int sc, out int m);
            float d = dAll * sc;
            if (d == 0) continue;
            float dm = mAll * m;
            for (int e = 0; e < 32; e++) levels[32 * j + e] = (byte)Math.Clamp(NearestInt((xs[32 * j + e] + dm) / d), 0, nmax);
        }
    }

    private static void QuantizeQ6_K(ReadOnlySpan<float> x, Span<byte> dst)
    {
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < x.Length / 256; i++)
        {
            var xs = x.Slice(i * 256, 256);
            var b = dst.Slice(i * 210, 210);
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(32, xs.Slice(16 * ib, 16), levels.Slice(16 * ib, 16));
                scales[ib] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GroupMaxEps)
            {
                b.Clear();
                continue;
            }
            float iscale = -128f / maxScale;
            FloatConversions.WriteHalf(b[208..], 1 / iscale);
            var sc = b.Slice(192, 16);
            for (int ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
            float dAll = FloatConversions.ReadHalf(b[208..]);
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * (sbyte)sc[j];
                if (d == 0) continue;
                for (int e = 0; e < 16; e++) levels[16 * j + e] = (sbyte)(Math.Clamp(NearestInt(xs[16 * j + e] / d), -32, 31) + 32);
            }
            var ql = b[..128];
            var qh = b.Slice(128, 64);
            for (int half = 0; half < 2; half++)
            {
                int j = 128 * half;
                for (int l = 0; l < 32; l++)
                {
                    int q1 = levels[j + l], q2 = levels[j + l + 32], q3 = levels[j + l + 64], q4 = levels[j + l + 96];
                    ql[64 * half + l] = (byte)((q1 & 0xF) | (q3 & 0xF) << 4);
                    ql[64 * half + l + 32] = (byte)((q2 & 0xF) | (q4 & 0xF) << 4);
                    qh[32 * half + l] = (byte)((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
                }
            }
        }
    }

    /// <summary>Packs 256 two-bit levels as Q2_K/Q3_K do: byte 32h+l holds elements 128h+l+32s in bits 2s..2s+1.</summary>
    private static void PackTwoBitPlanes(ReadOnlySpan<byte> levels, Span<byte> qs)
    {
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
                qs[j / 4 + l] = (byte)(levels[j + l] | levels[j + l + 32] << 2 | levels[j + l + 64] << 4 | levels[j + l + 96] << 6);
        }
    }
}
