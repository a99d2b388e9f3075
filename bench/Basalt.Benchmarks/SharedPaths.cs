namespace Basalt.Benchmarks;

/// <summary>
/// Locates the read-only <c>shared</c> data folder that is checked out beside the repository.
/// BenchmarkDotNet runs each benchmark from a generated project under bin/, so the search walks up
/// from wherever the running assembly sits.
/// </summary>
public static class SharedPaths
{
    private static readonly Lazy<string> Root = new(Locate);

    /// <summary>Absolute path of the shared folder.</summary>
    public static string Directory => Root.Value;

    /// <summary>Absolute path of a file under the shared folder, which must exist.</summary>
    public static string File(string relative)
    {
        string path = Path.Combine(Directory, relative);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"Shared data file missing: {path}", path);
    }

    /// <summary>The largest .gguf file under <c>shared/models</c>.</summary>
    public static string LargestModel() =>
        new DirectoryInfo(Path.Combine(Directory, "models")).EnumerateFiles("*.gguf", SearchOption.AllDirectories)
            .OrderByDescending(f => f.Length).ThenBy(f => f.FullName, StringComparer.Ordinal)
            .FirstOrDefault()?.FullName
        ?? throw new FileNotFoundException($"No .gguf files under {Path.Combine(Directory, "models")}.");

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (string candidate in new[] { Path.Combine(dir.FullName, "shared"), Path.Combine(dir.FullName, "..", "shared") })
                if (System.IO.Directory.Exists(Path.Combine(candidate, "models")))
                    return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException(
            $"Shared data not found: no 'shared/models' folder beside any parent of {AppContext.BaseDirectory}. Check out the shared folder next to the repository.");
    }
}
