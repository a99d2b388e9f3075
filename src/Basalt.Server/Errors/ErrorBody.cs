using System.Text.Json.Serialization;

namespace Basalt.Server.Errors;

/// <summary>The OpenAI error envelope: <c>{"error": {...}}</c>.</summary>
internal sealed record ErrorBody(ErrorDetail Error);

/// <summary>The OpenAI error object; param and code are written even when null, as OpenAI does.</summary>
internal sealed record ErrorDetail(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);
