using System.Runtime.Intrinsics;
using Basalt.Inference.Model;
using Basalt.Tensors;
using Basalt.Tensors.Ops;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Tests.Model;

public sealed class AttentionJobTests
{
    public static TheoryData<int, int> Shapes => new() { { 64, 1 }, { 64, 3 }, { 64, 4 }, { 64, 37 }, { 128, 9 }, { 80, 6 }, { 16, 5 } };

    [Theory]
    [InlineData(16, 16)]
    [InlineData(64, 64)]
    [InlineData(128, 32)]
    [InlineData(80, 48)]
    public void TransposePutsElementDOfRowTInRowDColumnT(int width, int rows)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var source = Values(new Random(width + rows), rows * width);
        var columns = new float[width * 64];
        AttentionJob.Transpose(source, width, columns);
        for (int t = 0; t < rows; t++)
            for (int d = 0; d < width; d++)
                Assert.Equal(source[t * width + d], columns[d * 64 + t]);
    }

    public static TheoryData<int, int, int> HeadShapes => new()
    {
        { 64, 1, 8 }, { 64, 5, 8 }, { 64, 16, 4 }, { 64, 33, 3 }, { 64, 64, 8 }, { 128, 37, 9 }, { 80, 20, 6 }, { 16, 64, 1 }, { 64, 47, 5 },
    };

    // Sixteen keys share a vector: each score must be one chain of FMAs over the head's elements in order, then the scale.
    [Theory]
    [MemberData(nameof(HeadShapes))]
    public void ScoresAreOneChainOfFmasPerKey(int headDim, int count, int heads)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var random = new Random(headDim * 100 + count * 10 + heads);
        var queries = Values(random, heads * headDim);
        int rows = (count + 15) / 16 * 16;
        var keys = new float[rows * headDim];
        Values(random, count * headDim).CopyTo(keys, 0);
        var keysT = new float[headDim * 64];
        AttentionJob.Transpose(keys, headDim, keysT);
        int stride = count + 3;
        var scores = Enumerable.Repeat(float.NaN, heads * stride).ToArray();
        AttentionJob.ScoresTransposed(queries, heads, keysT, rows, scores, stride, count, 0.125f);
        for (int j = 0; j < heads; j++)
        {
            for (int t = 0; t < count; t++)
                Assert.Equal(ChainScore(queries.AsSpan(j * headDim, headDim), keys.AsSpan(t * headDim, headDim), 0.125f), scores[j * stride + t]);
            for (int t = count; t < stride && j * stride + t < scores.Length; t++) Assert.True(float.IsNaN(scores[j * stride + t]), "a score past the count was written");
        }
    }

    [Theory]
    [MemberData(nameof(HeadShapes))]
    public void MixOfSeveralHeadsIsTheBitsOfEachAlone(int headDim, int count, int heads)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var random = new Random(headDim * 100 + count * 10 + heads + 1);
        var values = Values(random, count * headDim);
        int stride = count + 2;
        var weights = Values(random, heads * stride);
        foreach (bool accumulate in new[] { false, true })
        {
            var start = Values(random, heads * headDim);
            var together = (float[])start.Clone();
            AttentionJob.MixHeads(values, weights, stride, count, together, heads, accumulate);
            for (int j = 0; j < heads; j++)
            {
                var alone = start.AsSpan(j * headDim, headDim).ToArray();
                AttentionJob.Mix512(values, weights.AsSpan(j * stride, count), alone, accumulate);
                Assert.Equal(alone, together.AsSpan(j * headDim, headDim).ToArray());
            }
        }
    }

    // With one to three query heads a KV head the scores take four keys at a time, each summed as one key alone.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void ScoresAreTheBitsOfOneKeyAtATime(int headDim, int span)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var random = new Random(headDim * 100 + span);
        var q = Values(random, headDim);
        var keys = Values(random, span * headDim);
        var scores = new float[span];
        AttentionJob.Scores512(q, keys, scores, 0.125f);
        for (int t = 0; t < span; t++) Assert.Equal(LaneScore(q, keys.AsSpan(t * headDim, headDim), 0.125f), scores[t]);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MixIsTheBitsOfOneSliceAtATime(int headDim, int span)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var random = new Random(headDim * 100 + span + 1);
        var values = Values(random, span * headDim);
        var weights = Values(random, span);
        var output = new float[headDim];
        AttentionJob.Mix512(values, weights, output);
        for (int d = 0; d < headDim; d += 16)
        {
            var acc = Vector512<float>.Zero;
            for (int t = 0; t < span; t++)
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(values.AsSpan(t * headDim + d, 16)), Vector512.Create(weights[t]), acc);
            for (int k = 0; k < 16; k++) Assert.Equal(acc[k], output[d + k]);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MixInTwoCallsIsTheBitsOfOne(int headDim, int span)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var random = new Random(headDim * 100 + span + 2);
        var values = Values(random, span * headDim);
        var weights = Values(random, span);
        var once = new float[headDim];
        AttentionJob.Mix512(values, weights, once);
        int first = span / 2;
        var twice = new float[headDim];
        AttentionJob.Mix512(values.AsSpan(0, first * headDim), weights.AsSpan(0, first), twice);
        AttentionJob.Mix512(values.AsSpan(first * headDim), weights.AsSpan(first), twice, accumulate: first > 0);
        Assert.Equal(once, twice);
    }

    // Long contexts are read a tile of positions at a time: the result must be that of the whole context at once,
    // head by head, for both cache types, contexts shorter than, equal to and longer than a tile, and the head shapes
    // of real models: TinyLlama (64 wide, 8 query heads a KV head), Qwen2 (128, 6), Gemma 2 (256, 2), Phi-3 (96, 1),
    // and 80 wide with 5 (a width the 64-wide mix does not divide, a group four does not).
    public static TheoryData<int, int, int, bool> ModelShapes => new()
    {
        { 64, 32, 4, true }, { 64, 32, 4, false }, { 128, 12, 2, true }, { 256, 8, 4, true }, { 96, 4, 4, true }, { 96, 4, 4, false }, { 80, 10, 2, true },
    };

    [Theory]
    [MemberData(nameof(ModelShapes))]
    public void AttentionOverTilesIsTheBitsOfTheWholeContextAtOnce(int hd, int heads, int kvHeads, bool f16)
    {
        Assert.SkipUnless(Vector512.IsHardwareAccelerated, "needs 512-bit vectors");
        var c = new ModelConfig
        {
            Architecture = "llama", EmbeddingLength = heads * hd, BlockCount = 2, HeadCount = heads, HeadCountKv = kvHeads, FeedForwardLength = 16,
            ContextLength = 256, VocabSize = 16, HeadDim = hd, RopeDimensionCount = hd, RopeFreqBase = 10000, RopeFreqScale = 1, RmsEpsilon = 1e-5f,
            Rope = RopeStyle.Normal, Activation = Activation.Silu,
        };
        var random = new Random(hd * 1000 + heads * 10 + kvHeads + (f16 ? 1 : 2));
        var cache = new KvCache(c, 200, f16);
        for (int p = 0; p < 200; p++)
            for (int l = 0; l < c.BlockCount; l++)
                cache.Store(l, p, Values(random, c.KvDim), Values(random, c.KvDim));
        // Runs of consecutive positions share their tiles (up to sixteen tokens a unit): 15-16, 63-65 and 100-119.
        int[] positions = [0, 5, 15, 16, 63, 64, 65, .. Enumerable.Range(100, 20), 130, 199];
        var entries = positions.Select(p => new BatchEntry(cache, 1, p, true)).ToArray();
        var q = Values(random, positions.Length * c.QDim);
        if (f16) FloatConversions.RoundToHalfPrecision(q, q);
        int layer = c.BlockCount - 1, group = heads / kvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var output = new float[q.Length];
            new AttentionJob(c, threads).Run(pool, layer, entries, q, output);
            for (int i = 0; i < positions.Length; i++)
            {
                int span = positions[i] + 1;
                var keys = new float[span * hd];
                var values = new float[span * hd];
                for (int h = 0; h < c.HeadCount; h++)
                {
                    int kvOffset = h / group * hd;
                    cache.ReadKeys(layer, 0, span, kvOffset, hd, keys);
                    cache.ReadValues(layer, 0, span, kvOffset, hd, values);
                    var query = q.AsSpan(i * c.QDim + h * hd, hd);
                    var scores = new float[span];
                    for (int t = 0; t < span; t++)
                        scores[t] = group >= 4 ? ChainScore(query, keys.AsSpan(t * hd, hd), scale) : LaneScore(query, keys.AsSpan(t * hd, hd), scale);
                    VectorOps.Softmax(scores);
                    if (f16) FloatConversions.RoundToHalfPrecision(scores, scores);
                    var expected = new float[hd];
                    AttentionJob.Mix512(values, scores, expected);
                    Assert.Equal(expected, output.AsSpan(i * c.QDim + h * hd, hd).ToArray());
                }
            }
        }
    }

    /// <summary>q · key as one chain of FMAs over the elements in order, times the scale (the transposed-tile kernel's sum).</summary>
    private static float ChainScore(ReadOnlySpan<float> q, ReadOnlySpan<float> key, float scale)
    {
        float dot = 0;
        for (int d = 0; d < q.Length; d++) dot = MathF.FusedMultiplyAdd(q[d], key[d], dot);
        return dot * scale;
    }

    /// <summary>q · key as sixteen lane sums of FMAs, then the lanes added, times the scale (the four-keys kernel's sum).</summary>
    private static float LaneScore(ReadOnlySpan<float> q, ReadOnlySpan<float> key, float scale)
    {
        var acc = Vector512<float>.Zero;
        for (int d = 0; d < q.Length; d += 16)
            acc = Vector512.FusedMultiplyAdd(Vector512.Create(q.Slice(d, 16)), Vector512.Create(key.Slice(d, 16)), acc);
        return Vector512.Sum(acc) * scale;
    }

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
