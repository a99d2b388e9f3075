using System.Runtime.Intrinsics;
using Basalt.Inference.Model;

namespace Basalt.Inference.Tests.Model;

public sealed class AttentionJobTests
{
    public static TheoryData<int, int> Shapes => new() { { 64, 1 }, { 64, 3 }, { 64, 4 }, { 64, 37 }, { 128, 9 }, { 80, 6 }, { 16, 5 } };

    // The kernels work on several keys or output slices at once; each sum must still run in the order of the plain loop.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void ScoresAreTheBitsOfOneKeyAtATime(int headDim, int span)
    {
        if (!Vector512.IsHardwareAccelerated) return;
        var random = new Random(headDim * 100 + span);
        var q = Values(random, headDim);
        var keys = Values(random, span * headDim);
        var scores = new float[span];
        AttentionJob.Scores512(q, keys, scores, 0.125f);
        for (int t = 0; t < span; t++)
        {
            var acc = Vector512<float>.Zero;
            for (int d = 0; d < headDim; d += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(q.AsSpan(d, 16)), Vector512.Create(keys.AsSpan(t * headDim + d, 16)), acc);
            Assert.Equal(Vector512.Sum(acc) * 0.125f, scores[t]);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MixIsTheBitsOfOneSliceAtATime(int headDim, int span)
    {
        if (!Vector512.IsHardwareAccelerated) return;
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

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
