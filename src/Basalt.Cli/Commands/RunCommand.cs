using System.CommandLine;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Microsoft.Extensions.AI;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt run MODEL [PROMPT]</c>, the friendly entry point. With a prompt it streams an answer: a chat
/// turn when the model has a chat template, a plain completion otherwise. Without one it reads the
/// prompt from piped input, or opens an interactive chat at a terminal.
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<string?>("MODEL") { Description = "Path to a .gguf file, or a model name in the data directory (default: the first model there).", Arity = ArgumentArity.ZeroOrOne };
        var prompt = new Argument<string?>("PROMPT") { Description = "What to say; omit it to chat.", Arity = ArgumentArity.ZeroOrOne };
        var n = new Option<int>("--n-predict", "-n") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 256 };
        var raw = new Option<bool>("--raw") { Description = "Complete the prompt as plain text even when the model has a chat template." };
        var threads = ThreadsOption.Create();
        var cacheType = CacheTypeOption.Create();
        var ctx = new Option<int?>("--ctx-size", "-c") { Description = "Context length (default: the model's, at most 4096)." };
        var sampling = new SamplingOptions();
        var command = new Command("run", "Run a model: answer a prompt, or chat.") { model, prompt, n, raw, threads, ctx, cacheType };
        sampling.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string path = parse.GetValue(model) is { } name ? ModelLocator.Resolve(name) : ModelLocator.Default();
            string? text = parse.GetValue(prompt);
            if (text is null && Console.IsInputRedirected && stdin == Console.In) text = await stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            using var m = TransformerModel.Load(path);
            var samplerOptions = sampling.Read(parse);
            int maxTokens = parse.GetValue(n);
            bool f16 = CacheTypeOption.IsF16(parse.GetValue(cacheType)!);
            bool hasTemplate = m.File.Metadata.GetString("tokenizer.chat_template") is not null;
            if (text is not null && (!hasTemplate || parse.GetValue(raw)))
                return Complete(m, text, samplerOptions, maxTokens, parse.GetValue(ctx), parse.GetValue(threads), f16, stdout, stderr, cancellationToken);

            using var client = ChatCommand.CreateClient(m, parse.GetValue(ctx), parse.GetValue(threads), samplerOptions, f16);
            var options = new ChatOptions { MaxOutputTokens = maxTokens };
            if (text is null)
                return await ChatSession.RunAsync(client, options, null, stdin, stdout, stderr, interactive: true, cancellationToken).ConfigureAwait(false);
            await ChatSession.StreamAnswerAsync(client, [new ChatMessage(ChatRole.User, text)], options, stdout, stderr, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static int Complete(TransformerModel m, string prompt, SamplerOptions sampling, int maxTokens, int? ctx, int? threads, bool f16Cache,
        TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var runtime = ThreadsOption.CreateRuntime(threads);
        var sequence = new Sequence(m, ContextSize.Resolve(ctx, m), f16Cache, runtime);
        stdout.Write(prompt);
        var result = new Generator(m).Generate(sequence, prompt, SamplerChain.Create(sampling, m.Config.VocabSize),
            new GenerationOptions { MaxTokens = maxTokens }, u => { stdout.Write(u.Text); stdout.Flush(); }, cancellationToken);
        stdout.WriteLine();
        stderr.WriteLine(Timings.Summary(result));
        return 0;
    }
}
