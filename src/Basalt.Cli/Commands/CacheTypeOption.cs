using System.CommandLine;

namespace Basalt.Cli.Commands;

/// <summary><c>--cache-type f16|f32</c>: the precision of the KV cache (F16 by default, as llama.cpp keeps it).</summary>
internal static class CacheTypeOption
{
    public static Option<string> Create() => new Option<string>("--cache-type", "-ctk")
    {
        Description = "KV cache precision: f16 (default, as llama.cpp) or f32.",
        DefaultValueFactory = _ => "f16",
    }.AcceptOnlyFromAmong("f16", "f32");

    /// <summary>Whether the cache is F16.</summary>
    public static bool IsF16(string value) => value == "f16";
}
