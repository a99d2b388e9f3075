namespace Basalt.Server;

/// <summary>What <c>basalt serve</c> serves and how.</summary>
public sealed record ServerOptions
{
    /// <summary>Paths of the GGUF files to serve; each is named by its file name without <c>.gguf</c>.</summary>
    public IReadOnlyList<string> ModelPaths { get; init; } = [];

    /// <summary>Address to listen on.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (see <see cref="BasaltServer.Addresses"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Accepted bearer keys; none means no authentication.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>A model nobody has used for this long is unloaded.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Sequences each model decodes together.</summary>
    public int MaxActiveSequences { get; init; } = 8;

    /// <summary>Tokens one engine step puts through the model (see <see cref="Basalt.Inference.Engine.EngineOptions.StepTokens"/>).</summary>
    public int StepTokens { get; init; } = 64;

    /// <summary>Requests each model lets wait; beyond that the answer is 429.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Context length of each sequence; null = the model's, at most 4096.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Threads per model's forward pass; null = all cores.</summary>
    public int? Threads { get; init; }

    /// <summary>Largest request body accepted; larger gets 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;
}
