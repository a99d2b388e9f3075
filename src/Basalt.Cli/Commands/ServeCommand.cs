using System.CommandLine;
using Basalt.Server;

namespace Basalt.Cli.Commands;

/// <summary>
/// <c>basalt serve [-m MODEL]… [--host 127.0.0.1] [--port 8080] [--api-key KEY]…</c>: the HTTP server.
/// Without <c>-m</c> it serves every <c>.gguf</c> in the data directory's <c>models/</c>.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter stderr)
    {
        var models = new Option<string[]>("--model", "-m") { Description = "A .gguf path or model name to serve (repeatable); named by its file name without .gguf." };
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on.", DefaultValueFactory = _ => 8080 };
        var apiKeys = new Option<string[]>("--api-key") { Description = "Accepted bearer key (repeatable); also read from BASALT_API_KEYS (comma-separated). None = no auth." };
        var idle = new Option<int>("--idle-timeout") { Description = "Unload a model after this many idle seconds.", DefaultValueFactory = _ => 600 };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences each model decodes together.", DefaultValueFactory = _ => 8 };
        var queue = new Option<int>("--queue") { Description = "Requests each model lets wait before answering 429.", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Tokens one engine step puts through the model: decoding streams first, then chunks of waiting prompts.", DefaultValueFactory = _ => 64 };
        var ctx = new Option<int?>("--ctx-size", "-c") { Description = "Context length per sequence (default: the model's, at most 4096)." };
        var threads = ThreadsOption.Create();
        var command = new Command("serve", "Serve models over HTTP: OpenAI-compatible /v1, Ollama-compatible /api.")
            { models, host, port, apiKeys, idle, parallel, queue, batch, ctx, threads };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var paths = (parse.GetValue(models) ?? []).Select(ModelLocator.Resolve).ToList();
            if (paths.Count == 0) paths = DataDirectoryModels();
            if (paths.Count == 0) throw new CliUsageException($"No models to serve: give -m MODEL, or put .gguf files in {Path.Combine(ModelLocator.DataDirectory, "models")}.");
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535) throw new CliUsageException($"--port must be between 0 and 65535; got {p}.");
            int idleSeconds = parse.GetValue(idle);
            if (idleSeconds < 1) throw new CliUsageException($"--idle-timeout must be at least 1 second; got {idleSeconds}.");
            int np = parse.GetValue(parallel), q = parse.GetValue(queue);
            if (np < 1) throw new CliUsageException($"--parallel must be at least 1; got {np}.");
            if (q < 1) throw new CliUsageException($"--queue must be at least 1; got {q}.");
            int b = parse.GetValue(batch);
            if (b is < 1 or > 4096) throw new CliUsageException($"--batch-size must be between 1 and 4096; got {b}.");
            int? t = parse.GetValue(threads);
            if (t is < 1 or > 256) throw new CliUsageException($"--threads must be between 1 and 256; got {t}.");
            var keys = (parse.GetValue(apiKeys) ?? []).Concat(
                (Environment.GetEnvironmentVariable("BASALT_API_KEYS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var options = new ServerOptions
            {
                ModelPaths = paths,
                Host = parse.GetValue(host) ?? "127.0.0.1",
                Port = p,
                ApiKeys = keys,
                IdleTimeout = TimeSpan.FromSeconds(idleSeconds),
                MaxActiveSequences = np,
                QueueCapacity = q,
                StepTokens = b,
                ContextLength = parse.GetValue(ctx),
                Threads = t,
            };
            stderr.WriteLine($"basalt: serving {string.Join(", ", paths.Select(Path.GetFileNameWithoutExtension))} on http://{options.Host}:{p}" +
                (keys.Count > 0 ? $" ({keys.Count} API key(s))" : " (no API key: open to anyone who can reach it)"));
            await BasaltServer.RunAsync(options, cancellationToken);
            return 0;
        });
        return command;
    }

    private static List<string> DataDirectoryModels()
    {
        string dir = Path.Combine(ModelLocator.DataDirectory, "models");
        return Directory.Exists(dir) ? [.. Directory.EnumerateFiles(dir, "*.gguf").Order(StringComparer.Ordinal)] : [];
    }
}
