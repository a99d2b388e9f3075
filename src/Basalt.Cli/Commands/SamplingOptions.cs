using System.CommandLine;
using Basalt.Inference.Sampling;

namespace Basalt.Cli.Commands;

/// <summary>The sampling options shared by <c>generate</c>, <c>run</c> and <c>chat</c>, with llama.cpp's defaults.</summary>
internal sealed class SamplingOptions
{
    public Option<float> Temperature { get; } = new("--temperature", "--temp") { Description = "Sampling temperature; 0 picks the most likely token.", DefaultValueFactory = _ => 0.8f };
    public Option<int> TopK { get; } = new("--top-k") { Description = "Keep the K most likely tokens (0 = off).", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "Keep the smallest set with this cumulative probability (1 = off).", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "Drop tokens below this fraction of the top probability (0 = off).", DefaultValueFactory = _ => 0.05f };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty") { Description = "Penalise recently seen tokens (1 = off).", DefaultValueFactory = _ => 1.0f };
    public Option<float> FrequencyPenalty { get; } = new("--frequency-penalty") { Description = "Subtract count × this from seen tokens' logits.", DefaultValueFactory = _ => 0f };
    public Option<float> PresencePenalty { get; } = new("--presence-penalty") { Description = "Subtract this from every seen token's logit.", DefaultValueFactory = _ => 0f };
    public Option<ulong?> Seed { get; } = new("--seed", "-s") { Description = "Seed of the random draw: the same seed gives the same tokens." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Temperature, TopK, TopP, MinP, RepeatPenalty, FrequencyPenalty, PresencePenalty, Seed })
            command.Add(option);
    }

    public SamplerOptions Read(ParseResult parse)
    {
        float repeat = parse.GetValue(RepeatPenalty);
        if (repeat <= 0) throw new CliUsageException($"--repeat-penalty must be positive; got {repeat}.");
        float topP = parse.GetValue(TopP), minP = parse.GetValue(MinP);
        if (topP is < 0 or > 1) throw new CliUsageException($"--top-p must be between 0 and 1; got {topP}.");
        if (minP is < 0 or > 1) throw new CliUsageException($"--min-p must be between 0 and 1; got {minP}.");
        return new SamplerOptions
        {
            Temperature = parse.GetValue(Temperature),
            TopK = parse.GetValue(TopK),
            TopP = topP,
            MinP = minP,
            RepeatPenalty = repeat,
            FrequencyPenalty = parse.GetValue(FrequencyPenalty),
            PresencePenalty = parse.GetValue(PresencePenalty),
            Seed = parse.GetValue(Seed),
        };
    }
}
