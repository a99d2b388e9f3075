using System.Runtime.CompilerServices;
using Basalt.Inference.Chat;
using Basalt.Inference.Generation;
using Basalt.Inference.Model;
using Basalt.Inference.Sampling;
using Basalt.Tensors.Threading;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Basalt.Inference.Clients;

/// <summary>
/// An <see cref="IChatClient"/> over a model loaded in this process: messages are rendered with the
/// model's chat template, generated token by token and streamed back. Requests run one at a time, on one
/// sequence kept between them (unless <see cref="LocalChatClientOptions.ReuseCachedPrefix"/> is off): it holds the
/// last request's prompt and all but the last token of its answer, and a request whose prompt begins with those tokens
/// (a chat's next turn) runs only the rest through the model, reporting the others as cached input tokens.
/// </summary>
public sealed class LocalChatClient : IChatClient
{
    private readonly TransformerModel _model;
    private readonly LocalChatClientOptions _options;
    private readonly ChatTemplate _template;
    private readonly WorkerPool _pool;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _modelId;
    private Sequence? _sequence; // kept between requests: a conversation's next turn starts with the tokens it holds

    /// <summary>Creates a client over <paramref name="model"/>, which the caller keeps owning.</summary>
    public LocalChatClient(TransformerModel model, LocalChatClientOptions? options = null)
    {
        _model = model;
        _options = options ?? new LocalChatClientOptions();
        _template = ChatTemplate.Detect(_options.ChatTemplate ?? model.File.Metadata.GetString("tokenizer.chat_template"));
        _pool = new WorkerPool(_options.Threads ?? Environment.ProcessorCount);
        _modelId = Path.GetFileNameWithoutExtension(model.File.Path);
    }

    /// <summary>Renders the conversation as the model expects its prompt.</summary>
    public string RenderPrompt(IEnumerable<AiChatMessage> messages, string? instructions = null)
    {
        var turns = new List<Chat.ChatMessage>();
        if (!string.IsNullOrEmpty(instructions)) turns.Add(new Chat.ChatMessage("system", instructions));
        turns.AddRange(messages.Select(m => new Chat.ChatMessage(m.Role.Value, m.Text)));
        var vocab = _model.Tokenizer.Vocabulary;
        string bos = vocab.Bos is int b ? vocab.Tokens[b] : "";
        string eos = vocab.Eos is int e ? vocab.Tokens[e] : "";
        return _template.Render(turns, addGenerationPrompt: true, bos, eos);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string prompt = RenderPrompt(messages, options?.Instructions);
        var sampler = SamplerChain.Create(MapSampling(options), _model.Config.VocabSize);
        var generation = new GenerationOptions
        {
            MaxTokens = options?.MaxOutputTokens ?? _options.DefaultMaxOutputTokens,
            StopSequences = options?.StopSequences?.ToArray() ?? [],
            // The rendered prompt has no leading BOS; the tokenizer adds it when the vocabulary asks.
            AddSpecial = true,
            ReuseCachedPrefix = _options.ReuseCachedPrefix,
        };
        string responseId = Guid.NewGuid().ToString("N");
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sequence = _sequence ??= new Sequence(_model, Math.Min(_options.ContextLength ?? 4096, _model.Config.ContextLength), _options.F16Cache, _pool);
            if (!_options.ReuseCachedPrefix) sequence.Reset();
            GenerationResult? result = null;
            var updates = new Generator(_model).GenerateAsync(sequence, prompt, sampler, generation, r => result = r, cancellationToken);
            await foreach (var u in updates.ConfigureAwait(false))
            {
                if (u.Text.Length == 0) continue;
                yield return new ChatResponseUpdate(ChatRole.Assistant, u.Text) { ResponseId = responseId, MessageId = responseId, ModelId = _modelId };
            }
            if (result is { } r)
            {
                yield return new ChatResponseUpdate
                {
                    Role = ChatRole.Assistant,
                    ResponseId = responseId,
                    MessageId = responseId,
                    ModelId = _modelId,
                    FinishReason = r.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop,
                    Contents = [new UsageContent(new UsageDetails
                    {
                        InputTokenCount = r.PromptTokens.Length,
                        CachedInputTokenCount = r.CachedPromptTokens,
                        OutputTokenCount = r.Tokens.Count,
                        TotalTokenCount = r.PromptTokens.Length + r.Tokens.Count,
                    })],
                };
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private SamplerOptions MapSampling(ChatOptions? o)
    {
        var d = _options.DefaultSampling;
        if (o is null) return d;
        return d with
        {
            Temperature = o.Temperature ?? d.Temperature,
            TopP = o.TopP ?? d.TopP,
            TopK = o.TopK ?? d.TopK,
            FrequencyPenalty = o.FrequencyPenalty ?? d.FrequencyPenalty,
            PresencePenalty = o.PresencePenalty ?? d.PresencePenalty,
            Seed = o.Seed is long s ? unchecked((ulong)s) : d.Seed,
        };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("basalt", null, _modelId)
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType == typeof(TransformerModel) ? _model
        : null;

    /// <summary>Stops the worker threads; the model stays open (the caller owns it).</summary>
    public void Dispose()
    {
        _pool.Dispose();
        _gate.Dispose();
    }
}
