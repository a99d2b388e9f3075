using System.Text.Json;

namespace Basalt.Server.Tests.Http;

/// <summary>Reads an OpenAI-style event stream: the JSON of each <c>data:</c> line, and whether <c>[DONE]</c> closed it.</summary>
internal static class Sse
{
    public static async Task<(List<JsonElement> Events, bool Done)> ReadAllAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var events = new List<JsonElement>();
        bool done = false;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line["data: ".Length..];
            if (data == "[DONE]") done = true;
            else events.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        return (events, done);
    }
}
