using System.Text.Json;

namespace Basalt.Inference.Tests.Model;

/// <summary>llama.cpp's outputs for a shared model (see shared/reference/README.md).</summary>
internal sealed record ReferencePrompt(string Prompt, int[] PromptTokens, int[] GeneratedTokens, double MinMargin,
    IReadOnlyList<ReferenceStep> Steps, IReadOnlyList<(int Id, double LogProb)> FullDistribution)
{
    public static IReadOnlyList<ReferencePrompt> Load(params string[] path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Path(["reference", .. path])));
        return doc.RootElement.GetProperty("prompts").EnumerateArray().Select(p =>
        {
            var greedy = p.GetProperty("greedy");
            var steps = greedy.GetProperty("per_step").EnumerateArray().Select(s => new ReferenceStep(
                s.GetProperty("id").GetInt32(),
                s.GetProperty("top10").EnumerateArray().Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("logprob").GetDouble())).ToList())).ToList();
            var full = p.GetProperty("next_token_after_prompt").TryGetProperty("full_distribution_logprobs", out var fd)
                ? fd.GetProperty("entries").EnumerateArray().Select(e => (e.GetProperty("id").GetInt32(), e.GetProperty("logprob").GetDouble())).ToList()
                : [];
            return new ReferencePrompt(
                p.GetProperty("prompt").GetString()!,
                p.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                greedy.GetProperty("generated_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                greedy.TryGetProperty("min_top1_top2_logprob_margin", out var m) ? m.GetDouble() : 0,
                steps, full);
        }).ToList();
    }
}

/// <summary>One greedy step: the chosen id and the ten most likely (id, log-prob) before choosing.</summary>
internal sealed record ReferenceStep(int Id, IReadOnlyList<(int Id, double LogProb)> Top10);
