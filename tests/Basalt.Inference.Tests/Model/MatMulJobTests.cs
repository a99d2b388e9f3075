using Basalt.Gguf;
using Basalt.Inference.Model;
using Basalt.Tensors;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Tests.Model;

public sealed class MatMulJobTests
{
    [Theory]
    // Layer 1 of the Q4_K_M file has Q4_K query and key but a Q6_K value matrix: two input formats in one dispatch.
    [InlineData("quant/tiny-random-256.Q4_K_M.gguf", 1)]
    [InlineData("quant/tiny-random-256.F16.gguf", 0)]
    [InlineData("quant/tiny-random-256.Q4_0.gguf", 0)]
    // Q5_1 is not repacked: the row kernels split each matrix on their own.
    [InlineData("quant/tiny-random-256.Q5_1.gguf", 0)]
    public void SeveralMatricesInOneDispatchGiveTheBitsOfOneAtATime(string file, int layerIndex)
    {
        using var model = TransformerModel.Load(SharedData.Path(["models", .. file.Split('/')]));
        var layer = model.Weights.Layers[layerIndex];
        WeightTensor[] parts = [layer.Wq!, layer.Wk!, layer.Wv!];
        int cols = model.Config.EmbeddingLength;
        var random = new Random(7);
        foreach (int n in new[] { 1, 3, 9 })
        {
            var x = Enumerable.Range(0, n * cols).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var pool = new WorkerPool(threads);
                var job = new MatMulJob(16, cols);
                var together = parts.Select(w => new float[n * w.Rows]).ToArray();
                job.Run(pool, parts, together, x, cols, n);
                for (int j = 0; j < parts.Length; j++)
                {
                    var alone = new float[n * parts[j].Rows];
                    new MatMulJob(16, cols).Run(null, parts[j], x, cols, n, alone);
                    Assert.True(alone.AsSpan().SequenceEqual(together[j]), $"{file}: {parts[j].Name}, {n} inputs, {threads} threads");
                    Assert.Contains(alone, v => v != 0);
                }
            }
        }
    }

    [Theory]
    [InlineData("quant/tiny-random-256.Q4_K_M.gguf")] // Q4_K and Q6_K inputs in one dispatch
    [InlineData("quant/tiny-random-256.Q8_0.gguf")]   // packed Q8_0 inputs of 544 bytes: not a whole number of cache lines
    [InlineData("quant/tiny-random-256.F16.gguf")]
    public void EveryPreparedInputStartsOnACacheLine(string file)
    {
        using var model = TransformerModel.Load(SharedData.Path(["models", .. file.Split('/')]));
        var layer = model.Weights.Layers[1];
        WeightTensor[] parts = [layer.Wq!, layer.Wk!, layer.Wv!];
        int cols = model.Config.EmbeddingLength;
        var job = new MatMulJob(1, cols);
        foreach (int n in new[] { 1, 5, 11 }) // 5 and 11 outgrow the buffer made for one input
        {
            var x = Enumerable.Range(0, n * cols).Select(i => MathF.Sin(i)).ToArray();
            var ys = parts.Select(w => new float[n * w.Rows]).ToArray();
            job.Run(null, parts, ys, x, cols, n);
            for (int j = 0; j < parts.Length; j++)
            {
                for (int i = 0; i < n; i++) Assert.Equal(0, job.InputAddress(j, i) % 64);
                var fresh = new float[n * parts[j].Rows];
                new MatMulJob(n, cols).Run(null, parts[j], x, cols, n, fresh);
                Assert.True(fresh.AsSpan().SequenceEqual(ys[j]), $"{file}: {parts[j].Name}, {n} inputs");
            }
        }
    }

    [Fact]
    public void F16MatricesWithAndWithoutInfinitiesDoNotShareAnInput()
    {
        // A packed F16 matrix with no infinities or NaNs takes its input scaled by 2^112, one with them unscaled: in one
        // dispatch each must still get its own. The second matrix holds +Inf in row 3, column 5.
        const int rows = 32, cols = 64;
        var random = new Random(3);
        byte[] Matrix(bool withInfinity)
        {
            var halves = Enumerable.Range(0, rows * cols).Select(_ => BitConverter.HalfToUInt16Bits((Half)(random.NextDouble() - 0.5))).ToArray();
            if (withInfinity) halves[3 * cols + 5] = 0x7C00;
            return halves.SelectMany(BitConverter.GetBytes).ToArray();
        }
        string path = Path.Combine(Path.GetTempPath(), $"basalt-f16-inf-{Guid.NewGuid():N}.gguf");
        new GgufWriter()
            .AddTensor("finite.weight", [cols, rows], GgmlType.F16, Matrix(false))
            .AddTensor("infinite.weight", [cols, rows], GgmlType.F16, Matrix(true))
            .WriteTo(path);
        try
        {
            using var file = GgufFile.Open(path);
            var finite = new WeightTensor(file, file.FindTensor("finite.weight")!);
            var infinite = new WeightTensor(file, file.FindTensor("infinite.weight")!);
            finite.Pack();
            infinite.Pack();
            Assert.SkipWhen(finite.Packed is null, "no packed kernels on this CPU");
            var x = Enumerable.Range(0, 2 * cols).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            foreach (WeightTensor[] parts in new[] { new[] { finite, infinite }, new[] { infinite, finite } })
            {
                var together = parts.Select(w => new float[2 * rows]).ToArray();
                new MatMulJob(2, cols).Run(null, parts, together, x, cols, 2);
                for (int j = 0; j < parts.Length; j++)
                {
                    var alone = new float[2 * rows];
                    new MatMulJob(2, cols).Run(null, parts[j], x, cols, 2, alone);
                    Assert.True(alone.AsSpan().SequenceEqual(together[j]), $"{parts[j].Name} after {parts[0].Name}");
                    Assert.Contains(alone, float.IsNormal);
                }
            }
            finite.ReleasePacked();
            infinite.ReleasePacked();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MatricesOfDifferentWidthsCannotShareAnInput()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "quant", "tiny-random-256.Q4_0.gguf"));
        var layer = model.Weights.Layers[0];
        var job = new MatMulJob(4, model.Config.FeedForwardLength);
        var x = new float[model.Config.FeedForwardLength];
        var e = Assert.Throws<ArgumentException>(() => job.Run(null, [layer.Wq!, layer.Down], [new float[layer.Wq!.Rows], new float[layer.Down.Rows]], x, x.Length, 1));
        Assert.Contains("same width", e.Message);
    }

    [Theory]
    [InlineData("quant/tiny-random-256.Q4_0.gguf")]
    [InlineData("quant/tiny-random-256.Q4_K_M.gguf")]
    public void EachThreadReadsAheadTheFirstGroupsItWillTakeOfTheNextProduct(string file)
    {
        using var model = TransformerModel.Load(SharedData.Path(["models", .. file.Split('/')]));
        var layer = model.Weights.Layers[0];
        WeightTensor[] next = [layer.Gate!, layer.Up!];
        Assert.All(next, w => Assert.NotNull(w.Packed));
        int groups = next.Sum(w => w.Packed!.Groups);
        var product = new NextProduct();
        product.Set(next);
        var split = new StealingRanges();
        foreach (int threads in new[] { 1, 2, 3, 5 })
        {
            split.Reset(groups, threads);
            for (int t = 0; t < threads; t++)
            {
                // The group the product's split hands this thread first, and where its share ends.
                Assert.True(split.TryTake(t, 1, out int first, out _));
                int shareEnd = WorkerPool.Share(groups, t, threads).End;
                int part = first < next[0].Packed!.Groups ? 0 : 1;
                int offset = part == 0 ? 0 : next[0].Packed!.Groups;
                var packed = next[part].Packed!;
                var expected = packed.ReadAheadOf(first - offset, shareEnd - offset, NextProduct.MaxBytes);
                var ahead = product.ReadAhead(t, threads);
                Assert.Equal(expected.Start, ahead.Start);
                Assert.Equal(expected.Bytes, ahead.Bytes);
                // Not past the share, nor past the matrix, nor more than the cap.
                long room = (Math.Min(shareEnd - offset, packed.Groups) - (first - offset)) * packed.GroupBytes;
                Assert.InRange(ahead.Bytes, 1, Math.Min(room, NextProduct.MaxBytes));
                Assert.Equal(Math.Min(room, NextProduct.MaxBytes), ahead.Bytes);
            }
        }
        product.Set([]);
        Assert.True(product.ReadAhead(0, 2).IsEmpty);
    }

    [Fact]
    public void AProductWithAMatrixThatIsNotPackedIsNotReadAhead()
    {
        // Q5_1 is not repacked: its products split rows, not groups, so there is no group split to follow.
        using var model = TransformerModel.Load(SharedData.Path("models", "quant", "tiny-random-256.Q5_1.gguf"));
        var layer = model.Weights.Layers[0];
        Assert.Null(layer.Wq!.Packed);
        var product = new NextProduct();
        product.Set([layer.Wq!, layer.Wk!, layer.Wv!]);
        Assert.True(product.ReadAhead(1, 2).IsEmpty);
    }
}
