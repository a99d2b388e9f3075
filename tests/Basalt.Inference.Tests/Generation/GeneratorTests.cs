using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Inference.Tests.Model;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Tests.Generation;

public sealed class GeneratorTests : IDisposable
{
    private readonly TransformerModel _model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));

    public void Dispose() => _model.Dispose();

    private GenerationResult Run(string prompt, SamplerOptions sampling, GenerationOptions options, WorkerPool? pool = null,
        Action<GenerationUpdate>? onUpdate = null, CancellationTokenSource? cancel = null) =>
        new Generator(_model).Generate(new Sequence(_model, 256, runtime: pool), prompt,
            SamplerChain.Create(sampling, _model.Config.VocabSize), options, onUpdate, (cancel?.Token) ?? TestContext.Current.CancellationToken);

    private static readonly SamplerOptions Greedy = new() { Temperature = 0 };

    [Fact]
    public void GreedyTextIsLlamaCppText()
    {
        var reference = ReferencePrompt.Load("stories260K.greedy.json")[0];
        var streamed = new System.Text.StringBuilder();
        var r = Run(reference.Prompt, Greedy, new GenerationOptions { MaxTokens = 64 }, onUpdate: u => streamed.Append(u.Text));
        Assert.Equal(reference.PromptTokens, r.PromptTokens);
        Assert.Equal(reference.GeneratedTokens, r.Tokens);
        Assert.Equal(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said", r.Text);
        Assert.Equal(r.Text, streamed.ToString());
        Assert.Equal(FinishReason.Length, r.FinishReason);
    }

    [Fact]
    public void StopSequenceEndsGenerationAndIsNotEmitted()
    {
        var r = Run("Once upon a time", Greedy, new GenerationOptions { MaxTokens = 64, StopSequences = ["Lily"] });
        Assert.Equal(FinishReason.Stop, r.FinishReason);
        Assert.Equal(", there was a little girl named ", r.Text);
    }

    [Fact]
    public void SameSeedSameTokensAtOneAndTwoThreads()
    {
        var sampling = new SamplerOptions { Temperature = 1.0f, Seed = 1234 };
        var options = new GenerationOptions { MaxTokens = 48 };
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        var a = Run("The little dog", sampling, options, one);
        var b = Run("The little dog", sampling, options, two);
        var c = Run("The little dog", sampling with { Seed = 99 }, options, two);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.NotEqual(a.Tokens, c.Tokens);
    }

    [Fact]
    public void EndOfGenerationTokenStopsWithEos()
    {
        // A bias that makes </s> certain turns the first step into the end of generation.
        var sampling = new SamplerOptions { Temperature = 0, LogitBias = new Dictionary<int, float> { [2] = 1000f } };
        var r = Run("Once upon a time", sampling, new GenerationOptions { MaxTokens = 10 });
        Assert.Equal(FinishReason.Eos, r.FinishReason);
        Assert.Empty(r.Tokens);
        Assert.Equal("", r.Text);
    }

    [Fact]
    public void CancellationEndsWithinOneStep()
    {
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var r = Run("Once upon a time", Greedy, new GenerationOptions { MaxTokens = 64 }, onUpdate: _ =>
        {
            if (++seen == 3) cts.Cancel();
        }, cancel: cts);
        Assert.Equal(FinishReason.Cancelled, r.FinishReason);
        Assert.Equal(3, r.Tokens.Count);
    }

    [Fact]
    public void PromptLongerThanTheContextIsAClearError()
    {
        string longPrompt = string.Concat(Enumerable.Repeat("Once upon a time there was a dog. ", 60));
        var e = Assert.Throws<ContextOverflowException>(() => Run(longPrompt, Greedy, new GenerationOptions { MaxTokens = 4 }));
        Assert.Equal(256, e.Capacity);
        Assert.Contains("context holds 256", e.Message);
    }

    [Fact]
    public void GenerationStopsAtTheEndOfTheContextWithLength()
    {
        var seq = new Sequence(_model, 12);
        var r = new Generator(_model).Generate(seq, "Once upon a time", SamplerChain.Create(Greedy, _model.Config.VocabSize), new GenerationOptions { MaxTokens = 100 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Equal(12 - 5 + 1, r.Tokens.Count); // the last token is sampled from the full cache but not fed back
    }

    [Fact]
    public async Task StreamingYieldsTheSameTextAsTheSynchronousLoop()
    {
        var expected = Run("The little dog", Greedy, new GenerationOptions { MaxTokens = 30 }).Text;
        var text = new System.Text.StringBuilder();
        await foreach (var u in new Generator(_model).GenerateAsync(new Sequence(_model, 256), "The little dog",
            SamplerChain.Create(Greedy, _model.Config.VocabSize), new GenerationOptions { MaxTokens = 30 }, cancellationToken: TestContext.Current.CancellationToken))
            text.Append(u.Text);
        Assert.Equal(expected, text.ToString());
    }

    /// <summary>Greedy generation on <paramref name="sequence"/> that keeps the cached tokens a prompt starts with.</summary>
    private Func<string, GenerationResult> Reusing(Sequence sequence, int maxTokens) => prompt =>
        new Generator(_model).Generate(sequence, prompt, SamplerChain.Create(Greedy, _model.Config.VocabSize),
            new GenerationOptions { MaxTokens = maxTokens, ReuseCachedPrefix = true }, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public void ReusingTheCachedPrefixRunsOnlyTheRestAndAnswersAsAFreshSequence()
    {
        var reused = Reusing(new Sequence(_model, 256), maxTokens: 12);
        GenerationResult Fresh(string prompt) => Run(prompt, Greedy, new GenerationOptions { MaxTokens = 12 });

        var first = reused("The little dog");
        Assert.Equal(0, first.CachedPromptTokens);

        // A next turn: the first prompt and its answer, then more.
        string next = "The little dog" + first.Text + " Then the dog";
        var second = reused(next);
        var expected = Fresh(next);
        Assert.Equal(expected.PromptTokens, second.PromptTokens);
        Assert.Equal(expected.Tokens, second.Tokens);
        Assert.InRange(second.CachedPromptTokens, first.PromptTokens.Length, second.PromptTokens.Length - 1);
        Assert.Equal(0, expected.CachedPromptTokens);

        // The same prompt again: all but its last token come from the cache.
        var again = reused(next);
        Assert.Equal(again.PromptTokens.Length - 1, again.CachedPromptTokens);
        Assert.Equal(expected.Tokens, again.Tokens);

        // A prompt that parts from the cached tokens early keeps only what they share.
        var other = reused("The big cat");
        int shared = other.PromptTokens.AsSpan().CommonPrefixLength(expected.PromptTokens);
        Assert.InRange(shared, 1, other.PromptTokens.Length - 1);
        Assert.Equal(shared, other.CachedPromptTokens);
        Assert.Equal(Fresh("The big cat").Tokens, other.Tokens);
    }

    [Fact]
    public async Task AReaderThatStopsEarlyEndsTheLoopBeforeTheStreamEnds()
    {
        var sequence = new Sequence(_model, 512);
        int updates = 0;
        await foreach (var u in new Generator(_model).GenerateAsync(sequence, "The little dog", SamplerChain.Create(Greedy, _model.Config.VocabSize),
            new GenerationOptions { MaxTokens = 400 }, cancellationToken: TestContext.Current.CancellationToken))
        {
            if (++updates == 2) break;
        }
        // The loop stopped when the reader did: the sequence no longer moves, well short of the token limit.
        int length = sequence.Length;
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(length, sequence.Length);
        Assert.True(length < 200, $"the loop ran on to {length} tokens");
    }

    private const string LongStory =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog, Max. " +
        "One day, Lily and Max found a big red ball under a tree. They played with the ball all day long, and when the sun " +
        "went down they went home to eat dinner with Mom and Dad. Lily told them about the ball and the tree and the park. ";

    [Fact]
    public void ReusedPromptsAcrossBatchAndTileBoundariesAnswerAsAFreshSequence()
    {
        var reused = Reusing(new Sequence(_model, 512), maxTokens: 24);
        string first = LongStory + LongStory;
        var a = reused(first);
        Assert.True(a.PromptTokens.Length > 130, $"{a.PromptTokens.Length} prompt tokens: the test wants more than two batches of 64");
        string next = first + a.Text + " The next day";
        var b = reused(next);
        var fresh = new Generator(_model).Generate(new Sequence(_model, 512), next, SamplerChain.Create(Greedy, _model.Config.VocabSize),
            new GenerationOptions { MaxTokens = 24 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(fresh.Tokens, b.Tokens);
        Assert.InRange(b.CachedPromptTokens, a.PromptTokens.Length, b.PromptTokens.Length - 1);
    }

    [Fact]
    public void APromptTooLongForTheContextLeavesTheCachedTokens()
    {
        var generator = new Generator(_model);
        var sequence = new Sequence(_model, 64);
        var reuse = new GenerationOptions { MaxTokens = 4, ReuseCachedPrefix = true };
        var sampler = SamplerChain.Create(Greedy, _model.Config.VocabSize);
        generator.Generate(sequence, "The little dog", sampler, reuse, cancellationToken: TestContext.Current.CancellationToken);
        var held = sequence.Tokens.ToArray();
        Assert.Throws<ContextOverflowException>(() => generator.Generate(sequence, "The little dog" + LongStory, sampler, reuse, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(held, sequence.Tokens.ToArray());
    }

    [Fact]
    public void CancellationStopsThePromptBetweenBatches()
    {
        var sequence = new Sequence(_model, 512);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var r = new Generator(_model).Generate(sequence, LongStory + LongStory, SamplerChain.Create(Greedy, _model.Config.VocabSize),
            new GenerationOptions { MaxTokens = 8 }, cancellationToken: cancel.Token);
        // Asked before the first batch: none of the prompt went through the model, and nothing was generated.
        Assert.Equal(FinishReason.Cancelled, r.FinishReason);
        Assert.Empty(r.Tokens);
        Assert.Equal(0, sequence.Length);
    }
}
