using Basalt.Server.Auth;
using Basalt.Server.Errors;
using Basalt.Server.Health;
using Basalt.Server.Hosting;
using Basalt.Server.Models;
using Basalt.Server.Observability;
using Basalt.Server.Ollama;
using Basalt.Server.OpenAI.Chat;
using Basalt.Server.OpenAI.Completions;
using Basalt.Server.OpenAI.Models;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Basalt.Server;

/// <summary>Builds and runs the HTTP server: OpenAI-compatible <c>/v1</c>, Ollama-compatible <c>/api</c>, health, metrics and the web UI.</summary>
public static class BasaltServer
{
    /// <summary>Builds the server for <paramref name="options"/>; start it with <c>StartAsync</c> or <c>RunAsync</c>.</summary>
    public static WebApplication Build(ServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.WebHost.UseUrls($"http://{HostForUrl(options.Host)}:{options.Port}");
        logging?.Invoke(builder.Logging);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddHostedService<ModelIdleSweeper>();

        var app = builder.Build();
        // Outermost first: the log sees the final status, errors are mapped before it, auth failures go through the mapping too.
        app.UseMiddleware<RequestLogMiddleware>();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<ApiKeyMiddleware>();
        app.UseWebUi();
        app.MapHealth();
        app.MapMetrics();
        app.MapChatCompletions();
        app.MapCompletions();
        app.MapModels();
        app.MapOllamaGeneration();
        app.MapOllamaModels();
        // Unknown API paths get the OpenAI error body; other paths are left to the web UI.
        app.MapFallback("/v1/{**path}", () => Results.StatusCode(StatusCodes.Status404NotFound));
        app.MapFallback("/api/{**path}", () => Results.StatusCode(StatusCodes.Status404NotFound));
        return app;
    }

    /// <summary>Runs the server until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunAsync(ServerOptions options, CancellationToken cancellationToken = default)
    {
        await using var app = Build(options);
        await app.RunAsync(cancellationToken);
    }

    /// <summary>The addresses a started server listens on (with the real port when 0 was asked for).</summary>
    public static IReadOnlyList<Uri> Addresses(WebApplication app) =>
        [.. (app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Select(a => new Uri(a))];

    private static string HostForUrl(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
