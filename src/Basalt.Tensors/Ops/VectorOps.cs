using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Basalt.Tensors.Ops;

/// <summary>
/// Element-wise and reduction kernels of the transformer forward pass: norms, activations,
/// softmax, rotary embeddings. Written plainly over spans; TensorPrimitives supplies SIMD where it has the operation.
/// </summary>
public static class VectorOps
{
    /// <summary>
    /// Asks for every cache line of <paramref name="data"/> at once, so that their misses overlap instead of coming one
    /// after another as a short loop reaches them. A hint only: nothing is read, and nothing happens where the CPU has
    /// no prefetch instruction.
    /// </summary>
    public static unsafe void Prefetch<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        if (!Sse.IsSupported || data.IsEmpty) return;
        // A prefetch never faults, so memory the GC moves meanwhile costs nothing but the hint.
        byte* at = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data));
        long bytes = (long)data.Length * sizeof(T);
        for (long i = 0; i < bytes; i += 64) Sse.Prefetch0(at + i);
        Sse.Prefetch0(at + bytes - 1);
    }

    /// <summary>out = x / sqrt(mean(x²) + eps) * weight (RMSNorm), the sum of squares taken in double.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> output)
    {
        double sum = SumOfSquares(x);
        float scale = (float)(1.0 / Math.Sqrt(sum / x.Length + eps));
        TensorPrimitives.Multiply(x, scale, output);
        TensorPrimitives.Multiply(output, weight, output);
    }

    /// <summary>
    /// Σ x², each square and the sum in double. With 512-bit vectors in four eight-lane partial sums (a scalar loop is one
    /// chain of dependent adds: ~1.5 µs for 2048 values); the order differs from the scalar loop's only below double's
    /// precision, far under the float the norm becomes.
    /// </summary>
    internal static unsafe double SumOfSquares(ReadOnlySpan<float> x)
    {
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && x.Length >= 32)
        {
            Vector512<double> a = default, b = default, c = default, d = default;
            fixed (float* p = x)
            {
                for (; i + 32 <= x.Length; i += 32)
                {
                    var va = Avx512F.ConvertToVector512Double(Vector256.Load(p + i));
                    var vb = Avx512F.ConvertToVector512Double(Vector256.Load(p + i + 8));
                    var vc = Avx512F.ConvertToVector512Double(Vector256.Load(p + i + 16));
                    var vd = Avx512F.ConvertToVector512Double(Vector256.Load(p + i + 24));
                    a = Vector512.FusedMultiplyAdd(va, va, a);
                    b = Vector512.FusedMultiplyAdd(vb, vb, b);
                    c = Vector512.FusedMultiplyAdd(vc, vc, c);
                    d = Vector512.FusedMultiplyAdd(vd, vd, d);
                }
            }
            sum = Vector512.Sum((a + b) + (c + d));
        }
        for (; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    /// <summary>out = (x - mean) / sqrt(var + eps) * weight + bias (LayerNorm); <paramref name="bias"/> may be empty.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps, Span<float> output)
    {
        double mean = 0;
        foreach (float v in x) mean += v;
        mean /= x.Length;
        double variance = 0;
        foreach (float v in x) variance += (v - mean) * (v - mean);
        variance /= x.Length;
        float scale = (float)(1.0 / Math.Sqrt(variance + eps));
        for (int i = 0; i < x.Length; i++) output[i] = (float)(x[i] - mean) * scale * weight[i] + (bias.IsEmpty ? 0 : bias[i]);
    }

    /// <summary>
    /// In-place softmax, stable against large logits: e^(x − max), summed in double. With 512-bit vectors the
    /// exponential is <see cref="Exp512"/> and the sum runs in two eight-lane double partial sums: an attention head over
    /// a long context takes one softmax per query head and position, and TensorPrimitives' exponential plus a scalar
    /// sum cost more there than the attention's multiplies.
    /// </summary>
    public static unsafe void Softmax(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && x.Length >= 16)
        {
            var m = Vector512.Create(max);
            Vector512<double> a = default, b = default;
            fixed (float* p = x)
            {
                for (; i + 16 <= x.Length; i += 16)
                {
                    var e = Exp512(Vector512.Load(p + i) - m);
                    e.Store(p + i);
                    a += Avx512F.ConvertToVector512Double(e.GetLower());
                    b += Avx512F.ConvertToVector512Double(e.GetUpper());
                }
            }
            sum = Vector512.Sum(a + b);
        }
        for (; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        TensorPrimitives.Multiply(x, (float)(1.0 / sum), x);
    }

    /// <summary>Elements processed per slice of the vectorised activations (their scratch lives on the stack).</summary>
    private const int ActivationSlice = 512;

    /// <summary>
    /// SiLU(x) = x / (1 + e^−x), in place. With 512-bit vectors the exponential is <see cref="Exp512"/> (within two
    /// ulps; TensorPrimitives' exponential took ~8 µs for a 5632-wide feed-forward row, a third of a token's per-layer
    /// element-wise work); otherwise TensorPrimitives'.
    /// </summary>
    public static unsafe void Silu(Span<float> x)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            fixed (float* p = x)
                for (; i + 16 <= x.Length; i += 16)
                {
                    var v = Vector512.Load(p + i);
                    (v / (Vector512<float>.One + Exp512(-v))).Store(p + i);
                }
        }
        if (i == x.Length) return;
        Span<float> t = stackalloc float[ActivationSlice];
        for (int at = i; at < x.Length; at += ActivationSlice)
        {
            var v = x.Slice(at, Math.Min(ActivationSlice, x.Length - at));
            var e = t[..v.Length];
            TensorPrimitives.Negate(v, e);
            TensorPrimitives.Exp(e, e);
            TensorPrimitives.Add(e, 1f, e);
            TensorPrimitives.Divide(v, e, v);
        }
    }

    /// <summary>
    /// gate = SiLU(gate) ⊙ up, in one pass: the same bits as <see cref="Silu"/> followed by an element-wise multiply (the
    /// SiLU value is rounded before the product), without writing and reading back the SiLU values between them.
    /// </summary>
    public static unsafe void SiluMultiply(Span<float> gate, ReadOnlySpan<float> up)
    {
        if (up.Length != gate.Length) throw new ArgumentException($"gate and up differ in length ({gate.Length} and {up.Length}).", nameof(up));
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            fixed (float* g = gate)
            fixed (float* u = up)
                for (; i + 16 <= gate.Length; i += 16)
                {
                    var v = Vector512.Load(g + i);
                    (v / (Vector512<float>.One + Exp512(-v)) * Vector512.Load(u + i)).Store(g + i);
                }
        }
        if (i == gate.Length) return;
        var rest = gate[i..];
        Silu(rest); // shorter than a vector: the remainder path Silu takes for these elements
        TensorPrimitives.Multiply(rest, up[i..], rest);
    }

    /// <summary>
    /// e^x for sixteen floats: e^x = 2^n · e^r with n = round(x·log₂e) and r = x − n·ln 2 (ln 2 in two parts, the first
    /// short enough that n times it is exact, so |r| ≤ ~0.347), e^r by its Taylor series to r⁷ (truncation below 10⁻⁸
    /// relative), and 2^n applied by <c>vscalefps</c>, which gives +∞ past the float range and subnormals or 0 below it.
    /// Inputs are first clamped to [−104, 89], where e^x is already 0 or +∞ in float (Min and Max pass NaN through).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp512(Vector512<float> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(89f));
        var n = Vector512.Round(c * Vector512.Create(1.44269504f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), c);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1f / 5040);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    /// <summary>GELU with the tanh approximation (the form ggml uses), in place, with TensorPrimitives' vectorised tanh.</summary>
    public static void Gelu(Span<float> x)
    {
        const float SqrtTwoOverPi = 0.7978845608028654f;
        Span<float> t = stackalloc float[ActivationSlice];
        for (int at = 0; at < x.Length; at += ActivationSlice)
        {
            var v = x.Slice(at, Math.Min(ActivationSlice, x.Length - at));
            var u = t[..v.Length];
            // u = tanh(√(2/π)·v·(1 + 0.044715·v²)); x = 0.5·v·(1 + u)
            TensorPrimitives.Multiply(v, v, u);
            TensorPrimitives.Multiply(u, 0.044715f, u);
            TensorPrimitives.Add(u, 1f, u);
            TensorPrimitives.Multiply(u, v, u);
            TensorPrimitives.Multiply(u, SqrtTwoOverPi, u);
            TensorPrimitives.Tanh(u, u);
            TensorPrimitives.Add(u, 1f, u);
            TensorPrimitives.Multiply(u, v, u);
            TensorPrimitives.Multiply(u, 0.5f, v);
        }
    }

    /// <summary>
    /// Rotary position embedding over each head of <paramref name="x"/> (heads of <paramref name="headDim"/>
    /// floats, the first <paramref name="ropeDim"/> of each rotated). <paramref name="neox"/> pairs
    /// element i with i + ropeDim/2 (GPT-NeoX layout); otherwise adjacent pairs (2i, 2i+1).
    /// </summary>
    public static void Rope(Span<float> x, int headDim, int ropeDim, int position, float freqBase, float freqScale, bool neox)
    {
        Span<float> cos = stackalloc float[ropeDim / 2], sin = stackalloc float[ropeDim / 2];
        RopeAngles(position, ropeDim, freqBase, freqScale, cos, sin);
        Rope(x, headDim, cos, sin, neox);
    }

    /// <summary>
    /// cos θᵢ and sin θᵢ of the rotary angles θᵢ = position · freqScale · freqBase^(−2i/ropeDim) for i &lt; ropeDim/2
    /// (computed in double). They depend only on the position, so one table serves every head and layer of a token.
    /// </summary>
    public static void RopeAngles(int position, int ropeDim, float freqBase, float freqScale, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < ropeDim / 2; i++)
        {
            double theta = position * freqScale * Math.Pow(freqBase, -2.0 * i / ropeDim);
            cos[i] = (float)Math.Cos(theta);
            sin[i] = (float)Math.Sin(theta);
        }
    }

    /// <summary>
    /// Rotates each head of <paramref name="x"/> by the angles of <see cref="RopeAngles"/> (cos.Length pairs per head):
    /// x₀' = x₀·cos − x₁·sin, x₁' = x₀·sin + x₁·cos, each product rounded before the sum (no fused multiply-add), so the
    /// 512-bit path gives the scalar loop's bits. It takes sixteen pairs at a time for NeoX (x₀ and x₁ half a head
    /// apart) and eight for adjacent pairs (one vector, its pairs swapped by one in-lane shuffle); a remainder of pairs
    /// goes through the scalar loop.
    /// </summary>
    public static unsafe void Rope(Span<float> x, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, bool neox)
    {
        int half = cos.Length;
        if (sin.Length != half || 2 * half > headDim) throw new ArgumentException($"Need as many sines as cosines and at most headDim/2 ({headDim / 2}) of each; got {half} and {sin.Length}.", nameof(cos));
        int heads = x.Length / headDim, vector = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && heads > 0)
        {
            vector = neox ? half & ~15 : half & ~7;
            fixed (float* x0 = x)
            fixed (float* c0 = cos)
            fixed (float* s0 = sin)
            {
                if (neox) RopeNeox512(x0, heads, headDim, half, vector, c0, s0);
                else RopeAdjacent512(x0, heads, headDim, vector, c0, s0);
            }
        }
        for (int head = 0; head + headDim <= x.Length; head += headDim)
        {
            var h = x.Slice(head, headDim);
            for (int i = vector; i < half; i++)
            {
                int a = neox ? i : 2 * i;
                int b = neox ? i + half : 2 * i + 1;
                float x0 = h[a], x1 = h[b];
                h[a] = x0 * cos[i] - x1 * sin[i];
                h[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    private static unsafe void RopeNeox512(float* x, int heads, int headDim, int half, int pairs, float* cos, float* sin)
    {
        for (int i = 0; i < pairs; i += 16)
        {
            var c = Vector512.Load(cos + i);
            var s = Vector512.Load(sin + i);
            for (int head = 0; head < heads; head++)
            {
                float* a = x + (long)head * headDim + i, b = a + half;
                var x0 = Vector512.Load(a);
                var x1 = Vector512.Load(b);
                (x0 * c - x1 * s).Store(a);
                (x0 * s + x1 * c).Store(b);
            }
        }
    }

    private static unsafe void RopeAdjacent512(float* x, int heads, int headDim, int pairs, float* cos, float* sin)
    {
        // Each angle twice, for the two elements of its pair; the even elements take −sin·x₁, the odd +sin·x₀.
        var twice = Vector512.Create(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        var negateEven = Vector512.Create(0x80000000u, 0, 0x80000000u, 0, 0x80000000u, 0, 0x80000000u, 0,
            0x80000000u, 0, 0x80000000u, 0, 0x80000000u, 0, 0x80000000u, 0).AsSingle();
        for (int i = 0; i < pairs; i += 8)
        {
            var c = Avx512F.PermuteVar16x32(Vector256.Load(cos + i).ToVector512Unsafe(), twice);
            var s = Avx512F.PermuteVar16x32(Vector256.Load(sin + i).ToVector512Unsafe(), twice);
            for (int head = 0; head < heads; head++)
            {
                float* at = x + (long)head * headDim + 2 * i;
                var v = Vector512.Load(at);
                var swapped = Avx512F.Shuffle(v, v, 0b10_11_00_01); // (x₁, x₀) in every pair
                (v * c + ((swapped * s) ^ negateEven)).Store(at);
            }
        }
    }
}
