using System.Text.Encodings.Web;
using System.Text.Json;

namespace Basalt.Cli;

/// <summary>Serializer options that keep non-ASCII text readable.</summary>
internal static class JsonEscaping
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
