using Basalt.Server.Models;

namespace Basalt.Server.OpenAI.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>.</summary>
internal static class ModelsEndpoint
{
    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (ModelRegistry registry) => TypedResults.Json(new ModelList([.. registry.Entries.Select(Describe)]), Json.ServerJson.Options));
        app.MapGet("/v1/models/{id}", (string id, ModelRegistry registry) => TypedResults.Json(Describe(registry.Find(id)), Json.ServerJson.Options));
        return app;
    }

    private static ModelObject Describe(ModelEntry e) => new(e.Name, new DateTimeOffset(e.File.LastWriteTimeUtc).ToUnixTimeSeconds());

    private sealed record ModelList(IReadOnlyList<ModelObject> Data)
    {
        public string Object => "list";
    }

    private sealed record ModelObject(string Id, long Created)
    {
        public string Object => "model";
        public string OwnedBy => "basalt";
    }
}
