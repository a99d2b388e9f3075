using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Basalt.Inference.Engine;
using Basalt.Inference.Generation;
using Basalt.Server.Observability;

namespace Basalt.Server.Generation;

/// <summary>
/// The generations of one HTTP request (one per choice) running in the engine. Handlers read updates
/// from here and never touch the model. Disposing cancels whatever is still running, so a handler that
/// fails or returns early leaves no sequence behind.
/// </summary>
internal sealed class GenerationRun : IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly ChannelReader<EngineUpdate>[] _choices;
    private readonly RequestTelemetry _telemetry;
    private readonly ServerMetrics _metrics;
    private readonly int _choicesPerPrompt;

    private GenerationRun(CancellationTokenSource cancel, ChannelReader<EngineUpdate>[] choices, RequestTelemetry telemetry, ServerMetrics metrics, int choicesPerPrompt)
    {
        _choicesPerPrompt = choicesPerPrompt;
        _cancel = cancel;
        _choices = choices;
        _telemetry = telemetry;
        _metrics = metrics;
    }

    public int Count => _choices.Length;

    /// <summary>
    /// Submits every request and waits until each has produced its first update, so that errors such as
    /// an overlong prompt surface before any response is written. Requests come in groups of
    /// <paramref name="choicesPerPrompt"/> that share one prompt.
    /// </summary>
    public static async Task<GenerationRun> StartAsync(InferenceEngine engine, IReadOnlyList<EngineRequest> requests, HttpContext context, ServerMetrics metrics,
        int choicesPerPrompt)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var choices = new List<ChannelReader<EngineUpdate>>();
        try
        {
            string? scope = Auth.ApiKeyMiddleware.CacheScope(context);
            foreach (var r in requests) choices.Add(engine.Submit(r with { CacheScope = scope }, cancel.Token));
            foreach (var c in choices) await c.WaitToReadAsync(context.RequestAborted);
        }
        catch
        {
            cancel.Cancel();
            cancel.Dispose();
            throw;
        }
        var telemetry = context.Features.Get<RequestTelemetry>() ?? new RequestTelemetry();
        return new GenerationRun(cancel, [.. choices], telemetry, metrics, Math.Max(1, choicesPerPrompt));
    }

    /// <summary>The updates of choice <paramref name="index"/>, the final one included; records latency and token metrics.</summary>
    public async IAsyncEnumerable<EngineUpdate> ReadAsync(int index, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Latency is observed on the first choice only: the others are read after it, when their tokens have long been buffered.
        bool timed = index == 0;
        long last = 0;
        await foreach (var update in _choices[index].ReadAllAsync(cancellationToken))
        {
            if (update.TokenId >= 0 && timed)
            {
                long now = Stopwatch.GetTimestamp();
                if (last == 0) _metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(_telemetry.StartTimestamp, now).TotalSeconds);
                else _metrics.InterTokenLatency.Observe(Stopwatch.GetElapsedTime(last, now).TotalSeconds);
                last = now;
            }
            if (update.Usage is { } usage)
            {
                // Choices of one prompt share it: it is counted once.
                int prompt = index % _choicesPerPrompt == 0 ? usage.PromptTokens : 0;
                _telemetry.AddTokens(prompt, usage.CompletionTokens);
                _metrics.CountTokens(prompt, usage.CompletionTokens);
            }
            yield return update;
        }
    }

    /// <summary>Reads choice <paramref name="index"/> to its end.</summary>
    public async Task<ChoiceResult> CollectAsync(int index, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var tokens = new List<EngineUpdate>();
        await foreach (var u in ReadAsync(index, cancellationToken))
        {
            text.Append(u.Text);
            if (u.IsFinal) return new ChoiceResult(text.ToString(), tokens, u.FinishReason!.Value, u.Usage!);
            tokens.Add(u);
        }
        throw new InvalidOperationException("The engine closed a generation without a final update.");
    }

    public void Dispose()
    {
        _cancel.Cancel();
        _cancel.Dispose();
    }

    /// <summary>The OpenAI and Ollama spelling of a finish reason.</summary>
    public static string FinishText(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";
}
