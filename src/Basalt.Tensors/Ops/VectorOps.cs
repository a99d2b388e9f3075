using System.Numerics.Tensors;

namespace Basalt.Tensors.Ops;

/// <summary>
/// Element-wise and reduction kernels of the transformer forward pass: norms, activations,
/// softmax, rotary embeddings. Written plainly over spans; TensorPrimitives supplies SIMD where it has the operation.
/// </summary>
public static class VectorOps
{
    /// <summary>out = x / sqrt(mean(x²) + eps) * weight (RMSNorm), the sum of squares taken in double.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> output)
    {
        double sum = 0;
        foreach (float v in x) sum += (double)v * v;
        float scale = (float)(1.0 / Math.Sqrt(sum / x.Length + eps));
        TensorPrimitives.Multiply(x, scale, output);
        TensorPrimitives.Multiply(output, weight, output);
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

    /// <summary>In-place softmax, stable against large logits.</summary>
    public static void Softmax(Span<float> x)
    {
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        TensorPrimitives.Multiply(x, (float)(1.0 / sum), x);
    }

    /// <summary>SiLU(x) = x·σ(x), in place.</summary>
    public static void Silu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-x[i]));
    }

    /// <summary>GELU with the tanh approximation (the form ggml uses), in place.</summary>
    public static void Gelu(Span<float> x)
    {
        const float SqrtTwoOverPi = 0.7978845608028654f;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * v * (1f + 0.044715f * v * v)));
        }
    }

    /// <summary>
    /// Rotary position embedding over each head of <paramref name="x"/> (heads of <paramref name="headDim"/>
    /// floats, the first <paramref name="ropeDim"/> of each rotated). <paramref name="neox"/> pairs
    /// element i with i + ropeDim/2 (GPT-NeoX layout); otherwise adjacent pairs (2i, 2i+1).
    /// </summary>
    public static void Rope(Span<float> x, int headDim, int ropeDim, int position, float freqBase, float freqScale, bool neox)
    {
        int half = ropeDim / 2;
        for (int head = 0; head + headDim <= x.Length; head += headDim)
        {
            var h = x.Slice(head, headDim);
            for (int i = 0; i < half; i++)
            {
                double theta = position * freqScale * Math.Pow(freqBase, -2.0 * i / ropeDim);
                float cos = (float)Math.Cos(theta), sin = (float)Math.Sin(theta);
                int a = neox ? i : 2 * i;
                int b = neox ? i + half : 2 * i + 1;
                float x0 = h[a], x1 = h[b];
                h[a] = x0 * cos - x1 * sin;
                h[b] = x0 * sin + x1 * cos;
            }
        }
    }
}
