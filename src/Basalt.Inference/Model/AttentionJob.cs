using System.Numerics.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Causal grouped-query attention for every (token, head) pair of a batch, split across threads.
/// Each token attends over its own sequence's cache up to its position.
/// </summary>
internal sealed class AttentionJob(ModelConfig c, int threads) : IParallelJob
{
    private readonly float[][] _scores = Enumerable.Range(0, threads).Select(_ => Array.Empty<float>()).ToArray();
    private readonly float[][] _head = Enumerable.Range(0, threads).Select(_ => new float[c.HeadDim]).ToArray();
    private BatchEntry[] _entries = [];
    private int _count, _layer;
    private float[] _q = [], _out = [];

    public void Run(WorkerPool? pool, int layer, ReadOnlySpan<BatchEntry> entries, float[] q, float[] output)
    {
        if (_entries.Length < entries.Length) _entries = new BatchEntry[entries.Length];
        entries.CopyTo(_entries);
        (_count, _layer, _q, _out) = (entries.Length, layer, q, output);
        // With an F16 cache ggml multiplies in F16: it rounds the query and the attention weights to
        // F16 too. Doing the same keeps log-probs within a few hundredths of llama.cpp's.
        if (entries[0].Cache.UsesF16) RoundToHalf(q.AsSpan(0, _count * c.QDim));
        if (pool is null || pool.ThreadCount == 1) Execute(0, 1);
        else pool.Run(this);
        Array.Clear(_entries, 0, _count); // do not keep caches alive
    }

    public void Execute(int thread, int threadCount)
    {
        int pairs = _count * c.HeadCount;
        var (start, end) = WorkerPool.Share(pairs, thread, threadCount);
        int hd = c.HeadDim, group = c.HeadCount / c.HeadCountKv;
        float scale = 1f / MathF.Sqrt(hd);
        var cached = _head[thread].AsSpan();
        for (int pair = start; pair < end; pair++)
        {
            int i = pair / c.HeadCount, h = pair % c.HeadCount;
            var e = _entries[i];
            int span = e.Position + 1;
            if (_scores[thread].Length < span) _scores[thread] = new float[Math.Max(span, 2 * _scores[thread].Length)];
            var scores = _scores[thread].AsSpan(0, span);
            var q = _q.AsSpan(i * c.QDim + h * hd, hd);
            int kvOffset = h / group * hd;
            for (int t = 0; t < span; t++)
            {
                e.Cache.ReadKey(_layer, t, kvOffset, cached);
                scores[t] = TensorPrimitives.Dot(q, cached) * scale;
            }
            VectorOps.Softmax(scores);
            if (e.Cache.UsesF16) RoundToHalf(scores);
            var output = _out.AsSpan(i * c.QDim + h * hd, hd);
            output.Clear();
            for (int t = 0; t < span; t++)
            {
                e.Cache.ReadValue(_layer, t, kvOffset, cached);
                TensorPrimitives.MultiplyAdd(cached, scores[t], output, output);
            }
        }
    }

    private static void RoundToHalf(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(Half)values[i];
    }
}
