using System.Net;

namespace Basalt.Server.Errors;

/// <summary>A failure the client should see as an OpenAI-style error with this status, type, code and parameter.</summary>
internal sealed class ApiException(HttpStatusCode status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>400 for a parameter the client got wrong, naming it.</summary>
    public static ApiException InvalidParameter(string param, string message) =>
        new(HttpStatusCode.BadRequest, message, param: param, code: "invalid_parameter");

    /// <summary>400 for a required parameter the client left out.</summary>
    public static ApiException Missing(string param) =>
        new(HttpStatusCode.BadRequest, $"'{param}' is required.", param: param, code: "missing_required_parameter");

    /// <summary>404 for a model this server does not have.</summary>
    public static ApiException ModelNotFound(string model, IEnumerable<string> available) =>
        new(HttpStatusCode.NotFound, $"The model '{model}' does not exist; this server has: {string.Join(", ", available)}.",
            param: "model", code: "model_not_found");
}
