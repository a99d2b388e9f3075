using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Packed;

/// <summary>
/// ggml's Q8_0 quantization of an activation row (d = amax/127 per 32 values, q = round-half-away(x/d)), vectorised
/// and written straight into the packed kernels' input layouts. The bytes and the (fp16-rounded) scales are those
/// of <see cref="Quants.ReferenceKernels.QuantizeActivations"/>: the same f32 products x·(1/d), and round-half-away
/// built exactly from truncation (x − trunc(x) is exact, so the half-way test is too).
/// </summary>
internal static unsafe class Q8Blocks
{
    /// <summary>
    /// Quantizes <paramref name="blocks"/> blocks of 32 from <paramref name="x"/>: quants to <paramref name="quants"/>
    /// (32 bytes a block), the fp16-rounded scale times <paramref name="scaleFactor"/> to <paramref name="scales"/>, and
    /// <paramref name="sumFactor"/>·Σq to <paramref name="sums"/> when it is not null.
    /// </summary>
    public static void QuantizeBytes(float* x, int blocks, sbyte* quants, float* scales, int* sums, int sumFactor, float scaleFactor = 1)
    {
        int k = 0;
        for (; k + 16 <= blocks; k += 16)
        {
            var (inverse, scale) = Scales16(x + 32 * k);
            (scale * Vector512.Create(scaleFactor)).Store(scales + k);
            for (int b = k; b < k + 16; b++)
            {
                var (lo, hi) = Quants(x + 32 * b, Lane(inverse, b - k));
                Avx512F.ConvertToVector128SByte(lo).Store(quants + 32 * b);
                Avx512F.ConvertToVector128SByte(hi).Store(quants + 32 * b + 16);
                if (sums != null) sums[b] = sumFactor * Vector512.Sum(lo + hi);
            }
        }
        for (; k < blocks; k++)
        {
            var (lo, hi, scale) = Block(x + 32 * k);
            Avx512F.ConvertToVector128SByte(lo).Store(quants + 32 * k);
            Avx512F.ConvertToVector128SByte(hi).Store(quants + 32 * k + 16);
            scales[k] = scale * scaleFactor;
            if (sums != null) sums[k] = sumFactor * Vector512.Sum(lo + hi);
        }
    }

    /// <summary>As <see cref="QuantizeBytes"/>, with the quants widened to int16 (64 bytes a block).</summary>
    public static void QuantizeShorts(float* x, int blocks, short* quants, float* scales)
    {
        int k = 0;
        for (; k + 16 <= blocks; k += 16)
        {
            var (inverse, scale) = Scales16(x + 32 * k);
            scale.Store(scales + k);
            for (int b = k; b < k + 16; b++)
            {
                var (lo, hi) = Quants(x + 32 * b, Lane(inverse, b - k));
                Avx512F.ConvertToVector256Int16(lo).Store(quants + 32 * b);
                Avx512F.ConvertToVector256Int16(hi).Store(quants + 32 * b + 16);
            }
        }
        for (; k < blocks; k++)
        {
            var (lo, hi, scale) = Block(x + 32 * k);
            Avx512F.ConvertToVector256Int16(lo).Store(quants + 32 * k);
            Avx512F.ConvertToVector256Int16(hi).Store(quants + 32 * k + 16);
            scales[k] = scale;
        }
    }

    /// <summary>
    /// ggml's Q8_K quantization (for the k-quants) of <paramref name="supers"/> superblocks of 256: the scale keeps
    /// the sign of the element of largest magnitude (the first on ties), q = min(127, round-half-even(x·(−127/max))).
    /// Writes the quants (256 bytes a superblock), d = 1/iscale, and the sixteen sums of 16 quants to
    /// <paramref name="sums"/> (sixteen ints a superblock) — the values of <see cref="Quants.ReferenceKernels.QuantizeActivations"/>.
    /// </summary>
    public static void QuantizeSuperBlocks(float* x, int supers, sbyte* quants, float* scales, int* sums)
    {
        for (int s = 0; s < supers; s++)
        {
            float* xs = x + 256 * s;
            var m = Vector512<float>.Zero;
            for (int v = 0; v < 16; v++) m = Vector512.Max(m, Vector512.Abs(Vector512.Load(xs + 16 * v)));
            var m8 = Vector256.Max(m.GetLower(), m.GetUpper());
            var m4 = Vector128.Max(m8.GetLower(), m8.GetUpper());
            float amax = MathF.Max(MathF.Max(m4.GetElement(0), m4.GetElement(1)), MathF.Max(m4.GetElement(2), m4.GetElement(3)));
            if (amax == 0)
            {
                new Span<sbyte>(quants + 256 * s, 256).Clear();
                new Span<int>(sums + 16 * s, 16).Clear();
                scales[s] = 0;
                continue;
            }
            float max = 0;
            for (int v = 0; v < 16; v++)
            {
                ulong hits = Vector512.Equals(Vector512.Abs(Vector512.Load(xs + 16 * v)), Vector512.Create(amax)).ExtractMostSignificantBits();
                if (hits == 0) continue;
                max = xs[16 * v + System.Numerics.BitOperations.TrailingZeroCount(hits)];
                break;
            }
            float iscale = -127.0f / max;
            var vscale = Vector512.Create(iscale);
            for (int v = 0; v < 16; v++)
            {
                var q = Vector512.Min(Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(xs + 16 * v) * vscale)), Vector512.Create(127));
                Avx512F.ConvertToVector128SByte(q).Store(quants + 256 * s + 16 * v);
                sums[16 * s + v] = Vector512.Sum(q);
            }
            scales[s] = 1 / iscale;
        }
    }

    /// <summary>
    /// The scales of sixteen consecutive blocks at once, element k for block k: 1/d (0 where d = 0) and d rounded to fp16,
    /// with d = amax/127 as <see cref="Block"/> forms it. Each block's largest magnitude comes from one vector per block
    /// folded into one vector for all sixteen (four rounds of pairwise maxima across blocks), so the divisions and the
    /// fp16 rounding run once for sixteen blocks rather than once per block in scalar code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Inverse, Vector512<float> Scale) Scales16(float* x)
    {
        // Round 1: blocks 2i and 2i+1 interleaved, each 128-bit lane holding two partial maxima of each.
        var t0 = Pair(x, 0);
        var t1 = Pair(x, 2);
        var t2 = Pair(x, 4);
        var t3 = Pair(x, 6);
        var t4 = Pair(x, 8);
        var t5 = Pair(x, 10);
        var t6 = Pair(x, 12);
        var t7 = Pair(x, 14);
        // Round 2: four blocks per vector, each lane holding one maximum per block (over that lane's elements).
        var u0 = Quad(t0, t1);
        var u1 = Quad(t2, t3);
        var u2 = Quad(t4, t5);
        var u3 = Quad(t6, t7);
        // Rounds 3 and 4: the lanes folded together, blocks 4j..4j+3 ending in lane j.
        var v0 = Lanes(u0, u1);
        var v1 = Lanes(u2, u3);
        var amax = Lanes(v0, v1);
        var d = amax / Vector512.Create(127f);
        var inverse = Vector512.ConditionalSelect(Vector512.Equals(d, Vector512<float>.Zero), Vector512<float>.Zero, Vector512<float>.One / d);
        return (inverse, FloatConversions.RoundToHalf(d));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Magnitude(float* block) =>
        Vector512.Max(Vector512.Abs(Vector512.Load(block)), Vector512.Abs(Vector512.Load(block + 16)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(float* x, int block)
    {
        var a = Magnitude(x + 32 * block);
        var b = Magnitude(x + 32 * block + 32);
        return Vector512.Max(Avx512F.UnpackLow(a, b), Avx512F.UnpackHigh(a, b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quad(Vector512<float> a, Vector512<float> b) =>
        Vector512.Max(Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle(), Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(Vector512<float> a, Vector512<float> b) =>
        Vector512.Max(Avx512F.Shuffle4x128(a, b, 0b10_00_10_00), Avx512F.Shuffle4x128(a, b, 0b11_01_11_01));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<int> Lo, Vector512<int> Hi, float Scale) Block(float* x)
    {
        var a = Vector512.Load(x);
        var b = Vector512.Load(x + 16);
        var m = Vector512.Max(Vector512.Abs(a), Vector512.Abs(b));
        var m8 = Vector256.Max(m.GetLower(), m.GetUpper());
        var m4 = Vector128.Max(m8.GetLower(), m8.GetUpper());
        float amax = MathF.Max(MathF.Max(m4.GetElement(0), m4.GetElement(1)), MathF.Max(m4.GetElement(2), m4.GetElement(3)));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        var (lo, hi) = Quants(x, Vector512.Create(id));
        return (lo, hi, (float)(Half)d);
    }

    /// <summary>The 32 quants of the block at <paramref name="x"/>: each value times 1/d (<paramref name="inverse"/>, in every lane), rounded half away from zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<int> Lo, Vector512<int> Hi) Quants(float* x, Vector512<float> inverse) =>
        (RoundHalfAway(Vector512.Load(x) * inverse), RoundHalfAway(Vector512.Load(x + 16) * inverse));

    /// <summary>Element <paramref name="k"/> of <paramref name="v"/> in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lane(Vector512<float> v, int k) => Avx512F.PermuteVar16x32(v, Vector512.Create(k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> RoundHalfAway(Vector512<float> v)
    {
        var t = Vector512.Truncate(v);
        var away = Vector512.GreaterThanOrEqual(Vector512.Abs(v - t), Vector512.Create(0.5f));
        var step = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512.Create(-1f), Vector512.Create(1f));
        return Vector512.ConvertToInt32(t + (step & away));
    }
}
