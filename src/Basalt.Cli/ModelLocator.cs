namespace Basalt.Cli;

/// <summary>
/// Resolves the MODEL argument: a path to a <c>.gguf</c> file, or the name of a model in the data
/// directory (<c>$BASALT_HOME</c>, default <c>~/.basalt</c>, under <c>models/</c>).
/// </summary>
public static class ModelLocator
{
    /// <summary>The data directory.</summary>
    public static string DataDirectory =>
        Environment.GetEnvironmentVariable("BASALT_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".basalt");

    /// <summary>The first model (by name) in the data directory, for commands whose MODEL is optional.</summary>
    public static string Default()
    {
        string models = Path.Combine(DataDirectory, "models");
        var first = Directory.Exists(models) ? Directory.EnumerateFiles(models, "*.gguf").Order(StringComparer.Ordinal).FirstOrDefault() : null;
        return first ?? throw new CliUsageException($"no MODEL given and no .gguf file in {models}; pass a model path or copy one there.");
    }

    /// <summary>The file for <paramref name="model"/>, or a <see cref="FileNotFoundException"/> saying where it looked.</summary>
    public static string Resolve(string model)
    {
        if (File.Exists(model)) return Path.GetFullPath(model);
        if (Directory.Exists(model)) throw new CliUsageException($"'{model}' is a directory; expected a .gguf file or a model name.");
        string models = Path.Combine(DataDirectory, "models");
        foreach (var candidate in new[] { Path.Combine(models, model), Path.Combine(models, model + ".gguf") })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException($"Model '{model}' not found: no such file, and no '{model}' or '{model}.gguf' in {models}.", model);
    }
}
