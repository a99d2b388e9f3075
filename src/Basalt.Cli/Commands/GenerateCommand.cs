using System.CommandLine;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt generate -m MODEL -p PROMPT [-n N] [sampling…] [--stop STR]… [--threads N] [--logprobs K] [--json]</c>:
/// one completion of raw prompt text.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model", "-m") { Description = "Path to a .gguf file, or a model name in the data directory.", Required = true };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text (BOS added when the vocabulary says so; special-token text parsed)." };
        var promptFile = new Option<string?>("--file", "-f") { Description = "Read the prompt from this UTF-8 file." };
        var n = new Option<int>("--n-predict", "-n") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text is produced (repeatable); it is not printed.", AllowMultipleArgumentsPerToken = false };
        var threads = ThreadsOption.Create();
        var cacheType = CacheTypeOption.Create();
        var ctx = new Option<int?>("--ctx-size", "-c") { Description = "Context length (default: the model's, at most 4096)." };
        var logprobs = new Option<int>("--logprobs") { Description = "Report the K most likely tokens' log-probs at each step.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of streaming text." };
        var sampling = new SamplingOptions();
        var command = new Command("generate", "Complete a raw prompt.") { model, prompt, promptFile, n, stop, threads, ctx, logprobs, json, cacheType };
        sampling.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            string text = PromptInput.Read(parse.GetValue(prompt), parse.GetValue(promptFile));
            int maxTokens = parse.GetValue(n);
            if (maxTokens < 0) throw new CliUsageException($"--n-predict must be 0 or more; got {maxTokens}.");
            int k = parse.GetValue(logprobs);
            if (k < 0) throw new CliUsageException($"--logprobs must be 0 or more; got {k}.");
            var samplerOptions = sampling.Read(parse);
            using var m = TransformerModel.Load(ModelLocator.Resolve(parse.GetRequiredValue(model)));
            using var runtime = ThreadsOption.CreateRuntime(parse.GetValue(threads));
            var sequence = new Sequence(m, ContextSize.Resolve(parse.GetValue(ctx), m), CacheTypeOption.IsF16(parse.GetValue(cacheType)!), runtime);
            var sampler = SamplerChain.Create(samplerOptions, m.Config.VocabSize);
            var options = new GenerationOptions { MaxTokens = maxTokens, StopSequences = parse.GetValue(stop) ?? [], TopLogProbs = k };
            bool asJson = parse.GetValue(json);
            var result = new Generator(m).Generate(sequence, text, sampler, options,
                asJson ? null : u => { stdout.Write(u.Text); stdout.Flush(); }, cancellationToken);
            if (asJson) WriteJson(stdout, result, sampler);
            else
            {
                stdout.WriteLine();
                stderr.WriteLine(Timings.Summary(result));
            }
            return Task.FromResult(0);
        });
        return command;
    }

    private static void WriteJson(TextWriter stdout, GenerationResult r, SamplerChain sampler) => JsonOutput.Write(stdout, w =>
    {
        w.WriteStartArray("prompt_tokens");
        foreach (int t in r.PromptTokens) w.WriteNumberValue(t);
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        foreach (int t in r.Tokens) w.WriteNumberValue(t);
        w.WriteEndArray();
        w.WriteNumber("n_prompt_tokens", r.PromptTokens.Length);
        w.WriteNumber("n_tokens", r.Tokens.Count);
        w.WriteString("text", r.Text);
        w.WriteString("finish_reason", Timings.FinishReasonText(r.FinishReason));
        if (sampler.Samplers.OfType<DistributionSampler>().FirstOrDefault() is { } draw) w.WriteNumber("seed", draw.Seed);
        w.WriteStartObject("timings");
        w.WriteNumber("prompt_ms", r.PromptMilliseconds);
        w.WriteNumber("gen_ms", r.GenerationMilliseconds);
        w.WriteNumber("prompt_tok_s", r.PromptTokensPerSecond);
        w.WriteNumber("gen_tok_s", r.GenerationTokensPerSecond);
        w.WriteEndObject();
        if (r.LogProbs is { } steps)
        {
            w.WriteStartArray("logprobs");
            foreach (var step in steps)
            {
                w.WriteStartArray();
                foreach (var (id, lp) in step)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", id);
                    w.WriteNumber("logprob", lp);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
    });
}
