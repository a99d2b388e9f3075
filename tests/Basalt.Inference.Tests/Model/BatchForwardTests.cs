using Basalt.Inference.Model;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Tests.Model;

public sealed class BatchForwardTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315];

    [Theory]
    // Both paths quantize activations as ggml does, so they differ only in summation order (last bits);
    // for F16 weights the activations are rounded to f16, which now and then turns a last-bit
    // difference into a step of half an f16 ulp: measured up to 0.009 nats.
    [InlineData("stories260K.gguf", 1e-3)]
    [InlineData("quant/tiny-random-256.F16.gguf", 2e-2)]
    [InlineData("quant/tiny-random-256.Q8_0.gguf", 1e-3)]
    [InlineData("quant/tiny-random-256.Q4_K.gguf", 1e-3)]
    [InlineData("quant/tiny-random-256.Q5_1.gguf", 1e-3)]
    [InlineData("arch/phi3-tiny-random.gguf", 1e-3)]
    public void FastBatchedPassAgreesWithThePlainReference(string file, double tolerance)
    {
        using var model = TransformerModel.Load(SharedData.Path(["models", .. file.Split('/')]));
        var tokens = Prompt.Select(t => t % model.Config.VocabSize).ToArray();
        var all = new float[tokens.Length * model.Config.VocabSize];
        new Sequence(model, 64, f16Cache: false).Process(tokens, all);

        var reference = new ReferenceForward(model, 64);
        var cache = new KvCache(model.Config, 64, useF16: false);
        for (int i = 0; i < tokens.Length; i++)
        {
            var expected = GreedyReferenceTests.LogSoftmax(reference.ForwardToken(cache, tokens[i], i));
            cache.Length++;
            var actual = GreedyReferenceTests.LogSoftmax(all.AsSpan(i * model.Config.VocabSize, model.Config.VocabSize).ToArray());
            double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= tolerance, $"{file} position {i}: log-probs differ by up to {worst:G3}");
        }
    }

    [Fact]
    public void BatchSizeAndThreadCountDoNotChangeAnyBit()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "quant", "tiny-random-256.Q4_K_M.gguf"));
        var tokens = Prompt.Select(t => t % model.Config.VocabSize).ToArray();
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        var wholePrompt = new Sequence(model, 64, runtime: two).Process(tokens).ToArray();
        var byToken = new Sequence(new BatchForward(model, one, maxBatch: 1), 64);
        foreach (int t in tokens) byToken.Process([t]);
        var smallBatches = new Sequence(new BatchForward(model, two, maxBatch: 5), 64);
        smallBatches.Process(tokens);
        Assert.Equal(wholePrompt, byToken.Logits.ToArray());
        Assert.Equal(wholePrompt, smallBatches.Logits.ToArray());
    }

    [Fact]
    public void OneStepForManySequencesEqualsStepsForEachAlone()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));
        using var pool = new WorkerPool(2);
        var forward = new BatchForward(model, pool);
        int[][] prompts = [[1, 403, 407], [1, 450, 2217 % 512, 437 % 512], [1, 261]];
        var together = prompts.Select(p => { var s = new Sequence(forward, 32); s.Process(p); return s; }).ToList();
        var alone = prompts.Select(p => { var s = new Sequence(model, 32); s.Process(p); return s; }).ToList();
        int[] next = [383, 286, 376];
        var logits = together.Select(_ => new float[model.Config.VocabSize]).ToList();
        BatchDecoder.Step(together, next, logits);
        for (int i = 0; i < prompts.Length; i++)
        {
            var expected = alone[i].Process([next[i]]).ToArray();
            Assert.Equal(expected, logits[i]);
            Assert.Equal(expected, together[i].Logits.ToArray());
            Assert.Equal(prompts[i].Length + 1, together[i].Length);
        }
    }

    [Fact]
    public void AFullSequenceStopsTheWholeStepBeforeAnythingMoves()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));
        var forward = new BatchForward(model);
        var roomy = new Sequence(forward, 8);
        var full = new Sequence(forward, 2);
        roomy.Process([1]);
        full.Process([1, 2]);
        Assert.Throws<ContextOverflowException>(() => BatchDecoder.Step([roomy, full], [5, 6], [new float[512], new float[512]]));
        Assert.Equal(1, roomy.Length);
    }
}
