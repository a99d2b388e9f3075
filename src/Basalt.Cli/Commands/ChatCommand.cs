using System.CommandLine;
using Basalt.Inference.Clients;
using Basalt.Inference.Model;
using Microsoft.Extensions.AI;

namespace Basalt.Cli.Commands;

/// <summary><c>basalt chat MODEL [--system TEXT]</c>: an interactive multi-turn conversation using the model's chat template.</summary>
internal static class ChatCommand
{
    public static Command Create(TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var model = new Argument<string>("MODEL") { Description = "Path to a .gguf file, or a model name in the data directory." };
        var system = new Option<string?>("--system") { Description = "A system message that opens the conversation." };
        var n = new Option<int>("--n-predict", "-n") { Description = "Most tokens per answer.", DefaultValueFactory = _ => 512 };
        var threads = ThreadsOption.Create();
        var ctx = new Option<int?>("--ctx-size", "-c") { Description = "Context length (default: the model's, at most 4096)." };
        var sampling = new SamplingOptions();
        var command = new Command("chat", "Talk with a model, turn by turn, using its chat template.") { model, system, n, threads, ctx };
        sampling.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var m = TransformerModel.Load(ModelLocator.Resolve(parse.GetRequiredValue(model)));
            using var client = CreateClient(m, parse.GetValue(ctx), parse.GetValue(threads), sampling.Read(parse));
            var options = new ChatOptions { MaxOutputTokens = parse.GetValue(n) };
            return await ChatSession.RunAsync(client, options, parse.GetValue(system), stdin, stdout, stderr,
                interactive: !Console.IsInputRedirected, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static LocalChatClient CreateClient(TransformerModel m, int? ctx, int? threads, Basalt.Inference.Sampling.SamplerOptions sampling, bool f16Cache = true)
    {
        int threadCount = threads ?? Environment.ProcessorCount;
        if (threadCount < 1 || threadCount > 256) throw new CliUsageException($"--threads must be between 1 and 256; got {threadCount}.");
        return new LocalChatClient(m, new LocalChatClientOptions
        {
            ContextLength = ContextSize.Resolve(ctx, m),
            Threads = threadCount,
            DefaultSampling = sampling,
            F16Cache = f16Cache,
        });
    }
}
