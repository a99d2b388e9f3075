using System.Buffers.Binary;

namespace Basalt.Tensors.Quants;

// k-quant · Q8_K dot products. Each super-block's sums are formed exactly in integers (scale-weighted sums of
// q * q8, and min-weighted bsums), then combined once in f32 as ggml does: d_w * d_x * isum - dmin_w * d_x * msum.
public static partial class ReferenceKernels
{
    private static short BlockSum(ReadOnlySpan<byte> q8Block, int k) => BinaryPrimitives.ReadInt16LittleEndian(q8Block[(260 + 2 * k)..]);

    private static float DotQ2_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            var b = w.Slice(i * 84, 84);
            var y = xq.Slice(i * 292, 292);
            int isum = 0, msum = 0;
            for (int k = 0; k < 16; k++)
            {
                int part = 0;
                for (int e = 16 * k; e < 16 * k + 16; e++)
                    part += ((b[16 + (e / 128) * 32 + e % 32] >> (2 * ((e / 32) % 4))) & 3) * (sbyte)y[4 + e];
                isum += (b[k] & 0xF) * part;
                msum += (b[k] >> 4) * BlockSum(y, k);
            }
            float dy = BinaryPrimitives.ReadSingleLittleEndian(y);
            float dall = dy * FloatConversions.ReadHalf(b[80..]);
            float dmin = dy * FloatConversions.ReadHalf(b[82..]);
            sum += dall * isum - dmin * msum;
        }
        return sum;
    }

    private static float DotQ3_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        Span<int> scales = stackalloc int[16];
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            var b = w.Slice(i * 110, 110);
            var y = xq.Slice(i * 292, 292);
            GetScalesQ3_K(b.Slice(96, 12), scales);
            int isum = 0;
            for (int k = 0; k < 16; k++)
            {
                int part = 0;
                for (int e = 16 * k; e < 16 * k + 16; e++)
                {
                    int l = e % 32, group = e / 32;
                    int low = (b[32 + (e / 128) * 32 + l] >> (2 * (group % 4))) & 3;
                    int q = low - ((b[l] & (1 << group)) != 0 ? 0 : 4);
                    part += q * (sbyte)y[4 + e];
                }
                isum += scales[k] * part;
            }
            float d = BinaryPrimitives.ReadSingleLittleEndian(y) * FloatConversions.ReadHalf(b[108..]);
            sum += d * isum;
        }
        return sum;
    }

    private static float DotQ4_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            var b = w.Slice(i * 144, 144);
            var y = xq.Slice(i * 292, 292);
            int isum = 0, msum = 0;
            for (int sub = 0; sub < 8; sub++)
            {
                GetScaleMinK4(sub, b.Slice(4, 12), out int sc, out int m);
                var qs = b.Slice(16 + (sub / 2) * 32, 32);
                int shift = 4 * (sub % 2);
                int part = 0;
                for (int l = 0; l < 32; l++) part += ((qs[l] >> shift) & 0xF) * (sbyte)y[4 + sub * 32 + l];
                isum += sc * part;
                msum += m * (BlockSum(y, 2 * sub) + BlockSum(y, 2 * sub + 1));
            }
            float dy = BinaryPrimitives.ReadSingleLittleEndian(y);
            float dall = dy * FloatConversions.ReadHalf(b);
            float dmin = dy * FloatConversions.ReadHalf(b[2..]);
            sum += dall * isum - dmin * msum;
        }
        return sum;
    }

    private static float DotQ5_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            var b = w.Slice(i * 176, 176);
            var y = xq.Slice(i * 292, 292);
            var qh = b.Slice(16, 32);
            int isum = 0, msum = 0;
            for (int sub = 0; sub < 8; sub++)
            {
                GetScaleMinK4(sub, b.Slice(4, 12), out int sc, out int m);
                var qs = b.Slice(48 + (sub / 2) * 32, 32);
                int shift = 4 * (sub % 2);
                int part = 0;
                for (int l = 0; l < 32; l++)
                {
                    int q = ((qs[l] >> shift) & 0xF) + ((qh[l] & (1 << sub)) != 0 ? 16 : 0);
                    part += q * (sbyte)y[4 + sub * 32 + l];
                }
                isum += sc * part;
                msum += m * (BlockSum(y, 2 * sub) + BlockSum(y, 2 * sub + 1));
            }
            float dy = BinaryPrimitives.ReadSingleLittleEndian(y);
            float dall = dy * FloatConversions.ReadHalf(b);
            float dmin = dy * FloatConversions.ReadHalf(b[2..]);
            sum += dall * isum - dmin * msum;
        }
        return sum;
    }

    private static float DotQ6_K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> xq, int n)
    {
        float sum = 0;
        for (int i = 0; i < n / 256; i++)
        {
            var b = w.Slice(i * 210, 210);
            var y = xq.Slice(i * 292, 292);
            int isum = 0;
            for (int k = 0; k < 16; k++)
            {
                int part = 0;
                for (int e = 16 * k; e < 16 * k + 16; e++) part += Q6Value(b, e) * (sbyte)y[4 + e];
                isum += (sbyte)b[192 + k] * part;
            }
            float d = BinaryPrimitives.ReadSingleLittleEndian(y) * FloatConversions.ReadHalf(b[208..]);
            sum += d * isum;
        }
        return sum;
    }
}
