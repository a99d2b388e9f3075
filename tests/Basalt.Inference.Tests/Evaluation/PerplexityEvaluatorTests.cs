using System.Text.Json;
using Basalt.Inference.Evaluation;
using Basalt.Inference.Model;
using Basalt.Tensors.Threading;

namespace Basalt.Inference.Tests.Evaluation;

public sealed class PerplexityEvaluatorTests
{
    /// <summary>
    /// The stories260K continuations from the reference files, each after its prompt, joined by
    /// newlines and repeated three times: 844 tokens, 6 chunks of 128.
    /// </summary>
    private static string StoriesText()
    {
        var parts = new List<string>();
        foreach (var file in new[] { "stories260K.greedy.json", "stories260K-F16.greedy.json" })
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Path("reference", file)));
            foreach (var p in doc.RootElement.GetProperty("prompts").EnumerateArray())
                parts.Add(p.GetProperty("prompt").GetString() + p.GetProperty("greedy").GetProperty("generated_text").GetString());
        }
        return string.Join("\n", Enumerable.Repeat(parts, 3).SelectMany(x => x));
    }

    [Fact]
    public void MatchesLlamaPerplexityAndIsTheSameAtOneAndTwoThreads()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));
        using var one = new WorkerPool(1);
        using var two = new WorkerPool(2);
        string text = StoriesText();
        var a = PerplexityEvaluator.Evaluate(model, text, 128, one, cancellationToken: TestContext.Current.CancellationToken);
        var b = PerplexityEvaluator.Evaluate(model, text, 128, two, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(a.Perplexity, b.Perplexity);
        Assert.Equal(844, a.Tokens);
        Assert.Equal(6, a.Chunks);
        Assert.Equal(6 * (128 - 64 - 1), a.ScoredTokens);
        // llama-perplexity (b4748) on the same text, -c 128: [1]3.2330 ... [6]2.7226, "PPL = 2.7226".
        Assert.Equal(2.7226, a.Perplexity, 0.001);
        Assert.Equal(3.2330, a.RunningPerplexity[0], 0.001);
    }

    [Fact]
    public void TooShortATextIsRefusedWithTheCounts()
    {
        using var model = TransformerModel.Load(SharedData.Path("models", "stories260K.gguf"));
        var e = Assert.Throws<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, "Once upon a time", 128,
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("at least 256 tokens", e.Message);
    }
}
