using System.Buffers.Binary;

namespace Basalt.Tensors.Quants;

// The 32-element block formats. Layouts (little-endian, fp16 = IEEE half):
//   Q4_0: fp16 d, u8 qs[16]                 x = d * (nibble - 8)
//   Q4_1: fp16 d, fp16 m, u8 qs[16]         x = d * nibble + m
//   Q5_0: fp16 d, u32 qh, u8 qs[16]         x = d * ((nibble | bit << 4) - 16)
//   Q5_1: fp16 d, fp16 m, u32 qh, u8 qs[16] x = d * (nibble | bit << 4) + m
//   Q8_0: fp16 d, i8 qs[32]                 x = d * q
//   Q8_1: fp16 d, fp16 s, i8 qs[32]         x = d * q, s = d * sum(q) rounded to fp16
// Low nibbles of qs[j] hold element j, high nibbles element j + 16; bit e of qh is the fifth bit of element e.
public static partial class ReferenceKernels
{
    private static void DequantizeQ4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 18, 18);
            float d = FloatConversions.ReadHalf(b);
            var y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((b[2 + j] & 0x0F) - 8) * d;
                y[j + 16] = ((b[2 + j] >> 4) - 8) * d;
            }
        }
    }

    private static void DequantizeQ4_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 20, 20);
            float d = FloatConversions.ReadHalf(b);
            float m = FloatConversions.ReadHalf(b[2..]);
            var y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                y[j] = (b[4 + j] & 0x0F) * d + m;
                y[j + 16] = (b[4 + j] >> 4) * d + m;
            }
        }
    }

    private static void DequantizeQ5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 22, 22);
            float d = FloatConversions.ReadHalf(b);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
            var y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) << 4) & 0x10;
                int h1 = (int)(qh >> (j + 12)) & 0x10;
                y[j] = (((b[6 + j] & 0x0F) | h0) - 16) * d;
                y[j + 16] = (((b[6 + j] >> 4) | h1) - 16) * d;
            }
        }
    }

    private static void DequantizeQ5_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 24, 24);
            float d = FloatConversions.ReadHalf(b);
            float m = FloatConversions.ReadHalf(b[2..]);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
            var y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) << 4) & 0x10;
                int h1 = (int)(qh >> (j + 12)) & 0x10;
                y[j] = ((b[8 + j] & 0x0F) | h0) * d + m;
                y[j + 16] = ((b[8 + j] >> 4) | h1) * d + m;
            }
        }
    }

    private static void DequantizeQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 34, 34);
            float d = FloatConversions.ReadHalf(b);
            for (int j = 0; j < 32; j++) dst[i * 32 + j] = (sbyte)b[2 + j] * d;
        }
    }

    private static void DequantizeQ8_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            var b = src.Slice(i * 36, 36);
            float d = FloatConversions.ReadHalf(b);
            for (int j = 0; j < 32; j++) dst[i * 32 + j] = (sbyte)b[4 + j] * d;
        }
    }

    /// <summary>Rounds half away from zero, as C's <c>roundf</c>, which ggml's reference Q8_0/Q8_1 quantizers use.</summary>
    internal static float RoundAwayFromZero(float v) => MathF.Round(v, MidpointRounding.AwayFromZero);

    internal static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 34, 34);
            float amax = 0;
            foreach (float v in xs) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            FloatConversions.WriteHalf(b, d);
            for (int j = 0; j < 32; j++) b[2 + j] = (byte)(sbyte)RoundAwayFromZero(xs[j] * id);
        }
    }

    private static void QuantizeQ8_1(ReadOnlySpan<float> x, Span<byte> dst)
    {
        for (int i = 0; i < x.Length / 32; i++)
        {
            var xs = x.Slice(i * 32, 32);
            var b = dst.Slice(i * 36, 36);
            float amax = 0;
            foreach (float v in xs) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int q = (int)RoundAwayFromZero(xs[j] * id);
                b[4 + j] = (byte)(sbyte)q;
                sum += q;
            }
            FloatConversions.WriteHalf(b, d);
            FloatConversions.WriteHalf(b[2..], sum * d);
        }
    }

    // Every dot below forms each block's integer sum exactly and then adds (dx * dy) * sumi in block order; the fast
    // kernels keep the exact integers but may accumulate the block terms in another order.
    private static float DotQ4_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 32; i++)
        {
            var b = w.Slice(i * 18, 18);
            var y = xq.Slice(i * 34, 34);
            int sumi = 0;
            for (int j = 0; j < 16; j++)
                sumi += ((b[2 + j] & 0x0F) - 8) * (sbyte)y[2 + j] + ((b[2 + j] >> 4) - 8) * (sbyte)y[18 + j];
            sum += FloatConversions.ReadHalf(b) * FloatConversions.ReadHalf(y) * sumi;
        }
        return sum;
    }

    private static float DotQ4_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 32; i++)
        {
            var b = w.Slice(i * 20, 20);
            var y = xq.Slice(i * 36, 36);
            int sumi = 0;
            for (int j = 0; j < 16; j++)
                sumi += (b[4 + j] & 0x0F) * (sbyte)y[4 + j] + (b[4 + j] >> 4) * (sbyte)y[20 + j];
            sum += FloatConversions.ReadHalf(b) * FloatConversions.ReadHalf(y) * sumi
                + FloatConversions.ReadHalf(b[2..]) * FloatConversions.ReadHalf(y[2..]);
        }
        return sum;
    }

    private static float DotQ5_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 32; i++)
        {
            var b = w.Slice(i * 22, 22);
            var y = xq.Slice(i * 34, 34);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) << 4) & 0x10;
                int h1 = (int)(qh >> (j + 12)) & 0x10;
                sumi += (((b[6 + j] & 0x0F) | h0) - 16) * (sbyte)y[2 + j] + (((b[6 + j] >> 4) | h1) - 16) * (sbyte)y[18 + j];
            }
            sum += FloatConversions.ReadHalf(b) * FloatConversions.ReadHalf(y) * sumi;
        }
        return sum;
    }

    private static float DotQ5_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 32; i++)
        {
            var b = w.Slice(i * 24, 24);
            var y = xq.Slice(i * 36, 36);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) << 4) & 0x10;
                int h1 = (int)(qh >> (j + 12)) & 0x10;
                sumi += ((b[8 + j] & 0x0F) | h0) * (sbyte)y[4 + j] + ((b[8 + j] >> 4) | h1) * (sbyte)y[20 + j];
            }
            sum += FloatConversions.ReadHalf(b) * FloatConversions.ReadHalf(y) * sumi
                + FloatConversions.ReadHalf(b[2..]) * FloatConversions.ReadHalf(y[2..]);
        }
        return sum;
    }

    private static float DotQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 32; i++)
        {
            var b = w.Slice(i * 34, 34);
            var y = xq.Slice(i * 34, 34);
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += (sbyte)b[2 + j] * (sbyte)y[2 + j];
            sum += FloatConversions.ReadHalf(b) * FloatConversions.ReadHalf(y) * sumi;
        }
        return sum;
    }
}
