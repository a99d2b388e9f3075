using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Basalt.Tensors;
using System.Numerics.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Model;

/// <summary>
/// Causal grouped-query attention for every (token, KV head) pair of a batch, split across threads. Each token
/// attends over its own sequence's cache up to its position. The keys and values of a KV head are read (and, from an
/// F16 cache, widened) a tile of positions at a time, once for all the query heads that share them, so a tile stays
/// in the core's caches (with its transposed copy: L1 for 64-wide heads, L2 for wider) while those heads use it,
/// however long the context: widening a whole long context into one buffer and
/// reading it back once per query head made the attention of long contexts cost more than its multiplies. A prompt's
/// tokens (one sequence, consecutive positions) share each tile too, up to <see cref="Block"/> of them.
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

    /// <summary>
    /// Most tokens of one sequence that share each tile of keys and values (a prompt's consecutive positions): the tile
    /// is read and transposed once for all of them. Their scores are kept together, [token][head][position].
    /// </summary>
    private const int Block = 16;

    /// <summary>One KV head of <paramref name="Tokens"/> entries from <paramref name="First"/> on.</summary>
    private readonly record struct Unit(int First, int Tokens, int KvHead);

    private Unit[] _units = [];
    private int _unitCount;

    private readonly NextProduct _next = new();

    /// <summary>
    /// Attention of every token of <paramref name="entries"/>; with an F16 cache the queries must already be rounded to
    /// F16, as ggml multiplies them. Threads that finish early read ahead their share of <paramref name="next"/>.
    /// </summary>
    public void Run(WorkerPool? pool, int layer, ReadOnlySpan<BatchEntry> entries, float[] q, float[] output, ReadOnlySpan<WeightTensor> next = default)
    {
        _next.Set(next);
        if (_entries.Length < entries.Length) _entries = new BatchEntry[entries.Length];
        entries.CopyTo(_entries);
        (_count, _layer, _q, _out) = (entries.Length, layer, q, output);
        try
        {
            PlanUnits(entries);
            if (pool is null || pool.ThreadCount == 1) Execute(0, 1);
            else pool.Run(this);
        }
        finally
        {
            Array.Clear(_entries, 0, _count); // do not keep caches alive
            _next.Set([]);
        }
    }

    public ReadAhead ReadAhead(int thread, int threadCount) => _next.ReadAhead(thread, threadCount);

    /// <summary>
    /// Splits the batch into units of one KV head and up to <see cref="Block"/> entries of one cache at consecutive
    /// positions (one token alone otherwise: a decode step of many sequences), KV head by KV head within each run.
    /// </summary>
    private void PlanUnits(ReadOnlySpan<BatchEntry> entries)
    {
        int kvHeads = c.HeadCountKv;
        if (_units.Length < entries.Length * kvHeads) _units = new Unit[entries.Length * kvHeads];
        _unitCount = 0;
        for (int first = 0; first < entries.Length;)
        {
            int n = 1;
            while (n < Block && first + n < entries.Length && entries[first + n].Cache == entries[first].Cache
                   && entries[first + n].Position == entries[first + n - 1].Position + 1)
                n++;
            for (int g = 0; g < kvHeads; g++) _units[_unitCount++] = new Unit(first, n, g);
            first += n;
        }
    }

    public void Execute(int thread, int threadCount)
    {
        int group = c.HeadCount / c.HeadCountKv, hd = c.HeadDim;
        var (start, end) = WorkerPool.Share(_unitCount, thread, threadCount);
        float scale = 1f / MathF.Sqrt(hd);
        // Heads are short (64–256): inline vector loops rather than a library call per position, where they fit.
        bool inline = Vector512.IsHardwareAccelerated && hd % 16 == 0;
        // A transposed tile serves all the query heads that share it, and pays for its transpose from four on; one to
        // three heads a KV head (Phi-3, Gemma 2) take the four-keys-at-a-time kernel on the tile as read.
        bool transpose = inline && group >= 4;
        if (_tiles[thread].Length < 2 * Tile * hd) _tiles[thread] = new float[2 * Tile * hd];
        var tile = _tiles[thread].AsSpan(0, Tile * hd);
        var transposed = _tiles[thread].AsSpan(Tile * hd, Tile * hd); // [head dim, Tile]: column t holds key t
        // Decoding streams every weight through the caches between two layers' attention, so a short context's keys
        // and values come from memory: the first tile of each of this thread's heads is requested up front, to arrive
        // together (later tiles the hardware prefetcher follows). Decoding the tinyllama shape (positions 0-63, Q4_0),
        // alternating runs with and without: 276-334 -> 215-253 µs a token on two threads, 285-329 -> 259-287 on one.
        for (int u = start; u < end; u++)
        {
            var e = _entries[_units[u].First];
            e.Cache.Prefetch(_layer, Math.Min(e.Position + 1, Tile), _units[u].KvHead * hd);
        }
        for (int u = start; u < end; u++)
        {
            var (first, tokens, g) = _units[u];
            int kvOffset = g * hd;
            var cache = _entries[first].Cache;
            // Token k of the unit attends over positions [0, span0 + k): the block's scores, token after token, token k's
            // from At(k) on.
            int span0 = _entries[first].Position + 1, last = span0 + tokens - 1;
            int At(int k) => group * (k * span0 + k * (k - 1) / 2);
            int size = At(tokens);
            if (_scores[thread].Length < size) _scores[thread] = new float[Math.Max(size, 2 * _scores[thread].Length)];
            var block = _scores[thread].AsSpan(0, size);
            for (int t0 = 0; t0 < last; t0 += Tile)
            {
                int n = Math.Min(Tile, last - t0);
                var keys = tile[..(n * hd)];
                cache.ReadKeys(_layer, t0, n, kvOffset, hd, keys);
                if (transpose)
                {
                    // Rows up to the next 16 are multiplied too (their scores are not kept): zeros, not another tile's keys.
                    int rows = (n + 15) & ~15;
                    tile[(n * hd)..(rows * hd)].Clear();
                    Transpose(tile[..(rows * hd)], hd, transposed);
                }
                for (int k = 0; k < tokens; k++)
                {
                    int span = span0 + k, count = Math.Min(n, span - t0);
                    if (count <= 0) continue;
                    var scores = block.Slice(At(k), group * span); // [head of the group, position]
                    var queries = _q.AsSpan((first + k) * c.QDim + g * group * hd, group * hd);
                    if (transpose) ScoresTransposed(queries, group, transposed, (count + 15) & ~15, scores[t0..], span, count, scale);
                    else
                    {
                        for (int j = 0; j < group; j++)
                        {
                            var q = queries.Slice(j * hd, hd);
                            var s = scores.Slice(j * span + t0, count);
                            if (inline) Scores512(q, keys[..(count * hd)], s, scale);
                            else for (int t = 0; t < count; t++) s[t] = TensorPrimitives.Dot(q, keys.Slice(t * hd, hd)) * scale;
                        }
                    }
                }
            }
            for (int k = 0; k < tokens; k++)
            {
                int span = span0 + k;
                for (int j = 0; j < group; j++)
                {
                    var s = block.Slice(At(k) + j * span, span);
                    VectorOps.Softmax(s);
                    if (cache.UsesF16) FloatConversions.RoundToHalfPrecision(s, s);
                }
            }
            for (int t0 = 0; t0 < last; t0 += Tile)
            {
                int n = Math.Min(Tile, last - t0);
                var values = tile[..(n * hd)];
                cache.ReadValues(_layer, t0, n, kvOffset, hd, values);
                for (int k = 0; k < tokens; k++)
                {
                    int span = span0 + k, count = Math.Min(n, span - t0);
                    if (count <= 0) continue;
                    var scores = block.Slice(At(k), group * span);
                    var outputs = _out.AsSpan((first + k) * c.QDim + g * group * hd, group * hd);
                    // Each output element sums over the positions in order, tile after tile.
                    if (inline) MixHeads(values[..(count * hd)], scores[t0..], span, count, outputs, group, accumulate: t0 > 0);
                    else
                    {
                        for (int j = 0; j < group; j++)
                        {
                            var output = outputs.Slice(j * hd, hd);
                            var w = scores.Slice(j * span + t0, count);
                            if (t0 == 0) output.Clear();
                            for (int t = 0; t < count; t++) TensorPrimitives.MultiplyAdd(values.Slice(t * hd, hd), w[t], output, output);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Transposes <paramref name="rows"/> (a multiple of 16 rows of <paramref name="width"/> floats, a multiple of 16)
    /// into <paramref name="columns"/>: row d of the result holds element d of every row, <see cref="Tile"/> apart.
    /// </summary>
    internal static unsafe void Transpose(ReadOnlySpan<float> rows, int width, Span<float> columns)
    {
        int count = rows.Length / width;
        if (count % 16 != 0 || width % 16 != 0 || count > Tile || columns.Length < width * Tile)
            throw new ArgumentException($"{count} rows of {width} do not transpose into {columns.Length} floats {Tile} apart.", nameof(rows));
        fixed (float* src = rows)
        fixed (float* dst = columns)
        {
            for (int r = 0; r < count; r += 16)
                for (int d = 0; d < width; d += 16)
                    Transpose16(src + r * width + d, width, dst + d * Tile + r, Tile);
        }
    }

    /// <summary>A 16×16 block of floats, rows <paramref name="srcStride"/> apart, into columns: dst[j][i] = src[i][j].</summary>
    /// <remarks>
    /// Inlined into <see cref="Transpose"/>'s loop, which Basalt's programs compile optimized at once
    /// (<c>TieredCompilationQuickJitForLoops</c> off): a method without a loop starts as unoptimized code, and this one
    /// ran ten times slower that way for the first ~10^5 calls (1.9 against 0.15 µs a block of 48 keys).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose16(float* src, int srcStride, float* dst, int dstStride)
    {
        // Four rounds of two-input shuffles, all in registers: elements, pairs, then 128-bit quarters twice.
        // Round 1, per quarter: r0 = a0 b0 a1 b1, r1 = a2 b2 a3 b3 of rows 0 and 1 (and so on).
        var (r0, r1) = Pair(src, srcStride);
        var (r2, r3) = Pair(src + 2 * srcStride, srcStride);
        var (r4, r5) = Pair(src + 4 * srcStride, srcStride);
        var (r6, r7) = Pair(src + 6 * srcStride, srcStride);
        var (r8, r9) = Pair(src + 8 * srcStride, srcStride);
        var (r10, r11) = Pair(src + 10 * srcStride, srcStride);
        var (r12, r13) = Pair(src + 12 * srcStride, srcStride);
        var (r14, r15) = Pair(src + 14 * srcStride, srcStride);
        // Round 2: u[4k + c], quarter q, holds rows 4k..4k+3 of column 4q + c.
        var (u0, u1, u2, u3) = Quad(r0, r1, r2, r3);
        var (u4, u5, u6, u7) = Quad(r4, r5, r6, r7);
        var (u8, u9, u10, u11) = Quad(r8, r9, r10, r11);
        var (u12, u13, u14, u15) = Quad(r12, r13, r14, r15);
        // Rounds 3 and 4: the four quarters of each column side by side.
        Columns(u0, u4, u8, u12, dst, dstStride);
        Columns(u1, u5, u9, u13, dst + dstStride, dstStride);
        Columns(u2, u6, u10, u14, dst + 2 * dstStride, dstStride);
        Columns(u3, u7, u11, u15, dst + 3 * dstStride, dstStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector512<float>, Vector512<float>) Pair(float* row, int stride)
    {
        var a = Vector512.Load(row);
        var b = Vector512.Load(row + stride);
        return (Avx512F.UnpackLow(a, b), Avx512F.UnpackHigh(a, b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Quad(
        Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3) =>
        (Avx512F.UnpackLow(r0.AsDouble(), r2.AsDouble()).AsSingle(), Avx512F.UnpackHigh(r0.AsDouble(), r2.AsDouble()).AsSingle(),
         Avx512F.UnpackLow(r1.AsDouble(), r3.AsDouble()).AsSingle(), Avx512F.UnpackHigh(r1.AsDouble(), r3.AsDouble()).AsSingle());

    /// <summary>Columns c, c + 4, c + 8 and c + 12 from the rows-0-3 … rows-12-15 vectors of column c's family.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Columns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, int dstStride)
    {
        var lo01 = Avx512F.Shuffle4x128(a, b, 0x44); // a.q0 a.q1 b.q0 b.q1
        var hi01 = Avx512F.Shuffle4x128(a, b, 0xEE); // a.q2 a.q3 b.q2 b.q3
        var lo23 = Avx512F.Shuffle4x128(c, d, 0x44);
        var hi23 = Avx512F.Shuffle4x128(c, d, 0xEE);
        Avx512F.Shuffle4x128(lo01, lo23, 0x88).Store(dst);                 // quarter 0 of each: rows 0-15 of column c
        Avx512F.Shuffle4x128(lo01, lo23, 0xDD).Store(dst + 4 * dstStride); // quarter 1: column c + 4
        Avx512F.Shuffle4x128(hi01, hi23, 0x88).Store(dst + 8 * dstStride);
        Avx512F.Shuffle4x128(hi01, hi23, 0xDD).Store(dst + 12 * dstStride);
    }

    /// <summary>
    /// scores[j × <paramref name="stride"/> + t] = (q_j · key t) × scale for the <paramref name="heads"/> queries of
    /// <paramref name="queries"/> (one after another) and the first <paramref name="count"/> keys of
    /// <paramref name="keysT"/> (<see cref="Transpose"/>d, <paramref name="columns"/> of them computed, a multiple of
    /// 16). Sixteen keys share a vector, so no sum crosses lanes: each score is one chain of FMAs over the head's
    /// elements in order, and four queries by two key blocks keep eight chains in flight. The keys of a KV head are read
    /// once for all the query heads that share them.
    /// </summary>
    internal static unsafe void ScoresTransposed(ReadOnlySpan<float> queries, int heads, ReadOnlySpan<float> keysT, int columns,
        Span<float> scores, int stride, int count, float scale)
    {
        int hd = queries.Length / heads;
        if (columns % 16 != 0 || columns > Tile || count > columns || keysT.Length < hd * Tile || (long)(heads - 1) * stride + count > scores.Length)
            throw new ArgumentException("The keys, queries and scores do not match.", nameof(scores));
        var s = Vector512.Create(scale);
        fixed (float* q = queries)
        fixed (float* k = keysT)
        fixed (float* o = scores)
        {
            int j = 0;
            for (; j + 4 <= heads; j += 4)
            {
                float* q0 = q + j * hd, q1 = q0 + hd, q2 = q1 + hd, q3 = q2 + hd;
                int c = 0;
                for (; c + 32 <= columns; c += 32)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
                    for (int d = 0; d < hd; d++)
                    {
                        var ka = Vector512.Load(k + d * Tile + c);
                        var kb = Vector512.Load(k + d * Tile + c + 16);
                        var x0 = Vector512.Create(q0[d]);
                        var x1 = Vector512.Create(q1[d]);
                        var x2 = Vector512.Create(q2[d]);
                        var x3 = Vector512.Create(q3[d]);
                        a0 = Vector512.FusedMultiplyAdd(x0, ka, a0);
                        b0 = Vector512.FusedMultiplyAdd(x0, kb, b0);
                        a1 = Vector512.FusedMultiplyAdd(x1, ka, a1);
                        b1 = Vector512.FusedMultiplyAdd(x1, kb, b1);
                        a2 = Vector512.FusedMultiplyAdd(x2, ka, a2);
                        b2 = Vector512.FusedMultiplyAdd(x2, kb, b2);
                        a3 = Vector512.FusedMultiplyAdd(x3, ka, a3);
                        b3 = Vector512.FusedMultiplyAdd(x3, kb, b3);
                    }
                    float* row = o + j * stride + c;
                    StoreScores(a0 * s, row, count - c);
                    StoreScores(b0 * s, row + 16, count - c - 16);
                    StoreScores(a1 * s, row + stride, count - c);
                    StoreScores(b1 * s, row + stride + 16, count - c - 16);
                    StoreScores(a2 * s, row + 2 * stride, count - c);
                    StoreScores(b2 * s, row + 2 * stride + 16, count - c - 16);
                    StoreScores(a3 * s, row + 3 * stride, count - c);
                    StoreScores(b3 * s, row + 3 * stride + 16, count - c - 16);
                }
                for (; c < columns; c += 16)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int d = 0; d < hd; d++)
                    {
                        var ka = Vector512.Load(k + d * Tile + c);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[d]), ka, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[d]), ka, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[d]), ka, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[d]), ka, a3);
                    }
                    float* row = o + j * stride + c;
                    StoreScores(a0 * s, row, count - c);
                    StoreScores(a1 * s, row + stride, count - c);
                    StoreScores(a2 * s, row + 2 * stride, count - c);
                    StoreScores(a3 * s, row + 3 * stride, count - c);
                }
            }
            for (; j < heads; j++)
            {
                // A head left over: its key blocks side by side, up to four chains.
                float* qj = q + j * hd, row = o + j * stride;
                int c = 0;
                for (; c + 64 <= columns; c += 64)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int d = 0; d < hd; d++)
                    {
                        var x = Vector512.Create(qj[d]);
                        float* kd = k + d * Tile + c;
                        a0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kd), a0);
                        a1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kd + 16), a1);
                        a2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kd + 32), a2);
                        a3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(kd + 48), a3);
                    }
                    StoreScores(a0 * s, row + c, count - c);
                    StoreScores(a1 * s, row + c + 16, count - c - 16);
                    StoreScores(a2 * s, row + c + 32, count - c - 32);
                    StoreScores(a3 * s, row + c + 48, count - c - 48);
                }
                for (; c < columns; c += 16)
                {
                    var a = Vector512<float>.Zero;
                    for (int d = 0; d < hd; d++) a = Vector512.FusedMultiplyAdd(Vector512.Create(qj[d]), Vector512.Load(k + d * Tile + c), a);
                    StoreScores(a * s, row + c, count - c);
                }
            }
        }
    }

    /// <summary>The first <paramref name="count"/> lanes of <paramref name="v"/> (all 16 when there are as many).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreScores(Vector512<float> v, float* at, int count)
    {
        if (count >= 16) v.Store(at);
        else for (int t = 0; t < count; t++) at[t] = v.GetElement(t);
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
    /// (a context taken a tile at a time sums in the same order as at once). Output elements before
    /// <paramref name="from"/> (a multiple of 16) are left alone.
    /// </summary>
    internal static void Mix512(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, Span<float> output, bool accumulate = false, int from = 0)
    {
        int hd = output.Length, d = from;
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

    /// <summary>
    /// <see cref="Mix512"/> for the <paramref name="heads"/> query heads that share <paramref name="values"/>: output j
    /// (of <paramref name="outputs"/>, one after another) = Σ_t weights[j × <paramref name="stride"/> + t] × values[t],
    /// t &lt; <paramref name="count"/>. Four heads at a time, each value row loaded once for all four and sixteen chains of
    /// FMAs in flight; every element sums over t in order, so each head comes out the bits of <see cref="Mix512"/>.
    /// </summary>
    internal static unsafe void MixHeads(ReadOnlySpan<float> values, ReadOnlySpan<float> weights, int stride, int count,
        Span<float> outputs, int heads, bool accumulate = false)
    {
        int hd = outputs.Length / heads;
        if (hd % 16 != 0 || values.Length < count * hd || (long)(heads - 1) * stride + count > weights.Length)
            throw new ArgumentException("The values, weights and outputs do not match.", nameof(outputs));
        int j = 0, wide = hd / 64 * 64;
        fixed (float* v = values)
        fixed (float* w = weights)
        fixed (float* o = outputs)
        {
            for (; j + 4 <= heads; j += 4)
            {
                float* w0 = w + j * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
                for (int d = 0; d < wide; d += 64)
                {
                    float* o0 = o + j * hd + d, o1 = o0 + hd, o2 = o1 + hd, o3 = o2 + hd;
                    Slice64 a = default, b = default, c = default, e = default;
                    if (accumulate) (a, b, c, e) = (Slice64.Load(o0), Slice64.Load(o1), Slice64.Load(o2), Slice64.Load(o3));
                    for (int t = 0; t < count; t++)
                    {
                        var row = Slice64.Load(v + t * hd + d);
                        a = row.MultiplyAdd(w0[t], a);
                        b = row.MultiplyAdd(w1[t], b);
                        c = row.MultiplyAdd(w2[t], c);
                        e = row.MultiplyAdd(w3[t], e);
                    }
                    a.Store(o0);
                    b.Store(o1);
                    c.Store(o2);
                    e.Store(o3);
                }
                if (wide < hd)
                    for (int h = j; h < j + 4; h++)
                        Mix512(values[..(count * hd)], weights.Slice(h * stride, count), outputs.Slice(h * hd, hd), accumulate, wide);
            }
        }
        for (; j < heads; j++) Mix512(values[..(count * hd)], weights.Slice(j * stride, count), outputs.Slice(j * hd, hd), accumulate);
    }

    /// <summary>64 consecutive floats in four vectors: a head's slice of outputs or of one value row.</summary>
    private readonly struct Slice64(Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        private readonly Vector512<float> _x0 = x0, _x1 = x1, _x2 = x2, _x3 = x3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Slice64 Load(float* at) => new(Vector512.Load(at), Vector512.Load(at + 16), Vector512.Load(at + 32), Vector512.Load(at + 48));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Store(float* at)
        {
            _x0.Store(at);
            _x1.Store(at + 16);
            _x2.Store(at + 32);
            _x3.Store(at + 48);
        }

        /// <summary>this × <paramref name="weight"/> + <paramref name="sum"/>, element by element, each rounded once.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Slice64 MultiplyAdd(float weight, Slice64 sum)
        {
            var w = Vector512.Create(weight);
            return new(Vector512.FusedMultiplyAdd(_x0, w, sum._x0), Vector512.FusedMultiplyAdd(_x1, w, sum._x1),
                Vector512.FusedMultiplyAdd(_x2, w, sum._x2), Vector512.FusedMultiplyAdd(_x3, w, sum._x3));
        }
    }
}
