using System.Collections.Concurrent;

namespace Basalt.Server.Observability;

/// <summary>Server-wide counters and latency histograms; engine gauges are read live from the model registry.</summary>
internal sealed class ServerMetrics
{
    private static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private long _promptTokens, _completionTokens;

    public ConcurrentDictionary<(string Endpoint, int Status), long> Requests { get; } = new();

    public Histogram TimeToFirstToken { get; } = new("basalt_time_to_first_token_seconds", "Time from request arrival to the first generated token.", LatencyBounds);

    public Histogram InterTokenLatency { get; } = new("basalt_inter_token_latency_seconds", "Time between consecutive generated tokens of one stream.", LatencyBounds);

    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    public long CompletionTokens => Interlocked.Read(ref _completionTokens);

    public void CountRequest(string endpoint, int status) => Requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);

    public void CountTokens(int prompt, int completion)
    {
        Interlocked.Add(ref _promptTokens, prompt);
        Interlocked.Add(ref _completionTokens, completion);
    }
}
