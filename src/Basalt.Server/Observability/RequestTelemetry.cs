using System.Diagnostics;

namespace Basalt.Server.Observability;

/// <summary>What one request did, filled in by its handler and read by the request log and metrics.</summary>
internal sealed class RequestTelemetry
{
    public long StartTimestamp { get; } = Stopwatch.GetTimestamp();
    public string? Model { get; set; }
    public int PromptTokens { get; private set; }
    public int CompletionTokens { get; private set; }
    public bool ClientClosed { get; private set; }

    public void AddTokens(int prompt, int completion)
    {
        PromptTokens += prompt;
        CompletionTokens += completion;
    }

    public void MarkClientClosed() => ClientClosed = true;
}
