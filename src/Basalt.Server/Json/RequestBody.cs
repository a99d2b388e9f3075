using System.Text.Json;
using Basalt.Server.Errors;

namespace Basalt.Server.Json;

/// <summary>Reads a JSON request body, turning malformed JSON into a 400 that names the offending field.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request) where T : class
    {
        T? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<T>(request.Body, ServerJson.Options, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            string? param = ParamOf(e.Path);
            // The serializer's own message names CLR types; the client needs the field and what was wrong.
            string message = param is null
                ? $"The request body is not valid JSON: {FirstLine(e.Message)}"
                : $"'{param}' is malformed or has the wrong type (e.g. a string where a number belongs).";
            throw new ApiException(System.Net.HttpStatusCode.BadRequest, message, param: param, code: "invalid_json");
        }
        return body ?? throw new ApiException(System.Net.HttpStatusCode.BadRequest, "The request body must be a JSON object.", code: "invalid_json");
    }

    // "$.messages[0].content" → "messages[0].content"
    private static string? ParamOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static string FirstLine(string message)
    {
        int end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
