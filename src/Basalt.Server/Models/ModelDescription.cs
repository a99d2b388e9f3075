using System.Globalization;
using Basalt.Gguf;

namespace Basalt.Server.Models;

/// <summary>What the GGUF header says about a model, read without loading its weights (for /api/tags and /api/show).</summary>
internal sealed record ModelDescription(string Architecture, long ParameterCount, string WeightType, int ContextLength, string? ChatTemplate,
    IReadOnlyDictionary<string, object?> Info)
{
    public string ParameterSize => ParameterCount switch
    {
        >= 1_000_000_000 => (ParameterCount / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (ParameterCount / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        _ => (ParameterCount / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "K",
    };

    public static ModelDescription Read(string path)
    {
        using var file = GgufFile.Open(path);
        var md = file.Metadata;
        string arch = md.GetString("general.architecture") ?? "unknown";
        long parameters = 0;
        var types = new Dictionary<string, long>();
        foreach (var t in file.Tensors)
        {
            long n = t.ElementCount;
            parameters += n;
            string type = t.Type.ToString();
            types[type] = types.GetValueOrDefault(type) + n;
        }
        string weightType = types.Count == 0 ? "unknown" : types.MaxBy(kv => kv.Value).Key;
        int context = (int)(md.GetInt64($"{arch}.context_length") ?? 0);
        var info = new Dictionary<string, object?>
        {
            ["general.architecture"] = arch,
            ["general.name"] = md.GetString("general.name"),
            ["general.parameter_count"] = parameters,
            [$"{arch}.context_length"] = context,
            [$"{arch}.embedding_length"] = md.GetInt64($"{arch}.embedding_length"),
            [$"{arch}.block_count"] = md.GetInt64($"{arch}.block_count"),
            [$"{arch}.attention.head_count"] = md.GetInt64($"{arch}.attention.head_count"),
        };
        return new ModelDescription(arch, parameters, weightType, context, md.GetString("tokenizer.chat_template"), info);
    }
}
