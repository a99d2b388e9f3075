using System.CommandLine;
using System.Globalization;
using Basalt.Inference.Evaluation;
using Basalt.Inference.Model;

namespace Basalt.Cli.Commands;

/// <summary><c>basalt perplexity -m MODEL -f FILE [-c CTX] [--json]</c>, computed as llama-perplexity does.</summary>
internal static class PerplexityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model", "-m") { Description = "Path to a .gguf file, or a model name in the data directory.", Required = true };
        var file = new Option<string>("--file", "-f") { Description = "UTF-8 text to evaluate.", Required = true };
        var ctx = new Option<int>("--ctx-size", "-c") { Description = "Tokens per chunk (llama-perplexity's -c).", DefaultValueFactory = _ => 512 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var threads = ThreadsOption.Create();
        var cacheType = CacheTypeOption.Create();
        var command = new Command("perplexity", "Perplexity of a model over a text, the way llama-perplexity computes it.") { model, file, ctx, threads, json, cacheType };
        command.SetAction((parse, cancellationToken) =>
        {
            string text = TextInput.ReadUtf8File(parse.GetRequiredValue(file));
            using var m = TransformerModel.Load(ModelLocator.Resolve(parse.GetRequiredValue(model)));
            using var runtime = ThreadsOption.CreateRuntime(parse.GetValue(threads));
            int n = parse.GetValue(ctx);
            if (n < 4 || n > m.Config.ContextLength)
                throw new CliUsageException($"--ctx-size must be between 4 and the model's context length {m.Config.ContextLength}; got {n}.");
            bool asJson = parse.GetValue(json);
            int chunk = 0;
            var progress = asJson ? null : new SyncProgress<double>(p => stderr.Write(string.Create(CultureInfo.InvariantCulture, $"[{++chunk}]{p:F4},")));
            PerplexityResult r;
            try
            {
                r = PerplexityEvaluator.Evaluate(m, text, n, runtime, progress, CacheTypeOption.IsF16(parse.GetValue(cacheType)!), cancellationToken);
            }
            catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            if (asJson)
            {
                JsonOutput.Write(stdout, w =>
                {
                    w.WriteNumber("perplexity", r.Perplexity);
                    w.WriteNumber("tokens", r.Tokens);
                    w.WriteNumber("chunks", r.Chunks);
                    w.WriteNumber("ctx", n);
                    w.WriteNumber("scored_tokens", r.ScoredTokens);
                    w.WriteNumber("mean_nll", r.MeanNll);
                });
            }
            else
            {
                stderr.WriteLine();
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"perplexity {r.Perplexity:F4} over {r.Chunks} chunks of {n} tokens ({r.Tokens} tokens in the text, {r.ScoredTokens} scored)"));
            }
            return Task.FromResult(0);
        });
        return command;
    }
}
