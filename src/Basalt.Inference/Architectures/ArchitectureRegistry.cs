using Basalt.Inference.Model;

namespace Basalt.Inference.Architectures;

/// <summary>The architectures Basalt runs, by <c>general.architecture</c>.</summary>
internal static class ArchitectureRegistry
{
    private static readonly Dictionary<string, IArchitecture> ByName = new(StringComparer.Ordinal)
    {
        ["llama"] = new LlamaArchitecture(),
        ["qwen2"] = new Qwen2Architecture(),
        ["phi3"] = new Phi3Architecture(),
        ["gemma"] = new GemmaArchitecture(),
    };

    public static IArchitecture Get(string name, string file) => ByName.TryGetValue(name, out var arch)
        ? arch
        : throw new ModelFormatException($"{file}: architecture '{name}' is not supported; supported are {string.Join(", ", ByName.Keys)}.");
}
