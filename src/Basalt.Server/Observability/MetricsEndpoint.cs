using System.Globalization;
using System.Text;
using Basalt.Server.Models;

namespace Basalt.Server.Observability;

/// <summary><c>GET /metrics</c> in the Prometheus text format.</summary>
internal static class MetricsEndpoint
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", (ServerMetrics metrics, ModelRegistry registry) =>
            TypedResults.Text(Render(metrics, registry), "text/plain; version=0.0.4; charset=utf-8"));
        return app;
    }

    internal static string Render(ServerMetrics metrics, ModelRegistry registry)
    {
        var text = new StringBuilder();
        Header(text, "basalt_requests_total", "counter", "HTTP requests by endpoint and status.");
        foreach (var ((endpoint, status), count) in metrics.Requests.OrderBy(kv => kv.Key.Endpoint, StringComparer.Ordinal).ThenBy(kv => kv.Key.Status))
            text.Append("basalt_requests_total{endpoint=\"").Append(Escape(endpoint)).Append("\",status=\"").Append(status).Append("\"} ").Append(count).Append('\n');
        Header(text, "basalt_prompt_tokens_total", "counter", "Prompt tokens processed.");
        text.Append("basalt_prompt_tokens_total ").Append(metrics.PromptTokens).Append('\n');
        Header(text, "basalt_generated_tokens_total", "counter", "Tokens generated.");
        text.Append("basalt_generated_tokens_total ").Append(metrics.CompletionTokens).Append('\n');

        var engines = registry.LoadedEngines();
        Header(text, "basalt_queue_depth", "gauge", "Requests waiting for a decode slot.");
        text.Append("basalt_queue_depth ").Append(engines.Sum(e => e.Engine.QueueDepth)).Append('\n');
        Header(text, "basalt_active_sequences", "gauge", "Sequences being decoded.");
        text.Append("basalt_active_sequences ").Append(engines.Sum(e => e.Engine.ActiveSequences)).Append('\n');
        foreach (var (name, engine) in engines)
            text.Append("basalt_active_sequences{model=\"").Append(Escape(name)).Append("\"} ").Append(engine.ActiveSequences).Append('\n');
        Header(text, "basalt_engine_requests_total", "counter", "Generations by outcome, in the engines of loaded models.");
        var counters = engines.Select(e => e.Engine.Counters).ToList();
        foreach (var (outcome, value) in new[]
        {
            ("completed", counters.Sum(c => c.Completed)), ("cancelled", counters.Sum(c => c.Cancelled)),
            ("failed", counters.Sum(c => c.Failed)), ("rejected", counters.Sum(c => c.Rejected)),
        })
            text.Append("basalt_engine_requests_total{outcome=\"").Append(outcome).Append("\"} ").Append(value).Append('\n');
        Header(text, "basalt_decode_steps_total", "counter", "Batched decode steps run by loaded engines.");
        text.Append("basalt_decode_steps_total ").Append(counters.Sum(c => c.DecodeSteps)).Append('\n');
        Header(text, "basalt_prompt_tokens_cached_total", "counter", "Prompt tokens found already computed in a cached sequence (a shared prefix) and not run again, by loaded engines.");
        text.Append("basalt_prompt_tokens_cached_total ").Append(counters.Sum(c => c.CachedPromptTokens)).Append('\n');

        var entries = registry.Entries;
        Header(text, "basalt_model_loaded", "gauge", "1 while the model is in memory.");
        foreach (var e in entries)
            text.Append("basalt_model_loaded{model=\"").Append(Escape(e.Name)).Append("\"} ").Append(e.Loaded is null ? 0 : 1).Append('\n');
        Header(text, "basalt_model_load_seconds", "gauge", "Time the last load (cold start) of the model took.");
        foreach (var e in entries)
            if (e.LastLoadTime is { } load)
                text.Append("basalt_model_load_seconds{model=\"").Append(Escape(e.Name)).Append("\"} ")
                    .Append(load.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');
        metrics.TimeToFirstToken.WriteTo(text);
        metrics.InterTokenLatency.WriteTo(text);
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Escape(string label) => label.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
