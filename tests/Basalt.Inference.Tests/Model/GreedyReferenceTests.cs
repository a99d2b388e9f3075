using Basalt.Inference.Model;

namespace Basalt.Inference.Tests.Model;

/// <summary>Greedy decoding token for token against llama.cpp, with log-probs, on the shared models.</summary>
public sealed class GreedyReferenceTests
{
    public static TheoryData<string, string, double> ExactModels() => new()
    {
        // model file, reference file, top-10 log-prob tolerance
        { "stories260K.gguf", "stories260K.greedy.json", 2e-2 },
        { "stories260K-F16.gguf", "stories260K-F16.greedy.json", 2e-2 },
        { "arch/qwen2-tiny-random.gguf", "arch/qwen2-tiny-random.greedy.json", 0.2 },
        { "arch/phi3-tiny-random.gguf", "arch/phi3-tiny-random.greedy.json", 0.2 },
        { "arch/gemma-tiny-random.gguf", "arch/gemma-tiny-random.greedy.json", 0.2 },
        { "arch/llama-bpe-tiny-random.gguf", "arch/llama-bpe-tiny-random.greedy.json", 0.2 },
    };

    [Theory]
    [MemberData(nameof(ExactModels))]
    public void GreedyIdsAndLogProbsMatchLlamaCpp(string model, string reference, double tolerance)
    {
        using var m = TransformerModel.Load(SharedData.Path(["models", .. model.Split('/')]));
        foreach (var prompt in ReferencePrompt.Load(reference.Split('/')))
        {
            var seq = new Sequence(m, 512);
            var logits = seq.Process(prompt.PromptTokens).ToArray();
            var generated = new List<int>();
            int checkedSteps = 0;
            for (int step = 0; step < prompt.GeneratedTokens.Length; step++)
            {
                // llama-server folds a token that ends mid-character into the next step's entry, so
                // per_step has no entry for it; entries are matched by the id they chose.
                if (checkedSteps < prompt.Steps.Count && prompt.Steps[checkedSteps].Id == prompt.GeneratedTokens[step])
                {
                    var logProbs = LogSoftmax(logits);
                    foreach (var (id, expected) in prompt.Steps[checkedSteps].Top10)
                        Assert.True(Math.Abs(logProbs[id] - expected) <= tolerance,
                            $"{model} '{prompt.Prompt}' step {step} token {id}: log-prob {logProbs[id]:F5}, llama.cpp {expected:F5}");
                    checkedSteps++;
                }
                int next = ArgMax(logits);
                generated.Add(next);
                Assert.True(next == prompt.GeneratedTokens[step],
                    $"{model} '{prompt.Prompt}' step {step}: chose {next}, llama.cpp chose {prompt.GeneratedTokens[step]} (so far {string.Join(",", generated)})");
                logits = seq.Process([next]).ToArray();
            }
            Assert.Equal(prompt.Steps.Count, checkedSteps);
        }
    }

    internal static double[] LogSoftmax(float[] logits)
    {
        double max = logits.Max();
        double sum = logits.Sum(l => Math.Exp(l - max));
        double log = Math.Log(sum);
        return logits.Select(l => l - max - log).ToArray();
    }

    internal static int ArgMax(float[] logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
