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
        for (int k = 0; k < blocks; k++)
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
        for (int k = 0; k < blocks; k++)
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
        var vid = Vector512.Create(id);
        return (RoundHalfAway(a * vid), RoundHalfAway(b * vid), (float)(Half)d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> RoundHalfAway(Vector512<float> v)
    {
        var t = Vector512.Truncate(v);
        var away = Vector512.GreaterThanOrEqual(Vector512.Abs(v - t), Vector512.Create(0.5f));
        var step = Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512.Create(-1f), Vector512.Create(1f));
        return Vector512.ConvertToInt32(t + (step & away));
    }
}
