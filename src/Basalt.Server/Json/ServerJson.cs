using System.Text.Json;
using System.Text.Json.Serialization;

namespace Basalt.Server.Json;

/// <summary>The one JSON shape of the wire: snake_case names (OpenAI and Ollama both use them), nulls left out unless a field says otherwise.</summary>
internal static class ServerJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Stop sequences, prompts and model text may hold any character; only JSON-special ones need escaping.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
