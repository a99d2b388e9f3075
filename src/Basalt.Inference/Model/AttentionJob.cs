using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Basalt.Tensors;
using System.Numerics.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Causal grouped-query attention for every (token, KV head) pair of a batch, split across threads. Each token
/// attends over its own sequence's cache up to its position. The keys and values of a KV head are read (and, from an
/// F16 cache, widened) a tile of positions at a time, once for all the query heads that share them, so a tile stays
/// in L1 while those heads use it however long the context: widening a whole long context into one buffer and
/// reading it back once per query head made the attention of long contexts cost more than its multiplies.
/// </summary>
internal sealed class AttentionJob(ModelConfig c, int threads) : IParallelJob
{
    /// <summary>Positions per tile: 64 keys of a 128-wide head are 32 KB of floats.</summary>
    private const int Tile = 64;

    private readonly float[][] _scores = Enumerable.Range(0, threads).Select(_ => Array.Empty<float>()).ToArray();
    private readonly float[][] _tiles = Enumerable.Range(0, threads).Select(_ => Array.Empty<float>()).ToArray();
    private BatchEntry[] _entries = [];
    private int _count, _layer;
    private float[] _q = [], _out = [];

    /// <summary>Attention of every token of <paramref name="entries"/>; with an F16 cache the queries must already be rounded to F16, as ggml multiplies them.</summary>
    public void Run(WorkerPool? pool, int layer, ReadOnlySpan<BatchEntry> entries, float[] q, float[] output)
    {
        if (_entries.Length < entries.Length) _entries = new BatchEntry[entries.Length];
        entries.CopyTo(_entries);
        (_count, _layer, _q, _out) = (entries.Length, layer, q, output);
        if (pool is null || pool.ThreadCount == 1) Execute(0, 1);
        else pool.Run(this);
        Array.Clear(_entries, 0, _count); // do not keep caches alive
    }

    public void Execute(int thread, int threadCount)
    {
        int kvHeads = c.HeadCountKv, group = c.HeadCount / kvHeads, hd = c.HeadDim;
        var (start, end) = WorkerPool.Share(_count * kvHeads, thread, threadCount);
        float scale = 1f / MathF.Sqrt(hd);
        // Heads are short (64–256): inline vector loops rather than a library call per position, where they fit.
        bool inline = Vector512.IsHardwareAccelerated && hd % 16 == 0;
        if (_tiles[thread].Length < Tile * hd) _tiles[thread] = new float[Tile * hd];
        var tile = _tiles[thread].AsSpan(0, Tile * hd);
        // Decoding streams every weight through the caches between two layers' attention, so a short context's keys
        // and values come from memory: the first tile of each of this thread's heads is requested up front, to arrive
        // together (later tiles the hardware prefetcher follows). Decoding the tinyllama shape (positions 0-63, Q4_0),
        // alternating runs with and without: 276-334 -> 215-253 µs a token on two threads, 285-329 -> 259-287 on one.
        for (int pair = start; pair < end; pair++)
        {
            var e = _entries[pair / kvHeads];
            e.Cache.Prefetch(_layer, Math.Min(e.Position + 1, Tile), pair % kvHeads * hd);
        }
        for (int pair = start; pair < end; pair++)
        {
            int i = pair / kvHeads, g = pair % kvHeads;
            var e = _entries[i];
            int span = e.Position + 1, kvOffset = g * hd;
            if (_scores[thread].Length < group * span) _scores[thread] = new float[Math.Max(group * span, 2 * _scores[thread].Length)];
            var scores = _scores[thread].AsSpan(0, group * span); // [head of the group, position]
            for (int t0 = 0; t0 < span; t0 += Tile)
            {
                int n = Math.Min(Tile, span - t0);
                var keys = tile[..(n * hd)];
                e.Cache.ReadKeys(_layer, t0, n, kvOffset, hd, keys);
                for (int j = 0; j < group; j++)
                {
                    var q = _q.AsSpan(i * c.QDim + (g * group + j) * hd, hd);
                    var s = scores.Slice(j * span + t0, n);
                    if (inline) Scores512(q, keys, s, scale);
                    else for (int t = 0; t < n; t++) s[t] = TensorPrimitives.Dot(q, keys.Slice(t * hd, hd)) * scale;
                }
            }
            for (int j = 0; j < group; j++)
            {
                var s = scores.Slice(j * span, span);
                VectorOps.Softmax(s);
                if (e.Cache.UsesF16) FloatConversions.RoundToHalfPrecision(s, s);
            }
            for (int t0 = 0; t0 < span; t0 += Tile)
            {
                int n = Math.Min(Tile, span - t0);
                var values = tile[..(n * hd)];
                e.Cache.ReadValues(_layer, t0, n, kvOffset, hd, values);
                for (int j = 0; j < group; j++)
                {
                    var output = _out.AsSpan(i * c.QDim + (g * group + j) * hd, hd);
                    var w = scores.Slice(j * span + t0, n);
                    // Each output element sums over the positions in order, tile after tile.
                    if (inline) Mix512(values, w, output, accumulate: t0 > 0);
                    else
                    {
                        if (t0 == 0) output.Clear();
                        for (int t = 0; t < n; t++) TensorPrimitives.MultiplyAdd(values.Slice(t * hd, hd), w[t], output, output);
                    }
                }
            }
        }
    }

    /// <summary>
    /// scores[t] = q · keys[t] × scale, for keys of q's length stored one after another (a multiple of 16). Four keys at a
    /// time, each summed in the same order as alone: four independent chains of FMAs rather than one waiting on the last.
    /// </summary>
    internal static void Scores512(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, Span<float> scores, float scale)
    {
        int hd = q.Length, t = 0;
        ref float q0 = ref MemoryMarshal.GetReference(q);
        ref float k0 = ref MemoryMarshal.GetReference(keys);
        for (; t + 4 <= scores.Length; t += 4)
        {
            ref float ka = ref Unsafe.Add(ref k0, t * hd);
            ref float kb = ref Unsafe.Add(ref ka, hd);
            ref float kc = ref Unsafe.Add(ref kb, hd);
            ref float kd = ref Unsafe.Add(ref kc, hd);
            Vector512<float> a = default, b = default, c = default, d = default;
            for (int i = 0; i < hd; i += 16)
            {
                var qv = Vector512.LoadUnsafe(ref q0, (nuint)i);
                a = Vector512.FusedMultiplyAdd(qv, Vector512.LoadUnsafe(ref ka, (nuint)i), a);
                b = Vector512.FusedMultiplyAdd(qv, Vector512.LoadUnsafe(ref kb, (nuint)i), b);
                c = Vector512.FusedMultiplyAdd(qv, Vector512.LoadUnsafe(ref kc, (nuint)i), c);
                d = Vector512.FusedMultiplyAdd(qv, Vector512.LoadUnsafe(ref kd, (nuint)i), d);
            }
            scores[t] = Vector512.Sum(a) * scale;
            scores[t + 1] = Vector512.Sum(b) * scale;
            scores[t + 2] = Vector512.Sum(c) * scale;
            scores[t + 3] = Vector512.Sum(d) * scale;
        }
        for (; t < scores.Length; t++)
        {
            ref float kt = ref Unsafe.Add(ref k0, t * hd);
            var acc = Vector512<float>.Zero;
            for (int i = 0; i < hd; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q0, (nuint)i), Vector512.LoadUnsafe(ref kt, (nuint)i), acc);
            scores[t] = Vector512.Sum(acc) * scale;
        }
    }

    /// <summary>
    /// output = Σ_t weights[t] × values[t], for values of output's length stored one after another (a multiple of 16).
    /// Up to four 16-wide slices of the output at a time, each summed over t in order: independent chains of FMAs, and
    /// each value row read once per pass. With <paramref name="accumulate"/> the sums continue from the output's values
    /// (a context taken a tile at a time sums in the same order as at once).
    /// </summary>
    internal static void Mix512(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, Span<float> output, bool accumulate = false)
    {
        int hd = output.Length, d = 0;
        ref float o0 = ref MemoryMarshal.GetReference(output);
        ref float v0 = ref MemoryMarshal.GetReference(values);
        for (; d + 64 <= hd; d += 64)
        {
            Vector512<float> a = default, b = default, c = default, e = default;
            if (accumulate)
            {
                a = Vector512.LoadUnsafe(ref o0, (nuint)d);
                b = Vector512.LoadUnsafe(ref o0, (nuint)(d + 16));
                c = Vector512.LoadUnsafe(ref o0, (nuint)(d + 32));
                e = Vector512.LoadUnsafe(ref o0, (nuint)(d + 48));
            }
            for (int t = 0; t < weights.Length; t++)
            {
                ref float vt = ref Unsafe.Add(ref v0, t * hd + d);
                var w = Vector512.Create(weights[t]);
                a = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref vt), w, a);
                b = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref vt, 16), w, b);
                c = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref vt, 32), w, c);
                e = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref vt, 48), w, e);
            }
            a.StoreUnsafe(ref o0, (nuint)d);
            b.StoreUnsafe(ref o0, (nuint)(d + 16));
            c.StoreUnsafe(ref o0, (nuint)(d + 32));
            e.StoreUnsafe(ref o0, (nuint)(d + 48));
        }
        for (; d < hd; d += 16)
        {
            var acc = accumulate ? Vector512.LoadUnsafe(ref o0, (nuint)d) : Vector512<float>.Zero;
            for (int t = 0; t < weights.Length; t++)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref v0, (nuint)(t * hd + d)), Vector512.Create(weights[t]), acc);
            acc.StoreUnsafe(ref o0, (nuint)d);
        }
    }
}
