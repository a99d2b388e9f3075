using Basalt.Inference.Engine;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;

namespace Basalt.Inference.Tests.Engine;

public sealed class InferenceEngineTests : IDisposable
{
    private static readonly SamplerOptions Greedy = new() { Temperature = 0 };
    private readonly TransformerModel _model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));

    public void Dispose() => _model.Dispose();

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private GenerationResult Reference(string prompt, int maxTokens, IReadOnlyList<string>? stops = null) =>
        new Generator(_model).Generate(new Sequence(_model, 256), prompt, SamplerChain.Create(Greedy, _model.Config.VocabSize),
            new GenerationOptions { MaxTokens = maxTokens, StopSequences = stops ?? [] }, cancellationToken: Timeout);

    private static async Task<(List<int> Tokens, string Text, EngineUpdate Final)> Collect(InferenceEngine engine, EngineRequest request)
    {
        var tokens = new List<int>();
        var text = new System.Text.StringBuilder();
        EngineUpdate? final = null;
        await foreach (var u in engine.GenerateAsync(request, Timeout))
        {
            if (u.TokenId >= 0) tokens.Add(u.TokenId);
            text.Append(u.Text);
            if (u.IsFinal) final = u;
        }
        return (tokens, text.ToString(), final ?? throw new InvalidOperationException("No final update."));
    }

    [Fact]
    public async Task GreedyOutputEqualsGenerator()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        var expected = Reference("Once upon a time", 48);
        var (tokens, text, final) = await Collect(engine, new EngineRequest { Prompt = "Once upon a time", Sampling = Greedy, MaxTokens = 48 });
        Assert.Equal(expected.Tokens, tokens);
        Assert.Equal(expected.Text, text);
        Assert.Equal(FinishReason.Length, final.FinishReason);
        Assert.Equal(expected.PromptTokens.Length, final.Usage!.PromptTokens);
        Assert.Equal(48, final.Usage.CompletionTokens);
    }

    [Fact]
    public async Task StopSequenceMatchesGenerator()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        var (_, text, final) = await Collect(engine, new EngineRequest { Prompt = "Once upon a time", Sampling = Greedy, MaxTokens = 64, StopSequences = ["Lily"] });
        Assert.Equal(", there was a little girl named ", text);
        Assert.Equal(FinishReason.Stop, final.FinishReason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // the forward pass and the sampling of the step's sequences split across two threads
    public async Task ConcurrentRequestsAreIndependent(int threads)
    {
        string[] prompts = ["Once upon a time", "The little dog", "Tom had a red ball", "One day", "The sun was", "Lily and Ben", "A big bird", "Mom said"];
        var expected = prompts.Select((p, i) => Reference(p, 20 + 3 * i)).ToArray();
        using var pool = threads > 1 ? new Basalt.Tensors.Threading.WorkerPool(threads) : null;
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256, MaxActiveSequences = 8, Runtime = pool });
        var runs = prompts.Select((p, i) => Collect(engine, new EngineRequest { Prompt = p, Sampling = Greedy, MaxTokens = 20 + 3 * i })).ToArray();
        var results = await Task.WhenAll(runs);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, results[i].Tokens);
            Assert.Equal(expected[i].Text, results[i].Text);
        }
        Assert.Equal(0, engine.ActiveSequences);
        Assert.Equal(prompts.Length, engine.Counters.Completed);
    }

    [Fact]
    public async Task AFinishedConversationIsContinuedFromItsCachedTokens()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        var first = new EngineRequest { Prompt = "Once upon a time", Sampling = Greedy, MaxTokens = 12, LogProbs = true };
        var (tokens1, _, final1) = await Collect(engine, first);
        Assert.Equal(0, final1.Usage!.CachedPromptTokens);
        int[] prompt1 = _model.Tokenizer.Encode("Once upon a time", true, false);

        // The same prompt again: all but its last token come from the cache, and nothing changes.
        var (again, _, finalAgain) = await Collect(engine, first);
        Assert.Equal(prompt1.Length - 1, finalAgain.Usage!.CachedPromptTokens);
        Assert.Equal(tokens1, again);

        // The next turn repeats the conversation: prompt, answer (all but the last sampled token went through the
        // model) and more. It starts from there and answers exactly as a fresh engine does.
        int[] more = _model.Tokenizer.Encode(" Then the dog", false, false);
        int[] prompt2 = [.. prompt1, .. tokens1, .. more];
        var next = new EngineRequest { PromptTokens = prompt2, Sampling = Greedy, MaxTokens = 16, LogProbs = true };
        var reused = await Logged(engine, next);
        Assert.Equal(prompt1.Length + tokens1.Count - 1, reused.Final.Usage!.CachedPromptTokens);
        using var fresh = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        var expected = await Logged(fresh, next);
        Assert.Equal(0, expected.Final.Usage!.CachedPromptTokens);
        Assert.Equal(expected.Tokens, reused.Tokens);
        Assert.Equal(expected.LogProbs, reused.LogProbs); // bit for bit
        Assert.Equal(prompt1.Length - 1 + prompt1.Length + tokens1.Count - 1, engine.Counters.CachedPromptTokens);
    }

    [Fact]
    public async Task CachedPromptsAreSharedOnlyWithinAScope()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 128 });
        EngineRequest Request(string? scope) => new() { Prompt = "The little dog ran", Sampling = Greedy, MaxTokens = 6, CacheScope = scope };
        var a = await Collect(engine, Request("a"));
        var b = await Collect(engine, Request("b"));
        var shared = await Collect(engine, Request(null));
        var again = await Collect(engine, Request("a"));
        Assert.Equal(0, a.Final.Usage!.CachedPromptTokens);
        Assert.Equal(0, b.Final.Usage!.CachedPromptTokens);
        Assert.Equal(0, shared.Final.Usage!.CachedPromptTokens);
        Assert.Equal(again.Final.Usage!.PromptTokens - 1, again.Final.Usage.CachedPromptTokens);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Tokens, again.Tokens);
    }

    [Fact]
    public async Task ARunningRequestSharesItsPromptWithANewOne()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        int[] system = _model.Tokenizer.Encode("Once upon a time there was a little girl who liked to play.", true, false);
        int[] question = _model.Tokenizer.Encode(" One day", false, false);
        var long1 = new EngineRequest { PromptTokens = system, Sampling = Greedy, MaxTokens = 200 };
        var updates = engine.Submit(long1, Timeout);
        Assert.True(await updates.WaitToReadAsync(Timeout)); // its prompt is in the cache once its first token is out
        var second = new EngineRequest { PromptTokens = [.. system, .. question], Sampling = Greedy, MaxTokens = 20, LogProbs = true };
        var shared = await Logged(engine, second);
        Assert.True(shared.Final.Usage!.CachedPromptTokens >= system.Length, $"{shared.Final.Usage.CachedPromptTokens} cached");
        using var fresh = new InferenceEngine(_model, new EngineOptions { ContextLength = 256 });
        var expected = await Logged(fresh, second);
        Assert.Equal(expected.Tokens, shared.Tokens);
        Assert.Equal(expected.LogProbs, shared.LogProbs);
        await foreach (var _ in updates.ReadAllAsync(Timeout)) { }
        Assert.Equal(0, engine.ActiveSequences);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(1)] // the first request ends in the step its prompt is done: the others copy from its finished sequence
    public async Task ABurstWithOneSystemPromptComputesItOnce(int maxTokens)
    {
        // The shared start is longer than a step takes, so the first request is still working through it when the
        // others arrive: they wait for it and copy, rather than computing the same tokens beside it.
        int[] system = _model.Tokenizer.Encode(string.Join(" ", Enumerable.Repeat("Once upon a time there was a little girl who liked to play.", 3)), true, false);
        string[] questions = [" One day", " The dog", " Then she", " Mom said", " A bird"];
        var requests = questions.Select(q => new EngineRequest
        {
            PromptTokens = [.. system, .. _model.Tokenizer.Encode(q, false, false)], Sampling = Greedy, MaxTokens = maxTokens, LogProbs = true,
        }).ToArray();
        var options = new EngineOptions { ContextLength = 256, StepTokens = 8, MinPromptTokensPerStep = 8 };
        var expected = new List<(List<int> Tokens, List<float> LogProbs, EngineUpdate Final)>();
        foreach (var r in requests)
        {
            using var alone = new InferenceEngine(_model, options);
            expected.Add(await Logged(alone, r));
        }
        using var engine = new InferenceEngine(_model, options);
        var results = await Task.WhenAll(requests.Select(r => Logged(engine, r)));
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, results[i].Tokens);
            Assert.Equal(expected[i].LogProbs, results[i].LogProbs);
        }
        var cached = results.Select(r => r.Final.Usage!.CachedPromptTokens).Order().ToArray();
        Assert.True(cached.Skip(1).All(c => c >= system.Length), $"cached: {string.Join(", ", cached)} of {system.Length} shared");
        Assert.Equal(cached.Sum(), engine.Counters.CachedPromptTokens);
        Assert.Equal(0, engine.ActiveSequences);
    }

    private static async Task<(List<int> Tokens, List<float> LogProbs, EngineUpdate Final)> Logged(InferenceEngine engine, EngineRequest request)
    {
        var tokens = new List<int>();
        var logProbs = new List<float>();
        EngineUpdate? final = null;
        await foreach (var u in engine.GenerateAsync(request, Timeout))
        {
            if (u.IsFinal) final = u;
            else
            {
                tokens.Add(u.TokenId);
                logProbs.Add(u.LogProb!.Value.LogProb);
            }
        }
        return (tokens, logProbs, final ?? throw new InvalidOperationException("No final update."));
    }

    [Fact]
    public async Task SeededSamplingGivesTheSameTokensOnOneAndTwoThreads()
    {
        string[] prompts = ["Once upon a time", "The little dog", "One day", "Lily and Ben", "A big bird"];
        EngineRequest Request(int i) => new() { Prompt = prompts[i], Sampling = new SamplerOptions { Temperature = 0.9f, TopP = 0.95f, Seed = (uint)(11 + i) }, MaxTokens = 24 };
        using var one = new InferenceEngine(_model, new EngineOptions { ContextLength = 128 });
        var alone = await Task.WhenAll(prompts.Select((_, i) => Collect(one, Request(i))));
        using var pool = new Basalt.Tensors.Threading.WorkerPool(2);
        using var two = new InferenceEngine(_model, new EngineOptions { ContextLength = 128, Runtime = pool });
        var split = await Task.WhenAll(prompts.Select((_, i) => Collect(two, Request(i))));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i].Tokens, split[i].Tokens);
        Assert.True(alone.Select(r => string.Join(",", r.Tokens)).Distinct().Count() > 1, "the seeds should give different stories");
    }

    [Fact]
    public async Task LongPromptsGoThroughInChunksBesideDecodingStreams()
    {
        // With five tokens a step, the long prompt takes many steps, each shared with the streams already decoding.
        string longPrompt = string.Join(" ", Enumerable.Repeat("Once upon a time there was a little dog who liked to run.", 4));
        string[] prompts = ["One day", longPrompt, "The sun was", longPrompt + " Then"];
        var expected = prompts.Select(p => Reference(p, 24)).ToArray();
        Assert.True(expected[1].PromptTokens.Length > 40);
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256, StepTokens = 5, MinPromptTokensPerStep = 3 });
        var first = Collect(engine, new EngineRequest { Prompt = prompts[0], Sampling = Greedy, MaxTokens = 24 });
        var rest = prompts.Skip(1).Select(p => Collect(engine, new EngineRequest { Prompt = p, Sampling = Greedy, MaxTokens = 24 })).ToArray();
        var results = await Task.WhenAll([first, .. rest]);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].Tokens, results[i].Tokens);
            Assert.Equal(expected[i].PromptTokens.Length, results[i].Final.Usage!.PromptTokens);
        }
        Assert.Equal(0, engine.ActiveSequences);
        // Steps: at most a handful of prompt tokens each, so many more steps than generated tokens per stream.
        Assert.True(engine.Counters.DecodeSteps > 24 + expected[1].PromptTokens.Length / 5, $"only {engine.Counters.DecodeSteps} steps");
    }

    [Fact]
    public async Task MoreRequestsThanSlotsWaitAndComplete()
    {
        var expected = Reference("The little dog", 30);
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 256, MaxActiveSequences = 2 });
        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Collect(engine, new EngineRequest { Prompt = "The little dog", Sampling = Greedy, MaxTokens = 30 })));
        Assert.All(results, r => Assert.Equal(expected.Tokens, r.Tokens));
    }

    [Fact]
    public async Task CancellationFreesTheSequence()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 2048 });
        using var cancel = new CancellationTokenSource();
        var noEos = Greedy with { LogitBias = new Dictionary<int, float> { [2] = float.NegativeInfinity } };
        var updates = engine.Submit(new EngineRequest { Prompt = "Once upon a time", Sampling = noEos }, cancel.Token);
        int seen = 0;
        EngineUpdate? final = null;
        await foreach (var u in updates.ReadAllAsync(Timeout))
        {
            if (++seen == 5) cancel.Cancel();
            if (u.IsFinal) final = u;
        }
        Assert.Equal(FinishReason.Cancelled, final!.FinishReason);
        Assert.Equal(0, engine.ActiveSequences);
        Assert.Equal(1, engine.Counters.Cancelled);

        // The freed slot serves the next request.
        var (tokens, _, _) = await Collect(engine, new EngineRequest { Prompt = "The little dog", Sampling = Greedy, MaxTokens = 30 });
        Assert.Equal(Reference("The little dog", 30).Tokens, tokens);
    }

    [Fact]
    public async Task CancelledWhileQueuedEndsAtOnce()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 2048, MaxActiveSequences = 1 });
        var noEos = Greedy with { LogitBias = new Dictionary<int, float> { [2] = float.NegativeInfinity } };
        using var first = new CancellationTokenSource();
        var running = engine.Submit(new EngineRequest { Prompt = "Once", Sampling = noEos }, first.Token);
        await running.WaitToReadAsync(Timeout);
        using var second = new CancellationTokenSource();
        var queued = engine.Submit(new EngineRequest { Prompt = "Once", Sampling = noEos }, second.Token);
        second.Cancel();
        var last = await queued.ReadAllAsync(Timeout).LastAsync(Timeout);
        Assert.Equal(FinishReason.Cancelled, last.FinishReason);
        Assert.Equal(0, engine.QueueDepth);
        first.Cancel();
        await foreach (var _ in running.ReadAllAsync(Timeout)) { }
        Assert.Equal(0, engine.ActiveSequences);
    }

    [Fact]
    public async Task FullQueueRaisesEngineBusy()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 2048, MaxActiveSequences = 1, QueueCapacity = 1 });
        var noEos = Greedy with { LogitBias = new Dictionary<int, float> { [2] = float.NegativeInfinity } };
        using var cancel = new CancellationTokenSource();
        var running = engine.Submit(new EngineRequest { Prompt = "Once", Sampling = noEos }, cancel.Token);
        await running.WaitToReadAsync(Timeout); // admitted: the queue is empty again
        var queued = engine.Submit(new EngineRequest { Prompt = "Once", Sampling = noEos }, cancel.Token);
        Assert.Equal(1, engine.QueueDepth);
        Assert.Throws<EngineBusyException>(() => engine.Submit(new EngineRequest { Prompt = "Once", Sampling = noEos }, Timeout));
        Assert.Equal(1, engine.Counters.Rejected);
        cancel.Cancel();
        await foreach (var _ in running.ReadAllAsync(Timeout)) { }
        await foreach (var _ in queued.ReadAllAsync(Timeout)) { }
        Assert.Equal(0, engine.ActiveSequences);
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task OverlongPromptFailsOnlyThatRequest()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 32 });
        var expected = Reference("The little dog", 10);
        var good = Collect(engine, new EngineRequest { Prompt = "The little dog", Sampling = Greedy, MaxTokens = 10 });
        var bad = Collect(engine, new EngineRequest { Prompt = string.Join(' ', Enumerable.Repeat("Once upon a time", 20)), Sampling = Greedy, MaxTokens = 10 });
        var error = await Assert.ThrowsAsync<ContextOverflowException>(() => bad);
        Assert.Equal(32, error.Capacity);
        Assert.Equal(expected.Tokens, (await good).Tokens);
        var again = await Collect(engine, new EngineRequest { Prompt = "The little dog", Sampling = Greedy, MaxTokens = 10 });
        Assert.Equal(expected.Tokens, again.Tokens);
        Assert.Equal(1, engine.Counters.Failed);
    }

    [Fact]
    public async Task ContextEndFinishesWithLength()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 16 });
        var noEos = Greedy with { LogitBias = new Dictionary<int, float> { [2] = float.NegativeInfinity } };
        var (tokens, _, final) = await Collect(engine, new EngineRequest { Prompt = "Once upon a time", Sampling = noEos });
        Assert.Equal(FinishReason.Length, final.FinishReason);
        // The last token is sampled from the last position's logits and never needs a slot of its own.
        Assert.Equal(16 + 1, final.Usage!.PromptTokens + tokens.Count);
    }

    [Fact]
    public async Task LogProbsAreReportedPerToken()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 64 });
        var updates = new List<EngineUpdate>();
        await foreach (var u in engine.GenerateAsync(new EngineRequest { Prompt = "Once", Sampling = Greedy, MaxTokens = 5, LogProbs = true, TopLogProbs = 3 }, Timeout))
            if (!u.IsFinal) updates.Add(u);
        Assert.Equal(5, updates.Count);
        Assert.All(updates, u =>
        {
            Assert.Equal(3, u.TopLogProbs!.Count);
            Assert.Equal(u.TopLogProbs[0].Id, u.TokenId); // greedy picks the most likely
            Assert.Equal(u.TopLogProbs[0].LogProb, u.LogProb!.Value.LogProb, 4);
        });
    }

    [Fact]
    public void BadLogitBiasIsReportedToTheCaller()
    {
        using var engine = new InferenceEngine(_model, new EngineOptions { ContextLength = 64 });
        Assert.ThrowsAny<ArgumentException>(() => engine.Submit(new EngineRequest
        {
            Prompt = "Once",
            Sampling = Greedy with { LogitBias = new Dictionary<int, float> { [100000] = 1 } },
        }, Timeout));
    }
}
