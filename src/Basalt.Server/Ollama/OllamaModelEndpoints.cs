using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Basalt.Server.Json;
using Basalt.Server.Models;

namespace Basalt.Server.Ollama;

/// <summary><c>GET /api/tags</c>, <c>POST /api/show</c>, <c>GET /api/version</c>.</summary>
internal static class OllamaModelEndpoints
{
    /// <summary>The Ollama API version this server speaks (clients check it for features).</summary>
    public const string ApiVersion = "0.6.0";

    public static IEndpointRouteBuilder MapOllamaModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/version", () => TypedResults.Json(new OllamaVersion(ApiVersion), ServerJson.Options));
        app.MapGet("/api/tags", (ModelRegistry registry) =>
            TypedResults.Json(new OllamaTags([.. registry.Entries.Select(e => Describe(e, registry.Describe(e)))]), ServerJson.Options));
        app.MapPost("/api/show", ShowAsync);
        return app;
    }

    private static async Task<IResult> ShowAsync(HttpRequest request, ModelRegistry registry)
    {
        var body = await RequestBody.ReadAsync<OllamaShowRequest>(request);
        var entry = registry.Find(OllamaParameters.RequireModel(body.Model ?? body.Name));
        var d = registry.Describe(entry);
        var info = new OllamaBasaltInfo(entry.Loaded is not null, entry.LastLoadTime?.TotalSeconds, entry.LoadCount, entry.Path);
        return TypedResults.Json(new OllamaShowResponse("", "", d.ChatTemplate ?? "", Details(d), d.Info, ["completion"], Modified(entry), info), ServerJson.Options);
    }

    private static OllamaModel Describe(ModelEntry e, ModelDescription d) =>
        new(e.Name, e.Name, Modified(e), e.File.Length, Digest(e), Details(d));

    private static OllamaModelDetails Details(ModelDescription d) => new("", "gguf", d.Architecture, [d.Architecture], d.ParameterSize, d.WeightType);

    private static string Modified(ModelEntry e) => e.File.LastWriteTimeUtc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    // Hashing a multi-gigabyte file per listing is too slow; path, size and time identify a file version well enough here.
    private static string Digest(ModelEntry e) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{e.Path}|{e.File.Length}|{e.File.LastWriteTimeUtc.Ticks}")));
}
